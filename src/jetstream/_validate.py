"""Client-side checks of names and subjects (ADR-6), done before anything is sent."""

from __future__ import annotations

from ._exceptions import InvalidArgumentError, InvalidNameError

# ADR-6: stream, consumer, account names: no whitespace, no '.', '*', '>', and no path separators
# (names become file names on the server). Length is capped at 255 (the server's filename limit).
_NAME_FORBIDDEN = frozenset(" \t\r\n\f\v.*>/\\\x00")
MAX_NAME_LENGTH = 255
# ADR-6 ``restricted-term``: the names of Key/Value buckets and object stores.
_TERM_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def encodable(value: str) -> bool:
    """Whether `value` can be sent: UTF-8 encodable (no lone surrogates such as "\\udcff", which
    `os.fsdecode` and `errors="surrogateescape"` produce)."""
    if value.isascii():
        return True
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def check_name(kind: str, value: str) -> str:
    if not isinstance(value, str):
        raise InvalidNameError(f"{kind} name must be a str, got {type(value).__name__}")
    if not value:
        raise InvalidNameError(f"{kind} name must not be empty")
    if len(value) > MAX_NAME_LENGTH:
        raise InvalidNameError(f"{kind} name is longer than {MAX_NAME_LENGTH} characters")
    bad = _NAME_FORBIDDEN.intersection(value)
    if bad:
        shown = ", ".join(repr(c) for c in sorted(bad))
        raise InvalidNameError(f"invalid {kind} name {value!r}: must not contain {shown}")
    if not encodable(value):
        raise InvalidNameError(f"invalid {kind} name {value!r}: not valid UTF-8 (a lone surrogate)")
    return value


def check_bucket(bucket: object, kind: str = "bucket") -> str:
    """The name of a Key/Value bucket or (``kind``) an object store: ADR-6 ``restricted-term``,
    letters, digits, '-' and '_'."""
    if not isinstance(bucket, str) or not bucket:
        raise InvalidNameError(f"{kind} name must be a non-empty str, got {bucket!r}")
    if not _TERM_CHARS.issuperset(bucket):
        raise InvalidNameError(f"invalid {kind} name {bucket!r}: only letters, digits, '-' and '_'")
    return bucket


def check_subject(kind: str, value: str, *, wildcards: bool = True) -> str:
    """A NATS subject: non-empty tokens separated by '.', no whitespace."""
    if not isinstance(value, str) or not value:
        raise InvalidNameError(f"{kind} must be a non-empty subject")
    if any(c in value for c in " \t\r\n\f\v\x00"):
        raise InvalidNameError(f"invalid {kind} {value!r}: must not contain whitespace")
    if not encodable(value):
        raise InvalidNameError(f"invalid {kind} {value!r}: not valid UTF-8 (a lone surrogate)")
    tokens = value.split(".")
    for i, token in enumerate(tokens):
        if not token:
            raise InvalidNameError(f"invalid {kind} {value!r}: empty token")
        if not wildcards and token in ("*", ">"):
            raise InvalidNameError(f"invalid {kind} {value!r}: wildcards are not allowed")
        if token == ">" and i != len(tokens) - 1:
            raise InvalidNameError(f"invalid {kind} {value!r}: '>' must be the last token")
    return value


_PUBLISH_SUBJECTS: set[str] = set()
_REMEMBERED = 4096


def check_publish_subject(subject: str) -> str:
    """`check_subject` for a publish target, without wildcards. Publishers send to few subjects many
    times, so the valid ones are remembered (a bounded set) and not checked again."""
    if type(subject) is str and subject in _PUBLISH_SUBJECTS:
        return subject
    check_subject("subject", subject, wildcards=False)
    if len(_PUBLISH_SUBJECTS) >= _REMEMBERED:
        _PUBLISH_SUBJECTS.clear()
    _PUBLISH_SUBJECTS.add(subject)
    return subject


def check_header(name: object, value: object) -> None:
    """One header of a message to send: a non-empty str name without ':', CR or LF, a str value
    without CR or LF, both valid UTF-8. Anything else would corrupt the header block, or fail
    inside nats-py (which calls `.encode()` on both)."""
    if not isinstance(name, str):
        raise InvalidArgumentError(f"a header name must be a str, got {type(name).__name__}: {name!r}")
    if not isinstance(value, str):
        raise InvalidArgumentError(
            f"the value of header {name!r} must be a str, got {type(value).__name__}: {value!r}"
        )
    if not name or ":" in name or "\r" in name or "\n" in name:
        raise InvalidArgumentError(f"invalid header name {name!r}: empty, or contains ':', CR or LF")
    if "\r" in value or "\n" in value:
        raise InvalidArgumentError(f"the value of header {name!r} must not contain CR or LF: {value!r}")
    if not (encodable(name) and encodable(value)):
        raise InvalidArgumentError(f"header {name!r}: not valid UTF-8 (a lone surrogate)")

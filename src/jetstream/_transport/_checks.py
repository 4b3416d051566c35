"""What nats can carry: checked before anything is queued, so a refused message costs nothing."""

from __future__ import annotations

from collections.abc import Mapping

from .._exceptions import InvalidArgumentError, PayloadTooLargeError
from .._typing import Payload

_BLANKS = frozenset(" \t\r\n")
# Subjects seen valid (API subjects repeat): a bounded set, cleared when full.
_CLEAN: set[str] = set()
_CLEAN_MAX = 4096
# "NATS/1.0\r\n" before the header lines, "\r\n" after them.
_HEADER_FRAME = 12


def check_wire_subject(subject: object, what: str = "subject") -> None:
    """A subject nats can carry: a non-empty str without blanks, encodable as UTF-8."""
    if type(subject) is str and subject in _CLEAN:
        return
    if not isinstance(subject, str) or not subject:
        raise InvalidArgumentError(f"a {what} must be a non-empty string, got {subject!r}")
    if _BLANKS.intersection(subject):
        raise InvalidArgumentError(f"a {what} cannot contain blanks: {subject!r}")
    try:
        subject.encode()
    except UnicodeEncodeError as exc:
        raise InvalidArgumentError(f"a {what} must be valid Unicode text, got {subject!r}") from exc
    if len(_CLEAN) >= _CLEAN_MAX:
        _CLEAN.clear()
    _CLEAN.add(subject)


def header_size(headers: Mapping[str, str]) -> int:
    """The bytes the header block takes on the wire (as nats-py writes it); refuses what it cannot
    send: names or values that are not text, names nats cannot carry."""
    size = _HEADER_FRAME
    for name, value in headers.items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise InvalidArgumentError(
                f"header names and values must be str, got {name!r}: {type(value).__name__}"
            )
        key = name.strip()
        if not key or ":" in key or _BLANKS.intersection(key):
            raise InvalidArgumentError(f"invalid header name {name!r}")
        if "\r" in value or "\n" in value:
            # A line break would start a header line of its own on the wire.
            raise InvalidArgumentError(f"header {name!r} has a line break in its value")
        try:
            size += len(key.encode()) + len(value.strip().encode()) + 4
        except UnicodeEncodeError as exc:
            raise InvalidArgumentError(f"header {name!r} is not valid Unicode text") from exc
    return size


def as_bytes(payload: Payload) -> bytes:
    """The payload as bytes: a copy of a bytearray or memoryview, taken when the message is sent
    (so it is the content at that moment, and a memoryview of wider items counts its bytes)."""
    return payload if type(payload) is bytes else bytes(payload)


def check_message(
    subject: str, payload: object, headers: Mapping[str, str] | None, reply: str, limit: int | None
) -> None:
    check_wire_subject(subject)
    if reply:
        check_wire_subject(reply, "reply subject")
    if not isinstance(payload, (bytes, bytearray, memoryview)):
        raise InvalidArgumentError(
            f"a message payload must be bytes, bytearray or memoryview, got {type(payload).__name__}"
        )
    size = payload.nbytes if isinstance(payload, memoryview) else len(payload)
    if headers:
        size += header_size(headers)
    if limit is not None and size > limit:
        raise PayloadTooLargeError(
            f"message to {subject!r} is {size} bytes with its headers, over the server's max_payload of {limit}"
        )


def matches(pattern: str, subject: str) -> bool:
    """Whether the literal ``subject`` matches the subscription ``pattern`` (``*`` one token, ``>``
    the rest)."""
    p = pattern.split(".")
    s = subject.split(".")
    for i, token in enumerate(p):
        if token == ">":
            return len(s) > i
        if i >= len(s) or (token != "*" and token != s[i]):
            return False
    return len(p) == len(s)

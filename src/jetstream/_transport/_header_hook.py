"""nats-py's header parser, wrapped: status lines marked, repeated names kept, hostile blocks survived.

nats-py parses each message's header block into a plain dict, where a ``Status`` header set by a
publisher looks exactly like the status line of a server status message, and a repeated name keeps
one value. The wrapper (installed once per connection through the private ``_process_headers``
hook, checked at construction) returns `StatusHeaders` for blocks that began with a status line and
a `MultiValueDict` when a name repeats; a block nats-py's parser cannot read is parsed leniently
instead of breaking the connection's read loop.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from ._headers import MultiValueDict
from ._status import DESCRIPTION, STATUS, StatusHeaders

Parser = Callable[[bytes | None], Awaitable["dict[str, str] | None"]]

_VERSION = b"NATS/1.0"


def lenient_pairs(raw: bytes) -> list[tuple[str, str]]:
    """(name, value) header lines of a raw NATS header block, without the version/status line."""
    pairs: list[tuple[str, str]] = []
    for line in raw.decode("utf-8", "replace").split("\r\n")[1:]:
        name, sep, value = line.partition(":")
        if sep and name.strip():
            pairs.append((name.strip(), value.strip()))
    return pairs


def _lenient(raw: bytes) -> dict[str, str]:
    first, _, _ = raw.partition(b"\r\n")
    status = first[len(_VERSION) :].strip().decode("utf-8", "replace") if first.startswith(_VERSION) else ""
    pairs = lenient_pairs(raw)
    out: dict[str, str] = StatusHeaders() if status else {}
    for name, value in pairs:
        out.setdefault(name, value)
    if status:
        code, _, text = status.partition(" ")
        out[STATUS] = code
        if text:
            out[DESCRIPTION] = text
    return out


_PLAIN = _VERSION + b"\r\n"
# Names str.isspace() refuses, in ASCII (nats-py skips names holding one).
_SPACE = re.compile(rb"[\t\n\x0b\x0c\r\x1c-\x1f ]")
_NAMES: dict[bytes, str | None] = {}
_MAX_NAMES = 512


def _name(raw: bytes) -> str | None:
    """A header name as nats-py reads it (stripped, ASCII, no inner space), or None: skipped."""
    name = _NAMES.get(raw)
    if name is None and raw not in _NAMES:
        key = raw.strip()
        name = key.decode() if key.isascii() and not _SPACE.search(key) else None
        if len(_NAMES) < _MAX_NAMES:  # names come from publishers: a bounded cache
            _NAMES[raw] = name
    return name


def parse_plain(block: bytes) -> dict[str, str] | None:
    """What nats-py's parser makes of a header block without a status line, line by line the same
    (the last of repeated names), several times faster: data messages take this way."""
    out: dict[str, str] = {}
    for line in block[len(_PLAIN) :].split(b"\r\n"):
        name, sep, value = line.partition(b":")
        if sep:
            key = _name(name)
            if key is not None:
                out[key] = value.strip().decode("utf-8", "replace")
    return out or None


def wrap_parser(original: Parser) -> Parser:
    async def process_headers(headers: bytes | None) -> dict[str, str] | None:
        if not headers:
            return None
        try:
            parsed = parse_plain(headers) if headers.startswith(_PLAIN) else await original(headers)
        except Exception:
            # A block nats-py cannot read (bad UTF-8, a broken line) is a hostile or damaged
            # message, not a reason to tear down the connection.
            return _lenient(bytes(headers))
        if parsed is None:
            return None
        if headers[8:9] == b" ":
            return StatusHeaders(parsed)
        lines = headers.count(b"\r\n") - 2
        if lines <= len(parsed):
            return parsed
        return MultiValueDict(parsed, lenient_pairs(bytes(headers)))

    process_headers._jetstream_hook = True  # type: ignore[attr-defined]
    return process_headers


def install(nc: object) -> bool:
    """Wrap ``nc``'s header parser once; False when nats-py has no such hook."""
    original = getattr(nc, "_process_headers", None)
    if original is None or not callable(original):
        return False
    if getattr(original, "_jetstream_hook", False):
        return True
    nc._process_headers = wrap_parser(original)  # type: ignore[attr-defined]
    return True

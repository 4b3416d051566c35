"""Numbers written by the server in text: status codes, header counts, ack-subject tokens.

`int()` reads far more than the server writes: other scripts' digits ("١٢"), underscores ("1_2"),
blanks, signs, and raises ValueError past 4300 digits; `str.isdigit()` accepts "²", which `int()`
refuses. Everything from the network is read here, as ASCII digits only, and a miss is None, so
each caller decides what a bad value means (an error, or an absent value). A leaf: imports nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeGuard

MAX_UINT64 = 2**64 - 1
# 2**64 - 1 has 20 digits; leading zeros are tolerated up to this length (the server writes none).
_MAX_UINT_DIGITS = 20
# Signed values (counters, ADR-49) are arbitrary precision on the server; bounded well below
# int()'s own limit (4300 digits) so a hostile reply cannot make the parse costly.
_MAX_INT_DIGITS = 1000


def _ascii_digits(text: object, limit: int) -> TypeGuard[str]:
    return type(text) is str and 0 < len(text) <= limit and text.isascii() and text.isdigit()


def parse_status(text: object) -> int | None:
    """A NATS status code: exactly three ASCII digits ("404" -> 404); None for anything else."""
    if type(text) is str and len(text) == 3 and text.isascii() and text.isdigit():
        return int(text)
    return None


def parse_uint(text: object) -> int | None:
    """A non-negative integer in ASCII digits within the uint64 range (sequences, counts,
    nanoseconds); None for anything else (empty, signs, blanks, other digits, too large)."""
    if not _ascii_digits(text, _MAX_UINT_DIGITS):
        return None
    value = int(text)
    return value if value <= MAX_UINT64 else None


def parse_uints(tokens: Sequence[str]) -> list[int] | None:
    """`parse_uint` of each token (the counters of an ack subject), checked together: None when
    any one is not a number."""
    joined = "".join(tokens)
    if not (joined.isascii() and joined.isdigit()):
        return None
    values = []
    for token in tokens:
        if not 0 < len(token) <= _MAX_UINT_DIGITS:
            return None
        value = int(token)
        if value > MAX_UINT64:
            return None
        values.append(value)
    return values


def parse_int(text: object) -> int | None:
    """An integer in ASCII digits with an optional '+' or '-' sign (ADR-49 counter values); None
    for anything else."""
    if type(text) is not str:
        return None
    digits = text[1:] if text[:1] in ("+", "-") else text
    if not _ascii_digits(digits, _MAX_INT_DIGITS):
        return None
    return int(text)


__all__ = ["MAX_UINT64", "parse_int", "parse_status", "parse_uint", "parse_uints"]

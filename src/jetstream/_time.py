"""Exact durations and timestamps.

The server speaks int64 nanoseconds for durations and RFC 3339 with nanoseconds for times;
`timedelta` and `datetime` stop at microseconds. Values decoded from the server are therefore
`Duration` / `Timestamp`, subclasses that remember the exact nanoseconds and encode them back
unchanged, so read -> modify -> update round-trips without drift. Plain `timedelta` / `datetime`
values given by users are accepted everywhere.
"""

from __future__ import annotations

import re
import sys
from datetime import datetime, timedelta, timezone
from typing import Any

import msgspec

from ._exceptions import InvalidArgumentError

_NS_PER_US = 1_000
# From 3.11 `datetime.fromisoformat` reads "Z" and more than 6 fractional digits.
_FAST_ISO = sys.version_info >= (3, 11)
_RFC3339 = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d\d):(\d\d))$"
)


class Duration(timedelta):
    """A `timedelta` that keeps the server's exact nanoseconds (`.nanoseconds`)."""

    __slots__ = ("_ns",)
    _ns: int

    def __new__(cls, nanoseconds: int) -> Duration:
        # Truncate toward zero so that a negative duration is the mirror image of a positive one.
        micros = -(-nanoseconds // _NS_PER_US) if nanoseconds < 0 else nanoseconds // _NS_PER_US
        self = timedelta.__new__(cls, 0, 0, micros)
        self._ns = nanoseconds
        return self

    @property
    def nanoseconds(self) -> int:
        return self._ns

    def __repr__(self) -> str:
        return f"Duration(nanoseconds={self._ns})"

    # Equality looks at the nanoseconds; a plain timedelta counts as its exact microseconds.
    def __eq__(self, other: object) -> bool:
        if isinstance(other, timedelta):
            return self._ns == nanos(other)
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    def __hash__(self) -> int:
        return timedelta.__hash__(self) if self._ns % _NS_PER_US == 0 else hash(self._ns)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Duration, (self._ns,))


class Timestamp(datetime):
    """An aware `datetime` that keeps the server's exact nanoseconds (`.nanosecond`, 0-999)."""

    __slots__ = ("_extra_ns",)
    _extra_ns: int

    @classmethod
    def parse(cls, text: str) -> Timestamp:
        """Parse RFC 3339 with up to nanosecond precision; the offset is required."""
        if (
            _FAST_ISO
            and len(text) >= 20
            and text[10] in "Tt"
            and text[4] == text[7] == "-"
            and text[19] in ".Zz+-"
        ):
            # fromisoformat is C code and truncates past microseconds; the rest is read off the text.
            # The shape test above keeps it to RFC 3339 (it also reads ISO week dates, commas ...).
            if text[19] == "." and text[29:30].isdigit():
                raise ValueError(f"more than 9 fractional digits: {text!r}")
            try:
                self = cls.fromisoformat(text)
            except ValueError:
                return cls._parse_slow(text)
            if self.tzinfo is None:
                raise ValueError(f"timestamp without offset: {text!r}")
            if len(text) > 27 and text[19] == ".":
                extra = text[26:29]
                if extra.isdigit():
                    self._extra_ns = int(extra.ljust(3, "0"))
                elif extra[:1].isdigit():
                    self._extra_ns = int(extra[:1]) * 100 if not extra[1:2].isdigit() else int(extra[:2]) * 10
            return self
        return cls._parse_slow(text)

    @classmethod
    def _parse_slow(cls, text: str) -> Timestamp:
        m = _RFC3339.match(text)
        if m is None:
            raise ValueError(f"not an RFC 3339 timestamp: {text!r}")
        year, month, day, hour, minute, second = (int(g) for g in m.group(1, 2, 3, 4, 5, 6))
        frac = (m.group(7) or "").ljust(9, "0")
        if m.group(8):
            tz = timezone.utc
        else:
            offset = timedelta(hours=int(m.group(10)), minutes=int(m.group(11)))
            tz = timezone(-offset if m.group(9) == "-" else offset)
        self = cls(year, month, day, hour, minute, second, int(frac[:6]), tzinfo=tz)
        self._extra_ns = int(frac[6:])
        return self

    @classmethod
    def from_nanos(cls, ns: int) -> Timestamp:
        """The UTC instant `ns` nanoseconds after the Unix epoch."""
        seconds, rest = divmod(ns, 1_000_000_000)
        self = cls.fromtimestamp(seconds, tz=timezone.utc).replace(microsecond=rest // _NS_PER_US)
        self._extra_ns = rest % _NS_PER_US
        return self

    @property
    def nanosecond(self) -> int:
        """Nanoseconds beyond `microsecond` (0-999)."""
        return getattr(self, "_extra_ns", 0)

    def isoformat_ns(self) -> str:
        return format_time(self)

    # Equality also looks at the nanoseconds beyond the microsecond (0 for a plain datetime).
    def __eq__(self, other: object) -> bool:
        if isinstance(other, datetime):
            same = datetime.__eq__(self, other)
            if same is NotImplemented or not same:
                return same
            return self.nanosecond == (other.nanosecond if isinstance(other, Timestamp) else 0)
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    def __hash__(self) -> int:
        return (
            datetime.__hash__(self)
            if not self.nanosecond
            else hash((datetime.__hash__(self), self.nanosecond))
        )

    def __reduce_ex__(self, protocol: Any) -> tuple[Any, ...]:
        # datetime defines __reduce_ex__, which pickle and copy prefer over __reduce__.
        return (Timestamp.parse, (format_time(self),))


def nanos(value: timedelta | float | int) -> int:
    """Exact nanoseconds of a duration: a `Duration` keeps its own, a `timedelta` is converted,
    a number is taken as seconds."""
    if isinstance(value, Duration):
        return value.nanoseconds
    if isinstance(value, timedelta):
        return (value.days * 86_400 + value.seconds) * 1_000_000_000 + value.microseconds * _NS_PER_US
    if isinstance(value, bool):
        raise TypeError("a duration cannot be a bool")
    return round(value * 1_000_000_000)


def format_time(value: datetime) -> str:
    """RFC 3339 with nanoseconds, as the server writes it. Naive datetimes are refused."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidArgumentError(f"timestamps must be timezone-aware, got naive {value!r}")
    extra = value.nanosecond if isinstance(value, Timestamp) else 0
    offset = value.utcoffset()
    # strftime("%Y") does not zero-pad years below 1000, and Go's zero time is year 1.
    base = f"{value.year:04d}-{value.month:02d}-{value.day:02d}T{value.hour:02d}:{value.minute:02d}:{value.second:02d}"
    frac = f"{value.microsecond * _NS_PER_US + extra:09d}".rstrip("0")
    text = f"{base}.{frac}" if frac else base
    if not offset:
        return text + "Z"
    total = int(offset.total_seconds())
    sign = "-" if total < 0 else "+"
    hh, mm = divmod(abs(total) // 60, 60)
    return f"{text}{sign}{hh:02d}:{mm:02d}"


def prepare(value: Any) -> Any:
    """Make a request body safe to encode, in place: plain timedeltas (anywhere in the tree) become
    `Duration`s, which encode as int nanoseconds (msgspec would write an ISO 8601 string), and naive
    datetimes are refused (msgspec would write them without a zone). Returns the value to encode."""
    if isinstance(value, timedelta):
        return value if isinstance(value, Duration) else Duration(nanos(value))
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise InvalidArgumentError(f"timestamps must be timezone-aware, got naive {value!r}")
        return value
    if isinstance(value, msgspec.Struct):
        for name in value.__struct_fields__:
            item = getattr(value, name)
            if item is not None and not isinstance(item, _SCALARS):
                new = prepare(item)
                if new is not item:
                    setattr(value, name, new)
        return value
    if isinstance(value, list):
        for i, item in enumerate(value):
            if not isinstance(item, _SCALARS):
                value[i] = prepare(item)
        return value
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(item, _SCALARS):
                value[key] = prepare(item)
        return value
    return value


_SCALARS = (str, int, float, bool, bytes)


def enc_hook(obj: Any) -> Any:
    if isinstance(obj, Duration):
        return obj.nanoseconds
    if isinstance(obj, Timestamp):
        return format_time(obj)
    raise TypeError(f"cannot encode {type(obj).__name__}")


def dec_hook(tp: type, obj: Any) -> Any:
    if tp is Duration:
        if type(obj) is int:
            return Duration(obj)
        raise ValueError(f"expected int nanoseconds, got {type(obj).__name__}")
    if tp is Timestamp:
        if isinstance(obj, str):
            return Timestamp.parse(obj)
        raise ValueError(f"expected an RFC 3339 string, got {type(obj).__name__}")
    raise NotImplementedError(f"cannot decode {tp!r}")


__all__ = ["Duration", "Timestamp", "dec_hook", "enc_hook", "format_time", "nanos", "prepare"]

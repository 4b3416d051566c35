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
from collections.abc import Callable
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any

import msgspec

from ._exceptions import InvalidArgumentError

_NS_PER_US = 1_000
# From 3.11 `datetime.fromisoformat` reads "Z" and more than 6 fractional digits.
_FAST_ISO = sys.version_info >= (3, 11)
_UTC = timezone.utc
# C entry points, looked up once: decoding calls them for every time value of every reply.
_new_datetime = datetime.__new__
_new_timedelta = timedelta.__new__
# datetime's C constructor also takes the 10-byte pickle state (with the tzinfo): the cheapest way
# to turn a plain datetime, parsed in C, into an instance of a subclass. Typeshed has neither form.
_datetime_reduce: Callable[[datetime], tuple[type, tuple[bytes, tzinfo | None]]]
_datetime_reduce = datetime.__reduce__  # type: ignore[assignment]
_datetime_from_state: Callable[[type[Timestamp], bytes, tzinfo | None], Timestamp]
_datetime_from_state = datetime.__new__  # type: ignore[assignment]
_fromisoformat = datetime.fromisoformat
_UTC_EPOCH = datetime(1970, 1, 1, tzinfo=_UTC)
# The 7th to 9th fractional digits and the "Z" after them -> nanoseconds: "789Z" -> 789. A lookup is
# cheaper than int() on a slice, and matches ASCII digits only. 1,000 entries, built at import.
_DIGITS = "0123456789"
_NS_Z = dict(
    zip([a + b + c + "Z" for a in _DIGITS for b in _DIGITS for c in _DIGITS], range(1000), strict=True)
)
# ASCII: `\d` would also match other scripts' digits, which int() reads; `\Z`: `$` allows a final "\n".
_RFC3339 = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d\d):(\d\d))\Z",
    re.ASCII,
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
        """The whole duration in nanoseconds (exact, as on the wire)."""
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
        """Parse RFC 3339 with up to nanosecond precision; the offset is required. A time whose UTC
        instant falls outside years 1-9999 (``0001-01-01T00:00:00+01:00``) is refused: it could not
        be converted or compared later."""
        self = _parse_fast(cls, text) if _FAST_ISO else None
        if self is None:
            self = cls._parse_slow(text)
        if self.year in (1, 9999):
            offset = self.utcoffset()
            if offset:
                try:
                    _ = self - offset  # the UTC instant
                except OverflowError:
                    raise ValueError(f"timestamp out of range in UTC: {text!r}") from None
        return self

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
        self = _new_datetime(cls, year, month, day, hour, minute, second, int(frac[:6]), tz)
        self._extra_ns = int(frac[6:])
        return self

    @classmethod
    def from_nanos(cls, ns: int) -> Timestamp:
        """The UTC instant `ns` nanoseconds after the Unix epoch."""
        micros, extra = divmod(ns, _NS_PER_US)
        # A plain datetime (C all the way, half the cost of fromtimestamp + replace), moved into the
        # subclass by its pickle state.
        try:
            base = _UTC_EPOCH + _new_timedelta(timedelta, 0, 0, micros)
        except OverflowError:
            raise ValueError(f"timestamp out of range: {ns} ns after the epoch") from None
        self = _datetime_from_state(cls, _datetime_reduce(base)[1][0], _UTC)
        self._extra_ns = extra
        return self

    @property
    def nanosecond(self) -> int:
        """Nanoseconds beyond `microsecond` (0-999)."""
        return getattr(self, "_extra_ns", 0)

    def isoformat_ns(self) -> str:
        """RFC 3339 with every nanosecond, as the server writes it (``2024-05-01T12:00:00.123456789Z``;
        `isoformat` stops at the microsecond)."""
        return format_time(self)

    def __repr__(self) -> str:
        # datetime's repr stops at the microsecond: two different times would look the same.
        try:
            return f"Timestamp.parse({format_time(self)!r})"
        except InvalidArgumentError:  # naive (made through datetime's constructor)
            return datetime.__repr__(self)

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


# Calling the class reaches datetime's C constructor directly (Timestamp defines no __new__), which is
# cheaper than going through datetime.__new__.
_timestamp_from_state: Callable[[bytes, tzinfo], Timestamp] = Timestamp  # type: ignore[assignment]


def _parse_fast(cls: type[Timestamp], text: str) -> Timestamp | None:
    """RFC 3339 in the shapes servers write, through C code; None for anything else (the portable
    parser then decides, and words the errors).

    `fromisoformat` (3.11+) reads the digits, but accepts more than RFC 3339 ("+01", "12.Z", basic
    and week dates, junk after the 6th fractional digit ...) and drops digits past the microsecond.
    So the separators are checked here first, the fraction must be 1-9 digits between the dot at 19
    and the offset, and its digits past the microsecond are read off the text. The instance is made
    from the pickle state of the parsed datetime: building the subclass through `fromisoformat` or
    its constructor costs about twice as much.
    """
    n = len(text)
    if n < 20 or text[4:17:3] != "--T::":
        return None
    if text[-1] == "Z":
        end = n - 1
    elif text[-3] == ":" and text[-6] in "+-":
        end = n - 6
    else:
        return None
    if end == 19 or (21 <= end <= 26 and text[19] == "."):
        extra = 0
    elif 27 <= end <= 29 and text[19] == ".":
        found = _NS_Z.get(text[26:end].ljust(3, "0") + "Z")  # "7" -> "700Z" -> 700
        if found is None:
            return None
        extra = found
    else:
        return None
    try:
        state, tz = _datetime_reduce(_fromisoformat(text))[1]
    except ValueError:
        return None
    self = _datetime_from_state(cls, state, tz)
    self._extra_ns = extra
    return self


def nanos(value: timedelta | float | int) -> int:
    """Exact nanoseconds of a duration: a `Duration` keeps its own, a `timedelta` is converted,
    a number is taken as seconds. Anything else (a bool, a str, nan, inf) is an
    `errors.InvalidArgumentError`."""
    if isinstance(value, Duration):
        return value.nanoseconds
    if isinstance(value, timedelta):
        return (value.days * 86_400 + value.seconds) * 1_000_000_000 + value.microseconds * _NS_PER_US
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidArgumentError(f"a duration must be a timedelta or a number of seconds, got {value!r}")
    try:
        return round(value * 1_000_000_000)
    except (ValueError, OverflowError):  # nan, inf
        raise InvalidArgumentError(f"a duration must be finite, got {value!r}") from None


def seconds(value: float | timedelta, what: str = "timeout") -> float:
    """A timeout or interval given as seconds or a `timedelta`, in seconds. It must be positive (a
    bool or nan is not): `errors.InvalidArgumentError` naming ``what`` otherwise. The one check of
    per-call timeouts, pull expiries and heartbeats."""
    result = value.total_seconds() if isinstance(value, timedelta) else value
    if isinstance(result, bool) or not isinstance(result, (int, float)) or not result > 0:
        raise InvalidArgumentError(
            f"{what} must be a positive number of seconds or a timedelta, got {value!r}"
        )
    return float(result)


def as_timedelta(value: float | timedelta, what: str) -> timedelta:
    """A positive interval given as seconds or a `timedelta`, as a `timedelta` (checked by
    `seconds`)."""
    secs = seconds(value, what)
    return value if isinstance(value, timedelta) else timedelta(seconds=secs)


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
    # Called for every time value of every reply, so the common cases are inlined. A Timestamp is
    # 9 times in 10 (Go trims trailing zeros) "2026-11-28T01:02:03.123456789Z". For 30 characters
    # with "-" at 7, "T" at 10, "." at 19 and 3 digits + "Z" at the end (`_NS_Z`), fromisoformat
    # accepts that shape only (it refuses week dates, basic format, misplaced separators), so the
    # fraction is the 9 digits from 20. See `_parse_fast` for the general case.
    if tp is Timestamp:
        if type(obj) is str:
            if _FAST_ISO and len(obj) == 30 and obj[19] == "." and obj[10] == "T" and obj[7] == "-":
                try:
                    extra = _NS_Z[obj[26:]]
                    state = _datetime_reduce(_fromisoformat(obj))[1][0]
                except (KeyError, ValueError):
                    pass
                else:
                    ts = _timestamp_from_state(state, _UTC)
                    ts._extra_ns = extra
                    return ts
            return Timestamp.parse(obj)
        raise ValueError(f"expected an RFC 3339 string, got {type(obj).__name__}")
    if tp is Duration:
        if type(obj) is int:
            # Duration(obj) without the Python frame of Duration.__new__.
            try:
                d = _new_timedelta(Duration, 0, 0, obj // _NS_PER_US if obj >= 0 else -(-obj // _NS_PER_US))
            except OverflowError:
                # Past timedelta's ±999,999,999 days: msgspec reports ValueError, not OverflowError.
                raise ValueError(f"duration out of range: {obj} ns") from None
            d._ns = obj
            return d
        raise ValueError(f"expected int nanoseconds, got {type(obj).__name__}")
    raise NotImplementedError(f"cannot decode {tp!r}")


__all__ = ["Duration", "Timestamp", "dec_hook", "enc_hook", "format_time", "nanos", "prepare"]

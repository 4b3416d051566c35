"""Decoding time values: the fast paths (the dec_hook's inlined server shape, `_parse_fast` on 3.11+,
`from_nanos`) give exactly what the portable RFC 3339 parser gives, and refuse what it refuses."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import msgspec
import pytest

from jetstream import Duration, Timestamp, errors
from jetstream._core._codec import decode
from jetstream._time import _FAST_ISO, format_time


class Times(msgspec.Struct):
    t: Timestamp | None = None
    d: Duration | None = None


def decode_time(text: str) -> Timestamp:
    result = decode("s", msgspec.json.encode({"t": text}), Times).t
    assert result is not None
    return result


def decode_duration(ns: int) -> Duration:
    result = decode("s", b'{"d":%d}' % ns, Times).d
    assert result is not None
    return result


def parse_slow(text: str) -> Timestamp:
    return Timestamp._parse_slow(text)


Parser = Callable[[str], Timestamp]
# Every way in: the reply decoder (inlined shape, then parse), parse(), and the portable parser.
PARSERS: list[Parser] = [decode_time, Timestamp.parse, parse_slow]
PARSER_IDS = ["decode", "parse", "parse_slow"]


def expected(text: str) -> tuple[datetime, int]:
    """The instant (to the microsecond, UTC) and the extra nanoseconds, read independently."""
    m = re.fullmatch(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?(Z|([+-])(\d\d):(\d\d))", text)
    assert m is not None
    y, mo, d, h, mi, s = (int(g) for g in m.group(1, 2, 3, 4, 5, 6))
    frac = (m.group(7) or "").ljust(9, "0")
    offset = timedelta(0)
    if m.group(8) != "Z":
        offset = timedelta(hours=int(m.group(10)), minutes=int(m.group(11)))
        if m.group(9) == "-":
            offset = -offset
    local = datetime(y, mo, d, h, mi, s, int(frac[:6]), tzinfo=timezone(offset))
    return local.astimezone(timezone.utc), int(frac[6:])


def check(ts: Timestamp, text: str) -> None:
    instant, extra = expected(text)
    assert type(ts) is Timestamp
    assert datetime.__eq__(ts, instant) is True
    assert ts.nanosecond == extra
    assert ts.utcoffset() == expected_offset(text)
    # Go trims trailing zeros, and so does format_time: the text comes back as sent (a zero offset
    # as "Z").
    assert format_time(ts) == re.sub(r"[+-]00:00$", "Z", text)


def expected_offset(text: str) -> timedelta:
    if text.endswith("Z"):
        return timedelta(0)
    sign = -1 if text[-6] == "-" else 1
    return sign * timedelta(hours=int(text[-5:-3]), minutes=int(text[-2:]))


FRACTIONS = ["", ".1", ".12", ".123", ".1234", ".12345", ".123456", ".1234567", ".12345678", ".123456789"]


@pytest.mark.parametrize("frac", FRACTIONS, ids=[f"{max(len(f) - 1, 0)}digits" for f in FRACTIONS])
@pytest.mark.parametrize("zone", ["Z", "+02:00", "-05:30", "+00:01"])
@pytest.mark.parametrize("parse", PARSERS, ids=PARSER_IDS)
def test_every_fraction_length_and_offset(parse: Parser, frac: str, zone: str) -> None:
    text = f"2026-11-28T02:33:39{frac}{zone}"
    check(parse(text), text)


@pytest.mark.parametrize(
    "text",
    [
        "0001-01-01T00:00:00Z",  # Go's zero time, in every empty StreamState
        "0001-01-01T00:00:00.000000001Z",
        "9999-12-31T23:59:59.999999999Z",
        "2024-02-29T12:00:00.000000999Z",
        "2026-11-28T02:00:00.000001Z",
        "2026-11-28T02:00:00.100000009Z",
        "2026-11-28T23:59:59.999999999-23:59",
    ],
)
@pytest.mark.parametrize("parse", PARSERS, ids=PARSER_IDS)
def test_edges(parse: Parser, text: str) -> None:
    check(parse(text), text)


def random_text(rng: random.Random) -> str:
    """A random RFC 3339 time as Go writes it (trailing fractional zeros trimmed)."""
    digits = "".join(rng.choice("0123456789") for _ in range(rng.randrange(10))).rstrip("0")
    zone = "Z"
    if rng.random() < 0.3:
        zone = f"{rng.choice('+-')}{rng.randrange(24):02d}:{rng.randrange(60):02d}"
    return (
        f"{rng.randrange(2, 9999):04d}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
        f"T{rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}"
        f"{'.' + digits if digits else ''}{zone}"
    )


def test_random_timestamps_agree_across_parsers() -> None:
    rng = random.Random(20261128)
    for _ in range(3000):
        text = random_text(rng)
        results = [parse(text) for parse in PARSERS]
        for r in results:
            check(r, text)
        assert results[0] == results[1] == results[2]
        assert hash(results[0]) == hash(results[1]) == hash(results[2])


FIRST_NS = -62_135_596_800 * 10**9  # 0001-01-01T00:00:00Z
LAST_NS = 253_402_300_800 * 10**9 - 1  # 9999-12-31T23:59:59.999999999Z


def test_from_nanos_is_exact() -> None:
    rng = random.Random(7)
    samples = [0, 1, 999, 1_000, -1, -999, -1_000, -1_001, 1_764_297_219_425_909_913, FIRST_NS, LAST_NS]
    samples += [rng.randrange(-(2**62), 2**62) for _ in range(500)]
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    for ns in samples:
        ts = Timestamp.from_nanos(ns)
        assert type(ts) is Timestamp
        assert ts.utcoffset() == timedelta(0)
        seconds, rest = divmod(ns, 10**9)
        assert datetime.__eq__(ts, epoch + timedelta(seconds=seconds, microseconds=rest // 1000)) is True
        assert ts.nanosecond == rest % 1000
        assert Timestamp.parse(format_time(ts)) == ts


@pytest.mark.parametrize("ns", [FIRST_NS - 1, LAST_NS + 1, -(10**20), 10**30])
def test_from_nanos_out_of_range_is_a_value_error(ns: int) -> None:
    with pytest.raises(ValueError, match="out of range"):
        Timestamp.from_nanos(ns)


NOT_RFC3339 = [
    "2026-11-28T02:33:39.Z",  # empty fraction: fromisoformat takes it
    "2026-11-28T02:33:39.1234567890Z",  # 10 digits
    "2026-11-28T02:33:39.123456a89Z",  # fromisoformat skips what follows the 6th digit
    "2026-11-28T02:33:39.12345678.Z",
    "2026-11-28T02:33:39.1234567 9Z",
    "2026-11-28T02:33:39.123456789",  # no offset
    "2026-11-28T02:33:39",
    "2026-11-28T02:33:39+0100",
    "2026-11-28T02:33:39+01",
    "2026-11-28T02:33:39.5+01:00:30",
    "2026-11-28T02:33:39.5+01:00.5",
    "2026-11-28T02:33:39,5Z",
    "2026-W48-6T02:33:39.123456789Z",  # ISO week date, same length as the server's shape
    "2026-332T02:33:39Z",
    "20261128T023339.123456789Z",
    "2026-11-28T023339.5Z",
    "2026-11-28x02:33:39.123456789Z",
    "2026-11-28T02:33:3\u0669.123456789Z",  # an Arabic-Indic digit
    "2026-11-28T02:33:39.12345678\u0669Z",
    "\u0662026-11-28T02:33:39.123456789Z",
    "2026-11-28T02:33:39.123456789Z\n",
    " 2026-11-28T02:33:39.123456789Z",
    "2026-11-28T02:33:60Z",  # leap second: datetime has none
    "2016-12-31T23:59:60.123456789Z",
    "2016-12-31T23:59:60.5Z",
    "2026-11-28T24:00:00Z",
    "2026-13-28T02:33:39.123456789Z",
    "2026-02-30T02:33:39.123456789Z",
    "0000-01-01T00:00:00Z",
    "2026-11-28T02:33:39.123456789+24:00",
    "2026-11-28T02:33:39.123456789z\u0000",
    "",
    "Z",
    "2026-11-28T02:33:39.123456789ZZ",
]


@pytest.mark.parametrize("text", NOT_RFC3339)
@pytest.mark.parametrize("parse", [Timestamp.parse, parse_slow], ids=["parse", "parse_slow"])
def test_not_rfc3339_is_refused(parse: Parser, text: str) -> None:
    with pytest.raises(ValueError):
        parse(text)


@pytest.mark.parametrize("text", NOT_RFC3339)
def test_not_rfc3339_in_a_reply_is_an_unexpected_reply(text: str) -> None:
    with pytest.raises(errors.UnexpectedReplyError):
        decode_time(text)


def test_the_inlined_shape_relies_on_fromisoformat_for_the_unchecked_separators() -> None:
    # The reply decoder checks 7, 10 and 19 of a 30-character time; 4, 13 and 16 are left to
    # fromisoformat, which must refuse anything but "-", ":" and ":" there.
    server = "2026-11-28T02:33:39.123456789Z"
    for pos in (4, 13, 16):
        for char in "0123456789:-.+ ,ZTWz\u0669":
            if char == server[pos]:
                continue
            text = server[:pos] + char + server[pos + 1 :]
            with pytest.raises(errors.UnexpectedReplyError):
                decode_time(text)


@pytest.mark.parametrize("value", [b"1764297219", b"null1", b"[]", b"{}", b"true", b"1.5"])
def test_a_timestamp_of_the_wrong_json_type_is_an_unexpected_reply(value: bytes) -> None:
    with pytest.raises((errors.UnexpectedReplyError, errors.MalformedReplyError)):
        decode("s", b'{"t":' + value + b"}", Times)


def test_mutations_of_the_server_shape_agree_with_the_portable_parser() -> None:
    # The fast paths lean on what fromisoformat refuses; whatever they accept must be exactly what
    # the portable parser makes of the same text, and whatever it refuses they must refuse.
    rng = random.Random(42)
    alphabet = "0123456789:.-+TZ ,tzW\u0669\n"
    bases = ["2026-11-28T02:33:39.123456789Z", "2026-11-28T02:33:39.5Z", "2026-11-28T02:33:39.1234567+05:30"]
    for _ in range(20000):
        chars = list(rng.choice(bases))
        for _ in range(rng.randrange(1, 4)):
            i = rng.randrange(len(chars) + 1)
            op = rng.random()
            if op < 0.6 and i < len(chars):
                chars[i] = rng.choice(alphabet)
            elif op < 0.8:
                chars.insert(i, rng.choice(alphabet))
            elif i < len(chars):
                del chars[i]
        text = "".join(chars)
        try:
            want: Timestamp | None = parse_slow(text)
        except ValueError:
            want = None
        for parse in (Timestamp.parse, decode_time):
            try:
                got: Timestamp | None = parse(text)
            except (ValueError, errors.UnexpectedReplyError):
                got = None
            if want is None:
                assert got is None, text
            else:
                assert got is not None, text
                assert got == want and got.nanosecond == want.nanosecond, text
                assert got.utcoffset() == want.utcoffset(), text


@pytest.mark.skipif(not _FAST_ISO, reason="the C parser reads RFC 3339 from Python 3.11")
def test_the_server_shape_takes_the_inlined_path(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(text: str) -> Timestamp:
        raise AssertionError(f"parse() called for {text!r}")

    monkeypatch.setattr(Timestamp, "parse", fail)
    ts = decode_time("2026-11-28T02:33:39.425909913Z")
    assert ts.nanosecond == 913
    # Whatever escapes a decode becomes a MalformedReplyError; the cause is kept.
    with pytest.raises(errors.MalformedReplyError) as caught:
        decode_time("2026-11-28T02:33:39.5Z")
    assert isinstance(caught.value.__cause__, AssertionError)


@pytest.mark.parametrize(
    "ns", [0, 1, 999, 1_000, 1_001, -1, -999, -1_000, -1_001, 123_456_789, 2**63 - 1, -(2**63), 2**64 - 1]
)
def test_decoded_durations_match_the_constructor(ns: int) -> None:
    d = decode_duration(ns)
    built = Duration(ns)
    assert type(d) is Duration
    assert d.nanoseconds == ns
    assert d == built and hash(d) == hash(built)
    assert timedelta.__eq__(d, built) is True
    assert repr(d) == f"Duration(nanoseconds={ns})"


@pytest.mark.parametrize("value", [b"99999999999999999999999", b"-99999999999999999999999"])
def test_a_duration_out_of_timedelta_range_is_an_unexpected_reply(value: bytes) -> None:
    with pytest.raises(errors.UnexpectedReplyError, match="out of range"):
        decode("s", b'{"d":' + value + b"}", Times)


@pytest.mark.parametrize("value", [b"1.0", b"true", b'"1s"', b"[1]", b"{}"])
def test_a_duration_of_the_wrong_json_type_is_an_unexpected_reply(value: bytes) -> None:
    with pytest.raises(errors.UnexpectedReplyError):
        decode("s", b'{"d":' + value + b"}", Times)

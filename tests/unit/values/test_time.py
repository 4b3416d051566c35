"""jetstream._time: exact nanosecond durations and timestamps, and lossless read -> modify -> write."""

from __future__ import annotations

import copy
import json
import pickle
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from unit_support import STREAM_CREATE_MINIMAL, STREAM_INFO_FULL, always, mock_js

from jetstream import Duration, StreamConfig, StreamInfo, Timestamp, errors, nanos
from jetstream._core._codec import decode, encode
from jetstream._time import format_time

Parser = Callable[[str], Timestamp]
# parse() takes a fast path on Python >= 3.11; the portable parser is what 3.10 uses, so test both.
PARSERS: list[Parser] = [Timestamp.parse, Timestamp._parse_slow]
PARSER_IDS = ["parse", "parse_slow"]

NS_VALUES = [
    0,
    1,
    999,
    1_000,
    1_001,
    1_500,
    123_456_789,
    3_600_000_000_001,
    2**62,
    -1,
    -999,
    -1_500,
    -(10**12) - 1,
]


@pytest.mark.parametrize("ns", NS_VALUES)
def test_duration_keeps_exact_nanoseconds(ns: int) -> None:
    d = Duration(ns)
    assert d.nanoseconds == ns
    assert nanos(d) == ns
    assert isinstance(d, timedelta)
    assert repr(d) == f"Duration(nanoseconds={ns})"


@pytest.mark.parametrize("ns", NS_VALUES)
def test_duration_round_trips_through_json(ns: int) -> None:
    data = b'{"name":"x","max_age":%d}' % ns
    cfg = decode("s", data, StreamConfig)
    assert isinstance(cfg.max_age, Duration)
    assert cfg.max_age.nanoseconds == ns
    assert encode(cfg) == data


@pytest.mark.parametrize(
    ("ns", "as_timedelta"),
    [
        (1_500_000_000, timedelta(seconds=1.5)),
        (1_999, timedelta(microseconds=1)),
        (-1_500, timedelta(microseconds=-1)),  # truncated toward zero, not toward -inf
        (-1_000, timedelta(microseconds=-1)),
        (-999, timedelta(0)),
        (-86_400_000_000_000, timedelta(days=-1)),
    ],
)
def test_duration_is_the_nearest_timedelta_toward_zero(ns: int, as_timedelta: timedelta) -> None:
    d = Duration(ns)
    assert timedelta(days=d.days, seconds=d.seconds, microseconds=d.microseconds) == as_timedelta


def test_negative_durations_keep_their_sign() -> None:
    d = Duration(-1)
    assert d.nanoseconds == -1
    assert encode(StreamConfig(name="x", max_age=d)) == b'{"name":"x","max_age":-1}'
    assert nanos(timedelta(microseconds=-1)) == -1_000
    assert nanos(-0.5) == -500_000_000


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_duration_pickles_exactly(protocol: int) -> None:
    d = Duration(1_500)
    back = pickle.loads(pickle.dumps(d, protocol=protocol))
    assert type(back) is Duration
    assert back.nanoseconds == 1_500


def test_duration_copies_exactly() -> None:
    d = Duration(-1_500)
    assert copy.copy(d).nanoseconds == -1_500
    assert copy.deepcopy(d).nanoseconds == -1_500


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (timedelta(seconds=1, microseconds=1), 1_000_001_000),
        (timedelta(days=2), 172_800_000_000_000),
        (Duration(1_000_000_001), 1_000_000_001),
        (1.5, 1_500_000_000),
        (0.1, 100_000_000),
        (2, 2_000_000_000),
        (0, 0),
        (1e-9, 1),
    ],
)
def test_nanos(value: timedelta | float, expected: int) -> None:
    result = nanos(value)
    assert result == expected
    assert type(result) is int


@pytest.mark.parametrize("value", [True, "5", None, float("nan"), float("inf"), -float("inf")])
def test_nanos_refuses_what_is_not_a_duration(value: object) -> None:
    with pytest.raises(errors.InvalidArgumentError):
        nanos(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "utc_offset", "microsecond", "nanosecond"),
    [
        ("2026-11-28T02:33:39.425909913Z", timedelta(0), 425909, 913),
        ("2026-11-28T02:33:39.4700697Z", timedelta(0), 470069, 700),
        ("2026-11-28T02:33:39Z", timedelta(0), 0, 0),
        ("2026-11-28T02:33:39.5Z", timedelta(0), 500000, 0),
        ("2026-11-28T02:33:39.000000001+02:00", timedelta(hours=2), 0, 1),
        ("2026-11-28T02:33:39.123456789-05:30", -timedelta(hours=5, minutes=30), 123456, 789),
    ],
)
@pytest.mark.parametrize("parse", PARSERS, ids=PARSER_IDS)
def test_timestamp_round_trips_exactly(
    parse: Parser, text: str, utc_offset: timedelta, microsecond: int, nanosecond: int
) -> None:
    ts = parse(text)
    assert type(ts) is Timestamp
    assert ts.utcoffset() == utc_offset
    assert (ts.microsecond, ts.nanosecond) == (microsecond, nanosecond)
    assert ts.isoformat_ns() == text
    assert format_time(ts) == text


def test_timestamp_is_an_aware_datetime() -> None:
    ts = Timestamp.parse("2024-05-06T07:08:09.123456789+02:00")
    assert isinstance(ts, datetime)
    # Equality counts the nanoseconds; the datetime part is the instant truncated to microseconds.
    assert ts != datetime(2024, 5, 6, 5, 8, 9, 123456, tzinfo=timezone.utc)
    assert ts.timestamp() == datetime(2024, 5, 6, 5, 8, 9, 123456, tzinfo=timezone.utc).timestamp()
    assert Timestamp.parse("2024-05-06T07:08:09.123456+02:00") == datetime(
        2024, 5, 6, 5, 8, 9, 123456, tzinfo=timezone.utc
    )


@pytest.mark.parametrize("parse", PARSERS, ids=PARSER_IDS)
def test_lowercase_separators_are_accepted_and_normalised(parse: Parser) -> None:
    assert parse("2024-05-06t07:08:09z").isoformat_ns() == "2024-05-06T07:08:09Z"


@pytest.mark.parametrize("parse", PARSERS, ids=PARSER_IDS)
def test_go_zero_time(parse: Parser) -> None:
    ts = parse("0001-01-01T00:00:00Z")
    assert (ts.year, ts.month, ts.day, ts.nanosecond) == (1, 1, 1, 0)
    assert ts.isoformat_ns() == "0001-01-01T00:00:00Z"
    assert format_time(datetime(1, 1, 1, tzinfo=timezone.utc)) == "0001-01-01T00:00:00Z"


@pytest.mark.parametrize(
    "text",
    [
        "2024-01-01",
        "2024-01-01T00:00:00",
        "2024-01-01T00:00:00.123",
        "garbage",
        "",
        "2024-13-01T00:00:00Z",
    ],
)
@pytest.mark.parametrize("parse", PARSERS, ids=PARSER_IDS)
def test_timestamp_refuses_what_is_not_rfc3339(parse: Parser, text: str) -> None:
    with pytest.raises(ValueError):
        parse(text)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc), "2024-01-02T03:04:05Z"),
        (datetime(2024, 1, 2, 3, 4, 5, 10, tzinfo=timezone.utc), "2024-01-02T03:04:05.00001Z"),
        (datetime(999, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=-1))), "0999-01-02T03:04:05-01:00"),
        (datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(minutes=345))), "2024-01-02T03:04:05+05:45"),
    ],
)
def test_format_time(value: datetime, text: str) -> None:
    assert format_time(value) == text


def test_format_time_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        format_time(datetime(2024, 1, 2))


def _dumps_loads(ts: Timestamp) -> Any:
    return pickle.loads(pickle.dumps(ts))


@pytest.mark.parametrize(
    "copier", [_dumps_loads, copy.copy, copy.deepcopy], ids=["pickle", "copy", "deepcopy"]
)
def test_timestamp_pickles_and_copies_exactly(copier: Any) -> None:
    ts = Timestamp.parse("2026-11-28T02:33:39.425909913+01:00")
    back = copier(ts)
    assert type(back) is Timestamp
    assert back.isoformat_ns() == "2026-11-28T02:33:39.425909913+01:00"


def test_bad_time_values_in_a_reply_are_unexpected() -> None:
    with pytest.raises(errors.UnexpectedReplyError):
        decode("s", b'{"name":"x","max_age":"1s"}', StreamConfig)
    with pytest.raises(errors.UnexpectedReplyError):
        decode(
            "s",
            b'{"name":"x","sources":[{"name":"U","opt_start_time":"2024-01-01T00:00:00"}]}',
            StreamConfig,
        )


# read -> modify -> write: what the server sent comes back unchanged, to the nanosecond

UPSTREAM_SOURCE = {
    "name": "UP",
    "opt_start_time": "2026-11-28T02:33:39.000000001Z",
    "filter_subject": "up.>",
}


def _stream_info_json() -> dict[str, Any]:
    info: dict[str, Any] = json.loads(STREAM_INFO_FULL)
    config = info["config"]
    config["max_age"] = 3_600_000_000_001  # not a whole microsecond
    config["duplicate_window"] = 59_999_999_999
    config["sources"] = [UPSTREAM_SOURCE]
    return info


def test_stream_info_config_round_trips_exactly() -> None:
    original = _stream_info_json()
    info = decode("s", json.dumps(original).encode(), StreamInfo)
    encoded = json.loads(encode(info.config))

    assert set(encoded) == set(original["config"])
    for key, value in original["config"].items():
        assert encoded[key] == value, key


def test_stream_info_timestamps_round_trip_exactly() -> None:
    original = _stream_info_json()
    info = decode("s", json.dumps(original).encode(), StreamInfo)
    encoded = json.loads(encode(info))
    for key in ("created", "ts"):
        assert encoded[key] == original[key]
    for key in ("first_ts", "last_ts"):
        assert encoded["state"][key] == original["state"][key]


async def test_read_modify_update_sends_the_original_values() -> None:
    original = _stream_info_json()
    info = decode("s", json.dumps(original).encode(), StreamInfo)
    config = info.config
    config.description = "changed"
    config.max_msgs = 5

    js, transport = mock_js(always(STREAM_CREATE_MINIMAL))
    await js.stream_update(config)

    [sent] = transport.bodies()
    assert transport.subjects == ["$JS.API.STREAM.UPDATE.FULL"]
    assert set(sent) == set(original["config"])
    for key, value in original["config"].items():
        expected = {"description": "changed", "max_msgs": 5}.get(key, value)
        assert sent[key] == expected, key

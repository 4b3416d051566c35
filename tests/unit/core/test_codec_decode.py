"""jetstream._core._codec.decode: the error probe and the decoder cache, inlined on the success path."""

from __future__ import annotations

import json

import msgspec
import pytest
from unit_support import STREAM_INFO_FULL

from jetstream import Duration, StreamInfo, Timestamp, errors
from jetstream._core._codec import _decoders, decode, decoder, error_of


class Fresh(msgspec.Struct):
    note: str | None = None
    count: int = 0


def test_a_new_type_gets_one_cached_decoder() -> None:
    _decoders.pop(Fresh, None)
    assert decode("s", b'{"count":2}', Fresh) == Fresh(count=2)
    built = _decoders[Fresh]
    assert decoder(Fresh) is built
    assert decode("s", b'{"count":3}', Fresh) == Fresh(count=3)
    assert _decoders[Fresh] is built


@pytest.mark.parametrize(
    "data",
    [
        b'{"note":"the word \\"error\\" in a value","count":1}',
        b'{"note":"x","error":null}',
        b'{"count":1,"nested":{"error":{"code":500,"err_code":10059}}}',
    ],
)
def test_error_looking_success_replies_decode(data: bytes) -> None:
    assert error_of("s", data) is None
    assert decode("s", data, Fresh) == msgspec.json.decode(data, type=Fresh)


def test_an_error_reply_raises_its_class_even_when_the_type_would_decode_it() -> None:
    # Every field of Fresh is optional: without the probe this reply would decode "successfully".
    data = b'{"type":"x","error":{"code":404,"err_code":10059,"description":"stream not found"}}'
    with pytest.raises(errors.StreamNotFoundError) as info:
        decode("$JS.API.X", data, Fresh)
    assert (info.value.code, info.value.err_code, info.value.description) == (404, 10059, "stream not found")


def test_time_values_of_a_real_reply_match_the_portable_parser() -> None:
    info = decode("s", STREAM_INFO_FULL, StreamInfo)
    raw = json.loads(STREAM_INFO_FULL)
    pairs = [
        (info.created, raw["created"]),
        (info.ts, raw["ts"]),
        (info.state.first_ts, raw["state"]["first_ts"]),
        (info.state.last_ts, raw["state"]["last_ts"]),
    ]
    for value, text in pairs:
        assert isinstance(value, Timestamp)
        expected = Timestamp._parse_slow(text)
        assert value == expected and value.nanosecond == expected.nanosecond
        assert value.isoformat_ns() == text
    assert info.config.max_age == Duration(raw["config"]["max_age"])
    assert isinstance(info.config.max_age, Duration)

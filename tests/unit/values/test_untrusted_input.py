"""Untrusted input ends in a value or a `JetStreamError`: deep JSON, non-ASCII digits in statuses,
headers and ack subjects, paging that never advances (see tests/unit/core/test_paging.py), unencodable names,
headers that are not text, and batch sizes the server cannot serve."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from datetime import timezone
from typing import Any

import msgspec
import pytest
from unit_support import PUB_ACK, STREAM_INFO_FULL, Answer, always, dumps, mock_js

from jetstream import (
    BatchMessage,
    DirectGetEnd,
    Message,
    MsgMetadata,
    Reply,
    StreamInfoResponse,
    StreamMessage,
    Timestamp,
    errors,
)
from jetstream._core._codec import decode
from jetstream._numbers import MAX_UINT64, parse_int, parse_status, parse_uint
from jetstream._validate import check_header, check_name, check_publish_subject, check_subject

DIRECT = "$JS.API.DIRECT.GET.FULL"


def status_reply(
    subject: str, status: str, headers: Mapping[str, str] | None = None, data: bytes = b""
) -> Reply:
    """A status reply as the transport hands it over (a status line also leaves a Status header)."""
    return Reply(subject, data, {**(headers or {}), "Status": status}, status=status)


def direct_headers(**overrides: str) -> dict[str, str]:
    headers = {
        "Nats-Stream": "FULL",
        "Nats-Subject": "full.a",
        "Nats-Sequence": "7",
        "Nats-Time-Stamp": "2026-11-28T02:33:39.425909913Z",
    }
    headers.update({k.replace("_", "-"): v for k, v in overrides.items()})
    return headers


# -- 1. deeply nested JSON ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b'{"config":' + b'{"a":' * 100_000 + b"1" + b"}" * 100_001,
        b'{"x":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b'{"error":{"code":500,"more":' + b"[" * 100_000 + b"]" * 100_000 + b"}}",
    ],
    ids=["skipped-member", "unknown-member", "error-member"],
)
def test_deeply_nested_json_is_a_malformed_reply(data: bytes) -> None:
    with pytest.raises(errors.MalformedReplyError, match="nested too deeply") as caught:
        decode("$JS.API.STREAM.INFO.S", data, StreamInfoResponse)
    assert isinstance(caught.value.__cause__, RecursionError)


async def test_deeply_nested_reply_to_an_api_call() -> None:
    js, _ = mock_js(always(b'{"config":' + b'{"a":' * 100_000 + b"1" + b"}" * 100_001))
    with pytest.raises(errors.MalformedReplyError):
        await js.stream_info("S")


# -- 2. status codes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("404", 404),
        ("100", 100),
        ("000", 0),
        ("²00", None),
        ("٤٠٤", None),
        ("40", None),
        ("4040", None),
        (" 404", None),
        ("+40", None),
        ("4_0", None),
        ("", None),
        (404, None),
        (None, None),
    ],
)
def test_parse_status_takes_three_ascii_digits_only(text: object, expected: int | None) -> None:
    assert parse_status(text) == expected


@pytest.mark.parametrize("status", ["²", "²00", "٤٠٨", "4O8", "40", "4085"])
async def test_a_status_that_is_not_three_ascii_digits_is_an_invalid_reply(status: str) -> None:
    js, _ = mock_js(always(status_reply("_INBOX.x", status, {"Description": "odd"})))
    with pytest.raises(errors.InvalidReplyError, match="unknown status"):
        await js.direct_get("S", seq=1)


async def test_a_numeric_status_of_a_direct_get_is_an_api_error() -> None:
    js, _ = mock_js(always(status_reply("_INBOX.x", "408", {"Description": "Request Timeout"})))
    with pytest.raises(errors.APIError) as caught:
        await js.direct_get("S", seq=1)
    assert caught.value.code == 408


# -- 3. numbers in headers and ack subjects ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", 0),
        ("7", 7),
        ("007", 7),
        (str(MAX_UINT64), MAX_UINT64),
        (str(MAX_UINT64 + 1), None),
        ("", None),
        ("²", None),
        ("١٢", None),
        ("1_2", None),
        (" 12", None),
        ("+1", None),
        ("-1", None),
        ("9" * 5000, None),
        (12, None),
        (None, None),
    ],
)
def test_parse_uint_takes_ascii_digits_in_the_uint64_range(text: object, expected: int | None) -> None:
    assert parse_uint(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", 0),
        ("-5", -5),
        ("+5", 5),
        ("12345678901234567890123", 12345678901234567890123),
        ("", None),
        ("-", None),
        ("١٢", None),
        ("1_2", None),
        ("--1", None),
        ("9" * 5000, None),
    ],
)
def test_parse_int_takes_signed_ascii_digits(text: object, expected: int | None) -> None:
    assert parse_int(text) == expected


ACK_V2 = "$JS.ACK.hub.ACCHASH.ORDERS.proc.2.10.3.1764297219425909913.4.tok"
ACK_V1 = "$JS.ACK.ORDERS.proc.2.10.3.1764297219425909913.4"


def test_valid_ack_subjects_parse() -> None:
    for reply in (ACK_V1, ACK_V2):
        meta = MsgMetadata.parse(reply)
        assert (meta.stream, meta.consumer, meta.num_delivered, meta.num_pending) == ("ORDERS", "proc", 2, 4)
        assert (meta.sequence.stream, meta.sequence.consumer) == (10, 3)
        assert meta.timestamp.nanosecond == 913


@pytest.mark.parametrize("token", ["²", "١٠", "1_0", "+10", "-10", " 10", "", "1e3", "9" * 30, "9" * 5000])
@pytest.mark.parametrize("position", range(6, 11))
def test_a_non_numeric_ack_token_is_an_invalid_reply(token: str, position: int) -> None:
    tokens = ACK_V2.split(".")
    tokens[position] = token
    reply = ".".join(tokens)
    with pytest.raises(ValueError):
        MsgMetadata.parse(reply)
    js, _ = mock_js(always(b""))
    msg = Message(js._core, "orders.1", reply, b"x")
    with pytest.raises(errors.InvalidReplyError):
        _ = msg.metadata


@pytest.mark.parametrize("position", [4, 5])
def test_an_ack_subject_without_stream_or_consumer_is_an_invalid_reply(position: int) -> None:
    tokens = ACK_V2.split(".")
    tokens[position] = ""
    js, _ = mock_js(always(b""))
    with pytest.raises(errors.InvalidReplyError):
        _ = Message(js._core, "orders.1", ".".join(tokens), b"x").metadata


@pytest.mark.parametrize("value", ["²", "١٢", "1_2", " 12", "-1", "", "9" * 5000])
async def test_a_non_numeric_nats_sequence_of_a_raw_reply_is_an_invalid_reply(value: str) -> None:
    js, _ = mock_js(always(Reply("_INBOX.x", b"m", direct_headers(Nats_Sequence=value))))
    raw = await js.direct_get("FULL", seq=7)
    with pytest.raises(errors.InvalidReplyError):
        _ = raw.seq
    with pytest.raises(errors.InvalidReplyError):
        StreamMessage.from_direct(DIRECT, raw.data, raw.headers)


def test_a_direct_get_reply_with_ascii_digits_is_a_stream_message() -> None:
    msg = StreamMessage.from_direct(DIRECT, b"m", direct_headers())
    assert (msg.stream, msg.subject, msg.seq, msg.data) == ("FULL", "full.a", 7, b"m")


async def _full_stream(answer: Any) -> tuple[Any, Any]:
    def route(subject: str, payload: bytes, headers: Mapping[str, str] | None) -> Answer:
        if subject == "$JS.API.STREAM.INFO.FULL":
            return STREAM_INFO_FULL
        result: Answer = answer(subject, payload, headers)
        return result

    js, transport = mock_js(route)
    return await js.stream("FULL"), transport


async def _collect(messages: AsyncIterator[StreamMessage]) -> list[StreamMessage]:
    return [m async for m in messages]


@pytest.mark.parametrize("value", ["²", "١٢", "x", "-1", "9" * 5000])
@pytest.mark.parametrize("header", ["Nats-Num-Pending", "Nats-Last-Sequence"])
async def test_a_non_numeric_count_at_the_end_of_a_batch_is_an_invalid_reply(header: str, value: str) -> None:
    eob = status_reply("_INBOX.x", "204", {"Description": "EOB", header: value})
    stream, _ = await _full_stream(lambda s, p, h: [Reply("_INBOX.x", b"m", direct_headers()), eob])
    end: list[DirectGetEnd] = []
    with pytest.raises(errors.InvalidReplyError, match=header):
        await _collect(stream.get_msgs(batch=5, end=end))


async def test_the_end_of_a_batch_without_counts() -> None:
    eob = status_reply("_INBOX.x", "204", {"Description": "EOB", "Nats-Num-Pending": "3"})
    stream, _ = await _full_stream(lambda s, p, h: [Reply("_INBOX.x", b"m", direct_headers()), eob])
    end: list[DirectGetEnd] = []
    got = await _collect(stream.get_msgs(batch=5, end=end))
    assert [m.seq for m in got] == [7]
    assert end == [DirectGetEnd(3, None)]


@pytest.mark.parametrize("status", ["²04", "abc", "40"])
async def test_an_odd_status_in_a_batch_is_an_invalid_reply(status: str) -> None:
    # A status line that is not three ASCII digits is no status: the reply is a message, and one
    # without the headers of a direct get.
    stream, _ = await _full_stream(lambda s, p, h: [status_reply("_INBOX.x", status)])
    with pytest.raises(errors.InvalidReplyError, match="direct get headers"):
        await _collect(stream.get_msgs(batch=5))


@pytest.mark.parametrize("val", ["١٢", "1_2", " 5", "five", ""])
async def test_a_counter_value_that_is_not_ascii_digits_is_unexpected(val: str) -> None:
    js, _ = mock_js(always(dumps({"stream": "C", "seq": 1, "val": val})))
    with pytest.raises(errors.UnexpectedReplyError, match="not an integer"):
        await js.counter_add("c.a", 1, timeout=1.0)


async def test_a_counter_value_may_be_negative_and_large() -> None:
    js, _ = mock_js(always(dumps({"stream": "C", "seq": 1, "val": "-123456789012345678901234567890"})))
    assert await js.counter_add("c.a", 1, timeout=1.0) == -123456789012345678901234567890


# -- 5. names and subjects must be encodable --------------------------------------------------------


@pytest.mark.parametrize("name", ["BI\udcff", "\ud800", "a\udfffb"])
async def test_a_name_with_a_lone_surrogate_is_refused_before_sending(name: str) -> None:
    js, transport = mock_js(always(STREAM_INFO_FULL))
    with pytest.raises(errors.InvalidNameError, match="UTF-8"):
        await js.stream_info(name)
    with pytest.raises(errors.InvalidNameError):
        await js.consumer_info("S", name)
    assert transport.requests == []
    with pytest.raises(errors.InvalidNameError):
        check_name("stream", name)
    with pytest.raises(errors.InvalidNameError):
        check_subject("subject", f"a.{name}")


@pytest.mark.parametrize("subject", ["orders.\udcff", "\udc80", "a.b\ud800"])
async def test_a_publish_subject_with_a_lone_surrogate_is_refused(subject: str) -> None:
    with pytest.raises(errors.InvalidNameError):
        check_publish_subject(subject)
    js, transport = mock_js(always(PUB_ACK))
    with pytest.raises(errors.InvalidNameError):
        await js.publish(subject, b"x")
    assert transport.requests == []


def test_non_ascii_names_and_subjects_are_fine() -> None:
    assert check_name("stream", "Ünïcödé-名前") == "Ünïcödé-名前"
    assert check_publish_subject("orders.ü.名前") == "orders.ü.名前"


# -- 6. headers ----------------------------------------------------------------------------------


BAD_HEADERS: list[Any] = [
    {"X": 5},
    {"X": b"bytes"},
    {"X": None},
    {"X": ["a", "b"]},
    {5: "x"},
    {"": "x"},
    {"A:B": "x"},
    {"A\r\nB": "x"},
    {"X": "a\r\nInjected: 1"},
    {"X": "a\nb"},
    {"X": "\udcff"},
    {"\udcff": "x"},
]


@pytest.mark.parametrize("headers", BAD_HEADERS, ids=repr)
async def test_bad_headers_are_refused_before_publishing(headers: Any) -> None:
    js, transport = mock_js(always(PUB_ACK))
    with pytest.raises(errors.InvalidArgumentError):
        await js.publish("orders.a", b"x", headers=headers)
    assert transport.requests == []


@pytest.mark.parametrize("option", ["msg_id", "expected_stream", "expected_last_msg_id"])
@pytest.mark.parametrize("value", [5, "a\r\nb", "\udcff"])
async def test_bad_option_values_are_refused(option: str, value: Any) -> None:
    js, transport = mock_js(always(PUB_ACK))
    with pytest.raises(errors.InvalidArgumentError):
        await js.publish("orders.a", b"x", **{option: value})
    assert transport.requests == []


async def test_headers_that_are_not_a_mapping_are_refused() -> None:
    js, transport = mock_js(always(PUB_ACK))
    with pytest.raises(errors.InvalidArgumentError, match="mapping"):
        await js.publish("orders.a", b"x", headers=[("X", "1")])  # type: ignore[arg-type]
    assert transport.requests == []


async def test_good_headers_pass() -> None:
    js, transport = mock_js(always(PUB_ACK))
    await js.publish("orders.a", b"x", msg_id="m1", headers={"X-Name": "välue with: colon", "Y": ""})
    assert [headers for _, _, headers in transport.requests] == [
        {"X-Name": "välue with: colon", "Y": "", "Nats-Msg-Id": "m1"}
    ]
    check_header("X", "y")


@pytest.mark.parametrize("headers", BAD_HEADERS[:4], ids=repr)
async def test_a_bad_header_in_a_batch_is_refused_before_anything_is_sent(headers: Any) -> None:
    js, transport = mock_js(always(b""))
    messages = [
        BatchMessage("orders.a", b"1"),
        BatchMessage("orders.b", b"2"),
        BatchMessage("orders.c", b"3", headers=headers),
    ]
    with pytest.raises(errors.InvalidArgumentError):
        await js.publish_batch(messages)
    assert transport.requests == []
    assert transport.published == []


async def test_a_bad_header_added_to_a_batch_is_refused() -> None:
    js, transport = mock_js(always(b""))
    batch = js.batch()
    with pytest.raises(errors.InvalidArgumentError):
        await batch.add("orders.a", b"1", headers={"X": 5})  # type: ignore[dict-item]
    assert transport.requests == []


async def test_a_term_reason_must_be_encodable() -> None:
    js, transport = mock_js(always(b""))
    msg = Message(js._core, "orders.1", ACK_V2, b"x")
    with pytest.raises(errors.InvalidArgumentError):
        await msg.term(reason="\udcff")
    assert not msg.acked
    assert transport.published == []


@pytest.mark.parametrize("delay", [True, "5", float("nan"), float("inf")])
async def test_a_nak_delay_must_be_a_duration(delay: Any) -> None:
    js, _ = mock_js(always(b""))
    msg = Message(js._core, "orders.1", ACK_V2, b"x")
    with pytest.raises(errors.InvalidArgumentError):
        await msg.nak(delay=delay)


# -- 7. get_msgs batch sizes -------------------------------------------------------------------------


@pytest.mark.parametrize("batch", [0, -1, True, 1.5])
async def test_get_msgs_refuses_a_batch_below_one(batch: Any) -> None:
    stream, transport = await _full_stream(lambda s, p, h: [])
    with pytest.raises(errors.InvalidArgumentError, match="batch"):
        await _collect(stream.get_msgs(batch=batch))
    assert [s for s, _, _ in transport.requests] == ["$JS.API.STREAM.INFO.FULL"]


@pytest.mark.parametrize("max_bytes", [0, -1])
async def test_get_msgs_refuses_max_bytes_below_one(max_bytes: int) -> None:
    stream, _ = await _full_stream(lambda s, p, h: [])
    with pytest.raises(errors.InvalidArgumentError, match="max_bytes"):
        await _collect(stream.get_msgs(batch=1, max_bytes=max_bytes))


async def test_get_msgs_sends_a_valid_batch() -> None:
    eob = status_reply("_INBOX.x", "204", {"Description": "EOB"})
    stream, transport = await _full_stream(lambda s, p, h: [eob])
    assert await _collect(stream.get_msgs(batch=1)) == []
    subject, body, _, _ = transport.published[-1]
    assert (subject, json.loads(body)) == ("$JS.API.DIRECT.GET.FULL", {"batch": 1, "seq": 1})


# -- times whose UTC instant datetime cannot hold ---------------------------------------------------


@pytest.mark.parametrize("text", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59.999999999-23:59"])
def test_a_timestamp_out_of_range_in_utc_is_an_unexpected_reply(text: str) -> None:
    # Valid RFC 3339, but converting or hashing it would raise OverflowError later, in user code.
    with pytest.raises(errors.UnexpectedReplyError, match="out of range"):
        decode("s", dumps({"t": text}), _Times)


@pytest.mark.parametrize(
    "text", ["0001-01-01T00:00:00Z", "0001-01-01T02:00:00+01:00", "9999-12-31T20:00:00-01:00"]
)
def test_timestamps_at_the_edges_of_the_range(text: str) -> None:
    value = decode("s", dumps({"t": text}), _Times).t
    assert value.astimezone(timezone.utc).tzinfo is timezone.utc
    assert isinstance(hash(value), int)


class _Times(msgspec.Struct):
    t: Timestamp

"""publish over the mock transport: expectation headers, TTL, and typed errors for bad acknowledgements."""

from __future__ import annotations

from datetime import timedelta

import pytest
from unit_support import PUB_ACK, always, mock_js

from jetstream import Duration, PubAck, errors


async def test_publish_sends_data_to_the_subject_and_returns_the_ack() -> None:
    js, transport = mock_js(always(PUB_ACK), domain="hub")
    ack = await js.publish("orders.new", b"hello")
    assert isinstance(ack, PubAck)
    assert (ack.stream, ack.seq, ack.duplicate) == ("MIN", 1, None)
    assert transport.requests == [("orders.new", b"hello", None)]


async def test_publish_defaults_to_an_empty_payload() -> None:
    js, transport = mock_js(always(PUB_ACK))
    await js.publish("orders.new")
    assert transport.requests == [("orders.new", b"", None)]


async def test_expectation_headers() -> None:
    js, transport = mock_js(always(PUB_ACK))
    await js.publish(
        "orders.new",
        b"x",
        msg_id="id-1",
        expected_stream="ORDERS",
        expected_last_seq=41,
        expected_last_subject_seq=7,
        expected_last_msg_id="id-0",
        ttl=timedelta(minutes=2),
    )
    assert transport.requests[0][2] == {
        "Nats-Msg-Id": "id-1",
        "Nats-Expected-Stream": "ORDERS",
        "Nats-Expected-Last-Sequence": "41",
        "Nats-Expected-Last-Subject-Sequence": "7",
        "Nats-Expected-Last-Msg-Id": "id-0",
        "Nats-TTL": "120s",
    }


async def test_zero_expectations_are_sent() -> None:
    # expected_last_seq=0 means "the stream must be empty": it must not be dropped as falsy.
    js, transport = mock_js(always(PUB_ACK))
    await js.publish("orders.new", b"x", expected_last_seq=0, expected_last_subject_seq=0)
    assert transport.requests[0][2] == {
        "Nats-Expected-Last-Sequence": "0",
        "Nats-Expected-Last-Subject-Sequence": "0",
    }


async def test_user_headers_are_merged_and_not_mutated() -> None:
    js, transport = mock_js(always(PUB_ACK))
    headers = {"foo": "bar", "Nats-Msg-Id": "theirs"}
    await js.publish("orders.new", b"x", headers=headers, msg_id="ours")
    assert transport.requests[0][2] == {"foo": "bar", "Nats-Msg-Id": "ours"}
    assert headers == {"foo": "bar", "Nats-Msg-Id": "theirs"}


@pytest.mark.parametrize(
    ("ttl", "header"),
    [
        (1, "1s"),
        (5.0, "5s"),
        (timedelta(hours=1), "3600s"),
        (Duration(2_000_000_000), "2s"),
    ],
)
async def test_ttl_in_whole_seconds(ttl: timedelta | float, header: str) -> None:
    js, transport = mock_js(always(PUB_ACK))
    await js.publish("orders.new", b"x", ttl=ttl)
    assert transport.requests[0][2] == {"Nats-TTL": header}


@pytest.mark.parametrize(
    "ttl",
    [1.5, 0.25, timedelta(milliseconds=1500), Duration(1_000_000_001), 0, -1, timedelta(seconds=-5)],
)
async def test_ttl_that_is_not_a_positive_whole_second_is_refused(ttl: timedelta | float) -> None:
    js, transport = mock_js(always(PUB_ACK))
    with pytest.raises(ValueError, match="ttl"):
        await js.publish("orders.new", b"x", ttl=ttl)
    assert transport.requests == []


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (b"hello", errors.MalformedReplyError),  # a core NATS responder answered
        (b"", errors.MalformedReplyError),
        (b"{}", errors.UnexpectedReplyError),
        (b'{"stream":"S"}', errors.UnexpectedReplyError),
        (b'{"stream":"S","seq":"1"}', errors.UnexpectedReplyError),
        (b'"ok"', errors.UnexpectedReplyError),
    ],
)
async def test_reply_that_is_not_a_pub_ack_is_an_invalid_reply(
    reply: bytes, error: type[errors.InvalidReplyError]
) -> None:
    js, _ = mock_js(always(reply))
    with pytest.raises(error) as info:
        await js.publish("orders.new", b"x")
    assert isinstance(info.value, errors.InvalidReplyError)
    assert info.value.subject == "orders.new"
    assert info.value.data == reply


async def test_error_ack_raises_the_generated_class() -> None:
    reply = b'{"error":{"code":400,"err_code":10071,"description":"wrong last sequence: 2"},"stream":"MIN","seq":0}'
    js, _ = mock_js(always(reply))
    with pytest.raises(errors.StreamWrongLastSequenceError) as info:
        await js.publish("orders.new", b"x", expected_last_seq=1)
    assert (info.value.code, info.value.err_code) == (400, 10071)
    assert info.value.description == "wrong last sequence: 2"


async def test_duplicate_ack() -> None:
    js, _ = mock_js(always(b'{"stream":"MIN","seq":2,"duplicate": true,"domain":"hub"}'))
    ack = await js.publish("orders.new", b"x", msg_id="a")
    assert (ack.seq, ack.duplicate, ack.domain) == (2, True, "hub")


async def test_no_responders_is_no_stream_response() -> None:
    cause = errors.JetStreamNotEnabledError("orders.new")
    js, _ = mock_js(always(cause))
    with pytest.raises(errors.NoStreamResponseError) as info:
        await js.publish("orders.new", b"x")
    assert info.value.subject == "orders.new"
    assert info.value.__cause__ is cause
    assert isinstance(info.value, errors.JetStreamError)


async def test_publish_timeout_propagates() -> None:
    js, transport = mock_js(always(errors.TimeoutError("orders.new", 0.5)))
    with pytest.raises(errors.TimeoutError):
        await js.publish("orders.new", b"x", timeout=0.5)
    assert transport.timeouts == [0.5]

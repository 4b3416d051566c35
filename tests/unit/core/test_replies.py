"""Reply decoding and the error tree: API errors, bad replies, transport failures, raw and multi replies."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import nats.errors
import pytest
from nats.aio.client import Client as NATS
from unit_support import (
    ACCOUNT_INFO,
    STREAM_INFO_FULL,
    STREAM_NOT_FOUND,
    RecordingTransport,
    always,
    dumps,
    mock_js,
)

import jetstream
from jetstream import MetaRescueResponse, RawMessage, Reply, Timestamp, errors

INFO_SUBJECT = "$JS.API.STREAM.INFO.S"


def error_reply(code: int, err_code: int, description: str) -> bytes:
    return dumps({"type": "x", "error": {"code": code, "err_code": err_code, "description": description}})


async def test_api_error_reply_raises_the_generated_class() -> None:
    js, _ = mock_js(always(STREAM_NOT_FOUND))
    with pytest.raises(errors.StreamNotFoundError) as info:
        await js.stream_info("S")
    exc = info.value
    assert (exc.code, exc.err_code, exc.description) == (404, 10059, "stream not found")
    assert isinstance(exc, errors.APIError)
    assert isinstance(exc, errors.JetStreamError)
    assert exc.error_code is errors.ErrorCode.STREAM_NOT_FOUND
    assert int(exc.error_code) == 10059
    assert "stream not found" in str(exc)


@pytest.mark.parametrize(
    ("err_code", "cls"),
    [
        (10014, errors.ConsumerNotFoundError),
        (10037, errors.NoMessageFoundError),
        (10039, errors.NotEnabledForAccountError),
        (10071, errors.StreamWrongLastSequenceError),
    ],
)
async def test_error_codes_map_to_their_classes(err_code: int, cls: type[errors.APIError]) -> None:
    js, _ = mock_js(always(error_reply(400, err_code, "boom")))
    with pytest.raises(cls) as info:
        await js.account_info()
    assert type(info.value) is cls
    assert info.value.err_code == err_code


def test_every_generated_class_is_registered_under_its_own_code() -> None:
    assert len(errors.ERRORS) > 200
    for err_code, cls in errors.ERRORS.items():
        assert issubclass(cls, errors.APIError)
        assert getattr(cls, "error_code", None) == err_code
        assert cls.__name__.endswith("Error")
        assert getattr(errors, cls.__name__) is cls
        assert type(errors.api_error(500, err_code, "d")) is cls


async def test_unknown_err_code_is_a_plain_api_error() -> None:
    js, _ = mock_js(always(error_reply(418, 65000, "from a newer server")))
    with pytest.raises(errors.APIError) as info:
        await js.account_info()
    assert type(info.value) is errors.APIError
    assert (info.value.code, info.value.err_code, info.value.description) == (
        418,
        65000,
        "from a newer server",
    )


async def test_error_reply_without_description_still_raises() -> None:
    js, _ = mock_js(always(b'{"error":{"code":500,"err_code":10059}}'))
    with pytest.raises(errors.StreamNotFoundError) as info:
        await js.stream_info("S")
    assert info.value.description == ""


@pytest.mark.parametrize("data", [b"not json", b'{"config":', b"\xff\xfe", b'{"type":"x","total":1'])
async def test_malformed_reply_carries_subject_and_raw_bytes(data: bytes) -> None:
    js, _ = mock_js(always(data))
    with pytest.raises(errors.MalformedReplyError) as info:
        await js.stream_info("S")
    assert info.value.subject == INFO_SUBJECT
    assert info.value.data == data
    assert isinstance(info.value, errors.InvalidReplyError)
    assert isinstance(info.value, errors.JetStreamError)


async def test_malformed_reply_with_an_error_member_is_still_malformed() -> None:
    data = b'{"error":{"code":404,"err_code":10059'
    js, _ = mock_js(always(data))
    with pytest.raises(errors.MalformedReplyError) as info:
        await js.stream_info("S")
    assert info.value.data == data


@pytest.mark.parametrize(
    "data",
    [
        b'{"hello":1}',
        b"[]",
        b'"a string"',
        b"42",
        b"null",
        b'{"config":"nope","state":{},"created":"x","ts":"y"}',
        # a stream info whose durations are not int nanoseconds
        STREAM_INFO_FULL.replace(b'"max_age":3600000000000', b'"max_age":"1h"'),
        # ...or whose timestamps are not RFC 3339
        STREAM_INFO_FULL.replace(b'"created":"2026-11-28T02:33:39.425909913Z"', b'"created":"yesterday"'),
        STREAM_INFO_FULL.replace(b'"max_age":3600000000000', b'"max_age":1.5'),
    ],
)
async def test_valid_json_of_the_wrong_shape_is_unexpected(data: bytes) -> None:
    js, _ = mock_js(always(data))
    with pytest.raises(errors.UnexpectedReplyError) as info:
        await js.stream_info("S")
    assert info.value.subject == INFO_SUBJECT
    assert info.value.data == data
    assert isinstance(info.value, errors.InvalidReplyError)


@pytest.mark.parametrize("data", [b'{"error":"boom"}', b'{"error":{"description":"no codes"}}', b'["error"]'])
async def test_error_member_of_the_wrong_shape_is_unexpected(data: bytes) -> None:
    js, _ = mock_js(always(data))
    with pytest.raises(errors.UnexpectedReplyError):
        await js.stream_info("S")


async def test_empty_reply_is_malformed() -> None:
    js, _ = mock_js(always(b""))
    with pytest.raises(errors.MalformedReplyError) as info:
        await js.stream_info("S")
    assert info.value.data == b""


async def test_status_only_reply_to_a_json_endpoint_is_unexpected() -> None:
    js, _ = mock_js(
        always(Reply("_INBOX.1", b"", {"Status": "408", "Description": "Request Timeout"}, status="408"))
    )
    with pytest.raises(errors.UnexpectedReplyError, match="408"):
        await js.stream_info("S")


async def test_success_reply_decodes_into_the_typed_result() -> None:
    js, _ = mock_js(always(STREAM_INFO_FULL))
    info = await js.stream_info("FULL")
    assert isinstance(info, jetstream.StreamInfo)
    assert info.config.name == "FULL"
    assert info.config.subjects == ["full.>"]
    assert info.config.max_age == jetstream.Duration(3_600_000_000_000)
    assert info.config.consumer_limits is not None
    assert info.config.consumer_limits.max_ack_pending == 500
    assert info.state.messages == 12
    assert info.state.num_deleted == 2
    assert isinstance(info.created, Timestamp)
    assert info.created.nanosecond == 913
    assert info.cluster is not None and info.cluster.leader is not None


async def test_nested_error_member_in_a_success_reply_is_data_not_an_error() -> None:
    reply = json.loads(STREAM_INFO_FULL)
    reply["sources"] = [
        {
            "name": "UP",
            "lag": 0,
            "active": -1,
            "error": {"code": 400, "err_code": 10082, "description": "consumer requires ack policy"},
        }
    ]
    js, _ = mock_js(always(dumps(reply)))
    info = await js.stream_info("FULL")
    assert info.sources is not None
    source = info.sources[0]
    assert source.error is not None and source.error.err_code == 10082
    assert source.active == jetstream.Duration(-1)


async def test_unknown_fields_and_enum_values_from_a_newer_server_decode() -> None:
    reply = json.loads(STREAM_INFO_FULL)
    reply["brand_new_field"] = {"nested": [1, 2, 3]}
    reply["config"]["retention"] = "forever"
    reply["config"]["storage"] = "tape"
    reply["config"]["future_option"] = True
    reply["state"]["future_counter"] = 7
    js, _ = mock_js(always(dumps(reply)))
    info = await js.stream_info("FULL")
    # typed as the known Literal values; a newer server's value decodes as a plain str
    assert (info.config.retention, info.config.storage) == ("forever", "tape")
    assert info.state.messages == 12
    assert not hasattr(info, "brand_new_field")
    assert not hasattr(info.config, "future_option")


async def test_missing_required_field_is_unexpected() -> None:
    reply = json.loads(STREAM_INFO_FULL)
    del reply["state"]
    js, _ = mock_js(always(dumps(reply)))
    with pytest.raises(errors.UnexpectedReplyError, match="state"):
        await js.stream_info("FULL")


@pytest.mark.parametrize(
    "exc",
    [
        errors.TimeoutError(INFO_SUBJECT, 5.0),
        errors.JetStreamNotEnabledError(INFO_SUBJECT),
        errors.ConnectionClosedError("closed"),
    ],
)
async def test_transport_errors_propagate_typed(exc: errors.JetStreamError) -> None:
    js, _ = mock_js(always(exc))
    with pytest.raises(type(exc)) as info:
        await js.stream_info("S")
    assert info.value is exc
    assert isinstance(info.value, errors.JetStreamError)


def test_timeout_error_is_also_the_builtin_one() -> None:
    exc = errors.TimeoutError("$JS.API.INFO", 1.5)
    assert isinstance(exc, TimeoutError)
    assert (exc.subject, exc.timeout) == ("$JS.API.INFO", 1.5)


class _FailingConnection(NATS):
    """A nats-py client that is never connected: every send fails with `failure`."""

    def __init__(self, failure: Exception) -> None:
        super().__init__()
        self.failure = failure

    async def subscribe(self, subject: str, *args: Any, **kwargs: Any) -> Any:
        return None

    async def publish(
        self,
        subject: str,
        payload: bytes = b"",
        reply: str = "",
        headers: dict[str, str] | None = None,
    ) -> None:
        raise self.failure


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (nats.errors.ConnectionClosedError(), errors.ConnectionClosedError),
        (nats.errors.MaxPayloadError(), errors.PayloadTooLargeError),
        (nats.errors.BadSubjectError(), errors.InvalidArgumentError),
    ],
)
async def test_nats_transport_translates_nats_py_errors(
    failure: Exception, expected: type[errors.JetStreamError]
) -> None:
    # Timeouts and no-responders replies are the transport's own now: see
    # tests/integration/test_transport_capabilities.py.
    js = jetstream.JetStream(_FailingConnection(failure))
    with pytest.raises(expected) as info:
        await js.stream_info("S")
    causes = []
    cause = info.value.__cause__
    while cause is not None:
        causes.append(cause)
        cause = cause.__cause__
    assert failure in causes


# Raw replies (DIRECT.GET, CONSUMER.MSG.NEXT)

DIRECT_HEADERS = {
    "Nats-Stream": "ORDERS",
    "Nats-Sequence": "42",
    "Nats-Time-Stamp": "2026-11-28T02:33:39.430491126Z",
    "Nats-Subject": "orders.new",
    "foo": "bar",
}


async def test_direct_get_returns_the_raw_message_with_headers() -> None:
    js, transport = mock_js(always(Reply("_INBOX.abc", b'{"raw": true}', DIRECT_HEADERS)))
    msg = await js.direct_get("ORDERS", last_by_subj="orders.new")
    assert isinstance(msg, RawMessage)
    assert msg.data == b'{"raw": true}'
    assert msg.headers["foo"] == "bar"
    assert msg.stream == "ORDERS"
    assert msg.seq == 42
    assert msg.original_subject == "orders.new"
    assert msg.time is not None
    assert msg.time.isoformat_ns() == "2026-11-28T02:33:39.430491126Z"
    assert msg.time.nanosecond == 126
    assert transport.requests == [("$JS.API.DIRECT.GET.ORDERS", b'{"last_by_subj":"orders.new"}', None)]


async def test_raw_message_without_headers() -> None:
    js, _ = mock_js(always(b"just data"))
    msg = await js.direct_get("S", seq=1)
    assert (msg.data, dict(msg.headers), msg.stream, msg.seq, msg.time) == (
        b"just data",
        {},
        None,
        None,
        None,
    )
    assert msg.original_subject == msg.subject


async def test_direct_get_last_for_subject_puts_the_subject_in_the_request_subject() -> None:
    js, transport = mock_js(always(Reply("_INBOX.abc", b"v", DIRECT_HEADERS)))
    msg = await js.direct_get_last_for_subject("ORDERS", "orders.new")
    assert msg.seq == 42
    assert transport.requests == [("$JS.API.DIRECT.GET.ORDERS.orders.new", b"", None)]


async def test_direct_get_404_is_no_message_found() -> None:
    js, _ = mock_js(
        always(Reply("_INBOX.abc", b"", {"Status": "404", "Description": "Message Not Found"}, status="404"))
    )
    with pytest.raises(errors.NoMessageFoundError) as info:
        await js.direct_get("S", seq=99)
    assert (info.value.code, info.value.err_code, info.value.description) == (404, 10037, "Message Not Found")
    assert isinstance(info.value, errors.APIError)


async def test_direct_get_other_numeric_status_is_an_api_error() -> None:
    js, _ = mock_js(
        always(Reply("_INBOX.abc", b"", {"Status": "408", "Description": "Request Timeout"}, status="408"))
    )
    with pytest.raises(errors.APIError) as info:
        await js.direct_get("S", seq=1)
    assert type(info.value) is errors.APIError
    assert (info.value.code, info.value.description) == (408, "Request Timeout")


async def test_direct_get_non_numeric_status_is_an_invalid_reply() -> None:
    js, _ = mock_js(always(Reply("_INBOX.abc", b"x", {"Status": "huh"}, status="huh")))
    with pytest.raises(errors.InvalidReplyError) as info:
        await js.direct_get("S", seq=1)
    assert info.value.subject == "$JS.API.DIRECT.GET.S"
    assert info.value.data == b"x"


@pytest.mark.parametrize(
    ("header", "value", "attribute"),
    [
        ("Nats-Sequence", "not-a-number", "seq"),
        ("Nats-Sequence", "", "seq"),
        ("Nats-Time-Stamp", "yesterday", "time"),
    ],
)
def test_bad_raw_message_header_is_an_invalid_reply(header: str, value: str, attribute: str) -> None:
    msg = RawMessage("s", b"", {header: value})
    with pytest.raises(errors.InvalidReplyError):
        getattr(msg, attribute)


# Multi-reply endpoint (META.RESCUE is answered by every server that gets it)


class _BroadcastTransport(RecordingTransport):
    def __init__(self, replies: list[bytes]) -> None:
        super().__init__(always(b""))
        self.replies = replies
        self.broadcasts: list[tuple[str, bytes, float | None]] = []

    async def request_many(
        self, subject: str, payload: bytes, timeout: float | None, max_replies: int | None = None
    ) -> list[Reply]:
        self.broadcasts.append((subject, payload, timeout))
        return [Reply("_INBOX.m", data) for data in self.replies]


def rescue(server: str, prev: int, new: int) -> bytes:
    return dumps({"server": server, "server_id": server.upper(), "prev_quorum": prev, "new_quorum": new})


async def test_meta_rescue_collects_every_reply() -> None:
    transport = _BroadcastTransport([rescue("n1", 3, 2), rescue("n2", 3, 2), rescue("n3", 2, 2)])
    js = jetstream.JetStream(transport=transport, timeout=2.0)
    replies = await js.meta_rescue(quorum_needed=2)
    assert all(isinstance(r, MetaRescueResponse) for r in replies)
    assert [
        (r.server, r.server_id, r.prev_quorum, r.new_quorum)
        for r in replies
        if isinstance(r, MetaRescueResponse)
    ] == [
        ("n1", "N1", 3, 2),
        ("n2", "N2", 3, 2),
        ("n3", "N3", 2, 2),
    ]
    assert transport.broadcasts == [("$JS.API.META.RESCUE", b'{"quorum_needed":2}', 2.0)]
    assert transport.requests == []


async def test_meta_rescue_keeps_every_server_outcome() -> None:
    # One server complies while another refuses: the caller must learn about both.
    transport = _BroadcastTransport([rescue("n1", 3, 2), error_reply(500, 10224, "rescue failed")])
    js = jetstream.JetStream(transport=transport)
    ok, refused = await js.meta_rescue(quorum_needed=1)
    assert isinstance(ok, MetaRescueResponse) and ok.server == "n1"
    assert isinstance(refused, errors.ClusterRescueError)
    assert (refused.code, refused.err_code, refused.description) == (500, 10224, "rescue failed")


async def test_meta_rescue_with_no_answer_is_a_timeout() -> None:
    js = jetstream.JetStream(transport=_BroadcastTransport([]))
    with pytest.raises(errors.TimeoutError):
        await js.meta_rescue(quorum_needed=1, timeout=0.1)


async def test_meta_rescue_over_the_mock_transport_has_one_reply() -> None:
    js, transport = mock_js(always(rescue("solo", 1, 1)), domain="hub")
    replies = await js.meta_rescue(quorum_needed=1)
    assert [r.server if isinstance(r, MetaRescueResponse) else r for r in replies] == ["solo"]
    assert transport.requests == [("$JS.hub.API.META.RESCUE", b'{"quorum_needed":1}', None)]


async def test_account_info_decodes_a_real_reply() -> None:
    js, transport = mock_js(always(ACCOUNT_INFO))
    info = await js.account_info()
    assert (info.streams, info.consumers, info.api.level, info.limits.max_streams) == (11, 14, 5, -1)
    assert transport.requests == [("$JS.API.INFO", b"", None)]


def _headers_of(transport: RecordingTransport) -> list[Mapping[str, str] | None]:
    return [headers for _, _, headers in transport.requests]


async def test_management_requests_carry_no_headers() -> None:
    js, transport = mock_js(always(STREAM_INFO_FULL))
    await js.stream_info("FULL", subjects_filter=">")
    assert _headers_of(transport) == [None]
    assert transport.bodies() == [{"subjects_filter": ">"}]


MSG_GET_WITH_HEADERS = (
    b'{"type":"io.nats.jetstream.api.v1.stream_msg_get_response","message":{"subject":"MIN","seq":2,'
    b'"hdrs":"TkFUUy8xLjANCk5hdHMtTXNnLUlkOiBpZDENClgtSDogdg0KDQo=","data":"aGVsbG8=",'
    b'"time":"2026-11-28T02:33:39.418436293Z"}}'
)


async def test_stream_msg_get_decodes_base64_payload_and_headers() -> None:
    js, transport = mock_js(always(MSG_GET_WITH_HEADERS))
    msg = await js.stream_msg_get("MIN", last_by_subj="MIN")
    assert (msg.subject, msg.seq, msg.data) == ("MIN", 2, b"hello")
    assert msg.hdrs == b"NATS/1.0\r\nNats-Msg-Id: id1\r\nX-H: v\r\n\r\n"
    assert isinstance(msg.time, Timestamp) and msg.time.nanosecond == 293
    assert transport.requests == [("$JS.API.STREAM.MSG.GET.MIN", b'{"last_by_subj":"MIN"}', None)]


async def test_stream_msg_get_of_an_empty_message() -> None:
    reply = (
        b'{"type":"io.nats.jetstream.api.v1.stream_msg_get_response","message":{"subject":"MIN","seq":8,'
        b'"time":"2026-11-28T02:33:42.494979567Z"}}'
    )
    js, _ = mock_js(always(reply))
    msg = await js.stream_msg_get("MIN", seq=8)
    assert (msg.seq, msg.data, msg.hdrs) == (8, None, None)


async def test_stream_msg_get_not_found() -> None:
    reply = (
        b'{"type":"io.nats.jetstream.api.v1.stream_msg_get_response","error":{"code":404,"err_code":10037,'
        b'"description":"no message found"}}'
    )
    js, _ = mock_js(always(reply))
    with pytest.raises(errors.NoMessageFoundError):
        await js.stream_msg_get("MIN", seq=99)


async def test_bad_base64_payload_is_unexpected() -> None:
    js, _ = mock_js(always(MSG_GET_WITH_HEADERS.replace(b"aGVsbG8=", b"!!not base64!!")))
    with pytest.raises(errors.UnexpectedReplyError):
        await js.stream_msg_get("MIN", seq=2)

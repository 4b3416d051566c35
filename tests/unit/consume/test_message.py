"""Message metadata (v1 and v2 ack subjects), acknowledgements over the mock transport, Headers."""

from __future__ import annotations

from datetime import timedelta

import pytest

from jetstream import MockTransport, errors
from jetstream._consume._message import Message, MsgMetadata, MsgSequence
from jetstream._core import Core
from jetstream._transport._headers import Headers

V1 = "$JS.ACK.ORDERS.worker.3.1042.17.1764297219123456789.5"
V2 = "$JS.ACK.hub.ACCHASH.ORDERS.worker.3.1042.17.1764297219123456789.5.XYZ"
V2_NO_DOMAIN = "$JS.ACK._.ACCHASH.ORDERS.worker.1.2.3.1764297219123456789.0.XYZ"


def _message(reply: str = V1) -> tuple[Message, MockTransport]:
    transport = MockTransport(lambda subject, payload, headers: b"")
    return Message(Core(transport), "orders.new", reply, b"payload", {"Foo": "bar"}), transport


def test_v1_metadata() -> None:
    meta = MsgMetadata.parse(V1)
    assert (meta.stream, meta.consumer) == ("ORDERS", "worker")
    assert meta.sequence == MsgSequence(stream=1042, consumer=17)
    assert (meta.num_delivered, meta.num_pending) == (3, 5)
    assert (meta.domain, meta.account_hash) == (None, None)
    assert meta.timestamp.isoformat_ns() == "2025-11-28T02:33:39.123456789Z"


def test_v2_metadata_with_domain_and_account_hash() -> None:
    meta = MsgMetadata.parse(V2)
    assert (meta.domain, meta.account_hash, meta.stream, meta.consumer) == (
        "hub",
        "ACCHASH",
        "ORDERS",
        "worker",
    )
    assert meta.sequence == MsgSequence(1042, 17)
    assert MsgMetadata.parse(V2_NO_DOMAIN).domain is None
    # The trailing random token is optional.
    assert MsgMetadata.parse(V2.rsplit(".", 1)[0]).stream == "ORDERS"


@pytest.mark.parametrize(
    "reply",
    [
        "",
        "_INBOX.x",
        "$JS.ACK.a.b.c",
        "$JS.ACK.S.C.1.2.3.4.5.6",
        "$JS.NAK.S.C.1.2.3.4.5",
        "$JS.ACK.S.C.x.2.3.4.5",
    ],
)
def test_bad_ack_subjects_are_refused(reply: str) -> None:
    with pytest.raises(ValueError):
        MsgMetadata.parse(reply)


def test_metadata_is_lazy_and_typed_on_bad_subjects() -> None:
    msg, _ = _message("_INBOX.not.an.ack")
    assert msg.data == b"payload"  # nothing parsed yet
    with pytest.raises(errors.InvalidReplyError):
        _ = msg.metadata
    no_reply, _ = _message("")
    with pytest.raises(errors.NotJetStreamMessageError):
        _ = no_reply.metadata


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("ack", b"+ACK"),
        ("nak", b"-NAK"),
        ("term", b"+TERM"),
    ],
)
async def test_terminal_acks_are_sent_once(action: str, body: bytes) -> None:
    msg, transport = _message()
    await getattr(msg, action)()
    assert transport.published == [(V1, body, "", None)]
    assert msg.acked
    for again in ("ack", "nak", "term", "in_progress"):
        with pytest.raises(errors.MessageAlreadyAckedError):
            await getattr(msg, again)()
    with pytest.raises(errors.MessageAlreadyAckedError):
        await msg.ack_sync()
    assert len(transport.published) == 1


async def test_nak_with_delay_and_term_with_reason() -> None:
    msg, transport = _message()
    await msg.nak(delay=timedelta(seconds=1.5))
    other, transport2 = _message()
    await other.term(reason="bad payload")
    assert transport.published[0][1] == b'-NAK {"delay": 1500000000}'
    assert transport2.published[0][1] == b"+TERM bad payload"


async def test_in_progress_repeats_until_a_terminal_ack() -> None:
    msg, transport = _message()
    await msg.in_progress()
    await msg.in_progress()
    assert not msg.acked
    await msg.ack()
    assert [body for _, body, _, _ in transport.published] == [b"+WPI", b"+WPI", b"+ACK"]


async def test_ack_sync_waits_for_the_server() -> None:
    msg, transport = _message()
    await msg.ack_sync(timeout=2.0)
    assert transport.requests == [(V1, b"+ACK", None)]
    assert transport.timeouts == [2.0]


async def test_failed_ack_sync_can_be_retried() -> None:
    def refuse(subject: str, payload: bytes, headers: object) -> bytes:
        raise errors.TimeoutError(subject, 0.1)

    transport = MockTransport(refuse)
    msg = Message(Core(transport), "s", V1, b"")
    with pytest.raises(errors.TimeoutError):
        await msg.ack_sync(timeout=0.1)
    assert not msg.acked  # not confirmed: the caller may ack again


async def test_acks_need_a_reply_subject() -> None:
    msg, _ = _message("")
    with pytest.raises(errors.NotJetStreamMessageError):
        await msg.ack()
    with pytest.raises(errors.NotJetStreamMessageError):
        await msg.in_progress()


def test_headers_are_case_insensitive_and_multi_valued() -> None:
    h = Headers.parse(b"NATS/1.0\r\nX-Tag: a\r\nx-tag: b\r\nOther: c\r\n\r\n")
    assert h.get("X-TAG") == "a"
    assert h.get_all("x-Tag") == ["a", "b"]
    assert h["other"] == "c"
    assert "OTHER" in h and "missing" not in h
    assert list(h) == ["X-Tag", "Other"]
    assert len(h) == 2
    assert h.get("missing") is None and h.get("missing", "d") == "d"
    assert h.items_all() == [("X-Tag", "a"), ("x-tag", "b"), ("Other", "c")]
    assert Headers.parse(h.encode()) == h


def test_headers_status_line() -> None:
    h = Headers.parse(b"NATS/1.0 408 Request Timeout\r\nNats-Pending-Messages: 5\r\n\r\n")
    assert (h["Status"], h["Description"], h["nats-pending-messages"]) == ("408", "Request Timeout", "5")
    assert Headers.parse(b"") == Headers()
    assert Headers.of({"a": ["1", "2"], "b": "3"}).get_all("A") == ["1", "2"]


def test_message_headers_from_a_mapping() -> None:
    msg, _ = _message()
    assert msg.headers.get("foo") == "bar"
    assert msg.headers is msg.headers  # built once

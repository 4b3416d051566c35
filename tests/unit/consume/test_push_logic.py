"""Push delivery logic that needs no server (the wire behaviour is in
tests/integration/test_consume_push*.py): when flow-control requests are answered, stalled
heartbeats, status lines that are data, deliver groups, and what a push consumer handle refuses."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import msgspec
import pytest
from unit_support import consumer_info, settle

from jetstream import ConsumerConfig, ConsumerInfo, JetStream, PushConsumer, PushMessageStream, errors
from jetstream._time import dec_hook
from jetstream._transport import FakeConnection, FakeMsg, StatusHeaders, status_msg

FC = "$JS.FC.S.abc.1"


def info(**config: Any) -> ConsumerInfo:
    raw = consumer_info("S", "D")
    raw["config"].update(config)
    return msgspec.convert(raw, ConsumerInfo, dec_hook=dec_hook)


def delivered(seq: int, data: bytes | None = None) -> FakeMsg:
    reply = f"$JS.ACK.S.D.1.{seq}.{seq}.1700000000000000000.0"
    return FakeMsg("orders.new", b"%d" % seq if data is None else data, reply)


def flow_control(reply: str = FC) -> FakeMsg:
    msg = status_msg("dlv", 100, "FlowControl Request")
    return FakeMsg(msg.subject, b"", reply, msg.headers)


def answers(conn: FakeConnection) -> list[str]:
    return [
        subject for subject, payload, _, _ in conn.published if subject.startswith("$JS.FC.") and not payload
    ]


async def answered(conn: FakeConnection, n: int) -> list[str]:
    """The answers once there are ``n`` (one handed out by the reader is sent on a task of its own
    when the connection cannot queue it at once, as the fake never can)."""
    for _ in range(100):
        if len(answers(conn)) >= n:
            break
        await asyncio.sleep(0)
    return answers(conn)


async def started(conn: FakeConnection, **config: Any) -> PushMessageStream:
    config.setdefault("deliver_subject", "dlv")
    stream = PushConsumer(JetStream(transport=conn), info(**config)).messages()
    await stream._start()
    return stream


def inbox_of(stream: PushMessageStream) -> Any:
    inbox = stream._holder.inbox
    assert inbox is not None
    return inbox


async def test_flow_control_is_answered_once_the_reader_reaches_it() -> None:
    conn = FakeConnection()
    async with await started(conn) as msgs:
        inbox = inbox_of(msgs)
        await inbox.on_msg(delivered(1))
        await inbox.on_msg(delivered(2))
        await inbox.on_msg(flow_control())
        await inbox.on_msg(delivered(3))
        assert answers(conn) == []  # two messages before the request are still buffered
        assert (await msgs.__anext__()).data == b"1"
        assert answers(conn) == []
        assert (await msgs.__anext__()).data == b"2"
        assert await answered(conn, 1) == [FC]
        assert (await msgs.__anext__()).data == b"3"
        # a request with nothing buffered before it is answered at once
        await inbox.on_msg(flow_control(FC + "2"))
        assert answers(conn) == [FC, FC + "2"]


async def test_a_stalled_heartbeat_is_answered_unless_the_answer_is_held_back() -> None:
    conn = FakeConnection()
    async with await started(conn) as msgs:
        inbox = inbox_of(msgs)
        stalled = status_msg("dlv", 100, "Idle Heartbeat", **{"Nats-Consumer-Stalled": FC})
        await inbox.on_msg(stalled)
        await inbox.on_msg(stalled)
        assert answers(conn) == [FC]  # the lost answer, sent again once
        await inbox.on_msg(delivered(1))
        await inbox.on_msg(flow_control(FC + "2"))
        await inbox.on_msg(status_msg("dlv", 100, "Idle Heartbeat", **{"Nats-Consumer-Stalled": FC + "2"}))
        assert answers(conn) == [FC]  # held back for the reader: the server waits for it
        await msgs.__anext__()
        assert await answered(conn, 2) == [FC, FC + "2"]


async def test_status_lines_of_stored_messages_are_data() -> None:
    """A publisher may store a message whose header block begins with a status line; delivered by
    the consumer it carries an ack subject, and is handed out like any other."""
    conn = FakeConnection()
    async with await started(conn) as msgs:
        inbox = inbox_of(msgs)
        forged = delivered(1, b"")
        forged = FakeMsg(forged.subject, b"", forged.reply, StatusHeaders({"Status": "100"}))
        await inbox.on_msg(forged)
        await inbox.on_msg(status_msg("dlv", 100, "Idle Heartbeat"))
        msg = await msgs.__anext__()
        assert msg.metadata.sequence.stream == 1 and msgs.buffered == 0
        assert answers(conn) == []
        # a flow-control request whose reply cannot be published is dropped, not raised
        await inbox.on_msg(flow_control("not a subject"))
        # published straight to the deliver subject: handed out, but it cannot be acknowledged
        await inbox.on_msg(FakeMsg("dlv", b"core"))
        stray = await msgs.__anext__()
        assert stray.data == b"core"
        with pytest.raises(errors.NotJetStreamMessageError):
            await stray.ack()


async def test_a_deliver_group_subscribes_as_a_queue_and_does_not_watch_heartbeats() -> None:
    conn = FakeConnection()
    config = {"deliver_group": "workers", "idle_heartbeat": 1_000_000_000}
    a = await started(conn, **config)
    b = await started(conn, **config)
    assert inbox_of(a).target.heartbeat is None  # the server shares heartbeats out among members
    one = delivered(1)
    conn.deliver(FakeMsg("dlv", one.data, one.reply))  # the fake routes by the subject
    msg = await asyncio.wait_for(asyncio.shield(_first(a, b)), 5)
    assert msg.data == b"1"
    for _ in range(10):  # give the fake's delivery tasks every chance to hand out a second copy
        await asyncio.sleep(0)
    assert a.buffered + b.buffered == 0  # the other member got nothing
    await a.aclose()
    await b.aclose()
    solo = await started(FakeConnection(), idle_heartbeat=1_000_000_000)
    assert inbox_of(solo).target.heartbeat == 1.0
    await solo.aclose()


async def _first(*streams: PushMessageStream) -> Any:
    """The first message any of ``streams`` hands out (the fake delivers on its own tasks)."""
    while True:
        for stream in streams:
            if stream.buffered:
                return await stream.__anext__()
        await asyncio.sleep(0)


async def test_a_push_consumer_handle_needs_a_deliver_subject() -> None:
    js = JetStream(transport=FakeConnection())
    with pytest.raises(errors.NotPushConsumerError):
        PushConsumer(js, info())
    pc = PushConsumer(js, info(deliver_subject="dlv", deliver_group="g"))
    assert (pc.deliver_subject, pc.deliver_group, pc.name, pc.stream) == ("dlv", "g", "D", "S")
    stream = pc.messages()
    await stream.drain()  # never started: just closed
    assert stream.closed


class _Server:
    """Answers consumer creates (echoing the config) and deletes; remembers the creates."""

    def __init__(self) -> None:
        self.created: list[dict[str, Any]] = []

    def __call__(self, subject: str, payload: bytes, headers: object) -> bytes:
        if subject.startswith("$JS.API.CONSUMER.CREATE."):
            config = msgspec.json.decode(payload)["config"]
            self.created.append(config)
            raw = consumer_info("S", config["name"])
            raw["config"] = {**raw["config"], **config}
            return msgspec.json.encode(raw)
        if subject.startswith("$JS.API.CONSUMER.DELETE."):
            return b'{"success": true}'
        raise AssertionError(f"unexpected request {subject}")


def ordered_msg(name: str, sseq: int, cseq: int | None = None) -> FakeMsg:
    cseq = sseq if cseq is None else cseq
    return FakeMsg("orders.new", b"%d" % sseq, f"$JS.ACK.S.{name}.1.{sseq}.{cseq}.1700000000000000000.0")


async def test_ordered_push_recreates_on_a_gap_and_on_a_heartbeat_that_says_so() -> None:
    server = _Server()
    js = JetStream(transport=FakeConnection(server))
    oc = await js.ordered_push_consumer("S", heartbeat=30)
    first = server.created[0]
    assert (first["flow_control"], first["ack_policy"], first["deliver_subject"][:7]) == (
        True,
        "none",
        "_INBOX.",
    )
    assert first["idle_heartbeat"] == 30 * 10**9
    events: list[Any] = []
    oc.messages()  # made and never iterated: keeps nobody out
    async with oc.messages(on_event=events.append) as msgs:
        with pytest.raises(errors.OrderedConsumerBusyError):
            oc.messages()
        name = oc.name
        assert name is not None
        inbox = inbox_of(msgs)
        assert inbox.target.subject == first["deliver_subject"]
        await inbox.on_msg(FakeMsg("dlv", b"core"))  # not the consumer's: skipped, no gap
        await inbox.on_msg(ordered_msg(name, 1))
        await inbox.on_msg(ordered_msg(name, 3))  # 2 went missing
        assert (await msgs.__anext__()).data == b"1"
        reader = asyncio.ensure_future(msgs.__anext__())
        await settle(lambda: len(server.created) == 2)
        second = server.created[1]
        assert (second["deliver_policy"], second["opt_start_seq"]) == ("by_start_sequence", 2)
        assert second["deliver_subject"] != first["deliver_subject"]  # a fresh inbox
        await settle(lambda: msgs.deliver_subject == second["deliver_subject"])
        await inbox_of(msgs).on_msg(ordered_msg(second["name"], 2, 1))
        assert (await reader).data == b"2"
        # a heartbeat whose last consumer sequence is not the last one received: recreate again
        inbox = inbox_of(msgs)
        await inbox.on_msg(status_msg("dlv", 100, "Idle Heartbeat", **{"Nats-Last-Consumer": "2"}))
        reader = asyncio.ensure_future(msgs.__anext__())
        await settle(lambda: len(server.created) == 3)
        assert server.created[2]["opt_start_seq"] == 3
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
    assert [(type(e).__name__, e.reason) for e in events] == [("ConsumerRecreated", "gap")] * 2


async def test_ordered_push_options_are_checked_before_anything_is_sent() -> None:
    conn = FakeConnection(_Server())
    js = JetStream(transport=conn)
    with pytest.raises(errors.InvalidArgumentError):
        await js.ordered_push_consumer("S", heartbeat=0.05)  # below the server's 100 ms
    with pytest.raises(errors.InvalidArgumentError):
        await js.ordered_push_consumer("S", opt_start_seq=0)
    with pytest.raises(errors.InvalidArgumentError):
        await js.create_push_consumer("S", ConsumerConfig(durable_name="x"))  # no deliver subject
    assert conn.requests == []

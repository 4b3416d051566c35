"""Push consumers against a real server: create and bind, messages() and consume(), deliver groups,
flow control, idle heartbeats and a deleted consumer, the ordered push consumer, and a nats-py push
subscriber sharing the same consumer."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

import pytest
from conftest import JetStreamFactory, published

from jetstream import (
    ConsumeEvent,
    ConsumerConfig,
    ConsumerRecreated,
    JetStream,
    Message,
    MissedHeartbeat,
    PushConsumer,
    errors,
)

STREAM = "ORDERS"


async def wait_until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def setup(js: JetStream, n: int, size: int = 0) -> None:
    await js.stream_create(STREAM, subjects=["orders.>"])
    for i in range(n):
        await js.publish("orders.new", b"%d" % i + b"." * size)


async def take(stream: object, n: int) -> list[Message]:
    got: list[Message] = []
    async for msg in stream:  # type: ignore[attr-defined]
        got.append(msg)
        if len(got) == n:
            break
    return got


async def test_durable_push_consumer_delivers_and_acks(js: JetStream) -> None:
    await setup(js, 10)
    pc = await js.create_push_consumer(
        STREAM, ConsumerConfig(durable_name="p", deliver_subject="dlv.p", ack_policy="explicit")
    )
    assert isinstance(pc, PushConsumer)
    assert (pc.name, pc.stream, pc.deliver_subject, pc.deliver_group) == ("p", STREAM, "dlv.p", None)
    async with pc.messages() as msgs:
        got = await asyncio.wait_for(take(msgs, 10), 10)
        for msg in got:
            await msg.ack_sync()
    assert [int(m.data) for m in got] == list(range(10))
    assert [m.metadata.sequence.stream for m in got] == list(range(1, 11))
    assert got[0].metadata.consumer == "p"
    info = await pc.info()
    assert info.num_ack_pending == 0 and info.delivered.stream_seq == 10
    # bind: the same consumer by name, nothing changed
    bound = await js.push_consumer(STREAM, "p")
    assert bound.cached_info.config.deliver_subject == "dlv.p"
    # the same config again is fine; another one is refused with the differing field named
    again = await js.create_push_consumer(
        STREAM, ConsumerConfig(durable_name="p", deliver_subject="dlv.p", ack_policy="explicit")
    )
    assert again.name == "p"
    with pytest.raises(errors.ConsumerConfigMismatchError) as mismatch:
        await js.create_push_consumer(
            STREAM, ConsumerConfig(durable_name="p", deliver_subject="dlv.p", max_deliver=3)
        )
    assert mismatch.value.fields == ["max_deliver"]
    updated = await js.update_push_consumer(
        STREAM, ConsumerConfig(durable_name="p", deliver_subject="dlv.p2", ack_policy="explicit")
    )
    assert updated.deliver_subject == "dlv.p2"
    upserted = await js.create_or_update_push_consumer(
        STREAM, ConsumerConfig(durable_name="q", deliver_subject="dlv.q")
    )
    assert upserted.name == "q"


async def test_push_and_pull_are_told_apart(js: JetStream) -> None:
    await setup(js, 0)
    await js.create_consumer(STREAM, "pull")
    with pytest.raises(errors.NotPushConsumerError):
        await js.push_consumer(STREAM, "pull")
    with pytest.raises(errors.InvalidArgumentError):
        await js.create_push_consumer(STREAM, ConsumerConfig(durable_name="x"))
    with pytest.raises(errors.ConsumerNotFoundError):
        await js.push_consumer(STREAM, "missing")


async def test_ephemeral_push_consumer_with_a_callback(js: JetStream) -> None:
    await setup(js, 20)
    pc = await js.create_push_consumer(STREAM, ConsumerConfig(deliver_subject="dlv.eph"))
    assert pc.name  # named by the SDK
    seen: list[int] = []

    async def handler(msg: Message) -> None:
        seen.append(int(msg.data))
        await msg.ack()

    ctx = await pc.consume(handler)
    await wait_until(lambda: len(seen) == 20)
    await ctx.aclose()
    assert seen == list(range(20))
    assert ctx.error is None


async def test_deliver_group_shares_the_messages(js: JetStream, js_factory: JetStreamFactory) -> None:
    """Two members of a deliver group, on two connections: every message once, to one of them."""
    await setup(js, 0)
    pc = await js.create_push_consumer(
        STREAM, ConsumerConfig(durable_name="g", deliver_subject="dlv.g", deliver_group="workers")
    )
    other = await js_factory(js.nc.connected_url.geturl())
    pc2 = await other.push_consumer(STREAM, "g")
    assert pc2.deliver_group == "workers"
    got: dict[str, list[int]] = {"a": [], "b": []}

    def member(name: str) -> Callable[[Message], object]:
        async def handler(msg: Message) -> None:
            got[name].append(int(msg.data))
            await msg.ack()

        return handler

    ctx_a = await pc.consume(member("a"))
    ctx_b = await pc2.consume(member("b"))
    await js.nc.flush()
    await other.nc.flush()
    for i in range(200):
        await js.publish("orders.new", b"%d" % i)
    await wait_until(lambda: len(got["a"]) + len(got["b"]) >= 200)
    await ctx_a.aclose()
    await ctx_b.aclose()
    assert sorted(got["a"] + got["b"]) == list(range(200))
    assert got["a"] and got["b"]  # both members got some (a 2**-199 chance of a false failure)


async def test_flow_control_requests_are_answered(js: JetStream) -> None:
    """Enough data to make the server ask for flow control several times: every message arrives
    (an unanswered request stalls the consumer) and the answers are seen on the wire."""
    n = 300
    await setup(js, n, size=16 * 1024)
    pc = await js.create_push_consumer(
        STREAM,
        ConsumerConfig(
            durable_name="fc",
            deliver_subject="dlv.fc",
            flow_control=True,
            idle_heartbeat=timedelta(seconds=1),
            ack_policy="none",
        ),
    )
    async with published(js, "$JS.FC.>") as answers:
        async with pc.messages() as msgs:
            got = await asyncio.wait_for(take(msgs, n), 20)
        await answers.wait_for("$JS.FC.")
    assert [int(m.data.split(b".")[0]) for m in got] == list(range(n))


async def test_a_deleted_push_consumer_ends_the_stream(js: JetStream) -> None:
    """The server tells a push subscriber nothing when its consumer is deleted: the heartbeats
    stop, and the look-up after them ends the iteration with ConsumerDeletedError."""
    await setup(js, 1)
    pc = await js.create_push_consumer(
        STREAM,
        ConsumerConfig(durable_name="hb", deliver_subject="dlv.hb", idle_heartbeat=timedelta(seconds=0.2)),
    )
    events: list[ConsumeEvent] = []
    msgs = pc.messages(on_event=events.append)
    first = await asyncio.wait_for(msgs.__anext__(), 10)
    await first.ack()
    await js.consumer_delete(STREAM, "hb")
    with pytest.raises(errors.ConsumerDeletedError):
        await asyncio.wait_for(msgs.__anext__(), 10)
    assert msgs.closed
    assert any(isinstance(e, MissedHeartbeat) for e in events)


async def test_ordered_push_consumer_recovers_from_a_deleted_consumer(js: JetStream) -> None:
    await setup(js, 50)
    oc = await js.ordered_push_consumer(STREAM, heartbeat=0.2)
    first_name = oc.name
    assert first_name is not None
    info = await js.consumer_info(STREAM, first_name)
    assert info.config.flow_control and info.config.ack_policy == "none" and info.config.deliver_subject
    events: list[ConsumeEvent] = []
    got: list[int] = []
    async with oc:
        msgs = oc.messages(on_event=events.append)
        async for msg in msgs:
            got.append(int(msg.data))
            if len(got) == 1:
                with pytest.raises(errors.OrderedConsumerBusyError):
                    oc.messages()
            if len(got) == 20:
                await js.consumer_delete(STREAM, first_name)
                for i in range(50, 60):
                    await js.publish("orders.new", b"%d" % i)
            if len(got) == 60:
                break
        await msgs.aclose()
    assert got == list(range(60))
    assert oc.last_stream_seq == 60
    recreated = [e for e in events if isinstance(e, ConsumerRecreated)]
    assert recreated and recreated[0].reason in ("heartbeat", "gap")
    assert oc.name != first_name


async def test_ordered_push_consumer_from_a_sequence_with_a_callback(js: JetStream) -> None:
    await setup(js, 30)
    oc = await js.ordered_push_consumer(
        STREAM, filter_subjects="orders.new", opt_start_seq=11, name_prefix="op", max_reset_attempts=3
    )
    assert oc.name == "op_1"
    seen: list[int] = []
    ctx = await oc.consume(lambda msg: seen.append(msg.metadata.sequence.stream))
    await wait_until(lambda: len(seen) == 20)
    await ctx.aclose()
    await oc.aclose()
    assert seen == list(range(11, 31))
    names = await js.consumer_names(STREAM)
    assert names == []  # closing deleted the server consumer


async def test_a_nats_py_push_subscriber_shares_the_consumer(js: JetStream) -> None:
    """A consumer made here with a deliver group, joined by nats-py's `js.subscribe` in the same
    group: the two split the messages, and acks from either side count."""
    await setup(js, 0)
    pc = await js.create_push_consumer(
        STREAM,
        ConsumerConfig(
            durable_name="workers",
            deliver_subject="dlv.mixed",
            deliver_group="workers",
            filter_subject="orders.>",
        ),
    )
    ours: list[int] = []
    theirs: list[int] = []

    async def ours_handler(msg: Message) -> None:
        ours.append(int(msg.data))
        await msg.ack()

    async def theirs_handler(msg: object) -> None:
        theirs.append(int(msg.data))  # type: ignore[attr-defined]
        await msg.ack()  # type: ignore[attr-defined]

    nats_js = js.nc.jetstream()
    sub = await nats_js.subscribe(
        "orders.>", queue="workers", durable="workers", stream=STREAM, cb=theirs_handler, manual_ack=True
    )
    ctx = await pc.consume(ours_handler)
    await js.nc.flush()
    for i in range(200):
        await js.publish("orders.new", b"%d" % i)
    await wait_until(lambda: len(ours) + len(theirs) >= 200)
    await ctx.aclose()
    await sub.unsubscribe()
    assert sorted(ours + theirs) == list(range(200))
    assert ours and theirs
    info = await js.consumer_info(STREAM, "workers")
    assert info.delivered.stream_seq == 200


async def test_binding_a_consumer_nats_py_created(js: JetStream) -> None:
    """nats-py's `js.subscribe` creates a durable push consumer; once nats-py has gone,
    `push_consumer` binds it and goes on where nats-py left off."""
    await setup(js, 5)
    nats_js = js.nc.jetstream()
    sub = await nats_js.subscribe("orders.>", durable="legacy", stream=STREAM, manual_ack=True)
    for _ in range(5):
        msg = await sub.next_msg(timeout=5)
        await msg.ack_sync()
    await sub.unsubscribe()  # a durable stays
    for i in range(5, 10):
        await js.publish("orders.new", b"%d" % i)
    pc = await js.push_consumer(STREAM, "legacy")
    async with pc.messages() as msgs:
        got = await asyncio.wait_for(take(msgs, 5), 10)
        for m in got:
            await m.ack()
    assert [int(m.data) for m in got] == list(range(5, 10))


async def test_push_messages_take_every_ack_of_a_pulled_one(js: JetStream) -> None:
    """nak redelivers (num_delivered 2), term does not, in_progress then ack is one delivery."""
    await setup(js, 3)
    pc = await js.create_push_consumer(
        STREAM,
        ConsumerConfig(durable_name="acks", deliver_subject="dlv.acks", ack_wait=timedelta(seconds=30)),
    )
    deliveries: list[tuple[int, int]] = []
    async with pc.messages() as msgs:
        async for msg in msgs:
            value, count = int(msg.data), msg.metadata.num_delivered
            deliveries.append((value, count))
            if value == 0 and count == 1:
                await msg.nak()
            elif value == 1:
                await msg.term(reason="bad order")
            else:
                await msg.in_progress()
                await msg.ack_sync()
                with pytest.raises(errors.MessageAlreadyAckedError):
                    await msg.ack()
            if (0, 2) in deliveries and (2, 1) in deliveries:
                break
    assert sorted(deliveries) == [(0, 1), (0, 2), (1, 1), (2, 1)]
    info = await pc.info()
    assert info.num_ack_pending == 0

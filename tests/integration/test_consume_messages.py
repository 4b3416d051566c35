"""Continuous pulls against a real server: `Consumer.messages()` and `Consumer.consume()` (ADR-37).

Covers user-issues P7 (heartbeats always on, a miss is a typed event followed by a new pull),
P12 (no task per message), P15 (handler errors are reported, never silent, and do not stop the
loop), P16 (pending accounting stays within bounds) and the terminal statuses.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone

import pytest
import pytest_asyncio

from jetstream import (
    ConsumeEvent,
    Consumer,
    ConsumerConfig,
    JetStream,
    Message,
    MissedHeartbeat,
    errors,
)
from jetstream.testing import NatsServer

STREAM = "S"
JetStreamFactory = Callable[..., Awaitable[JetStream]]  # the js_factory fixture (conftest.py)


@pytest_asyncio.fixture
async def stream(js: JetStream) -> str:
    await js.stream_create(STREAM, subjects=["s.>"], storage="memory")
    return STREAM


async def publish(js: JetStream, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        await js.publish("s.a", b"%d" % i)


async def durable(js: JetStream, name: str = "D", **config: object) -> Consumer:
    return await js.create_consumer(STREAM, ConsumerConfig(durable_name=name, **config))  # type: ignore[arg-type]


async def wait_until(predicate: object, timeout: float = 5.0) -> None:
    assert callable(predicate)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_messages_iterates_acks_and_refills(js: JetStream, stream: str) -> None:
    await publish(js, 25)
    consumer = await durable(js)
    got: list[int] = []
    async with consumer.messages(max_messages=10, expires=2) as msgs:
        async for msg in msgs:
            got.append(int(msg.data))
            await msg.ack_sync()
            # the buffer plus what outstanding pulls still owe never exceeds max_messages (P16)
            pending_msgs, _ = msgs.pending
            assert 0 <= pending_msgs <= 10
            assert msgs.buffered <= 10
            if len(got) == 25:
                break
    assert got == list(range(25))
    assert msgs.closed
    info = await consumer.info()
    assert info.num_ack_pending == 0


async def test_messages_delivers_what_arrives_later_and_max_messages_one(js: JetStream, stream: str) -> None:
    """ADR-37: works with max_messages=1 (the default threshold must not get it stuck)."""
    consumer = await durable(js)
    got: list[int] = []

    async def read() -> None:
        async for msg in consumer.messages(max_messages=1, expires=1):
            got.append(int(msg.data))
            await msg.ack()
            if len(got) == 5:
                return

    reader = asyncio.ensure_future(read())
    await asyncio.sleep(0.2)
    await publish(js, 5)
    await asyncio.wait_for(reader, 5)
    assert got == [0, 1, 2, 3, 4]


async def test_messages_survives_pull_expiry_with_heartbeats(js: JetStream, stream: str) -> None:
    """Pulls expire every second and are renewed; heartbeats keep coming: no event at all."""
    consumer = await durable(js)
    events: list[ConsumeEvent] = []
    msgs = consumer.messages(expires=1, heartbeat=0.5, on_event=events.append)
    reader = asyncio.ensure_future(msgs.__anext__())
    await asyncio.sleep(2.5)
    assert not reader.done()
    await publish(js, 1)
    msg = await asyncio.wait_for(reader, 2)
    assert msg.data == b"0"
    await msgs.aclose()
    assert events == []


async def test_messages_max_bytes(js: JetStream, stream: str) -> None:
    for i in range(6):
        await js.publish("s.a", bytes([65 + i]) * 200)
    consumer = await durable(js)
    got: list[bytes] = []
    async with consumer.messages(max_bytes=1000, expires=1) as msgs:
        async for msg in msgs:
            got.append(msg.data)
            _, pending_bytes = msgs.pending
            assert 0 <= pending_bytes <= 1000
            if len(got) == 6:
                break
    assert got == [bytes([65 + i]) * 200 for i in range(6)]


async def test_messages_options_are_checked(js: JetStream, stream: str) -> None:
    consumer = await durable(js)
    with pytest.raises(errors.InvalidArgumentError):
        consumer.messages(max_messages=10, max_bytes=1000, threshold_bytes=500)  # bytes cap each pull
    with pytest.raises(errors.InvalidArgumentError):
        consumer.messages(stop_after=0)
    with pytest.raises(errors.InvalidArgumentError):
        consumer.messages(expires=0.5)
    with pytest.raises(errors.InvalidArgumentError):
        consumer.messages(expires=2, heartbeat=1.5)
    with pytest.raises(errors.InvalidArgumentError):
        consumer.messages(max_messages=10, threshold_messages=11)
    with pytest.raises(errors.InvalidArgumentError):
        consumer.messages(group="nope")  # the consumer has no priority groups


async def test_drain_hands_out_the_buffer_then_ends(js: JetStream, stream: str) -> None:
    await publish(js, 8)
    consumer = await durable(js)
    msgs = consumer.messages(max_messages=8, expires=2)
    first = await msgs.__anext__()
    await wait_until(lambda: msgs.buffered == 7)
    await msgs.drain()
    rest = [m async for m in msgs]
    assert [int(m.data) for m in [first, *rest]] == list(range(8))
    assert msgs.closed


async def test_stop_ends_the_iteration(js: JetStream, stream: str) -> None:
    consumer = await durable(js)
    msgs = consumer.messages(expires=2)
    reader = asyncio.ensure_future(msgs.__anext__())
    await asyncio.sleep(0.1)
    await msgs.aclose()
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(reader, 2)
    with pytest.raises(StopAsyncIteration):
        await msgs.__anext__()


async def test_consumer_deleted_ends_messages_with_a_typed_error(js: JetStream, stream: str) -> None:
    """P6/P7: a durable deleted while consuming raises ConsumerDeletedError (terminal)."""
    consumer = await durable(js)
    msgs = consumer.messages(expires=5)
    reader = asyncio.ensure_future(msgs.__anext__())
    await asyncio.sleep(0.2)
    start = time.monotonic()
    await js.consumer_delete(STREAM, "D")
    with pytest.raises(errors.ConsumerDeletedError) as err:
        await asyncio.wait_for(reader, 3)
    assert time.monotonic() - start < 2
    assert err.value.status == 409
    assert msgs.closed


async def test_missed_heartbeats_are_an_event_followed_by_a_new_pull(js: JetStream, stream: str) -> None:
    """P7: the server loses our pull (here: our interest vanishes on the server while the client
    still listens); after 2 heartbeats a MissedHeartbeat event is raised, the stream goes on and
    re-pulls, and delivery resumes once the server can reach us again."""
    consumer = await durable(js)
    events: list[ConsumeEvent] = []
    msgs = consumer.messages(expires=2, heartbeat=0.5, on_event=events.append)
    await msgs._start()
    reader = asyncio.ensure_future(msgs.__anext__())
    await asyncio.sleep(0.2)
    nc = js.nc
    assert nc is not None
    sub = msgs._inbox.sub
    assert sub is not None
    await nc._send_unsubscribe(sub._sub._id)  # type: ignore[attr-defined]  # the server forgets the inbox: pulls go nowhere
    await nc.flush()
    await wait_until(lambda: any(isinstance(e, MissedHeartbeat) for e in events), timeout=4)
    assert not reader.done()  # non-terminal
    await nc._send_subscribe(sub._sub)  # type: ignore[attr-defined]  # reachable again: the next re-pull works
    await nc.flush()
    await publish(js, 1)
    msg = await asyncio.wait_for(reader, 4)
    assert msg.data == b"0"
    missed = [e for e in events if isinstance(e, MissedHeartbeat)]
    assert missed[0].heartbeat == 0.5
    await msgs.aclose()


async def test_consume_calls_the_handler_for_each_message(js: JetStream, stream: str) -> None:
    await publish(js, 20)
    consumer = await durable(js)
    got: list[int] = []
    before = set(asyncio.all_tasks())
    new_tasks: set[asyncio.Task[object]] = set()

    async def handler(msg: Message) -> None:
        new_tasks.update(asyncio.all_tasks() - before)
        got.append(int(msg.data))
        await msg.ack()

    ctx = await consumer.consume(handler, max_messages=5, expires=2)
    await wait_until(lambda: len(got) == 20)
    await ctx.aclose()
    assert got == list(range(20))
    assert ctx.done and ctx.error is None
    # the consume task and nats-py's task of the one subscription: none per message (P12)
    assert len(new_tasks) == 2


async def test_consume_handler_errors_are_reported_and_do_not_stop_it(js: JetStream, stream: str) -> None:
    """P15: a raising handler is reported to on_error and the loop goes on; a sync handler works."""
    await publish(js, 6)
    consumer = await durable(js)
    seen: list[int] = []
    failures: list[BaseException] = []

    def handler(msg: Message) -> None:
        seen.append(int(msg.data))
        if int(msg.data) % 2:
            raise ValueError(f"odd {msg.data!r}")

    ctx = await consumer.consume(handler, expires=2, on_error=failures.append)
    await wait_until(lambda: len(seen) >= 6)
    ctx.aclose()
    await ctx.closed
    assert seen[:6] == [0, 1, 2, 3, 4, 5]
    assert [str(f) for f in failures[:3]] == ["odd b'1'", "odd b'3'", "odd b'5'"]
    assert all(isinstance(f, ValueError) for f in failures)


async def test_consume_without_on_error_logs(
    js: JetStream, stream: str, caplog: pytest.LogCaptureFixture
) -> None:
    await publish(js, 1)
    consumer = await durable(js)

    def handler(msg: Message) -> None:
        raise RuntimeError("handler blew up")

    with caplog.at_level("ERROR", logger="jetstream"):
        ctx = await consumer.consume(handler, expires=2)
        await wait_until(lambda: any("handler blew up" in r.getMessage() for r in caplog.records))
        await ctx.aclose()


async def test_consume_ends_on_consumer_deleted(js: JetStream, stream: str) -> None:
    consumer = await durable(js)
    failures: list[BaseException] = []
    ctx = await consumer.consume(lambda m: None, expires=5, on_error=failures.append)
    await asyncio.sleep(0.2)
    await js.consumer_delete(STREAM, "D")
    await asyncio.wait_for(ctx.closed, 3)
    assert isinstance(ctx.error, errors.ConsumerDeletedError)
    assert failures == [ctx.error]


async def test_consume_drain_handles_the_buffer(js: JetStream, stream: str) -> None:
    await publish(js, 10)
    consumer = await durable(js)
    handled: list[int] = []
    gate = asyncio.Event()

    async def handler(msg: Message) -> None:
        await gate.wait()
        handled.append(int(msg.data))

    ctx = await consumer.consume(handler, max_messages=10, expires=2)
    source = ctx.source
    await wait_until(lambda: len(handled) == 0 and getattr(source, "buffered", 0) == 9)
    drained = ctx.drain()
    gate.set()
    await asyncio.wait_for(drained, 3)
    assert handled == list(range(10))


async def test_stop_from_inside_the_handler(js: JetStream, stream: str) -> None:
    await publish(js, 3)
    consumer = await durable(js)
    handled: list[int] = []
    ctx_box: list[object] = []

    async def handler(msg: Message) -> None:
        handled.append(int(msg.data))
        await ctx_box[0].aclose()  # type: ignore[attr-defined]  # returns at once from the handler

    ctx = await consumer.consume(handler, expires=2)
    ctx_box.append(ctx)
    await asyncio.wait_for(ctx.closed, 3)
    assert handled == [0]


async def test_pause_and_resume(js: JetStream, stream: str) -> None:
    """A paused consumer delivers nothing; resumed, it delivers."""
    await publish(js, 2)
    consumer = await durable(js)
    paused = await js.consumer_pause(
        STREAM, "D", pause_until=datetime.now(timezone.utc) + timedelta(minutes=5)
    )
    assert paused.paused
    assert [m async for m in consumer.fetch(1, expires=0.5)] == []
    resumed = await js.consumer_pause(STREAM, "D")
    assert not resumed.paused
    assert [m.data async for m in consumer.fetch(2, expires=1)] == [b"0", b"1"]


async def test_an_abandoned_iterator_removes_its_subscription(js: JetStream, stream: str) -> None:
    """Breaking out of ``async for`` without aclose(): the stream is collected and unsubscribes."""
    await publish(js, 3)
    consumer = await durable(js)
    nc = js.nc
    assert nc is not None
    baseline = len(nc._subs)
    async for msg in consumer.messages(expires=2):
        assert msg.data == b"0"
        assert len(nc._subs) == baseline + 1
        break
    gc.collect()
    await wait_until(lambda: len(nc._subs) == baseline, timeout=2)


async def test_closing_the_connection_ends_messages(
    js_factory: JetStreamFactory, nats_server: NatsServer
) -> None:
    own = await js_factory(nats_server.url)
    await own.stream_create(STREAM, subjects=["s.>"], storage="memory")
    consumer = await own.create_consumer(STREAM, "D")
    msgs = consumer.messages(expires=2)
    reader = asyncio.ensure_future(msgs.__anext__())
    await asyncio.sleep(0.1)
    assert own.nc is not None
    await own.nc.close()
    with pytest.raises(errors.ConnectionClosedError):
        await asyncio.wait_for(reader, 3)
    with pytest.raises(errors.ConnectionClosedError):
        await consumer.next(timeout=1)

"""The ordered consumer (ADR-17) against a real server: exactly once, in order, through gaps,
deleted consumers, missed heartbeats and cancellations (user-issues P6, P7, P14)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import pytest_asyncio
from nats.aio.msg import Msg

from jetstream import ConsumeEvent, ConsumerRecreated, JetStream, Message, OrderedConsumer, errors
from jetstream._consume._fetch import Pull
from jetstream._consume._messages import _Inbox

STREAM = "S"


@pytest_asyncio.fixture
async def stream(js: JetStream) -> str:
    await js.stream_create(STREAM, subjects=["s.>"], storage="memory")
    return STREAM


async def publish(js: JetStream, n: int, start: int = 0, subject: str = "s.a") -> None:
    for i in range(start, start + n):
        await js.publish(subject, b"%d" % i)


async def wait_until(predicate: object, timeout: float = 5.0) -> None:
    assert callable(predicate)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def read(oc: OrderedConsumer, n: int, **options: object) -> list[int]:
    got: list[int] = []
    async with oc.messages(**options) as msgs:  # type: ignore[arg-type]
        async for msg in msgs:
            got.append(int(msg.data))
            if len(got) == n:
                break
    return got


async def test_ordered_consumer_config_and_delivery(js: JetStream, stream: str) -> None:
    await publish(js, 3, subject="s.a")
    await publish(js, 3, start=3, subject="s.b")
    oc = await js.ordered_consumer(STREAM, filter_subjects=["s.b"])
    info = await oc.info()
    config = info.config
    assert config.durable_name is None
    assert (config.ack_policy, config.mem_storage, config.num_replicas) == ("none", True, 1)
    assert config.filter_subject == "s.b"
    assert config.inactive_threshold == timedelta(minutes=5)
    msg = await oc.next(timeout=2)
    assert (msg.subject, msg.data) == ("s.b", b"3")
    assert [int(m.data) async for m in oc.fetch(5, expires=0.5)] == [4, 5]
    await oc.aclose()
    assert oc.name is None
    assert await js.consumer_names(STREAM) == []


async def test_every_closable_is_an_async_context_manager(js: JetStream, stream: str) -> None:
    """One close vocabulary: ``async with`` ends a fetch batch, a messages() stream and the ordered
    consumer itself, each through its aclose()."""
    await publish(js, 3)
    async with await js.ordered_consumer(STREAM) as oc:
        async with oc.fetch(1, expires=0.5) as batch:
            assert [int(m.data) async for m in batch] == [0]
        async with oc.messages() as msgs:
            assert int((await msgs.__anext__()).data) == 1
        assert msgs.closed
    assert oc.name is None
    assert await js.consumer_names(STREAM) == []


async def test_ordered_start_options(js: JetStream, stream: str) -> None:
    await publish(js, 5)
    from_seq = await js.ordered_consumer(STREAM, opt_start_seq=3)
    assert [int(m.data) async for m in from_seq.fetch(10, expires=0.5)] == [2, 3, 4]
    last = await js.ordered_consumer(STREAM, deliver_policy="last")
    assert [int(m.data) async for m in last.fetch(10, expires=0.5)] == [4]
    new = await js.ordered_consumer(STREAM, deliver_policy="new")
    await publish(js, 1, start=5)
    assert [int(m.data) async for m in new.fetch(10, expires=0.5)] == [5]
    with pytest.raises(errors.StreamNotFoundError):
        await js.ordered_consumer("NOPE")
    with pytest.raises(errors.InvalidArgumentError):
        await js.ordered_consumer(STREAM, opt_start_seq=0)


async def test_ordered_fetches_keep_one_consumer(js: JetStream, stream: str) -> None:
    await publish(js, 10)
    oc = await js.ordered_consumer(STREAM)
    name = oc.name
    got: list[int] = []
    for _ in range(4):
        got += [int(m.data) async for m in oc.fetch(3, expires=0.5)]
    assert got == list(range(10))
    assert oc.name == name  # no gap, no reason to recreate
    assert oc.last_stream_seq == 10


async def test_ordered_messages_and_consume(js: JetStream, stream: str) -> None:
    await publish(js, 30)
    oc = await js.ordered_consumer(STREAM)
    assert await read(oc, 30, max_messages=7, expires=2) == list(range(30))
    await publish(js, 5, start=30)
    handled: list[int] = []

    async def handler(msg: Message) -> None:
        handled.append(int(msg.data))

    ctx = await oc.consume(handler, expires=2)
    await wait_until(lambda: len(handled) == 5)
    await ctx.aclose()
    assert handled == [30, 31, 32, 33, 34]


async def test_one_messages_at_a_time(js: JetStream, stream: str) -> None:
    oc = await js.ordered_consumer(STREAM)
    async with oc.messages(expires=2):
        with pytest.raises(errors.OrderedConsumerBusyError):
            await oc.messages(expires=2).__anext__()
        with pytest.raises(errors.OrderedConsumerBusyError):
            await oc.next(timeout=0.1)
    # free again once stopped
    with pytest.raises(errors.TimeoutError):
        await oc.next(timeout=0.2)


async def test_deleted_consumer_is_recreated_transparently(js: JetStream, stream: str) -> None:
    """P6/P7: deleting the server consumer mid-stream is invisible except for an event; delivery
    stays exactly once and in order."""
    await publish(js, 10)
    oc = await js.ordered_consumer(STREAM)
    events: list[ConsumeEvent] = []
    got: list[int] = []
    old = oc.name
    assert old is not None
    async with oc.messages(max_messages=5, expires=2, on_event=events.append) as msgs:
        async for msg in msgs:
            got.append(int(msg.data))
            if len(got) == 10:
                # caught up: a pull is waiting on the server when the consumer goes
                await asyncio.sleep(0.1)
                await js.consumer_delete(STREAM, old)
                await publish(js, 10, start=10)
            if len(got) == 20:
                break
    assert got == list(range(20))
    recreated = [e for e in events if isinstance(e, ConsumerRecreated)]
    assert [(e.reason, e.start_seq) for e in recreated] == [("deleted", 11)]
    assert recreated[0].name != old


async def test_consumer_gone_between_pulls_is_recreated(js: JetStream, stream: str) -> None:
    """Deleted while nothing was waiting on it: the next pull finds no consumer (503), which is
    also recreated from the last delivered sequence."""
    await publish(js, 6)
    oc = await js.ordered_consumer(STREAM)
    assert [int(m.data) async for m in oc.fetch(3, expires=1)] == [0, 1, 2]
    old = oc.name
    assert old is not None
    await js.consumer_delete(STREAM, old)
    assert [int(m.data) async for m in oc.fetch(3, expires=1)] == [3, 4, 5]
    events: list[ConsumeEvent] = []
    await js.consumer_delete(STREAM, oc.name or "")
    await publish(js, 2, start=6)
    assert await read(oc, 2, expires=2, on_event=events.append) == [6, 7]
    assert [(e.reason, e.start_seq) for e in events if isinstance(e, ConsumerRecreated)] == [
        ("unavailable", 7)
    ]


async def test_a_sequence_gap_recreates_from_the_last_delivered(
    js: JetStream, stream: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A message lost between server and client (here: dropped on arrival) shows as a consumer
    sequence gap; the consumer is recreated and the lost message comes again, in order."""
    await publish(js, 10)
    oc = await js.ordered_consumer(STREAM)
    original = _Inbox.on_msg
    dropped: list[bytes] = []

    async def lossy(self: _Inbox, msg: Msg) -> None:
        if msg.data == b"3" and not dropped:
            dropped.append(msg.data)
            return
        await original(self, msg)

    monkeypatch.setattr(_Inbox, "on_msg", lossy)
    events: list[ConsumeEvent] = []
    assert await read(oc, 10, max_messages=4, expires=2, on_event=events.append) == list(range(10))
    assert dropped == [b"3"]
    assert [e.reason for e in events if isinstance(e, ConsumerRecreated)] == ["gap"]


async def test_ordered_fetch_recovers_from_a_gap(
    js: JetStream, stream: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await publish(js, 6)
    oc = await js.ordered_consumer(STREAM)
    original = Pull._on_msg
    dropped: list[bytes] = []

    async def lossy(self: Pull, msg: Msg) -> None:
        if msg.data == b"2" and not dropped:
            dropped.append(msg.data)
            return
        await original(self, msg)

    monkeypatch.setattr(Pull, "_on_msg", lossy)
    first = oc.name
    got = [int(m.data) async for m in oc.fetch(6, expires=1)]
    assert dropped == [b"2"]
    assert got == [0, 1, 2, 3, 4, 5]
    assert oc.name != first


async def test_missed_heartbeats_recreate_the_consumer(js: JetStream, stream: str) -> None:
    """P7 (nats.py#510): missed heartbeats reset an ordered consumer."""
    await publish(js, 2)
    oc = await js.ordered_consumer(STREAM)
    events: list[ConsumeEvent] = []
    msgs = oc.messages(expires=2, heartbeat=0.5, on_event=events.append)
    assert int((await msgs.__anext__()).data) == 0
    inner = msgs._inner
    assert inner is not None and js.nc is not None
    sub = inner._inbox.sub
    assert sub is not None
    await js.nc._send_unsubscribe(sub._sub._id)  # type: ignore[attr-defined]  # the server can no longer reach this inbox
    await js.nc.flush()
    await publish(js, 3, start=2)
    got = [int((await asyncio.wait_for(msgs.__anext__(), 5)).data) for _ in range(4)]
    await msgs.aclose()
    assert got == [1, 2, 3, 4]
    assert any(isinstance(e, ConsumerRecreated) and e.reason == "heartbeat" for e in events)


async def test_a_thousand_cancelled_next_calls_lose_nothing_and_keep_order(
    js: JetStream, stream: str
) -> None:
    """P14 on the ordered consumer: exactly once and in order despite 1,000 cancellations."""
    oc = await js.ordered_consumer(STREAM)
    total = 200
    received: list[int] = []

    async def producer() -> None:
        for i in range(total):
            await js.publish("s.a", b"%d" % i)
            if i % 5 == 0:
                await asyncio.sleep(0)

    producing = asyncio.ensure_future(producer())
    cancelled = 0
    while cancelled < 1000:
        task = asyncio.ensure_future(oc.next(timeout=5))
        for _ in range(cancelled % 4):
            await asyncio.sleep(0)
        if task.done():
            received.append(int(task.result().data))
            continue
        task.cancel()
        try:
            received.append(int((await task).data))
        except asyncio.CancelledError:
            cancelled += 1
    await producing
    while len(received) < total:
        received.append(int((await oc.next(timeout=3)).data))
    assert received == list(range(total))


async def test_deliver_new_recreated_before_any_message_misses_nothing(js: JetStream, stream: str) -> None:
    """A "new" consumer lost before it handed anything out resumes where it started, not at the
    stream's end: messages published in between are still delivered."""
    await publish(js, 3)  # before the consumer: never delivered
    oc = await js.ordered_consumer(STREAM, deliver_policy="new")
    await js.consumer_delete(STREAM, oc.name or "")
    await publish(js, 2, start=3)  # after it started, while it is gone
    assert [int(m.data) async for m in oc.fetch(2, expires=2)] == [3, 4]
    await oc.aclose()

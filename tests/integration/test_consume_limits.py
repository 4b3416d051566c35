"""Where pulls end against a real server: a fetch's byte budget (and the 409 of a message too big
for it), ``stop_after``, ``max_messages`` with ``max_bytes``, the first pull of ``consume()``, and
what an ordered consumer refuses or names (one reader at a time, ``last_per_subject`` without a
filter, ``name_prefix``, ``max_reset_attempts``)."""

from __future__ import annotations

import asyncio
import gc
import inspect
import time
from collections.abc import Callable
from typing import Any

import pytest
import pytest_asyncio

from jetstream import ConsumeEvent, Consumer, ConsumerConfig, JetStream, Message, MessageStream, errors

STREAM = "S"


class Stream:
    """The stream of a test (memory, on ``s.>``) and what the tests do with it."""

    def __init__(self, js: JetStream) -> None:
        self.js = js

    async def publish(self, n: int, subject: str = "s.a", size: int = 20) -> None:
        """``n`` messages of ``size`` bytes each: their numbers, zero-padded."""
        for i in range(n):
            await self.js.publish(subject, b"%0*d" % (size, i))

    async def durable(self, name: str) -> Consumer:
        return await self.js.create_consumer(STREAM, ConsumerConfig(durable_name=name))


@pytest_asyncio.fixture
async def stream(js: JetStream) -> Stream:
    await js.stream_create(STREAM, subjects=["s.>"], storage="memory")
    return Stream(js)


def size(msg: Message) -> int:
    """What the server weighs against a pull's max_bytes (no headers here): subject, reply, data."""
    return len(msg.subject) + len(msg.reply) + len(msg.data)


async def wait_until(
    probe: Callable[[], object], check: Callable[[Any], bool] = bool, timeout: float = 10.0
) -> None:
    """Until ``check(probe())`` holds (an awaitable result of ``probe`` is awaited first)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = probe()
        if inspect.isawaitable(value):
            value = await value
        if check(value):
            return
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


# ------------------------------------------------------------------------------ fetch max_bytes


async def test_fetch_ends_when_its_byte_budget_is_used(js: JetStream, stream: Stream) -> None:
    """The server ends a pull silently once its max_bytes are used up exactly; the fetch ends
    there too, not at the expiry nor with a missed heartbeat 10 s later."""
    await stream.publish(5)
    # A consumer with a name as long weighs each message as "D" will.
    probe = [m async for m in (await stream.durable("P")).fetch(5, expires=5)]
    budget = sum(size(m) for m in probe)
    consumer = await stream.durable("D")
    start = time.monotonic()
    got = [m async for m in consumer.fetch(10, max_bytes=budget, expires=30)]
    assert [m.data for m in got] == [m.data for m in probe]
    assert time.monotonic() - start < 5  # heartbeats of a 30 s pull are 5 s apart
    info = await consumer.info()
    assert info.num_waiting == 0


async def test_fetch_ends_at_the_409_of_a_message_the_budget_cannot_take(
    js: JetStream, stream: Stream
) -> None:
    await stream.publish(5)
    probe = [m async for m in (await stream.durable("P")).fetch(5, expires=5)]
    consumer = await stream.durable("D")
    start = time.monotonic()
    # one byte short of the five: four come, then 409 Message Size Exceeds MaxBytes
    got = [m async for m in consumer.fetch(10, max_bytes=sum(size(m) for m in probe) - 1, expires=30)]
    assert len(got) == 4
    # smaller than any message: nothing comes, and no error
    assert [m async for m in consumer.fetch(10, max_bytes=10, expires=30)] == []
    assert time.monotonic() - start < 5


async def test_ordered_fetch_ends_at_its_byte_budget_without_recreating(
    js: JetStream, stream: Stream
) -> None:
    await stream.publish(5)
    # Prefixes of one length name consumers "pa_1" and "pb_1": the same weight per message.
    probe = await js.ordered_consumer(STREAM, name_prefix="pa")
    sizes = [size(m) async for m in probe.fetch(5, expires=5)]
    await probe.aclose()
    oc = await js.ordered_consumer(STREAM, name_prefix="pb")
    assert oc.name == "pb_1"
    start = time.monotonic()
    got = [int(m.data) async for m in oc.fetch(10, max_bytes=sum(sizes[:3]), expires=30)]
    assert got == [0, 1, 2]
    rest = [int(m.data) async for m in oc.fetch(10, max_bytes=sum(sizes[3:]), expires=30)]
    assert rest == [3, 4]
    assert time.monotonic() - start < 5
    assert oc.name == "pb_1"  # never recreated
    await oc.aclose()


# ------------------------------------------------------------------------------ ordered consumer


async def test_ordered_last_per_subject_without_a_filter(js: JetStream, stream: Stream) -> None:
    for subject in ("s.a", "s.b", "s.a", "s.c", "s.b"):
        await js.publish(subject, subject.encode())
    oc = await js.ordered_consumer(STREAM, deliver_policy="last_per_subject")
    assert oc.cached_info is not None and oc.cached_info.config.filter_subject == ">"
    got = [(m.subject, m.metadata.sequence.stream) async for m in oc.fetch(10, expires=1)]
    assert got == [("s.a", 3), ("s.c", 4), ("s.b", 5)]
    await oc.aclose()


async def test_ordered_consumer_serves_one_fetch_at_a_time(js: JetStream, stream: Stream) -> None:
    await stream.publish(10)
    oc = await js.ordered_consumer(STREAM)
    first = oc.fetch(5, expires=2)
    assert int((await first.__anext__()).data) == 0
    # while the first fetch runs, nothing else may read
    with pytest.raises(errors.OrderedConsumerBusyError):
        oc.fetch(5, expires=2)
    with pytest.raises(errors.OrderedConsumerBusyError):
        await oc.next(timeout=1)
    with pytest.raises(errors.OrderedConsumerBusyError):
        oc.messages()
    assert [int(m.data) async for m in first] == [1, 2, 3, 4]
    # over: the next fetch goes on where it ended
    assert [int(m.data) async for m in oc.fetch(5, expires=2)] == [5, 6, 7, 8, 9]

    async def collect() -> list[int]:
        return [int(m.data) async for m in oc.fetch(3, expires=2)]

    await stream.publish(3)
    results = await asyncio.gather(collect(), collect(), return_exceptions=True)
    assert results[0] == [0, 1, 2]  # the stream repeats its data, at sequences 11-13
    assert isinstance(results[1], errors.OrderedConsumerBusyError)
    assert oc.last_stream_seq == 13
    await oc.aclose()


async def test_a_dropped_fetch_or_stream_frees_the_ordered_consumer(js: JetStream, stream: Stream) -> None:
    """A fetch or messages() left mid-iteration without aclose() holds the consumer only until it
    is collected; what it did not hand out comes again, in order."""
    await stream.publish(6)
    oc = await js.ordered_consumer(STREAM)
    fetch = oc.fetch(3, expires=2)
    assert int((await fetch.__anext__()).data) == 0
    with pytest.raises(errors.OrderedConsumerBusyError):
        oc.fetch(1)
    del fetch
    gc.collect()
    msgs = oc.messages(expires=2)
    assert int((await msgs.__anext__()).data) == 1
    with pytest.raises(errors.OrderedConsumerBusyError):
        oc.fetch(1)
    # Everything went out to the stream's pull before it is dropped: the server has nothing left
    # for this consumer, so only a replacement can bring the rest.
    await wait_until(lambda: oc.info(), lambda info: info.delivered.stream_seq == 6)
    del msgs
    gc.collect()
    assert [int(m.data) async for m in oc.fetch(10, expires=2)] == [2, 3, 4, 5]
    await oc.aclose()


async def test_ordered_next_holds_the_consumer_while_it_waits(js: JetStream, stream: Stream) -> None:
    oc = await js.ordered_consumer(STREAM)
    waiter = asyncio.ensure_future(oc.next(timeout=10))
    await wait_until(lambda: oc.info(), lambda info: info.num_waiting == 1)  # its pull is at the server
    with pytest.raises(errors.OrderedConsumerBusyError):
        oc.fetch(1)
    await stream.publish(1)
    assert int((await asyncio.wait_for(waiter, 10)).data) == 0
    assert [int(m.data) async for m in oc.fetch(1, no_wait=True)] == []
    await oc.aclose()


async def test_a_cancelled_next_loses_nothing(js: JetStream, stream: Stream) -> None:
    """The pull of a cancelled next() stays at the server and takes the next message to an inbox
    no one reads; the following next() still returns it."""
    oc = await js.ordered_consumer(STREAM)
    waiter = asyncio.ensure_future(oc.next(timeout=30))
    await wait_until(lambda: oc.info(), lambda info: info.num_waiting == 1)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    await stream.publish(1)
    assert int((await oc.next(timeout=10)).data) == 0
    await oc.aclose()


async def test_ordered_consumer_gives_up_after_max_reset_attempts(js: JetStream, stream: Stream) -> None:
    await stream.publish(3)
    oc = await js.ordered_consumer(STREAM, max_reset_attempts=2)
    events: list[ConsumeEvent] = []
    got: list[int] = []
    with pytest.raises(errors.OrderedConsumerResetError) as caught:
        async with oc.messages(expires=2, on_event=events.append) as msgs:
            async for msg in msgs:
                got.append(int(msg.data))
                if len(got) == 3:
                    # the stream goes: the consumer dies with it, and no new one can be made
                    await js.stream_delete(STREAM)
    assert got == [0, 1, 2]
    assert caught.value.attempts == 2
    assert isinstance(caught.value.__cause__, errors.StreamNotFoundError)


async def test_ordered_name_prefix_is_checked(js: JetStream, stream: Stream) -> None:
    with pytest.raises(errors.InvalidNameError):
        await js.ordered_consumer(STREAM, name_prefix="a.b")
    with pytest.raises(errors.InvalidArgumentError):
        await js.ordered_consumer(STREAM, max_reset_attempts=0)


# ------------------------------------------------------------------------------ stop_after


async def test_messages_stop_after_n(js: JetStream, stream: Stream) -> None:
    await stream.publish(10)
    consumer = await stream.durable("D")
    async with consumer.messages(stop_after=3) as msgs:
        got = [int(m.data) async for m in msgs]
    assert got == [0, 1, 2]
    assert msgs.closed
    info = await consumer.info()
    assert info.num_ack_pending == 3  # the pulls asked for three, not for max_messages
    assert info.num_pending == 7


async def test_consume_stop_after_n(js: JetStream, stream: Stream) -> None:
    await stream.publish(10)
    consumer = await stream.durable("D")
    handled: list[int] = []

    async def handler(msg: Message) -> None:
        handled.append(int(msg.data))
        await msg.ack()

    ctx = await consumer.consume(handler, stop_after=4, max_messages=2)
    await asyncio.wait_for(ctx.closed, 10)
    assert handled == [0, 1, 2, 3]
    assert ctx.error is None
    assert (await consumer.info()).num_pending == 6


async def test_ordered_stop_after_counts_across_recreations(js: JetStream, stream: Stream) -> None:
    await stream.publish(10)
    oc = await js.ordered_consumer(STREAM)
    got: list[int] = []
    async with oc.messages(stop_after=6, max_messages=2) as msgs:
        async for msg in msgs:
            got.append(int(msg.data))
            if len(got) == 3:
                name = oc.name
                assert name is not None
                await js.consumer_delete(STREAM, name)
    assert got == [0, 1, 2, 3, 4, 5]
    await oc.aclose()


async def test_max_messages_with_max_bytes_caps_each_pull(js: JetStream, stream: Stream) -> None:
    """nats.go's PullMaxMessagesWithBytesLimit: each pull asks for up to max_bytes, the stream
    goes on past it."""
    await stream.publish(12, size=100)
    probe = [m async for m in (await stream.durable("P")).fetch(12, expires=5)]
    consumer = await stream.durable("D")
    events: list[ConsumeEvent] = []
    start = time.monotonic()
    # exactly three messages fit a pull: the server ends each pull silently
    async with consumer.messages(
        max_messages=10, max_bytes=sum(size(m) for m in probe[:3]), expires=30, on_event=events.append
    ) as msgs:
        got = []
        async for msg in msgs:
            got.append(msg.data)
            if len(got) == 12:
                break
    assert got == [m.data for m in probe]
    assert time.monotonic() - start < 10  # no wait for a missed heartbeat (15 s apart here)
    assert events == []


async def test_a_message_larger_than_max_bytes_is_a_warning_not_a_loop(js: JetStream, stream: Stream) -> None:
    await stream.publish(1, size=500)
    consumer = await stream.durable("D")
    events: list[ConsumeEvent] = []
    async with consumer.messages(max_bytes=100, expires=2, on_event=events.append) as msgs:
        waiter = asyncio.ensure_future(msgs.__anext__())
        await wait_until(lambda: len(events) >= 1)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
    assert "MaxBytes" in repr(events[0])
    # paused between pulls: a handful of warnings, not thousands
    assert len(events) < 10


# ------------------------------------------------------------------------------ consume() start


async def test_consume_sends_its_first_pull_before_returning(js: JetStream, stream: Stream) -> None:
    consumer = await stream.durable("D")
    ctx = await consumer.consume(lambda msg: None, max_messages=7)
    assert isinstance(ctx.source, MessageStream)
    assert ctx.source.pending == (7, 0)  # asked for, before any other task ran
    await ctx.aclose()


async def test_consume_notices_a_consumer_deleted_right_after_start(js: JetStream, stream: Stream) -> None:
    consumer = await stream.durable("D")
    errors_seen: list[BaseException] = []
    events: list[ConsumeEvent] = []
    ctx = await consumer.consume(lambda msg: None, on_error=errors_seen.append, on_event=events.append)
    # (a delete the server handles before it queued the pull would drop the pull silently)
    await wait_until(lambda: consumer.info(), lambda info: info.num_waiting == 1)
    await js.consumer_delete(STREAM, "D")
    await asyncio.wait_for(ctx.closed, 5)  # not after missed heartbeats (15 s apart)
    assert isinstance(ctx.error, errors.ConsumerDeletedError)
    assert errors_seen == [ctx.error]

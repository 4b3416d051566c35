"""One-shot pulls against a real server: `Consumer.next`, `Consumer.fetch`, acks, consumer handles.

Covers user-issues P3 (fetch semantics: empty iteration near expires, no orphan pull stealing the
next fetch's message), P14 (cancellation propagates and loses nothing), P17 (get never mutates,
config mismatch names the fields) and P18 (ack_sync, in_progress, nak delay, term, double ack).
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta, timezone

import pytest
import pytest_asyncio

from jetstream import Consumer, ConsumerConfig, JetStream, Message, errors

STREAM = "S"


@pytest_asyncio.fixture
async def stream(js: JetStream) -> str:
    await js.stream_create(STREAM, subjects=["s.>"], storage="memory")
    return STREAM


async def publish(js: JetStream, n: int, subject: str = "s.a", start: int = 0) -> None:
    for i in range(start, start + n):
        await js.publish(subject, b"%d" % i)


async def durable(js: JetStream, name: str = "D", **config: object) -> Consumer:
    return await js.create_consumer(STREAM, ConsumerConfig(durable_name=name, **config))  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------- next


async def test_next_returns_messages_in_order_with_metadata(js: JetStream, stream: str) -> None:
    await publish(js, 3)
    consumer = await durable(js)
    before = datetime.now(timezone.utc)
    first = await consumer.next(timeout=2)
    assert isinstance(first, Message)
    assert (first.subject, first.data) == ("s.a", b"0")
    meta = first.metadata
    assert (meta.stream, meta.consumer) == (STREAM, "D")
    assert (meta.sequence.stream, meta.sequence.consumer) == (1, 1)
    assert meta.num_delivered == 1
    assert meta.num_pending == 2
    assert meta.domain is None
    assert before - timedelta(seconds=5) < meta.timestamp < before + timedelta(seconds=5)
    await first.ack()
    second = await consumer.next(timeout=2)
    assert second.data == b"1"
    assert second.metadata.sequence.consumer == 2


async def test_next_times_out_with_a_typed_error_near_the_timeout(js: JetStream, stream: str) -> None:
    consumer = await durable(js)
    start = time.monotonic()
    with pytest.raises(errors.TimeoutError):
        await consumer.next(timeout=0.4)
    assert 0.35 < time.monotonic() - start < 1.5
    # the pull expired on the server: nothing is left waiting there
    info = await consumer.info()
    assert info.num_waiting == 0


async def test_next_gets_a_message_published_while_waiting(js: JetStream, stream: str) -> None:
    consumer = await durable(js)
    waiter = asyncio.ensure_future(consumer.next(timeout=5))
    await asyncio.sleep(0.1)
    await publish(js, 1)
    msg = await asyncio.wait_for(waiter, 2)
    assert msg.data == b"0"


async def test_next_on_a_missing_consumer_fails_fast(js: JetStream, stream: str) -> None:
    consumer = await durable(js)
    await js.consumer_delete(STREAM, "D")
    start = time.monotonic()
    with pytest.raises(errors.NoRespondersError):
        await consumer.next(timeout=3)
    assert time.monotonic() - start < 1.5


async def test_cancelled_next_propagates_and_loses_nothing(js: JetStream, stream: str) -> None:
    """P14: CancelledError is raised (never turned into a timeout) and the message the cancelled
    pull brings later is handed to the next call."""
    consumer = await durable(js, ack_policy="none")
    task = asyncio.ensure_future(consumer.next(timeout=5))
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # the cancelled call's pull is still waiting on the server: it receives this message
    await publish(js, 1)
    msg = await consumer.next(timeout=2)
    assert msg.data == b"0"


async def test_a_thousand_cancelled_next_calls_lose_nothing(js: JetStream, stream: str) -> None:
    """P14: cancel next() 1,000 times while messages flow; with ack none nothing is redelivered,
    so every message must come out of some next() exactly once."""
    consumer = await durable(js, ack_policy="none")
    total = 300
    received: list[int] = []

    async def producer() -> None:
        for i in range(total):
            await js.publish("s.a", b"%d" % i)
            if i % 10 == 0:
                await asyncio.sleep(0)

    producing = asyncio.ensure_future(producer())
    cancelled = 0
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while cancelled < 1000 and loop.time() < deadline:
        task = asyncio.ensure_future(consumer.next(timeout=5))
        # cancel at varying points: before the pull is sent, while waiting, right after delivery
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
    assert cancelled == 1000
    while len(received) < total:
        received.append(int((await consumer.next(timeout=3)).data))
    assert sorted(received) == list(range(total))
    # and nothing extra is left behind
    with pytest.raises(errors.TimeoutError):
        await consumer.next(timeout=0.3)


# -------------------------------------------------------------------------------------- fetch


async def test_fetch_returns_up_to_n_messages(js: JetStream, stream: str) -> None:
    await publish(js, 5)
    consumer = await durable(js)
    start = time.monotonic()
    got = [m.data async for m in consumer.fetch(3, expires=5)]
    assert got == [b"0", b"1", b"2"]
    assert time.monotonic() - start < 1  # a full batch ends at once
    rest = [m.data async for m in consumer.fetch(10, expires=0.5)]
    assert rest == [b"3", b"4"]


async def test_fetch_on_an_empty_stream_is_an_empty_iteration_near_expires(
    js: JetStream, stream: str
) -> None:
    """P3: no TimeoutError, no hidden state: every empty fetch behaves the same."""
    consumer = await durable(js)
    for _ in range(2):
        start = time.monotonic()
        got = [m async for m in consumer.fetch(10, expires=0.5)]
        elapsed = time.monotonic() - start
        assert got == []
        assert 0.45 < elapsed < 1.2


async def test_a_fetch_after_a_timed_out_fetch_gets_the_message_at_once(js: JetStream, stream: str) -> None:
    """P3 (nats.py#933): the first fetch's pull is over when it returns, so it cannot steal the
    message meant for the second fetch (which would then wait out its 5 s expiry)."""
    consumer = await durable(js)
    assert [m async for m in consumer.fetch(1, expires=0.3)] == []
    second = consumer.fetch(1, expires=5)
    first = asyncio.ensure_future(second.__anext__())
    await asyncio.sleep(0.05)  # the second pull is out
    start = time.monotonic()
    await publish(js, 1)
    msg = await asyncio.wait_for(first, 5)
    assert msg.data == b"0"
    assert time.monotonic() - start < 0.25  # ~100 ms with room for a loaded machine
    assert [m async for m in second] == []  # and the fetch is over


async def test_fetch_no_wait(js: JetStream, stream: str) -> None:
    consumer = await durable(js)
    start = time.monotonic()
    assert [m async for m in consumer.fetch(5, no_wait=True)] == []
    assert time.monotonic() - start < 0.5
    await publish(js, 2)
    assert [m.data async for m in consumer.fetch(5, no_wait=True)] == [b"0", b"1"]


async def test_fetch_max_bytes_ends_the_pull(js: JetStream, stream: str) -> None:
    for i in range(5):
        await js.publish("s.a", bytes([65 + i]) * 100)
    consumer = await durable(js)
    start = time.monotonic()
    got = [m.data async for m in consumer.fetch(100, max_bytes=350, expires=5)]
    # each message is ~100 bytes of payload plus subject and reply: 2 fit, the 3rd does not
    assert 1 <= len(got) <= 3
    assert got == [bytes([65 + i]) * 100 for i in range(len(got))]
    assert time.monotonic() - start < 1  # ended by the server's 409, not by the expiry


async def test_breaking_out_of_a_fetch_keeps_the_rest_for_the_next_call(js: JetStream, stream: str) -> None:
    await publish(js, 4)
    consumer = await durable(js, ack_policy="none")
    async for msg in consumer.fetch(4, expires=2):
        assert msg.data == b"0"
        break
    # the batch was dropped: its messages were kept rather than lost (ack none: never redelivered)
    rest = [(await consumer.next(timeout=1)).data for _ in range(3)]
    assert rest == [b"1", b"2", b"3"]


async def test_fetch_as_context_manager_keeps_unread_messages(js: JetStream, stream: str) -> None:
    await publish(js, 3)
    consumer = await durable(js, ack_policy="none")
    async with consumer.fetch(3, expires=2) as batch:
        first = await batch.__anext__()
    assert first.data == b"0"
    assert [m.data async for m in consumer.fetch(2, expires=1)] == [b"1", b"2"]


async def test_fetch_heartbeats_and_validation(js: JetStream, stream: str) -> None:
    consumer = await durable(js)
    with pytest.raises(errors.InvalidArgumentError):
        consumer.fetch(0)
    with pytest.raises(errors.InvalidArgumentError):
        consumer.fetch(1, expires=1, heartbeat=0.6)  # more than half of expires
    with pytest.raises(errors.InvalidArgumentError):
        consumer.fetch(1, max_bytes=0)
    # a pull with heartbeats on an idle consumer is healthy: it simply expires
    start = time.monotonic()
    assert [m async for m in consumer.fetch(1, expires=1.2, heartbeat=0.2)] == []
    assert time.monotonic() - start > 1.0


async def test_fetch_from_a_push_consumer_is_a_typed_error(js: JetStream, stream: str) -> None:
    info = await js.consumer_create(STREAM, "PUSH", deliver_subject="push.here")
    consumer = Consumer(js, info)
    with pytest.raises(errors.ConsumerIsPushBasedError) as err:
        async for _ in consumer.fetch(1, expires=1):
            pass
    assert err.value.status == 409


async def test_fetch_over_the_consumer_batch_limit_is_rejected(js: JetStream, stream: str) -> None:
    consumer = await durable(js, max_batch=2)
    with pytest.raises(errors.PullRequestRejectedError) as err:
        async for _ in consumer.fetch(5, expires=1):
            pass
    assert "MaxRequestBatch" in err.value.description


async def test_consumer_deleted_during_fetch_is_a_typed_error(js: JetStream, stream: str) -> None:
    consumer = await durable(js)
    batch = consumer.fetch(1, expires=5)
    asyncio.get_running_loop().call_later(0.2, lambda: asyncio.ensure_future(js.consumer_delete(STREAM, "D")))
    start = time.monotonic()
    with pytest.raises(errors.ConsumerDeletedError):
        async for _ in batch:
            pass
    assert time.monotonic() - start < 2


# --------------------------------------------------------------------------------------- acks


async def test_ack_nak_delay_term_in_progress_and_ack_sync(js: JetStream, stream: str) -> None:
    """P18 against a real consumer: each acknowledgement has its effect on redelivery."""
    await publish(js, 3)
    consumer = await durable(js, ack_wait=timedelta(seconds=1))
    m0, m1, m2 = [m async for m in consumer.fetch(3, expires=2)]

    await m0.ack_sync()  # confirmed by the server
    with pytest.raises(errors.MessageAlreadyAckedError):
        await m0.ack()
    await m1.nak(delay=0.3)  # redelivered, but not before the delay
    await m2.term(reason="bad payload")  # never redelivered

    start = time.monotonic()
    again = await consumer.next(timeout=3)
    assert again.data == b"1"
    assert again.metadata.num_delivered == 2
    assert time.monotonic() - start > 0.2
    # in_progress keeps resetting ack_wait (1 s): no redelivery for 1.5 s of work
    for _ in range(5):
        await asyncio.sleep(0.3)
        await again.in_progress()
    await again.ack_sync()
    with pytest.raises(errors.TimeoutError):
        await consumer.next(timeout=1.3)
    info = await consumer.info()
    assert info.num_ack_pending == 0
    assert info.ack_floor.stream_seq == 3  # all three are settled: acked, acked after nak, terminated


async def test_unacked_message_is_redelivered_after_ack_wait(js: JetStream, stream: str) -> None:
    await publish(js, 1)
    consumer = await durable(js, ack_wait=timedelta(seconds=0.5))
    first = await consumer.next(timeout=1)
    second = await consumer.next(timeout=2)
    assert first.data == second.data == b"0"
    assert second.metadata.num_delivered == 2


# ------------------------------------------------------------------------------------ handles


async def test_consumer_handle_gets_without_mutating(js: JetStream, stream: str) -> None:
    """P17: getting a consumer never creates or changes it."""
    with pytest.raises(errors.ConsumerNotFoundError):
        await js.consumer(STREAM, "NOPE")
    assert await js.consumer_names(STREAM) == []
    created = await durable(js, max_deliver=3)
    handle = await js.consumer(STREAM, "D")
    assert (handle.stream, handle.name) == (STREAM, "D")
    assert handle.cached_info.config.max_deliver == 3
    assert handle.cached_info.created == created.cached_info.created
    fresh = await handle.info()
    assert fresh.config == handle.cached_info.config


async def test_create_consumer_config_mismatch_names_the_fields(js: JetStream, stream: str) -> None:
    """P17: create refuses an existing consumer configured otherwise, naming each differing field
    the caller set; server defaults are not compared."""
    await durable(js, max_deliver=3, ack_wait=timedelta(seconds=10))
    # the same config again is not an error
    again = await durable(js, max_deliver=3, ack_wait=timedelta(seconds=10))
    assert again.cached_info.config.max_deliver == 3
    with pytest.raises(errors.ConsumerConfigMismatchError) as err:
        await durable(js, max_deliver=4, ack_wait=timedelta(seconds=10), description="x")
    assert sorted(err.value.fields) == ["description", "max_deliver"]
    assert (err.value.stream, err.value.consumer) == (STREAM, "D")
    # nothing was changed
    assert (await js.consumer(STREAM, "D")).cached_info.config.max_deliver == 3


async def test_update_create_or_update_and_delete(js: JetStream, stream: str) -> None:
    with pytest.raises(errors.ConsumerDoesNotExistError):
        await js.update_consumer(STREAM, ConsumerConfig(durable_name="D", max_deliver=2))
    created = await js.create_or_update_consumer(STREAM, ConsumerConfig(durable_name="D", max_deliver=2))
    assert created.cached_info.config.max_deliver == 2
    updated = await js.update_consumer(STREAM, ConsumerConfig(durable_name="D", max_deliver=5))
    assert updated.cached_info.config.max_deliver == 5
    replaced = await js.create_or_update_consumer(STREAM, ConsumerConfig(durable_name="D", max_deliver=6))
    assert replaced.cached_info.config.max_deliver == 6
    by_name = await js.create_consumer(STREAM, "BYNAME")
    assert by_name.cached_info.config.ack_policy == "explicit"
    ephemeral = await js.create_consumer(STREAM, ConsumerConfig(inactive_threshold=timedelta(seconds=30)))
    assert ephemeral.cached_info.config.durable_name is None
    await js.consumer_delete(STREAM, "D")
    with pytest.raises(errors.ConsumerNotFoundError):
        await js.consumer_delete(STREAM, "D")
    assert sorted(await js.consumer_names(STREAM)) == sorted(["BYNAME", ephemeral.name])

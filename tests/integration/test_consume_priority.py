"""Priority groups (ADR-42) against a real server: overflow, prioritized, pinned client."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import pytest_asyncio

from jetstream import ConsumeEvent, Consumer, ConsumerConfig, JetStream, PinIdMismatch, errors

STREAM = "S"
GROUP = "jobs"


@pytest_asyncio.fixture
async def stream(js: JetStream) -> str:
    await js.stream_create(STREAM, subjects=["s.>"], storage="memory")
    return STREAM


async def publish(js: JetStream, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        await js.publish("s.a", b"%d" % i)


async def grouped(js: JetStream, policy: str, **config: object) -> Consumer:
    return await js.create_consumer(
        STREAM,
        ConsumerConfig(durable_name="P", priority_groups=[GROUP], priority_policy=policy, **config),  # type: ignore[arg-type]
    )


async def test_group_is_required_and_checked(js: JetStream, stream: str) -> None:
    consumer = await grouped(js, "pinned_client")
    with pytest.raises(errors.InvalidArgumentError):
        consumer.fetch(1)
    with pytest.raises(errors.InvalidArgumentError):
        consumer.fetch(1, group="other")
    with pytest.raises(errors.InvalidArgumentError):
        await consumer.next(timeout=0.1, group=GROUP, priority=10)
    # the server refuses what only it can check: a typed error, not an empty result
    with pytest.raises(errors.BadPullRequestError) as err:
        async for _ in consumer.fetch(1, group=GROUP, min_pending=1, expires=1):
            pass
    assert err.value.status == 400
    assert "Overflow" in err.value.description


async def test_overflow_min_pending_and_min_ack_pending(js: JetStream, stream: str) -> None:
    consumer = await grouped(js, "overflow")
    await publish(js, 3)
    # 3 pending: a pull asking for at least 5 pending is not served
    assert [m async for m in consumer.fetch(3, group=GROUP, min_pending=5, expires=0.5)] == []
    # served while at least 3 are pending: one message, then only 2 are left
    got = [m.data async for m in consumer.fetch(3, group=GROUP, min_pending=3, expires=0.5)]
    assert got == [b"0"]
    assert [m.data async for m in consumer.fetch(3, group=GROUP, expires=0.5)] == [b"1", b"2"]
    # 3 unacknowledged now
    await publish(js, 2, start=3)
    assert [m async for m in consumer.fetch(2, group=GROUP, min_ack_pending=4, expires=0.5)] == []
    assert [m.data async for m in consumer.fetch(2, group=GROUP, min_ack_pending=3, expires=0.5)] == [
        b"3",
        b"4",
    ]


async def test_prioritized_serves_the_lowest_priority_first(js: JetStream, stream: str) -> None:
    consumer = await grouped(js, "prioritized")
    low = asyncio.ensure_future(consumer.next(timeout=3, group=GROUP, priority=1))
    await asyncio.sleep(0.1)
    high = asyncio.ensure_future(consumer.next(timeout=3, group=GROUP, priority=0))
    await asyncio.sleep(0.1)
    await publish(js, 1)
    assert (await asyncio.wait_for(high, 2)).data == b"0"
    assert not low.done()
    await publish(js, 1, start=1)
    assert (await asyncio.wait_for(low, 2)).data == b"1"


async def test_pinned_client_pin_is_kept_sent_and_cleared_on_423(js: JetStream, stream: str) -> None:
    """The first client served is pinned: it remembers Nats-Pin-Id and sends it back; others wait
    as standbys. After an unpin, the old pin is refused with 423: it is forgotten (an event for
    messages()) and that client pulls on as a standby while another is pinned."""
    a = await grouped(js, "pinned_client", priority_timeout=timedelta(seconds=30))
    b = await js.consumer(STREAM, "P")
    await publish(js, 1)
    first = await a.next(timeout=2, group=GROUP)
    assert a.pin_id is not None
    assert first.headers.get("Nats-Pin-Id") == a.pin_id
    await first.ack()
    # b is a standby: the pinned a gets everything
    await publish(js, 1, start=1)
    assert [m async for m in b.fetch(1, group=GROUP, expires=0.5)] == []
    assert (await a.next(timeout=2, group=GROUP)).data == b"1"
    info = await a.info()
    assert info.priority_groups is not None
    assert info.priority_groups[0].pinned_client_id == a.pin_id

    await js.consumer_unpin(STREAM, "P", group=GROUP)
    events: list[ConsumeEvent] = []
    old_pin = a.pin_id
    async with a.messages(group=GROUP, expires=2, on_event=events.append) as a_msgs:
        a_reader = asyncio.ensure_future(a_msgs.__anext__())
        await asyncio.sleep(0.2)  # a's pull, carrying the old pin, waits first
        b_fetch = b.fetch(1, group=GROUP, expires=3)
        b_first = asyncio.ensure_future(b_fetch.__anext__())
        await asyncio.sleep(0.2)
        await publish(js, 1, start=2)
        # the server refuses a's stale pin (423) and pins b
        assert (await asyncio.wait_for(b_first, 3)).data == b"2"
        assert b.pin_id is not None and b.pin_id != old_pin
        await asyncio.sleep(0.2)
        assert any(isinstance(e, PinIdMismatch) for e in events)
        assert a.pin_id is None
        assert not a_reader.done()  # a goes on as a standby
        a_reader.cancel()
        with pytest.raises(asyncio.CancelledError):
            await a_reader
        await b_fetch.aclose()

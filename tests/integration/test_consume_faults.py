"""Fault injection while consuming (user-issues P6): the server is killed and restarted (same port
and store) in the middle of `messages()` / `consume()`; no user code reacts, and nothing is lost.

Durable consumers are at-least-once (acks in flight at the kill may be lost, so a message may come
twice); the ordered consumer is exactly-once and in order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
import pytest_asyncio
from conftest import leader_stepdowns

from jetstream import (
    ConsumeEvent,
    ConsumerConfig,
    ConsumerRecreated,
    Disconnected,
    JetStream,
    Message,
    MissedHeartbeat,
    Reconnected,
    errors,
)
from jetstream.testing import NatsCluster, NatsServer

pytestmark = pytest.mark.slow

STREAM = "S"
JetStreamFactory = Callable[..., Awaitable[JetStream]]


@pytest_asyncio.fixture
async def rjs(nats_server: NatsServer, js_factory: JetStreamFactory) -> JetStream:
    """A client that reconnects quickly and forever, on a file-backed stream."""
    js = await js_factory(nats_server.url, max_reconnect_attempts=-1, reconnect_time_wait=0.1)
    await js.stream_create(STREAM, subjects=["s.>"], storage="file")
    return js


async def publish(js: JetStream, start: int, n: int) -> None:
    """Publish, retrying while the restarted server is not ready yet."""
    loop = asyncio.get_running_loop()
    for i in range(start, start + n):
        deadline = loop.time() + 10
        while True:
            try:
                await js.publish("s.a", b"%d" % i, msg_id=str(i), timeout=1)
                break
            except (errors.TimeoutError, errors.NoRespondersError, errors.APIError):
                assert loop.time() < deadline, "the server did not come back"
                await asyncio.sleep(0.1)


async def wait_until(predicate: Callable[[], bool], timeout: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def test_durable_messages_survive_a_server_restart(rjs: JetStream, nats_server: NatsServer) -> None:
    js = rjs
    await publish(js, 0, 30)
    consumer = await js.create_consumer(
        STREAM, ConsumerConfig(durable_name="D", ack_wait=timedelta(seconds=1))
    )
    seen: set[int] = set()
    events: list[ConsumeEvent] = []

    async def read() -> None:
        async for msg in consumer.messages(max_messages=10, expires=2, heartbeat=1, on_event=events.append):
            seen.add(int(msg.data))
            await msg.ack()
            await asyncio.sleep(0.01)  # slow enough for the kill to land mid-stream
            if len(seen) == 60:
                return

    reader = asyncio.ensure_future(read())
    await wait_until(lambda: len(seen) >= 10, 5)
    await nats_server.kill()
    await asyncio.sleep(0.3)
    await nats_server.restart()
    await publish(js, 30, 30)
    await asyncio.wait_for(reader, 15)
    assert seen == set(range(60))
    assert any(isinstance(e, Disconnected) for e in events)
    assert any(isinstance(e, Reconnected) for e in events)


async def test_durable_consume_survives_a_server_restart(rjs: JetStream, nats_server: NatsServer) -> None:
    js = rjs
    await publish(js, 0, 20)
    consumer = await js.create_consumer(
        STREAM, ConsumerConfig(durable_name="C", ack_wait=timedelta(seconds=1))
    )
    seen: set[int] = set()

    async def handler(msg: Message) -> None:
        seen.add(int(msg.data))
        await msg.ack()
        await asyncio.sleep(0.01)

    ctx = await consumer.consume(handler, max_messages=5, expires=2, heartbeat=1)
    await wait_until(lambda: len(seen) >= 5, 5)
    await nats_server.kill()
    await asyncio.sleep(0.3)
    await nats_server.restart()
    await publish(js, 20, 20)
    await wait_until(lambda: len(seen) == 40, 15)
    await ctx.aclose()
    assert seen == set(range(40))
    assert ctx.error is None


async def test_ordered_messages_survive_a_server_restart_exactly_once(
    rjs: JetStream, nats_server: NatsServer
) -> None:
    js = rjs
    await publish(js, 0, 30)
    oc = await js.ordered_consumer(STREAM)
    got: list[int] = []
    events: list[ConsumeEvent] = []

    async def read() -> None:
        async for msg in oc.messages(max_messages=10, expires=2, heartbeat=1, on_event=events.append):
            got.append(int(msg.data))
            await asyncio.sleep(0.01)
            if len(got) == 60:
                return

    reader = asyncio.ensure_future(read())
    await wait_until(lambda: len(got) >= 10, 5)
    await nats_server.kill()
    await asyncio.sleep(0.3)
    await nats_server.restart()
    await publish(js, 30, 30)
    await asyncio.wait_for(reader, 15)
    assert got == list(range(60))
    assert any(isinstance(e, ConsumerRecreated) for e in events)


async def test_next_and_fetch_survive_a_server_restart(rjs: JetStream, nats_server: NatsServer) -> None:
    """A pull waiting while the server restarts is sent again after the reconnect."""
    js = rjs
    consumer = await js.create_consumer(STREAM, "D")
    waiting = asyncio.ensure_future(consumer.next(timeout=10))
    await asyncio.sleep(0.2)
    await nats_server.kill()
    await asyncio.sleep(0.3)
    await nats_server.restart()
    await publish(js, 0, 1)
    msg = await asyncio.wait_for(waiting, 10)
    assert msg.data == b"0"
    await msg.ack_sync()


async def test_heartbeat_timer_pauses_while_disconnected(rjs: JetStream, nats_server: NatsServer) -> None:
    """ADR-37: an outage longer than two heartbeats is a disconnect and a reconnect, not a missed
    heartbeat; the pull is sent again after the reconnect."""
    js = rjs
    consumer = await js.create_consumer(STREAM, "D")
    events: list[ConsumeEvent] = []
    msgs = consumer.messages(expires=1, heartbeat=0.5, on_event=events.append)
    reader = asyncio.ensure_future(msgs.__anext__())
    await asyncio.sleep(0.2)
    await nats_server.kill()
    await asyncio.sleep(1.5)  # three heartbeat intervals without a connection
    await nats_server.restart()
    await publish(js, 0, 1)
    msg = await asyncio.wait_for(reader, 5)
    assert msg.data == b"0"
    await msgs.aclose()
    kinds = [type(e) for e in events]
    assert Disconnected in kinds and Reconnected in kinds
    assert MissedHeartbeat not in kinds


@pytest.mark.cluster
async def test_consuming_an_r3_stream_through_leader_stepdowns(
    nats_cluster: NatsCluster, js_factory: JetStreamFactory
) -> None:
    """An R3 stream and consumer on the 3-node cluster; the consumer's and the stream's leaders
    step down while messages flow: messages() re-pulls (409 Leadership Change / missed
    heartbeats) and every message arrives (at-least-once)."""
    js = await js_factory(nats_cluster.urls, max_reconnect_attempts=-1, reconnect_time_wait=0.1)
    # Both creates are answered by the new R3 group's leader once elected; a first election that
    # misses a peer is retried after a raft election timeout (4-9 s), beyond the 5 s default.
    await js.stream_create(STREAM, subjects=["s.>"], num_replicas=3, storage="file", timeout=20)
    consumer = await js.create_consumer(
        STREAM, ConsumerConfig(durable_name="D", ack_wait=timedelta(seconds=2)), timeout=20
    )
    # The stream's leader announces its subscription over the routes while the create reply
    # travels on another route connection: publish once every node knows of it.
    await nats_cluster.wait_for_interest("s.a", timeout=20)
    total = 60
    seen: set[int] = set()
    events: list[ConsumeEvent] = []

    async def read() -> None:
        async for msg in consumer.messages(max_messages=10, expires=2, heartbeat=0.5, on_event=events.append):
            seen.add(int(msg.data))
            await msg.ack()
            if len(seen) == total:
                return

    reader = asyncio.ensure_future(read())
    stepdowns = asyncio.ensure_future(leader_stepdowns(js, STREAM, "D"))
    for i in range(total):
        await publish(js, i, 1)
        await asyncio.sleep(0.02)
    assert await stepdowns >= 2
    await asyncio.wait_for(reader, 20)
    assert seen == set(range(total))

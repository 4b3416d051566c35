"""Push consumers while the server is killed and restarted (same port and store): the subscription
resumes by itself; a durable push consumer is at-least-once, the ordered push consumer exactly once
and in order."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import pytest_asyncio
from conftest import JetStreamFactory, leader_stepdowns
from test_consume_faults import STREAM, publish, wait_until

from jetstream import (
    ConsumeEvent,
    ConsumerConfig,
    ConsumerRecreated,
    Disconnected,
    JetStream,
    Message,
    MissedHeartbeat,
    Reconnected,
)
from jetstream.testing import NatsCluster, NatsServer

pytestmark = pytest.mark.slow


@pytest_asyncio.fixture
async def pjs(nats_server: NatsServer, js_factory: JetStreamFactory) -> JetStream:
    """A client that reconnects quickly and forever, on a file-backed stream (as the pull side's
    fault tests, whose helpers these tests use)."""
    js = await js_factory(nats_server.url, max_reconnect_attempts=-1, reconnect_time_wait=0.1)
    await js.stream_create(STREAM, subjects=["s.>"], storage="file")
    return js


async def restart(server: NatsServer, js: JetStream) -> None:
    await server.kill()
    await wait_until(lambda: not js.nc.is_connected, 5)
    await server.restart()


async def test_durable_push_messages_survive_a_server_restart(
    pjs: JetStream, nats_server: NatsServer
) -> None:
    js = pjs
    await publish(js, 0, 30)
    pc = await js.create_push_consumer(
        STREAM,
        ConsumerConfig(
            durable_name="D",
            deliver_subject="dlv.d",
            ack_wait=timedelta(seconds=1),
            idle_heartbeat=timedelta(seconds=0.5),
            flow_control=True,
        ),
    )
    seen: set[int] = set()
    events: list[ConsumeEvent] = []

    async def read() -> None:
        async for msg in pc.messages(on_event=events.append):
            seen.add(int(msg.data))
            await msg.ack()
            await asyncio.sleep(0.01)  # slow enough for the kill to land mid-stream
            if len(seen) == 60:
                return

    reader = asyncio.ensure_future(read())
    await wait_until(lambda: len(seen) >= 10, 5)
    await restart(nats_server, js)
    await publish(js, 30, 30)
    await asyncio.wait_for(reader, 20)
    assert seen == set(range(60))
    kinds = {type(e) for e in events}
    assert Disconnected in kinds and Reconnected in kinds


async def test_push_consume_survives_a_server_restart(pjs: JetStream, nats_server: NatsServer) -> None:
    js = pjs
    await publish(js, 0, 20)
    pc = await js.create_push_consumer(
        STREAM, ConsumerConfig(durable_name="C", deliver_subject="dlv.c", ack_wait=timedelta(seconds=1))
    )
    seen: set[int] = set()

    async def handler(msg: Message) -> None:
        seen.add(int(msg.data))
        await msg.ack()

    ctx = await pc.consume(handler)
    await wait_until(lambda: len(seen) == 20, 5)
    await restart(nats_server, js)
    await publish(js, 20, 20)
    await wait_until(lambda: len(seen) == 40, 20)
    await ctx.aclose()
    assert seen == set(range(40))
    assert ctx.error is None


async def test_ordered_push_survives_a_server_restart_exactly_once(
    pjs: JetStream, nats_server: NatsServer
) -> None:
    js = pjs
    await publish(js, 0, 30)
    oc = await js.ordered_push_consumer(STREAM, heartbeat=0.5)
    got: list[int] = []
    events: list[ConsumeEvent] = []

    async def read() -> None:
        async for msg in oc.messages(on_event=events.append):
            got.append(int(msg.data))
            await asyncio.sleep(0.01)
            if len(got) == 60:
                return

    reader = asyncio.ensure_future(read())
    await wait_until(lambda: len(got) >= 10, 5)
    await restart(nats_server, js)
    await publish(js, 30, 30)
    await asyncio.wait_for(reader, 20)
    await oc.aclose()
    assert got == list(range(60))
    assert any(isinstance(e, ConsumerRecreated) for e in events)


async def test_push_heartbeat_timer_pauses_while_disconnected(
    pjs: JetStream, nats_server: NatsServer
) -> None:
    """An outage longer than two heartbeats is a disconnect and a reconnect, not a missed heartbeat."""
    js = pjs
    pc = await js.create_push_consumer(
        STREAM,
        ConsumerConfig(durable_name="H", deliver_subject="dlv.h", idle_heartbeat=timedelta(seconds=0.2)),
    )
    events: list[ConsumeEvent] = []
    msgs = pc.messages(on_event=events.append)
    reader = asyncio.ensure_future(msgs.__anext__())
    await wait_until(lambda: msgs.deliver_subject is not None, 5)
    await nats_server.kill()
    await wait_until(lambda: any(isinstance(e, Disconnected) for e in events), 5)
    await asyncio.sleep(0.6)  # three heartbeat intervals without a connection (the point of the test)
    await nats_server.restart()
    await publish(js, 0, 1)
    msg = await asyncio.wait_for(reader, 10)
    assert msg.data == b"0"
    await msgs.aclose()
    kinds = [type(e) for e in events]
    assert Disconnected in kinds and Reconnected in kinds
    assert MissedHeartbeat not in kinds


@pytest.mark.cluster
async def test_push_consumer_of_an_r3_stream_through_leader_stepdowns(
    nats_cluster: NatsCluster, js_factory: JetStreamFactory
) -> None:
    """An R3 stream and push consumer on the 3-node cluster; the consumer's and the stream's
    leaders step down while messages flow: the new leader goes on pushing to the same subscription
    and every message arrives (at-least-once)."""
    js = await js_factory(nats_cluster.urls, max_reconnect_attempts=-1, reconnect_time_wait=0.1)
    await js.stream_create(STREAM, subjects=["s.>"], num_replicas=3, storage="file", timeout=20)
    pc = await js.create_push_consumer(
        STREAM,
        ConsumerConfig(
            durable_name="D",
            deliver_subject="dlv.r3",
            ack_wait=timedelta(seconds=2),
            idle_heartbeat=timedelta(seconds=0.5),
        ),
        timeout=20,
    )
    await nats_cluster.wait_for_interest("s.a", timeout=20)
    total = 60
    seen: set[int] = set()

    async def read() -> None:
        async for msg in pc.messages():
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
    await asyncio.wait_for(reader, 30)
    assert seen == set(range(total))

"""The fast send path (acks and async publishes queued straight into nats-py's buffer).

It relies on nats-py internals; these tests notice a nats-py that moved them (the path must then be
off, not broken) and check what reaches the server through it.
"""

from __future__ import annotations

import asyncio

import nats
import pytest

from jetstream import JetStream, errors
from jetstream._transport import NatsTransport
from jetstream.testing import NatsServer


async def test_the_installed_nats_py_has_what_the_fast_path_needs(nats_server: NatsServer) -> None:
    nc = await nats.connect(nats_server.url)
    try:
        # If this fails after a nats-py upgrade, send_nowait is off (slower, still correct).
        assert NatsTransport(nc)._buffer_ok
    finally:
        await nc.close()


async def test_messages_queued_by_send_nowait_arrive_in_order(nats_server: NatsServer) -> None:
    nc = await nats.connect(nats_server.url)
    try:
        transport = NatsTransport(nc)
        sub = await nc.subscribe("fast.>")
        await nc.flush()
        for i in range(500):
            assert transport.send_nowait(f"fast.{i % 3}", b"m%d" % i, reply="r.x" if i % 2 else "")
        got = [await sub.next_msg(timeout=5) for _ in range(500)]
        assert [m.data for m in got] == [b"m%d" % i for i in range(500)]
        assert [m.reply for m in got[:2]] == ["", "r.x"]
        assert got[4].subject == "fast.1"
    finally:
        await nc.close()


async def test_send_nowait_declines_what_publish_must_handle(nats_server: NatsServer) -> None:
    nc = await nats.connect(nats_server.url)
    transport = NatsTransport(nc)
    # Over max_payload: publish raises the typed error.
    assert not transport.send_nowait("fast.big", b"x" * (nc.max_payload + 1))
    await nc.close()
    # Closed: publish raises ConnectionClosedError.
    assert not transport.send_nowait("fast.closed", b"x")


async def test_acks_sent_through_the_fast_path_are_applied(js: JetStream) -> None:
    await js.stream_create("FAST", subjects=["fast.>"])
    for i in range(50):
        await js.publish_async("fast.a", b"%d" % i)
    await js.publish_async_complete()
    consumer = await js.create_consumer("FAST", "worker")
    got = 0
    async for msg in consumer.fetch(50, expires=5):
        await msg.ack()
        got += 1
    assert got == 50
    for _ in range(50):
        info = await js.consumer_info("FAST", "worker")
        if info.num_ack_pending == 0:
            break
        await asyncio.sleep(0.05)
    assert info.num_ack_pending == 0
    assert info.delivered.consumer_seq == 50
    with pytest.raises(errors.MessageAlreadyAckedError):
        await msg.ack()

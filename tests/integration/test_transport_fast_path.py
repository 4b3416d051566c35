"""The fast send path (acks and async publishes queued straight into nats-py's buffer).

It relies on nats-py internals; these tests notice a nats-py that moved them (the path must then be
off, not broken) and check what reaches the server through it.
"""

from __future__ import annotations

import asyncio

import nats
import pytest
from nats.aio.msg import Msg

from jetstream import JetStream, errors
from jetstream._transport import NatsTransport
from jetstream.testing import NatsServer


async def test_the_installed_nats_py_has_what_the_fast_path_needs(nats_server: NatsServer) -> None:
    nc = await nats.connect(nats_server.url)
    try:
        # If this fails after a nats-py upgrade, send_nowait is off (slower, still correct).
        assert NatsTransport(nc).buffer_ok
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
    # Over max_payload, or a blank in an unchecked subject (it would corrupt the protocol line):
    # refused with the typed error before anything is queued.
    with pytest.raises(errors.PayloadTooLargeError):
        transport.send_nowait("fast.big", b"x" * (nc.max_payload + 1))
    with pytest.raises(errors.InvalidArgumentError):
        transport.send_nowait("fast bad", b"x")
    with pytest.raises(errors.InvalidArgumentError):
        transport.send_nowait("fast.bad\r\n", b"x")
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


# Requests: one wildcard inbox subscription for every request of the connection (_request_mux.py).


async def test_concurrent_requests_each_get_their_own_reply(nats_server: NatsServer) -> None:
    nc = await nats.connect(nats_server.url)
    try:

        async def echo(msg: Msg) -> None:
            await msg.respond(b"re:" + msg.data)

        await nc.subscribe("echo", cb=echo)
        transport = NatsTransport(nc)
        replies = await asyncio.gather(*(transport.request("echo", b"%d" % i, 5) for i in range(200)))
        assert [r.data for r in replies] == [b"re:%d" % i for i in range(200)]
        assert not transport.router._pending
    finally:
        await nc.close()


async def test_a_request_nobody_answers_times_out_typed(nats_server: NatsServer) -> None:
    nc = await nats.connect(nats_server.url)
    try:
        await nc.subscribe("silent")  # a subscriber that never replies
        transport = NatsTransport(nc)
        started = asyncio.get_running_loop().time()
        with pytest.raises(errors.TimeoutError) as info:
            await transport.request("silent", b"", 0.3)
        assert info.value.timeout == 0.3
        assert 0.25 < asyncio.get_running_loop().time() - started < 2
        assert not transport.router._pending
    finally:
        await nc.close()


async def test_no_responders_is_typed(nats_server: NatsServer) -> None:
    nc = await nats.connect(nats_server.url)
    try:
        with pytest.raises(errors.NoRespondersError):
            await NatsTransport(nc).request("nobody.here", b"", 5)
    finally:
        await nc.close()


async def test_closing_the_connection_fails_a_request_without_timeout(nats_server: NatsServer) -> None:
    nc = await nats.connect(nats_server.url)
    await nc.subscribe("silent")
    transport = NatsTransport(nc)
    waiting = asyncio.ensure_future(transport.request("silent", b"", None))
    await asyncio.sleep(0.1)
    await nc.close()
    with pytest.raises(errors.ConnectionClosedError):
        await asyncio.wait_for(waiting, 2)


async def test_a_cancelled_request_leaves_nothing_behind(nats_server: NatsServer) -> None:
    nc = await nats.connect(nats_server.url)
    try:
        await nc.subscribe("silent")
        transport = NatsTransport(nc)
        waiting = asyncio.ensure_future(transport.request("silent", b"", 10))
        await asyncio.sleep(0.05)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert not transport.router._pending
    finally:
        await nc.close()


async def test_a_request_with_headers_still_works(nats_server: NatsServer) -> None:
    nc = await nats.connect(nats_server.url)
    try:

        async def echo(msg: Msg) -> None:
            await msg.respond((msg.headers or {}).get("X-Id", "").encode())

        await nc.subscribe("echo.h", cb=echo)
        reply = await NatsTransport(nc).request("echo.h", b"", 5, {"X-Id": "42"})
        assert reply.data == b"42"
    finally:
        await nc.close()

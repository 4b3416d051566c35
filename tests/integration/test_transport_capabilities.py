"""What `NatsConnection` takes from nats-py's internals, exercised for its behaviour.

Each private capability is checked once when a connection is wrapped and has a fallback; these
tests notice a nats-py that moved one (the capability must then be off, not broken) and check what
it does: the outgoing buffer (order, flushing, limits), ``_send_publish`` (order with queued
sends), the ``_process_headers`` hook (status lines, repeated names, damaged blocks), and the
callbacks of a client the SDK did not open (state events, the user's callbacks still called).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import nats
import pytest
from conftest import raw_hpub
from nats.aio.msg import Msg

from jetstream import Headers, JetStream, errors
from jetstream._transport import (
    ConnectionEvent,
    LinkClosed,
    LinkDisconnected,
    LinkReconnected,
    NatsConnection,
    NatsTransport,
    StatusHeaders,
    status_of,
)
from jetstream._transport import Msg as TransportMsg
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


# Requests: one wildcard inbox subscription for every request of the connection (_transport/_router.py).


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


# -- the capabilities, each checked once and each with its behaviour --------------------------


async def test_every_capability_is_found_on_the_installed_nats_py(nats_server: NatsServer) -> None:
    nc = await nats.connect(nats_server.url)
    try:
        conn = NatsConnection(nc)
        assert conn.buffer_ok and conn.headers_hooked and conn.callbacks_hooked
        assert conn._send_publish is not None
    finally:
        await nc.close()


async def test_checked_publishes_and_queued_sends_keep_their_order(nats_server: NatsServer) -> None:
    nc = await nats.connect(nats_server.url)
    try:
        conn = NatsConnection(nc)
        got: list[bytes] = []
        done = asyncio.Event()

        async def collect(msg: Msg) -> None:
            got.append(msg.data)
            if len(got) == 300:
                done.set()

        await nc.subscribe("mix.>", cb=collect)
        await nc.flush()
        for i in range(300):
            if i % 3 == 0:
                await conn.publish("mix.a", b"%d" % i, headers={"I": str(i)})  # _send_publish
            else:
                assert conn.send_nowait("mix.b", b"%d" % i)
        await asyncio.wait_for(done.wait(), 10)
        assert got == [b"%d" % i for i in range(300)]
    finally:
        await nc.close()


async def test_send_nowait_stops_at_the_pending_buffer_limit(nats_server: NatsServer) -> None:
    nc = await nats.connect(nats_server.url, pending_size=4096)
    try:
        conn = NatsConnection(nc)
        accepted = 0
        while conn.send_nowait("limit.x", b"x" * 512):
            accepted += 1
            assert accepted < 100, "the pending-size limit was not honoured"
        assert 0 < accepted <= 8
        await conn.publish("limit.x", b"x" * 512)  # nats-py's own path flushes first, then sends
        await conn.flush(5)
    finally:
        await nc.close()


async def test_the_header_hook_tells_status_lines_from_headers(nats_server: NatsServer) -> None:
    nc = await nats.connect(nats_server.url)
    try:
        conn = NatsConnection(nc)
        inbox: asyncio.Queue[TransportMsg] = asyncio.Queue()

        async def collect(msg: TransportMsg) -> None:
            inbox.put_nowait(msg)

        await conn.subscribe("hdr.>", collect)
        await conn.flush(5)
        await raw_hpub(nats_server, "hdr.status", b"NATS/1.0 409 Consumer Deleted\r\n\r\n")
        await conn.publish("hdr.header", b"", headers={"Status": "409", "Description": "Consumer Deleted"})
        await conn.publish("hdr.multi", b"", headers=Headers([("A", "1"), ("A", "2"), ("B", "3")]).to_dict())
        await raw_hpub(nats_server, "hdr.broken", b"NATS/1.0\r\nX: \xff\xfe\r\nNoColon\r\n\r\n", b"p")
        await conn.publish("hdr.after", b"still alive")
        msgs = {m.subject: m for m in [await asyncio.wait_for(inbox.get(), 5) for _ in range(5)]}
        assert isinstance(msgs["hdr.status"].headers, StatusHeaders)
        assert status_of(msgs["hdr.status"]) == "409"
        assert type(msgs["hdr.header"].headers) is dict  # a publisher's Status header is data
        assert status_of(msgs["hdr.header"]) == ""
        assert Headers.of(msgs["hdr.multi"].headers).get_all("A") == ["1", "2"]
        assert msgs["hdr.broken"].data == b"p"  # a damaged block is read leniently
        assert msgs["hdr.after"].data == b"still alive" and nc.is_connected
    finally:
        await nc.close()


async def test_callbacks_of_a_users_client_feed_the_hub_and_still_run(nats_server: NatsServer) -> None:
    calls: list[str] = []

    async def on_disconnected() -> None:
        calls.append("user disconnected")

    async def on_reconnected() -> None:
        calls.append("user reconnected")

    async def on_closed() -> None:
        calls.append("user closed")

    async def on_error(e: Exception) -> None:
        calls.append("user error")

    nc = await nats.connect(
        nats_server.url,
        disconnected_cb=on_disconnected,
        reconnected_cb=on_reconnected,
        closed_cb=on_closed,
        error_cb=on_error,
        reconnect_time_wait=0.1,
        max_reconnect_attempts=-1,
    )
    conn = NatsConnection(nc)
    events: list[ConnectionEvent] = []
    conn.hub.on_event(events.append)
    await nats_server.restart()
    await wait_until(lambda: any(isinstance(e, LinkReconnected) for e in events), timeout=20)
    assert any(isinstance(e, LinkDisconnected) for e in events)
    assert conn.hub.generation == 1 and conn.hub.connected
    await nc.close()
    await wait_until(lambda: any(isinstance(e, LinkClosed) for e in events), timeout=5)
    assert {"user disconnected", "user reconnected", "user closed"} <= set(calls)
    assert conn.hub.closed


async def wait_until(check: Callable[[], bool], timeout: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)

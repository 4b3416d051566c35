"""`publish_async` against real servers: the window is never exceeded, completion, ack timeouts,
retries, server errors, and what happens to pending acks when the server dies or the client closes."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
import pytest_asyncio
from conftest import JetStreamFactory
from nats.aio.msg import Msg

from jetstream import JetStream, PubAck, errors
from jetstream.testing import NatsServer

# Bounds every wait on futures: a hang fails the test instead of stalling the suite.
BOUND = 10.0


@pytest_asyncio.fixture
async def stream(js: JetStream) -> str:
    await js.stream_create("A", subjects=["a.>"], storage="memory")
    return "A"


async def settle(futures: Sequence[asyncio.Future[PubAck]]) -> list[PubAck | BaseException]:
    return await asyncio.wait_for(asyncio.gather(*futures, return_exceptions=True), BOUND)


async def silent_subscriber(js: JetStream, subject: str) -> None:
    """A core subscriber that never answers: publishes to ``subject`` have a responder but no ack."""
    assert js.nc is not None

    async def ignore(msg: Msg) -> None:
        return None

    await js.nc.subscribe(subject, cb=ignore)
    await js.nc.flush()


async def test_window_is_never_exceeded(nats_server: NatsServer, js_factory: JetStreamFactory) -> None:
    window = 256
    js = await js_factory(nats_server.url, publish_async_max_pending=window)
    await js.stream_create("A", subjects=["a.>"], storage="memory")
    n = 20_000
    futures = []
    most = 0
    for i in range(n):
        futures.append(await js.publish_async(f"a.{i % 10}", b"x"))
        most = max(most, js.publish_async_pending())
    await js.publish_async_complete(timeout=BOUND)
    acks = [f.result() for f in futures]
    assert sorted(a.seq for a in acks) == list(range(1, n + 1))
    assert {a.stream for a in acks} == {"A"}
    assert most <= window
    publisher = js._async_publisher
    assert publisher is not None
    assert window // 2 < publisher.max_seen <= window  # the window was used, and bounded it
    assert js.publish_async_pending() == 0
    assert (await js.stream_info("A")).state.messages == n


async def test_publish_async_complete_waits_for_every_ack(js: JetStream, stream: str) -> None:
    futures = [await js.publish_async("a.1", str(i).encode(), msg_id=f"m{i}") for i in range(500)]
    await js.publish_async_complete(timeout=BOUND)
    assert all(f.done() for f in futures)
    assert [f.result().seq for f in futures] == list(range(1, 501))
    # de-duplication works as with publish
    dup = await js.publish_async("a.1", b"again", msg_id="m7")
    ack = await asyncio.wait_for(dup, BOUND)
    assert (ack.seq, ack.duplicate) == (8, True)


async def test_server_errors_fail_their_own_future_only(js: JetStream, stream: str) -> None:
    ok = await js.publish_async("a.1", b"1")
    wrong = await js.publish_async("a.1", b"2", expected_last_seq=7)
    ttl = await js.publish_async("a.1", b"3", ttl=60)  # the stream has no per-message TTL
    fine = await js.publish_async("a.2", b"4", expected_stream="A", expected_last_subject_seq=0)
    results = await settle([ok, wrong, ttl, fine])
    assert isinstance(results[0], PubAck) and results[0].seq == 1
    assert isinstance(results[1], errors.StreamWrongLastSequenceError)
    assert isinstance(results[2], errors.MessageTTLDisabledError)
    assert isinstance(results[3], PubAck) and results[3].seq == 2


async def test_ack_timeout(js: JetStream) -> None:
    await silent_subscriber(js, "hold.>")
    loop = asyncio.get_running_loop()
    start = loop.time()
    futures = [await js.publish_async("hold.1", b"x", timeout=0.3) for _ in range(3)]
    results = await settle(futures)
    assert all(isinstance(r, errors.TimeoutError) for r in results), results
    assert 0.25 <= loop.time() - start < 3
    assert js.publish_async_pending() == 0


async def test_full_window_times_out(nats_server: NatsServer, js_factory: JetStreamFactory) -> None:
    js = await js_factory(nats_server.url, publish_async_max_pending=2)
    await silent_subscriber(js, "hold.>")
    held = [await js.publish_async("hold.1", b"x", timeout=BOUND) for _ in range(2)]
    with pytest.raises(errors.TimeoutError, match="window"):
        await js.publish_async("hold.2", b"x", timeout=0.2)
    assert js.publish_async_pending() == 2
    await js.close()
    results = await settle(held)
    assert all(isinstance(r, errors.ConnectionClosedError) for r in results)


async def test_a_core_responder_is_not_a_stream(js: JetStream) -> None:
    assert js.nc is not None
    nc = js.nc

    async def answer(msg: Msg) -> None:
        await nc.publish(msg.reply, b"{}" if msg.subject.endswith("json") else b"hello")

    await nc.subscribe("core.>", cb=answer)
    results = await settle(
        [await js.publish_async("core.text", b"x"), await js.publish_async("core.json", b"x")]
    )
    assert isinstance(results[0], errors.MalformedReplyError)
    assert isinstance(results[1], errors.UnexpectedReplyError)


async def test_no_stream_fails_after_the_retries(js: JetStream) -> None:
    loop = asyncio.get_running_loop()
    start = loop.time()
    fut = await js.publish_async("nobody.1", b"x")
    with pytest.raises(errors.NoStreamResponseError):
        await asyncio.wait_for(fut, BOUND)
    # ADR-22: two retries 250 ms apart before giving up
    assert 0.45 <= loop.time() - start < 3


async def test_retry_finds_a_stream_created_meanwhile(js: JetStream) -> None:
    fut = await js.publish_async("late.1", b"x", timeout=BOUND)
    await js.stream_create("LATE", subjects=["late.>"], storage="memory")
    ack = await asyncio.wait_for(fut, BOUND)
    assert (ack.stream, ack.seq) == ("LATE", 1)


async def test_server_death_fails_pending_acks_and_publishing_resumes_after_restart(
    nats_server: NatsServer, js_factory: JetStreamFactory
) -> None:
    js = await js_factory(nats_server.url, max_reconnect_attempts=-1, reconnect_time_wait=0.1)
    nc = js.nc
    assert nc is not None
    await js.stream_create("D", subjects=["d.>"], storage="file")
    await silent_subscriber(js, "hold.>")
    held = [await js.publish_async("hold.1", b"x", timeout=None) for _ in range(20)]
    stored = [await js.publish_async("d.1", b"x", timeout=None) for _ in range(200)]

    await nats_server.kill()
    results = await settle(held + stored)
    # the held ones can never be acked; the others were acked before the kill or failed with it
    assert all(isinstance(r, errors.ConnectionClosedError) for r in results[:20]), results[:20]
    assert all(isinstance(r, (PubAck, errors.ConnectionClosedError)) for r in results[20:])
    assert "may or may not" in str(results[0])
    assert js.publish_async_pending() == 0

    # Published while nats-py reconnects: buffered, sent on the new connection, and acked.
    for _ in range(100):
        if not nc.is_connected:
            break
        await asyncio.sleep(0.02)
    assert not nc.is_connected
    during = await js.publish_async("d.2", b"during", timeout=BOUND)
    await nats_server.start()
    ack = await asyncio.wait_for(during, BOUND)
    assert ack.stream == "D"
    after = await asyncio.wait_for(await js.publish_async("d.3", b"after"), BOUND)
    assert after.seq == ack.seq + 1
    stored_count = sum(isinstance(r, PubAck) for r in results[20:])
    assert (await js.stream_info("D")).state.messages >= stored_count + 2


async def test_close_fails_pending_acks(nats_server: NatsServer, js_factory: JetStreamFactory) -> None:
    js = await js_factory(nats_server.url)
    await silent_subscriber(js, "hold.>")
    futures = [await js.publish_async("hold.1", b"x", timeout=None) for _ in range(5)]
    await js.close()
    results = await settle(futures)
    assert all(isinstance(r, errors.ConnectionClosedError) for r in results)
    with pytest.raises(errors.ConnectionClosedError):
        await js.publish_async("hold.1", b"x")

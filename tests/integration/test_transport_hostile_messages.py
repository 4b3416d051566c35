"""Messages crafted by a hostile publisher are data, never server statuses; oversized headers are
refused before they reach the server.

Any publisher may store a message whose headers read ``Status: 409`` / ``Description: Consumer
Deleted``, or even write its own status line with a raw ``HPUB``. A real status message carries no
reply subject; a delivered message always carries its ``$JS.ACK`` reply. Each consuming path is
checked: fetch, next, messages, consume, the ordered consumer, direct get, and Key/Value get,
keys, history and watch.
"""

from __future__ import annotations

import asyncio

import pytest
from conftest import JetStreamFactory, raw_hpub

from jetstream import InitialValuesDone, JetStream, KeyValueEntry, Message, errors
from jetstream.testing import NatsServer

FORGED = {"Status": "409", "Description": "Consumer Deleted"}
FORGED_HEARTBEAT = {"Status": "100", "Description": "Idle Heartbeat"}


async def _store_hostile(js: JetStream, server: NatsServer, prefix: str) -> int:
    """Three hostile messages and one plain one; returns how many were stored."""
    await js.publish(f"{prefix}.a", b"", headers=FORGED)
    await js.publish(f"{prefix}.b", b"", headers=FORGED_HEARTBEAT)
    await raw_hpub(server, f"{prefix}.c", b"NATS/1.0 409 Consumer Deleted\r\n\r\n")
    await js.publish(f"{prefix}.d", b"plain")
    info = await js.stream_info("H")
    assert info.state.messages == 4
    return 4


@pytest.fixture
async def hostile(js: JetStream, nats_server: NatsServer) -> JetStream:
    await js.stream_create("H", subjects=["h.>"], allow_direct=True)
    await _store_hostile(js, nats_server, "h")
    return js


async def test_fetch_and_next_deliver_forged_statuses_as_messages(hostile: JetStream) -> None:
    js = hostile
    consumer = await js.create_consumer("H", "F")
    got = [m async for m in consumer.fetch(10, expires=1)]
    assert [m.subject for m in got] == ["h.a", "h.b", "h.c", "h.d"]
    assert got[0].headers.get("Status") == "409"
    for msg in got:
        await msg.ack()
    other = await js.create_consumer("H", "N")
    first = await other.next(timeout=5)
    assert first.subject == "h.a" and first.headers.get("Description") == "Consumer Deleted"


async def test_messages_and_consume_deliver_forged_statuses_as_messages(hostile: JetStream) -> None:
    js = hostile
    consumer = await js.create_consumer("H", "M")
    seen: list[str] = []
    async with consumer.messages(max_messages=10) as stream:
        async for msg in stream:
            seen.append(msg.subject)
            await msg.ack()
            if len(seen) == 4:
                break
    assert seen == ["h.a", "h.b", "h.c", "h.d"]

    consumed: list[Message] = []
    done = asyncio.Event()

    async def handle(msg: Message) -> None:
        consumed.append(msg)
        if len(consumed) == 4:
            done.set()

    other = await js.create_consumer("H", "C")
    ctx = await other.consume(handle)
    try:
        await asyncio.wait_for(done.wait(), 10)
    finally:
        await ctx.aclose()
    assert [m.subject for m in consumed] == ["h.a", "h.b", "h.c", "h.d"]


async def test_the_ordered_consumer_delivers_forged_statuses_in_order(hostile: JetStream) -> None:
    oc = await hostile.ordered_consumer("H")
    got = [m async for m in oc.fetch(4, expires=2)]
    assert [m.subject for m in got] == ["h.a", "h.b", "h.c", "h.d"]
    assert [m.metadata.sequence.stream for m in got] == [1, 2, 3, 4]
    await oc.aclose()


async def test_direct_get_returns_a_forged_status_message(hostile: JetStream) -> None:
    msg = await hostile.direct_get("H", last_by_subj="h.a")
    assert msg.headers.get("Status") == "409"
    assert msg.data == b""
    raw = await hostile.direct_get("H", last_by_subj="h.c")  # a hand-written status line
    assert raw.seq == 3 and raw.data == b""
    stream = await hostile.stream("H")
    got = [m async for m in stream.get_msgs(seq=1, batch=5)]
    assert [m.subject for m in got] == ["h.a", "h.b", "h.c", "h.d"]
    assert (await stream.get_msg(3, direct=False)).data == b""  # STREAM.MSG.GET (JSON) too


async def test_key_value_reads_survive_forged_statuses(js: JetStream, nats_server: NatsServer) -> None:
    kv = await js.create_key_value("hostile", history=5)
    await kv.put("good", b"1")
    await js.publish("$KV.hostile.evil", b"", headers=FORGED)
    await js.publish("$KV.hostile.beat", b"", headers=FORGED_HEARTBEAT)
    await raw_hpub(nats_server, "$KV.hostile.raw", b"NATS/1.0 409 Consumer Deleted\r\n\r\n")

    assert sorted(await asyncio.wait_for(kv.keys(), 10)) == ["beat", "evil", "good", "raw"]
    entry = await kv.get("evil")
    assert entry.value == b"" and entry.revision == 2
    assert [e.revision for e in await asyncio.wait_for(kv.history("evil"), 10)] == [2]

    seen: list[str] = []
    async with kv.watch(">") as watcher:
        async for item in watcher:
            if isinstance(item, InitialValuesDone):
                break
            assert isinstance(item, KeyValueEntry)
            seen.append(item.key)
    assert sorted(seen) == ["beat", "evil", "good", "raw"]


async def test_headers_count_against_max_payload(
    nats_server_factory: object, js_factory: JetStreamFactory
) -> None:
    factory = nats_server_factory
    server: NatsServer = await factory(max_payload=4096)  # type: ignore[operator]
    js = await js_factory(server.url)
    await js.stream_create("P", subjects=["p.>"])
    big = {"X-Big": "v" * 5000}
    with pytest.raises(errors.PayloadTooLargeError):
        await js.publish("p.a", b"x", headers=big)
    with pytest.raises(errors.PayloadTooLargeError):
        await js.publish_async("p.a", b"x", headers=big)
    with pytest.raises(errors.PayloadTooLargeError):
        await js.publish("p.a", b"x" * 4000, headers={"X": "y" * 200})
    assert js.publish_async_pending() == 0
    # Nothing reached the server: the connection is alive and the stream untouched.
    ack = await js.publish("p.a", b"fits")
    assert ack.seq == 1
    assert js.nc is not None and js.nc.is_connected


async def test_refused_publishes_never_fill_the_window(
    js_factory: JetStreamFactory, nats_server: NatsServer
) -> None:
    js = await js_factory(nats_server.url, publish_async_max_pending=5)
    await js.stream_create("W", subjects=["w.>"])
    for _ in range(20):
        for data in (None, "text", 5):
            with pytest.raises(errors.InvalidArgumentError):
                await js.publish_async("w.a", data)  # type: ignore[arg-type]
        with pytest.raises(errors.InvalidArgumentError):
            await js.publish_async("w.\udcff", b"")
        with pytest.raises(errors.InvalidArgumentError):
            await js.publish("w.a", b"", headers={"X": 5})  # type: ignore[dict-item]
    assert js.publish_async_pending() == 0
    fut = await asyncio.wait_for(js.publish_async("w.a", b"ok"), 2)
    assert (await asyncio.wait_for(fut, 5)).seq == 1

"""Key/Value watchers under faults, against real servers (P9): forced reconnects, server restarts
and crashes, missed heartbeats (a frozen server), a consumer deleted under the watcher, a closed
connection. Every change must arrive once, in order, and no consumer may leak."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import nats
import pytest
import pytest_asyncio
from conftest import JetStreamFactory
from nats.aio.client import Client as NATS

from jetstream import InitialValuesDone, JetStream, KeyValue, KeyValueEntry, KeyWatcher, errors
from jetstream.testing import NatsServer

T = TypeVar("T")

# Reconnect at once: nats-py otherwise waits 2 s before retrying the same server.
FAST_RECONNECT: dict[str, Any] = {"reconnect_time_wait": 0.05, "max_reconnect_attempts": -1}


async def eventually(probe: Callable[[], Awaitable[T]], *, timeout: float = 10.0) -> T:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            return await probe()
        except (AssertionError, errors.JetStreamError):
            if loop.time() >= deadline:
                raise
        await asyncio.sleep(0.05)


class Collector:
    """Reads a watcher in a task; `entries` are the entries after the initial marker."""

    def __init__(self, watcher: KeyWatcher) -> None:
        self.watcher = watcher
        self.items: list[KeyValueEntry | InitialValuesDone] = []
        self.error: BaseException | None = None
        self.task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        try:
            async for item in self.watcher:
                self.items.append(item)
        except Exception as exc:
            self.error = exc

    @property
    def entries(self) -> list[KeyValueEntry]:
        return [i for i in self.items if isinstance(i, KeyValueEntry)]

    async def wait_for_value(self, key: str, value: bytes, timeout: float = 10.0) -> None:
        async def arrived() -> None:
            assert self.error is None, self.error
            assert any(e.key == key and e.value == value for e in self.entries), (key, value)

        await eventually(arrived, timeout=timeout)

    async def close(self) -> None:
        await self.watcher.aclose()
        await asyncio.wait_for(self.task, 2)


@pytest_asyncio.fixture
async def admin(nats_server: NatsServer, js_factory: JetStreamFactory) -> JetStream:
    return await js_factory(nats_server.url)


@pytest_asyncio.fixture
async def watching(nats_server: NatsServer, js_factory: JetStreamFactory) -> JetStream:
    """A client of its own for the watcher (the one the faults hit)."""
    return await js_factory(nats_server.url, name="kv-watcher", **FAST_RECONNECT)


async def put_when_back(kv: KeyValue, key: str, value: bytes) -> int:
    """Put, retrying while the server is still coming back."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while True:
        try:
            return await kv.put(key, value, timeout=1.0)
        except errors.JetStreamError:
            if loop.time() >= deadline:
                raise
            await asyncio.sleep(0.05)


async def kick(system: NATS, server: NatsServer, client_name: str) -> None:
    """Disconnect a client from the server side ($SYS.REQ.SERVER.<id>.KICK)."""
    server_id = (await server.monitor("/varz"))["server_id"]
    connz = await server.monitor("/connz")
    (cid,) = [c["cid"] for c in connz["connections"] if c.get("name") == client_name]
    reply = await system.request(
        f"$SYS.REQ.SERVER.{server_id}.KICK", json.dumps({"cid": cid}).encode(), timeout=5
    )
    assert b'"error"' not in reply.data, reply.data


def assert_in_order_once(entries: list[KeyValueEntry], values: list[bytes]) -> None:
    assert [e.value for e in entries] == values
    revisions = [e.revision for e in entries]
    assert revisions == sorted(set(revisions))


@pytest_asyncio.fixture
async def system(nats_server: NatsServer) -> AsyncIterator[NATS]:
    assert nats_server.system_url is not None
    nc = await nats.connect(nats_server.system_url)
    try:
        yield nc
    finally:
        await nc.close()


async def test_twenty_forced_reconnects_leave_one_consumer(
    nats_server: NatsServer, admin: JetStream, watching: JetStream, system: NATS
) -> None:
    """P9 (openobserve): a reconnect storm must not leave one consumer per reconnect."""
    kv = await admin.create_key_value("storm", history=64)
    await kv.put("k", b"0")
    watcher = await (await watching.key_value("storm")).watch(idle_heartbeat=1.0)
    collector = Collector(watcher)
    await collector.wait_for_value("k", b"0")
    nc = watching.nc
    assert nc is not None
    most = 0
    for i in range(1, 21):
        before = nc.stats["reconnects"]
        await kick(system, nats_server, "kv-watcher")
        await eventually(lambda: _reconnected(nc, before), timeout=5)  # noqa: B023
        if i % 2:
            # Idle past the watcher's poll: it notices the reconnect and recreates its consumer.
            await asyncio.sleep(0.35)
        await kv.put("k", b"%d" % i)
        most = max(most, len(await admin.consumer_names("KV_storm")))
    await collector.wait_for_value("k", b"20")
    assert most <= 1
    assert await admin.consumer_names("KV_storm") == [watcher.consumer_name]
    assert nc.stats["reconnects"] >= 20
    assert watcher.resets >= 5
    assert_in_order_once(collector.entries, [b"%d" % i for i in range(21)])
    await collector.close()
    assert await admin.consumer_names("KV_storm") == []


async def _reconnected(nc: Any, before: int) -> None:
    assert nc.stats["reconnects"] > before and nc.is_connected


@pytest.mark.parametrize("crash", [False, True], ids=["restart", "kill"])
async def test_watch_survives_server_restarts(
    nats_server: NatsServer, admin: JetStream, watching: JetStream, crash: bool
) -> None:
    kv = await admin.create_key_value("restarts", history=64)
    await kv.put("k", b"0")
    watcher = await (await watching.key_value("restarts")).watch(idle_heartbeat=1.0)
    collector = Collector(watcher)
    await collector.wait_for_value("k", b"0")
    writer = await watching.key_value("restarts")
    for i in range(1, 4):
        if crash:
            await nats_server.kill()
            await nats_server.start()
        else:
            await nats_server.restart()
        await put_when_back(writer, "k", b"%d" % i)
        await collector.wait_for_value("k", b"%d" % i)
    assert watcher.resets >= 1
    assert_in_order_once(collector.entries, [b"0", b"1", b"2", b"3"])

    async def one_consumer() -> None:
        assert await admin.consumer_names("KV_restarts") == [watcher.consumer_name]

    await eventually(one_consumer)
    await collector.close()


async def test_missed_heartbeats_recreate_the_consumer(
    nats_server: NatsServer, admin: JetStream, watching: JetStream
) -> None:
    """A frozen server (SIGSTOP) keeps the TCP connection up but sends no heartbeats."""
    kv = await admin.create_key_value("frozen", history=64)
    await kv.put("k", b"0")
    watcher = await (await watching.key_value("frozen")).watch(idle_heartbeat=0.3)
    collector = Collector(watcher)
    await collector.wait_for_value("k", b"0")
    first = watcher.consumer_name
    process = nats_server.process
    assert process is not None
    os.kill(process.pid, signal.SIGSTOP)
    try:

        async def reset() -> None:
            assert watcher.resets >= 1

        await eventually(reset, timeout=5)  # two missed heartbeats: 0.6 s
        await asyncio.sleep(0.5)
    finally:
        os.kill(process.pid, signal.SIGCONT)
    await kv.put("k", b"1")
    await collector.wait_for_value("k", b"1")
    assert watcher.consumer_name != first
    assert_in_order_once(collector.entries, [b"0", b"1"])

    async def one_consumer() -> None:
        # The consumer whose creation timed out while the server was frozen is cleaned up too.
        assert await admin.consumer_names("KV_frozen") == [watcher.consumer_name]

    await eventually(one_consumer)
    await collector.close()


async def test_consumer_deleted_under_the_watcher(admin: JetStream, watching: JetStream) -> None:
    kv = await admin.create_key_value("lost", history=64)
    watcher = await (await watching.key_value("lost")).watch(idle_heartbeat=1.0)
    collector = Collector(watcher)
    await kv.put("k", b"0")
    await collector.wait_for_value("k", b"0")
    name = watcher.consumer_name
    assert name is not None
    await admin.consumer_delete("KV_lost", name)
    await kv.put("k", b"1")
    await collector.wait_for_value("k", b"1")
    assert watcher.resets >= 1
    assert_in_order_once(collector.entries, [b"0", b"1"])
    await collector.close()


async def test_closed_connection_ends_the_watch_with_an_error(
    nats_server: NatsServer, js_factory: JetStreamFactory
) -> None:
    js = await js_factory(nats_server.url)
    kv = await js.create_key_value("closing")
    watcher = await kv.watch()
    assert isinstance(await watcher.__anext__(), InitialValuesDone)
    nc = js.nc
    assert nc is not None
    await nc.close()
    with pytest.raises(errors.ConnectionClosedError):
        await asyncio.wait_for(watcher.__anext__(), 5)
    await watcher.aclose()


async def test_listing_on_a_frozen_server_times_out(nats_server: NatsServer, admin: JetStream) -> None:
    """keys() and history() never hang: each wait is bounded by the call's timeout."""
    kv = await admin.create_key_value("stuck")
    await kv.put("k", b"v")
    process = nats_server.process
    assert process is not None
    loop = asyncio.get_running_loop()
    os.kill(process.pid, signal.SIGSTOP)
    try:
        for call in (kv.keys(timeout=0.5), kv.history("k", timeout=0.5)):
            started = loop.time()
            with pytest.raises(errors.TimeoutError):
                await call
            assert loop.time() - started < 3
    finally:
        os.kill(process.pid, signal.SIGCONT)
    assert await kv.keys() == ["k"]


async def test_updates_only_watch_misses_nothing_across_a_recreation(
    admin: JetStream, watching: JetStream
) -> None:
    """Recreated before its first update, an updates-only watcher resumes after the stream's last
    sequence at the start - not at "new" again, which would skip what was written meanwhile. (The
    write is sent as soon as the delete returns, so it normally lands before the recreation.)"""
    kv = await admin.create_key_value("fresh", history=5)
    for i in range(3):
        await kv.put("k", b"old %d" % i)
    watcher = await (await watching.key_value("fresh")).watch(updates_only=True, idle_heartbeat=0.3)
    assert isinstance(await watcher.__anext__(), InitialValuesDone)
    name = watcher.consumer_name
    assert name is not None
    await admin.consumer_delete("KV_fresh", name)
    await kv.put("k", b"written while the consumer was gone")
    entry = await asyncio.wait_for(watcher.__anext__(), 5)
    assert isinstance(entry, KeyValueEntry) and entry.value == b"written while the consumer was gone"
    assert watcher.resets == 1
    await watcher.aclose()


async def test_consumer_deleted_during_the_initial_values(admin: JetStream, watching: JetStream) -> None:
    """The watch runs on the shared ordered consumer: a consumer lost half-way through the initial
    values is recreated after the last one delivered, the rest are recounted from its pending
    count, and the marker still comes once, after every initial value, with the right count."""
    kv = await admin.create_key_value("halfway")
    for i in range(600):  # more than one pull's worth: the server still holds some at the delete
        await kv.put(f"k{i:03d}", b"v")
    watcher = await (await watching.key_value("halfway")).watch(idle_heartbeat=1.0)
    items: list[KeyValueEntry | InitialValuesDone] = [
        await asyncio.wait_for(watcher.__anext__(), 5) for _ in range(10)
    ]
    name = watcher.consumer_name
    assert name is not None
    await admin.consumer_delete("KV_halfway", name)
    while not isinstance(items[-1], InitialValuesDone):
        items.append(await asyncio.wait_for(watcher.__anext__(), 5))
    assert watcher.resets >= 1 and watcher.consumer_name != name
    assert items[-1] == InitialValuesDone(600)
    await kv.put("live", b"after")
    items.append(await asyncio.wait_for(watcher.__anext__(), 5))
    entries = [item for item in items if isinstance(item, KeyValueEntry)]
    assert [e.key for e in entries] == [f"k{i:03d}" for i in range(600)] + ["live"]
    assert_in_order_once(entries, [b"v"] * 600 + [b"after"])

    async def one_consumer() -> None:
        assert await admin.consumer_names("KV_halfway") == [watcher.consumer_name]

    await eventually(one_consumer)
    await watcher.aclose()
    assert await admin.consumer_names("KV_halfway") == []


async def test_the_marker_comes_when_a_recreation_finds_nothing_left(
    admin: JetStream, watching: JetStream
) -> None:
    """Recreated during the initial values with nothing pending any more (the rest was purged):
    the marker comes at once, after what was delivered, instead of waiting for a live change."""
    kv = await admin.create_key_value("purged")
    for i in range(600):
        await kv.put(f"k{i:03d}", b"v")
    watcher = await (await watching.key_value("purged")).watch(idle_heartbeat=1.0)
    items: list[KeyValueEntry | InitialValuesDone] = [
        await asyncio.wait_for(watcher.__anext__(), 5) for _ in range(10)
    ]
    name = watcher.consumer_name
    assert name is not None
    await admin.stream_purge("KV_purged")
    await admin.consumer_delete("KV_purged", name)
    while not isinstance(items[-1], InitialValuesDone):
        items.append(await asyncio.wait_for(watcher.__anext__(), 5))
    entries = [item for item in items if isinstance(item, KeyValueEntry)]
    assert 10 <= len(entries) < 600
    assert items[-1] == InitialValuesDone(len(entries))
    assert [e.key for e in entries] == [f"k{i:03d}" for i in range(len(entries))]
    assert watcher.resets >= 1
    await kv.put("live", b"after")
    live = await asyncio.wait_for(watcher.__anext__(), 5)
    assert isinstance(live, KeyValueEntry) and live.key == "live"
    await watcher.aclose()

"""Key/Value across JetStream domains and accounts (ADR-19), against real servers.

A client on the leaf of ``nats_hub_leaf`` uses a bucket of the hub domain: its writes go to
``$JS.hub.API.$KV.<bucket>.<key>``, which the hub maps back to ``$KV.<bucket>.<key>``. A bucket on
the leaf mirroring the hub's bucket reads locally and writes to the origin in the hub. A client of
another account reaches a bucket through a custom API prefix (imports ``$JS.API.>`` and ``$KV.>``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest
from conftest import JetStreamFactory, cross_account_config, published

from jetstream import ExternalStreamSource, InitialValuesDone, KeyValueEntry, KeyValueOp, StreamSource, errors
from jetstream.testing import HubAndLeaf, NatsServer

T = TypeVar("T")

pytestmark = pytest.mark.cluster


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


async def test_leaf_client_uses_a_hub_bucket(nats_hub_leaf: HubAndLeaf, js_factory: JetStreamFactory) -> None:
    to_hub = await js_factory(nats_hub_leaf.leaf_url, domain="hub")
    on_hub = await js_factory(nats_hub_leaf.hub_url)
    local = await js_factory(nats_hub_leaf.leaf_url)

    kv = await to_hub.create_key_value("cfg", history=5)
    assert await on_hub.key_value_bucket_names() == ["cfg"]
    assert await local.key_value_bucket_names() == []

    async with published(to_hub, "$JS.hub.API.$KV.cfg.>") as wire:
        r1 = await kv.put("a", b"1")
        assert await wire.wait_for("$JS.hub.API.$KV.cfg.") == "$JS.hub.API.$KV.cfg.a"
    r2 = await kv.update("a", b"2", last=r1)
    with pytest.raises(errors.WrongLastRevisionError):
        await kv.update("a", b"x", last=r1)
    await kv.put("b", b"b")
    await kv.delete("b")
    assert await kv.create("b", b"again") > r2
    with pytest.raises(errors.KeyExistsError):
        await kv.create("b", b"x")
    await kv.put("c", b"c")
    await kv.purge("c")

    # Stored in the hub: a client on the hub reads the same.
    hub_kv = await on_hub.key_value("cfg")
    assert (await hub_kv.get("a")).revision == r2
    assert (await kv.get("a")).value == b"2"
    assert (await kv.get("a", revision=r1)).value == b"1"
    assert await kv.keys() == ["a", "b"]
    assert [e.operation for e in await kv.history("b")] == [KeyValueOp.PUT, KeyValueOp.DEL, KeyValueOp.PUT]
    status = await kv.status()
    assert status.stream_info.domain == "hub"

    async with kv.watch() as watcher:
        items = [await asyncio.wait_for(watcher.__anext__(), 5) for _ in range(4)]
        assert isinstance(items[-1], InitialValuesDone)
        rev = await hub_kv.put("d", b"from the hub")
        entry = await asyncio.wait_for(watcher.__anext__(), 5)
        assert isinstance(entry, KeyValueEntry) and (entry.key, entry.revision) == ("d", rev)
    assert await on_hub.consumer_names("KV_cfg") == []

    await to_hub.delete_key_value("cfg")
    assert await on_hub.key_value_bucket_names() == []


async def test_leaf_mirror_of_a_hub_bucket_writes_to_the_origin(
    nats_hub_leaf: HubAndLeaf, js_factory: JetStreamFactory
) -> None:
    on_hub = await js_factory(nats_hub_leaf.hub_url)
    on_leaf = await js_factory(nats_hub_leaf.leaf_url)
    origin = await on_hub.create_key_value("TEST", history=5)
    await origin.put("name", b"derek")
    await origin.put("age", b"22")

    mirror = await on_leaf.create_key_value(
        "MIRROR",
        history=5,
        mirror=StreamSource(name="TEST", external=ExternalStreamSource(api="$JS.hub.API")),
    )
    cfg = mirror.cached_info.config
    assert cfg.mirror is not None and cfg.mirror.name == "KV_TEST" and cfg.mirror_direct is True

    async def synced(n: int) -> None:
        assert (await mirror.status()).values == n

    await eventually(lambda: synced(2))
    assert (await mirror.get("name")).value == b"derek"
    assert await mirror.keys() == ["age", "name"]

    # A write through the mirror goes to the origin in the hub, then comes back mirrored.
    async with published(on_leaf, "$JS.hub.API.$KV.TEST.>") as wire:
        rev = await mirror.put("name", b"rip")
        assert await wire.wait_for("$JS.hub.API.$KV.TEST.") == "$JS.hub.API.$KV.TEST.name"
    assert (await origin.get("name")).revision == rev
    await eventually(lambda: synced(3))
    assert (await mirror.get("name")).value == b"rip"
    await mirror.delete("age")
    with pytest.raises(errors.KeyDeletedError):
        await origin.get("age")

    async with mirror.watch("name", include_history=True) as watcher:
        history: list[KeyValueEntry] = []
        async for item in watcher:
            if isinstance(item, InitialValuesDone):
                break
            history.append(item)
    assert [e.value for e in history] == [b"derek", b"rip"]


async def test_custom_api_prefix_from_another_account(
    nats_server_factory: Callable[..., Awaitable[NatsServer]], js_factory: JetStreamFactory
) -> None:
    """The ADR-19 test setup: account I reaches account A's JetStream and KV through ``fromA``."""
    server = await nats_server_factory(system_account=False, extra_config=cross_account_config("$KV"))
    host = server.url.removeprefix("nats://")
    owner = await js_factory(f"nats://a:a@{host}")
    other = await js_factory(f"nats://i:i@{host}", api_prefix="fromA", inbox_prefix="forI")

    await owner.create_key_value("map", history=3)
    kv = await other.key_value("map")
    async with published(other, "fromA.$KV.map.>") as wire:
        r1 = await kv.put("k", b"hello world")
        assert await wire.wait_for("fromA.$KV.map.") == "fromA.$KV.map.k"
    assert (await kv.get("k")).value == b"hello world"
    await kv.update("k", b"2", last=r1)
    await kv.delete("gone")
    owner_kv = await owner.key_value("map")
    assert (await owner_kv.get("k")).value == b"2"
    assert await kv.keys() == ["k"]
    async with kv.watch() as watcher:
        items = [await asyncio.wait_for(watcher.__anext__(), 5) for _ in range(3)]
    assert isinstance(items[-1], InitialValuesDone)

"""Object stores across JetStream domains and accounts (ADR-19), against real servers.

A client on the leaf of ``nats_hub_leaf`` with ``domain="hub"`` uses a store of the hub: API calls go
to ``$JS.hub.API``, chunk and meta publishes to plain ``$O.`` subjects (the server maps
``$JS.<domain>.API.$OBJ.>``, not ``$O``, and plain subjects reach the hub's stream over the leafnode
link). A client of another account reaches a store through a custom API prefix, its writes going to
``<prefix>.$O.`` as ADR-19 prescribes (the account imports them so).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable

import pytest
from conftest import JetStreamFactory, cross_account_config, published
from msgspec.structs import replace

from jetstream import InitialValuesDone, errors
from jetstream.testing import HubAndLeaf, NatsServer

pytestmark = pytest.mark.cluster


async def test_leaf_client_uses_a_hub_store(nats_hub_leaf: HubAndLeaf, js_factory: JetStreamFactory) -> None:
    to_hub = await js_factory(nats_hub_leaf.leaf_url, domain="hub")
    on_hub = await js_factory(nats_hub_leaf.hub_url)
    local = await js_factory(nats_hub_leaf.leaf_url)

    store = await to_hub.create_object_store("files")
    assert await on_hub.object_store_names() == ["files"]
    assert await local.object_store_names() == []

    data = os.urandom(300 * 1024)
    async with published(to_hub, "$O.files.>") as wire:
        info = await store.put("a", data, description="via the leaf")
        await wire.wait_for("$O.files.C.")  # chunks and meta to plain subjects, not $JS.hub.API.
        await wire.wait_for("$O.files.M.")
    await store.put("gone", b"x")
    await store.delete("gone")
    hub_store = await on_hub.object_store("files")
    assert await hub_store.info("a") == info
    assert await hub_store.get_bytes("a") == data
    assert await store.get_bytes("a") == data
    link = await store.add_link("link", info)
    assert await store.get_bytes("link") == data
    assert [i.name for i in await store.list()] == ["a", "link"]  # the deleted one is hidden
    renamed = await store.update_meta("link", replace(link.meta, name="l2"))
    assert renamed.name == "l2"
    status = await store.status()
    assert status.stream_info.domain == "hub"

    async with store.watch() as watcher:
        items = [await asyncio.wait_for(watcher.__anext__(), 5) for _ in range(4)]
        assert isinstance(items[-1], InitialValuesDone) and items[-1].count == 3
        new = await hub_store.put("from-hub", b"h")
        assert await asyncio.wait_for(watcher.__anext__(), 5) == new
    assert await on_hub.consumer_names("OBJ_files") == []

    await store.seal()
    with pytest.raises(errors.ObjectStoreSealedError):
        await store.put("b", b"b")
    await to_hub.delete_object_store("files")
    assert await on_hub.object_store_names() == []


async def test_custom_api_prefix_from_another_account(
    nats_server_factory: Callable[..., Awaitable[NatsServer]], js_factory: JetStreamFactory
) -> None:
    server = await nats_server_factory(system_account=False, extra_config=cross_account_config("$O"))
    host = server.url.removeprefix("nats://")
    owner = await js_factory(f"nats://a:a@{host}")
    other = await js_factory(f"nats://i:i@{host}", api_prefix="fromA", inbox_prefix="forI")

    await owner.create_object_store("shared")
    store = await other.object_store("shared")
    data = os.urandom(200 * 1024)
    async with published(other, "fromA.$O.shared.>") as wire:
        info = await store.put("a", data)
        await wire.wait_for("fromA.$O.shared.C.")  # ADR-19: writes under the API prefix
        await wire.wait_for("fromA.$O.shared.M.")
    assert await store.get_bytes("a") == data
    owner_store = await owner.object_store("shared")
    assert await owner_store.info("a") == info
    assert await owner_store.get_bytes("a") == data
    await store.put("a", b"v2")  # replacing purges through the API, across the import
    assert await owner_store.get_bytes("a") == b"v2"
    await store.delete("a")
    with pytest.raises(errors.ObjectNotFoundError):
        await owner_store.info("a")
    assert await store.list() == []

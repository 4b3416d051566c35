"""Key/Value interoperability with nats-py (the ``nats`` package) on a real server, both ways:
what one client writes - values, revisions, history, deletes, purges, keys, live changes - the
other reads the same."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import nats
import nats.js.errors
import pytest
import pytest_asyncio
from nats.aio.client import Client as NATS
from nats.js.kv import KeyValue as PyKeyValue

from jetstream import InitialValuesDone, JetStream, KeyValueEntry, KeyValueOp, errors
from jetstream.testing import NatsServer

OPS = {None: KeyValueOp.PUT, "DEL": KeyValueOp.DEL, "PURGE": KeyValueOp.PURGE}


@pytest_asyncio.fixture
async def nc(nats_server: NatsServer) -> AsyncIterator[NATS]:
    client = await nats.connect(nats_server.url)
    try:
        yield client
    finally:
        await client.close()


def py_view(entries: list[PyKeyValue.Entry]) -> list[tuple[str, bytes, int | None, KeyValueOp]]:
    return [(e.key, e.value or b"", e.revision, OPS[e.operation]) for e in entries]


def view(entries: list[KeyValueEntry]) -> list[tuple[str, bytes, int | None, KeyValueOp]]:
    return [(e.key, e.value, e.revision, e.operation) for e in entries]


async def test_nats_py_writes_the_sdk_reads(nc: NATS, js: JetStream) -> None:
    pjs = nc.jetstream()
    pkv = await pjs.create_key_value(bucket="from_py", history=5)
    r1 = await pkv.put("cfg.a", b"1")
    r2 = await pkv.put("cfg.a", b"2")
    r3 = await pkv.put("cfg.b", b"b")
    await pkv.delete("cfg.b")
    await pkv.put("cfg.c", b"c")
    await pkv.purge("cfg.c")
    r7 = await pkv.create("cfg.d", b"d")
    r8 = await pkv.update("cfg.d", b"d2", last=r7)

    kv = await js.key_value("from_py")
    a = await kv.get("cfg.a")
    assert (a.value, a.revision) == (b"2", r2)
    assert (await kv.get("cfg.a", revision=r1)).value == b"1"
    assert (await kv.get("cfg.d")).revision == r8
    with pytest.raises(errors.KeyDeletedError) as deleted:
        await kv.get("cfg.b")
    assert deleted.value.entry.operation is KeyValueOp.DEL
    with pytest.raises(errors.KeyDeletedError) as purged:
        await kv.get("cfg.c")
    assert purged.value.entry.operation is KeyValueOp.PURGE

    assert await kv.keys() == ["cfg.a", "cfg.d"]
    assert await kv.keys("cfg.*") == ["cfg.a", "cfg.d"]
    assert view(await kv.history("cfg.b")) == [
        ("cfg.b", b"b", r3, KeyValueOp.PUT),
        ("cfg.b", b"", r3 + 1, KeyValueOp.DEL),
    ]
    # The same history as nats-py sees it.
    for key in ("cfg.a", "cfg.b", "cfg.c", "cfg.d"):
        assert view(await kv.history(key)) == py_view(await pkv.history(key))

    # CAS across clients: the SDK continues from nats-py's revisions.
    assert await kv.update("cfg.a", b"3", last=r2) > r8
    assert await kv.create("cfg.b", b"back") > r8  # after nats-py's delete
    with pytest.raises(errors.KeyExistsError):
        await kv.create("cfg.a", b"x")

    async with kv.watch("cfg.>") as watcher:
        initial: list[KeyValueEntry] = []
        async for item in watcher:
            if isinstance(item, InitialValuesDone):
                break
            initial.append(item)
        assert [(e.key, e.value, e.operation) for e in initial] == [
            ("cfg.c", b"", KeyValueOp.PURGE),
            ("cfg.d", b"d2", KeyValueOp.PUT),
            ("cfg.a", b"3", KeyValueOp.PUT),
            ("cfg.b", b"back", KeyValueOp.PUT),
        ]
        live = await pkv.put("cfg.e", b"live from nats-py")
        entry = await asyncio.wait_for(watcher.__anext__(), 5)
        assert isinstance(entry, KeyValueEntry)
        assert (entry.key, entry.value, entry.revision) == ("cfg.e", b"live from nats-py", live)

    status = await kv.status()
    assert status.values == (await pkv.status()).values


async def test_the_sdk_writes_nats_py_reads(nc: NATS, js: JetStream) -> None:
    kv = await js.create_key_value("from_sdk", history=5)
    r1 = await kv.put("cfg.a", b"1")
    r2 = await kv.put("cfg.a", b"2")
    await kv.put("cfg.b", b"b")
    await kv.delete("cfg.b")
    await kv.put("cfg.c", b"c")
    await kv.purge("cfg.c")
    r7 = await kv.create("cfg.d", b"d")
    r8 = await kv.update("cfg.d", b"d2", last=r7)

    pjs = nc.jetstream()
    pkv = await pjs.key_value("from_sdk")
    a = await pkv.get("cfg.a")
    assert (a.value, a.revision) == (b"2", r2)
    assert (await pkv.get("cfg.a", revision=r1)).value == b"1"
    assert (await pkv.get("cfg.d")).revision == r8
    for gone in ("cfg.b", "cfg.c"):
        with pytest.raises(nats.js.errors.KeyNotFoundError):
            await pkv.get(gone)
    assert sorted(await pkv.keys()) == ["cfg.a", "cfg.d"]
    for key in ("cfg.a", "cfg.b", "cfg.c", "cfg.d"):
        assert py_view(await pkv.history(key)) == view(await kv.history(key))
    assert [e.operation for e in await pkv.history("cfg.b")] == [None, "DEL"]
    assert [e.operation for e in await pkv.history("cfg.c")] == ["PURGE"]

    # CAS across clients: nats-py continues from the SDK's revisions.
    r9 = await pkv.update("cfg.a", b"3", last=r2)
    assert (await kv.get("cfg.a")).revision == r9
    with pytest.raises(nats.js.errors.KeyWrongLastSequenceError):
        await pkv.update("cfg.a", b"x", last=r2)
    assert await pkv.create("cfg.c", b"back") > r9  # after the SDK's purge
    await pkv.delete("cfg.d")
    with pytest.raises(errors.KeyDeletedError):
        await kv.get("cfg.d")

    # A nats-py watcher sees the SDK's live writes.
    watcher = await pkv.watch("cfg.>")
    try:
        initial = []
        while (item := await watcher.updates(timeout=5)) is not None:  # type: ignore[no-untyped-call]
            initial.append(item)
        assert [(e.key, OPS[e.operation]) for e in initial] == [
            ("cfg.b", KeyValueOp.DEL),
            ("cfg.a", KeyValueOp.PUT),
            ("cfg.c", KeyValueOp.PUT),
            ("cfg.d", KeyValueOp.DEL),
        ]
        live = await kv.put("cfg.e", b"live from the SDK")
        seen = await watcher.updates(timeout=5)  # type: ignore[no-untyped-call]
        assert (seen.key, seen.value, seen.revision) == ("cfg.e", b"live from the SDK", live)
    finally:
        await watcher.stop()  # type: ignore[no-untyped-call]


async def test_purge_deletes_and_status_agree(nc: NATS, js: JetStream) -> None:
    pjs = nc.jetstream()
    pkv = await pjs.create_key_value(bucket="pd", history=5)
    await pkv.put("a", b"1")
    await pkv.delete("a")
    await pkv.put("b", b"1")
    kv = await js.key_value("pd")
    assert await kv.purge_deletes(older_than=None) == 1
    with pytest.raises(nats.js.errors.NoKeysError):
        await pkv.history("a")
    assert await pkv.keys() == ["b"]
    # And the other way round: nats-py's purge_deletes removes the SDK's markers.
    await kv.put("c", b"1")
    await kv.purge("c")
    await pkv.purge_deletes(olderthan=-1)
    with pytest.raises(errors.KeyNotFoundError):
        await kv.history("c")
    assert (await kv.status()).values == (await pkv.status()).values == 1

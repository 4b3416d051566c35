"""Watching an object store against a real server: the initial infos, the one end marker (also for
an empty store), live changes, history, deletes, aclose."""

from __future__ import annotations

import asyncio

import pytest

from jetstream import InitialValuesDone, JetStream, ObjectInfo, ObjectMeta, ObjectWatcher, errors

Item = ObjectInfo | InitialValuesDone


async def take(watcher: ObjectWatcher, n: int) -> list[Item]:
    return [await asyncio.wait_for(watcher.__anext__(), 5) for _ in range(n)]


def names(items: list[Item]) -> list[str | int]:
    return [i.count if isinstance(i, InitialValuesDone) else i.name for i in items]


async def test_initial_infos_then_the_marker_then_live_changes(js: JetStream) -> None:
    store = await js.create_object_store("files")
    a = await store.put("a", b"1")
    await store.put("b", b"2")
    await store.put("b", b"22")  # only the latest of each name
    async with store.watch() as watcher:
        first = await take(watcher, 3)
        assert names(first) == ["a", "b", 2]
        assert first[0] == a  # mtime included: the meta message's time
        b = first[1]
        assert isinstance(b, ObjectInfo) and b.size == 2
        await store.put("c", b"3")
        await store.delete("a")
        await store.update_meta("b", ObjectMeta(name="b", description="x"))
        live = await take(watcher, 3)
        assert names(live) == ["c", "a", "b"]
        assert isinstance(live[1], ObjectInfo) and live[1].deleted
        assert isinstance(live[2], ObjectInfo) and live[2].description == "x"
    assert await js.consumer_names("OBJ_files") == []


async def test_an_empty_store_gives_the_marker_at_once(js: JetStream) -> None:
    store = await js.create_object_store("files")
    watcher = await store.watch()
    try:
        assert await take(watcher, 1) == [InitialValuesDone(0)]
        info = await store.put("x", b"x")
        assert await take(watcher, 1) == [info]
    finally:
        await watcher.aclose()


async def test_options(js: JetStream) -> None:
    store = await js.create_object_store("files")
    await store.put("a", b"1")
    await store.put("a", b"2")
    await store.put("gone", b"g")
    await store.delete("gone")

    async with store.watch(include_history=True) as watcher:
        history = await take(watcher, 3)
    # Meta messages are rolled up: the history of a name is its latest meta message.
    assert names(history) == ["a", "gone", 2]
    assert isinstance(history[1], ObjectInfo) and history[1].deleted

    async with store.watch(ignore_deletes=True) as watcher:
        assert names(await take(watcher, 2)) == ["a", 1]

    async with store.watch(updates_only=True) as watcher:
        assert await take(watcher, 1) == [InitialValuesDone(0)]
        info = await store.put("new", b"n")
        assert await take(watcher, 1) == [info]

    with pytest.raises(errors.InvalidArgumentError):
        store.watch(include_history=True, updates_only=True)


async def test_stop_ends_a_waiting_iteration(js: JetStream) -> None:
    store = await js.create_object_store("files")
    watcher = store.watch()
    seen: list[Item] = []

    async def run() -> None:
        async for item in watcher:
            seen.append(item)

    task = asyncio.create_task(run())
    await asyncio.sleep(0.3)
    await watcher.aclose()
    await asyncio.wait_for(task, 5)
    assert seen == [InitialValuesDone(0)]
    await watcher.aclose()  # idempotent
    assert await js.consumer_names("OBJ_files") == []


async def test_a_missing_store(js: JetStream) -> None:
    store = await js.create_object_store("files")
    await js.delete_object_store("files")
    with pytest.raises(errors.ObjectStoreNotFoundError):
        await store.watch().start()
    with pytest.raises(errors.ObjectStoreNotFoundError):
        await store.list()

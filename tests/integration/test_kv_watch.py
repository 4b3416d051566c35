"""Key/Value watch against a real nats-server: initial values and the typed end marker, every
option (P8), multiple filters, aclose() and cleanup."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import timedelta

import pytest

from jetstream import InitialValuesDone, JetStream, KeyValue, KeyValueEntry, KeyValueOp, KeyWatcher, errors

Item = KeyValueEntry | InitialValuesDone


async def take(watcher: KeyWatcher, n: int, timeout: float = 5.0) -> list[Item]:
    """The next ``n`` items (fails if they do not come within ``timeout``)."""
    return [await asyncio.wait_for(watcher.__anext__(), timeout) for _ in range(n)]


async def until_marker(
    watcher: KeyWatcher, timeout: float = 5.0
) -> tuple[list[KeyValueEntry], InitialValuesDone]:
    """The initial entries and the marker after them."""
    entries: list[KeyValueEntry] = []
    while True:
        item = await asyncio.wait_for(watcher.__anext__(), timeout)
        if isinstance(item, InitialValuesDone):
            return entries, item
        entries.append(item)


async def nothing_more(watcher: KeyWatcher, wait: float = 0.3) -> None:
    # Cancelling a waiting __anext__ loses nothing: the next call gets the next item.
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(watcher.__anext__(), wait)


def view(entries: list[KeyValueEntry]) -> list[tuple[str, bytes, KeyValueOp]]:
    return [(e.key, e.value, e.operation) for e in entries]


async def filled(js: JetStream) -> KeyValue:
    """Bucket ``w`` (history 5): a=1,2  b=1 then deleted  c.x=1  c.y=1 then purged."""
    kv = await js.create_key_value("w", history=5)
    await kv.put("a", b"1")
    await kv.put("a", b"2")
    await kv.put("b", b"1")
    await kv.delete("b")
    await kv.put("c.x", b"1")
    await kv.put("c.y", b"1")
    await kv.purge("c.y")
    return kv


async def test_latest_values_then_marker_then_live_updates(js: JetStream) -> None:
    kv = await filled(js)
    async with kv.watch() as watcher:
        entries, marker = await until_marker(watcher)
        assert view(entries) == [
            ("a", b"2", KeyValueOp.PUT),
            ("b", b"", KeyValueOp.DEL),
            ("c.x", b"1", KeyValueOp.PUT),
            ("c.y", b"", KeyValueOp.PURGE),
        ]
        assert marker == InitialValuesDone(count=4)
        assert entries[-1].delta == 0
        await nothing_more(watcher)
        rev = await kv.put("a", b"3")
        await kv.delete("c.x")
        live = await take(watcher, 2)
        assert [(e.key, e.revision, e.operation) for e in live if isinstance(e, KeyValueEntry)] == [
            ("a", rev, KeyValueOp.PUT),
            ("c.x", rev + 1, KeyValueOp.DEL),
        ]
        assert watcher.revision == rev + 1


async def test_marker_comes_for_an_empty_bucket_and_no_match(js: JetStream) -> None:
    kv = await js.create_key_value("empty")
    async with kv.watch() as watcher:
        assert await take(watcher, 1) == [InitialValuesDone(count=0)]
        await kv.put("k", b"v")
        (entry,) = await take(watcher, 1)
        assert isinstance(entry, KeyValueEntry) and entry.value == b"v"
    async with kv.watch("no.such.*") as watcher:
        assert await take(watcher, 1) == [InitialValuesDone(count=0)]


async def test_bucket_with_only_deletes(js: JetStream) -> None:
    kv = await js.create_key_value("dels")
    await kv.put("k", b"v")
    await kv.delete("k")
    async with kv.watch(ignore_deletes=True) as watcher:
        assert await take(watcher, 1) == [InitialValuesDone(count=0)]


async def test_include_history(js: JetStream) -> None:
    kv = await filled(js)
    async with kv.watch(include_history=True) as watcher:
        entries, marker = await until_marker(watcher)
    assert view(entries) == [
        ("a", b"1", KeyValueOp.PUT),
        ("a", b"2", KeyValueOp.PUT),
        ("b", b"1", KeyValueOp.PUT),
        ("b", b"", KeyValueOp.DEL),
        ("c.x", b"1", KeyValueOp.PUT),
        ("c.y", b"", KeyValueOp.PURGE),  # the purge removed c.y's history
    ]
    assert marker.count == 6
    assert [e.revision for e in entries] == sorted(e.revision for e in entries)


async def test_ignore_deletes(js: JetStream) -> None:
    kv = await filled(js)
    async with kv.watch(ignore_deletes=True) as watcher:
        entries, marker = await until_marker(watcher)
        assert view(entries) == [("a", b"2", KeyValueOp.PUT), ("c.x", b"1", KeyValueOp.PUT)]
        assert marker.count == 2
        await kv.delete("a")
        await kv.purge("c.x")
        await kv.put("z", b"1")
        (entry,) = await take(watcher, 1)
        assert isinstance(entry, KeyValueEntry) and (entry.key, entry.operation) == ("z", KeyValueOp.PUT)


async def test_meta_only(js: JetStream) -> None:
    kv = await filled(js)
    async with kv.watch(meta_only=True) as watcher:
        entries, _ = await until_marker(watcher)
        assert [(e.key, e.value, e.operation) for e in entries] == [
            ("a", b"", KeyValueOp.PUT),
            ("b", b"", KeyValueOp.DEL),
            ("c.x", b"", KeyValueOp.PUT),
            ("c.y", b"", KeyValueOp.PURGE),
        ]
        assert [e.revision for e in entries] == [2, 4, 5, 7]
        await kv.put("a", b"big value")
        (entry,) = await take(watcher, 1)
        assert isinstance(entry, KeyValueEntry) and (entry.key, entry.value) == ("a", b"")


async def test_updates_only(js: JetStream) -> None:
    kv = await filled(js)
    async with kv.watch(updates_only=True) as watcher:
        assert await take(watcher, 1) == [InitialValuesDone(count=0)]
        await nothing_more(watcher)
        rev = await kv.put("a", b"new")
        (entry,) = await take(watcher, 1)
        assert isinstance(entry, KeyValueEntry) and (entry.key, entry.value, entry.revision) == (
            "a",
            b"new",
            rev,
        )


async def test_resume_from_revision(js: JetStream) -> None:
    kv = await filled(js)
    async with kv.watch(resume_from_revision=4) as watcher:
        entries, marker = await until_marker(watcher)
    # Everything from revision 4 on that is still stored (6, c.y's value, went with its purge).
    assert [e.revision for e in entries] == [4, 5, 7]
    assert view(entries) == [
        ("b", b"", KeyValueOp.DEL),
        ("c.x", b"1", KeyValueOp.PUT),
        ("c.y", b"", KeyValueOp.PURGE),
    ]
    assert marker.count == 3


async def test_patterns_and_multiple_filters(js: JetStream) -> None:
    kv = await js.create_key_value("f")
    for key in ("a.1", "a.2", "b.1", "c.1", "c.2.x"):
        await kv.put(key, key.encode())
    async with kv.watch("a.*") as watcher:
        entries, _ = await until_marker(watcher)
        assert [e.key for e in entries] == ["a.1", "a.2"]
        await kv.put("b.1", b"not mine")
        await kv.put("a.3", b"mine")
        (entry,) = await take(watcher, 1)
        assert isinstance(entry, KeyValueEntry) and entry.key == "a.3"
    async with kv.watch(["a.1", "c.>"]) as watcher:
        entries, _ = await until_marker(watcher)
        assert [e.key for e in entries] == ["a.1", "c.1", "c.2.x"]
    async with kv.watch([]) as watcher:  # no filters: the whole bucket
        entries, _ = await until_marker(watcher)
        assert len(entries) == 6


async def test_the_marker_comes_once_and_is_never_none(js: JetStream) -> None:
    kv = await filled(js)
    watcher = await kv.watch()
    items: list[Item] = []
    try:
        items += await take(watcher, 5)
        for i in range(3):
            await kv.put("a", b"%d" % i)
        items += await take(watcher, 3)
    finally:
        await watcher.aclose()
    assert None not in items
    assert [type(i) for i in items].count(InitialValuesDone) == 1
    assert isinstance(items[4], InitialValuesDone)


async def test_stop_ends_a_waiting_iteration_promptly_and_deletes_the_consumer(js: JetStream) -> None:
    kv = await filled(js)
    watcher = kv.watch()
    seen: list[Item] = []

    async def consume() -> None:
        async for item in watcher:  # started by the iteration itself
            seen.append(item)

    task = asyncio.create_task(consume())
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5
    while not any(isinstance(i, InitialValuesDone) for i in seen):
        assert loop.time() < deadline
        await asyncio.sleep(0.01)
    assert len(await js.consumer_names("KV_w")) == 1
    started = time.monotonic()
    await watcher.aclose()
    await asyncio.wait_for(task, 1.0)
    assert time.monotonic() - started < 1.0
    assert await js.consumer_names("KV_w") == []
    await watcher.aclose()  # idempotent
    with pytest.raises(StopAsyncIteration):
        await watcher.__anext__()


async def test_stop_with_a_full_buffer_does_not_block(js: JetStream) -> None:
    """nats.py#898: closing hung when nobody read and the buffer was full."""
    kv = await js.create_key_value("full")
    for i in range(600):
        await kv.put(f"k{i}", b"v")
    watcher = await kv.watch()
    await asyncio.sleep(0.3)  # the watcher fills its buffer; nobody reads
    started = time.monotonic()
    await asyncio.wait_for(watcher.aclose(), 1.0)
    assert time.monotonic() - started < 1.0
    assert await js.consumer_names("KV_full") == []


async def test_slow_reader_gets_everything_in_order(js: JetStream) -> None:
    kv = await js.create_key_value("slow")
    for i in range(700):
        await kv.put(f"k{i:04d}", b"v")
    async with kv.watch() as watcher:
        entries, marker = await until_marker(watcher, timeout=10)
    assert marker.count == 700
    assert [e.key for e in entries] == [f"k{i:04d}" for i in range(700)]


async def test_watch_of_a_deleted_bucket(js: JetStream) -> None:
    kv = await js.create_key_value("doomed")
    await js.delete_key_value("doomed")
    with pytest.raises(errors.BucketNotFoundError):
        await kv.watch()


async def test_watch_ends_with_an_error_when_the_bucket_goes(js: JetStream) -> None:
    kv = await js.create_key_value("goes")
    watcher = await kv.watch(idle_heartbeat=0.2)
    assert await take(watcher, 1) == [InitialValuesDone(count=0)]
    await js.delete_key_value("goes")
    with pytest.raises(errors.BucketNotFoundError):
        await asyncio.wait_for(watcher.__anext__(), 10)
    with pytest.raises(StopAsyncIteration):
        await watcher.__anext__()


@pytest.mark.parametrize(
    "start",
    [
        lambda w: w.start(),
        lambda w: w.__aenter__(),
    ],
    ids=["start", "aenter"],
)
async def test_start_forms(js: JetStream, start: Callable[[KeyWatcher], object]) -> None:
    kv = await js.create_key_value("sf")
    watcher = kv.watch(updates_only=True)
    started = start(watcher)
    assert asyncio.iscoroutine(started)
    assert await started is watcher
    # Started: a write right after is seen (nothing is lost to a lazy start).
    await kv.put("k", b"v")
    items = await take(watcher, 2)
    assert isinstance(items[0], InitialValuesDone)
    assert isinstance(items[1], KeyValueEntry) and items[1].key == "k"
    await watcher.aclose()


async def test_inactive_threshold_is_the_consumers(js: JetStream) -> None:
    kv = await filled(js)
    # The default: the ordered consumer's 5 minutes.
    async with kv.watch() as watcher:
        (info,) = await js.consumer_list("KV_w")
        assert info.name == watcher.consumer_name
        assert info.config.inactive_threshold == timedelta(minutes=5)
    async with kv.watch("a", inactive_threshold=7.5) as watcher:
        (info,) = await js.consumer_list("KV_w")
        assert info.config.inactive_threshold == timedelta(seconds=7.5)
    async with kv.watch(inactive_threshold=timedelta(seconds=42)) as watcher:
        await until_marker(watcher)
        first = watcher.consumer_name
        assert first is not None
        assert (await js.consumer_info("KV_w", first)).config.inactive_threshold == timedelta(seconds=42)
        # A recreated consumer keeps it.
        await js.consumer_delete("KV_w", first)
        await kv.put("a", b"3")
        (entry,) = await take(watcher, 1)
        assert isinstance(entry, KeyValueEntry) and entry.value == b"3"
        second = watcher.consumer_name
        assert second is not None and second != first
        assert (await js.consumer_info("KV_w", second)).config.inactive_threshold == timedelta(seconds=42)
    for bad in (0, -1.0, timedelta(0), "5"):
        with pytest.raises(errors.InvalidArgumentError, match="inactive_threshold"):
            kv.watch(inactive_threshold=bad)  # type: ignore[arg-type]

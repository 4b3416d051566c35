"""Object Store faults against a real server: missing and corrupted chunks are typed errors within
bounded time (never a hang), a bad meta message is an error for info and skipped by listings, a
failed or cancelled put leaves no chunks behind, and put streams large inputs in bounded memory."""

from __future__ import annotations

import asyncio
import os
import time
import tracemalloc
from collections.abc import AsyncIterator
from typing import Any

import pytest

import jetstream._objectstore._io
from jetstream import InitialValuesDone, JetStream, ObjectInfo, ObjectStore, PubAck, Timeout, errors
from jetstream._objectstore._types import encode_name
from jetstream.testing import NatsServer

KIB = 1024


async def chunk_count(js: JetStream, store: ObjectStore) -> int:
    info = await js.stream_info(store.stream_name, subjects_filter=f"$O.{store.bucket}.C.>")
    return sum((info.state.subjects or {}).values())


async def test_a_missing_chunk_is_found_before_reading(js: JetStream) -> None:
    store = await js.create_object_store("files")
    await store.put("a", os.urandom(5 * KIB), chunk_size=KIB)  # chunks are seqs 1-5, meta 6
    await js.stream_msg_delete("OBJ_files", seq=3)
    started = time.monotonic()
    with pytest.raises(errors.IncompleteObjectError) as exc:
        await store.get_bytes("a")
    assert time.monotonic() - started < 2
    assert (exc.value.expected_chunks, exc.value.received_chunks) == (5, 4)
    assert await js.consumer_names("OBJ_files") == []


async def test_a_chunk_lost_while_reading_ends_the_read(
    js: JetStream, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jetstream._objectstore._io, "WINDOW_BYTES", 2 * KIB)  # two chunks per pull
    store = await js.create_object_store("files")
    await store.put("a", os.urandom(6 * KIB), chunk_size=KIB)
    reader = await store.get("a", timeout=1.0)
    got = [await reader.__anext__()]
    await js.stream_msg_delete("OBJ_files", seq=6)  # the last chunk
    started = time.monotonic()
    with pytest.raises(errors.IncompleteObjectError) as exc:
        async for chunk in reader:
            got.append(chunk)
    assert time.monotonic() - started < 2  # seen from the pending count, no waiting
    assert len(got) == 5 and exc.value.received_chunks == 5 and exc.value.received_size == 5 * KIB

    # Chunks gone between two pulls: the empty pull is bounded by the timeout, then the consumer
    # shows nothing is left.
    await store.put("b", os.urandom(6 * KIB), chunk_size=KIB)
    first = (await js.stream_info("OBJ_files")).state.last_seq - 6  # b's chunks: first+0 .. first+5
    reader = await store.get("b", timeout=1.0)
    got = [await reader.__anext__(), await reader.__anext__()]
    for seq in range(first + 2, first + 6):
        await js.stream_msg_delete("OBJ_files", seq=seq)
    started = time.monotonic()
    with pytest.raises(errors.IncompleteObjectError):
        await reader.__anext__()
    assert time.monotonic() - started < 3
    assert await js.consumer_names("OBJ_files") == []


async def test_all_chunks_purged(js: JetStream) -> None:
    store = await js.create_object_store("files")
    info = await store.put("a", b"x" * 3000, chunk_size=KIB)
    await js.stream_purge("OBJ_files", filter=f"$O.files.C.{info.nuid}")
    with pytest.raises(errors.IncompleteObjectError) as exc:
        await store.get_bytes("a")
    assert exc.value.received_chunks == 0


async def test_a_corrupted_chunk_is_a_digest_mismatch(js: JetStream) -> None:
    store = await js.create_object_store("files")
    data = os.urandom(3 * KIB)
    info = await store.put("a", data, chunk_size=KIB)
    await js.stream_msg_delete("OBJ_files", seq=2)
    await js.publish(f"$O.files.C.{info.nuid}", os.urandom(KIB))  # same count and size, other bytes
    reader = await store.get("a")
    got: list[bytes] = []
    with pytest.raises(errors.DigestMismatchError) as exc:
        async for chunk in reader:
            got.append(chunk)
    assert got == [data[:KIB], data[2 * KIB :]]  # the check replaces the last chunk
    assert exc.value.expected == info.digest and exc.value.actual.startswith("SHA-256=")
    assert exc.value.actual != info.digest
    with pytest.raises(errors.DigestMismatchError):
        await store.get_bytes("a")

    # A chunk of another size: the sizes no longer add up.
    info = await store.put("b", data, chunk_size=KIB)
    last = (await js.stream_info("OBJ_files")).state.last_seq - 1  # b's last chunk
    await js.stream_msg_delete("OBJ_files", seq=last)
    await js.publish(f"$O.files.C.{info.nuid}", b"short")
    with pytest.raises(errors.IncompleteObjectError) as incomplete:
        await store.get_bytes("b")
    assert incomplete.value.received_size == 2 * KIB + 5


async def test_a_bad_meta_message(js: JetStream) -> None:
    store = await js.create_object_store("files")
    await store.put("good", b"g")
    await js.publish("$O.files.M." + encode_name("bad"), b"{not json", headers={"Nats-Rollup": "sub"})
    with pytest.raises(errors.BadObjectMetaError) as exc:
        await store.info("bad")
    assert exc.value.data == b"{not json"
    with pytest.raises(errors.BadObjectMetaError):
        await store.get("bad")
    assert [i.name for i in await store.list()] == ["good"]
    async with store.watch() as watcher:
        items = [await asyncio.wait_for(watcher.__anext__(), 5) for _ in range(2)]
    assert [getattr(i, "name", i) for i in items] == ["good", InitialValuesDone(1)]


async def test_a_refused_put_leaves_no_chunks(js: JetStream) -> None:
    store = await js.create_object_store("files", max_bytes=20 * KIB)
    kept = await store.put("kept", b"k" * KIB, chunk_size=KIB)
    with pytest.raises(errors.APIError):
        await store.put("big", os.urandom(64 * KIB), chunk_size=KIB)
    assert await chunk_count(js, store) == 1
    with pytest.raises(errors.ObjectNotFoundError):
        await store.info("big")
    assert await store.info("kept") == kept


async def test_a_failing_source_leaves_no_chunks(js: JetStream) -> None:
    store = await js.create_object_store("files")

    async def broken() -> AsyncIterator[bytes]:
        for _ in range(5):
            yield os.urandom(KIB)
        raise OSError("disk on fire")

    with pytest.raises(OSError, match="disk on fire"):
        await store.put("a", broken(), chunk_size=KIB)
    assert await chunk_count(js, store) == 0
    with pytest.raises(errors.ObjectNotFoundError):
        await store.info("a")


async def test_a_cancelled_put_leaves_no_chunks(js: JetStream) -> None:
    store = await js.create_object_store("files")
    sent = asyncio.Event()

    async def slow() -> AsyncIterator[bytes]:
        for i in range(1000):
            yield os.urandom(KIB)
            if i == 10:
                sent.set()
            await asyncio.sleep(0.01)

    task = asyncio.create_task(store.put("a", slow(), chunk_size=KIB))
    await asyncio.wait_for(sent.wait(), 5)
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await chunk_count(js, store) == 0
    with pytest.raises(errors.ObjectNotFoundError):
        await store.info("a")


async def test_an_abandoned_read_deletes_its_consumer(js: JetStream) -> None:
    store = await js.create_object_store("files")
    await store.put("a", os.urandom(10 * KIB), chunk_size=KIB)
    async with await store.get("a") as reader:
        assert len(await reader.__anext__()) == KIB
        assert len(await js.consumer_names("OBJ_files")) == 1
    assert await js.consumer_names("OBJ_files") == []
    assert [c async for c in reader] == []  # closed
    reader = await store.get("a", timeout=None)  # no timeout works too
    assert len(await reader.read()) == 10 * KIB


async def test_put_streams_in_bounded_memory(js: JetStream) -> None:
    store = await js.create_object_store("files")
    total = 50 * 1024 * 1024
    piece = os.urandom(256 * KIB)

    async def source() -> AsyncIterator[bytes]:
        for _ in range(total // len(piece)):
            yield piece  # the same buffer: only what the put keeps costs memory

    tracemalloc.start()
    try:
        info = await store.put("big", source())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.size == total and info.chunks == total // (128 * KIB)
    print(f"put of {total >> 20} MiB: peak traced memory {peak / 2**20:.1f} MiB")
    assert peak < 24 * 1024 * 1024  # about the 8 MiB ack window, far below the object
    reader = await store.get("big")
    size = 0
    tracemalloc.start()
    try:
        async for chunk in reader:
            size += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    print(f"get of {total >> 20} MiB: peak traced memory {peak / 2**20:.1f} MiB")
    assert size == total and peak < 24 * 1024 * 1024


async def test_a_lost_meta_ack(js: JetStream, monkeypatch: pytest.MonkeyPatch) -> None:
    """No ack for the meta message: if it was stored all the same, the put stands (its chunks stay);
    if it was not, its chunks are purged and the error is raised."""
    store = await js.create_object_store("files")
    write = ObjectStore._write_meta

    async def stored_but_no_ack(self: ObjectStore, info: ObjectInfo, timeout: Timeout) -> PubAck:
        await write(self, info, timeout)
        raise errors.TimeoutError("$O.files.M", 1.0)

    monkeypatch.setattr(ObjectStore, "_write_meta", stored_but_no_ack)
    info = await store.put("a", b"x" * 3000, chunk_size=KIB)
    assert info == await store.info("a")  # with the server's mtime
    assert await store.get_bytes("a") == b"x" * 3000

    async def lost(self: ObjectStore, info: ObjectInfo, timeout: Timeout) -> PubAck:
        raise errors.TimeoutError("$O.files.M", 1.0)

    monkeypatch.setattr(ObjectStore, "_write_meta", lost)
    with pytest.raises(errors.TimeoutError):
        await store.put("b", b"y" * 3000, chunk_size=KIB)
    assert await chunk_count(js, store) == 3  # only a's
    with pytest.raises(errors.ObjectNotFoundError):
        await store.info("b")


async def test_chunks_stored_out_of_order_fail_the_put(
    js: JetStream, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A chunk stored behind a later one (as a publish retried after "no responders" can be) would
    corrupt the object: the put fails and leaves no chunks."""
    store = await js.create_object_store("files")
    real = js.publish_async
    calls = 0
    held: list[tuple[str, bytes, asyncio.Future[PubAck]]] = []

    async def reordering(subject: str, data: bytes = b"", **options: Any) -> asyncio.Future[PubAck]:
        nonlocal calls
        calls += 1
        if calls == 2:  # hold the second chunk back ...
            future: asyncio.Future[PubAck] = asyncio.get_running_loop().create_future()
            held.append((subject, data, future))
            return future
        result = await real(subject, data, **options)
        if calls == 3:  # ... and send it after the third
            subject2, data2, future2 = held.pop()
            future2.set_result(await (await real(subject2, data2, **options)))
        return result

    monkeypatch.setattr(js, "publish_async", reordering)
    with pytest.raises(errors.ObjectStoreError, match="out of order"):
        await store.put("a", os.urandom(4 * KIB), chunk_size=KIB)
    assert await chunk_count(js, store) == 0


@pytest.mark.slow
async def test_reads_and_watches_survive_a_server_restart(
    nats_server: NatsServer, js: JetStream, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jetstream._objectstore._io, "WINDOW_BYTES", 4 * KIB)  # several pulls
    store = await js.create_object_store("files")
    data = os.urandom(40 * KIB)
    await store.put("a", data, chunk_size=KIB)
    watcher = await store.watch()
    assert [getattr(i, "name", i) for i in [await watcher.__anext__(), await watcher.__anext__()]] == [
        "a",
        InitialValuesDone(1),
    ]
    reader = await store.get("a", timeout=10)
    got = [await reader.__anext__() for _ in range(10)]
    await nats_server.restart()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 15
    while True:  # writes need the reconnected client and a JetStream that is up again
        try:
            new = await store.put("b", b"after the restart")
            break
        except errors.JetStreamError:
            if loop.time() > deadline:
                raise
            await asyncio.sleep(0.1)
    got += [chunk async for chunk in reader]  # the ordered consumer goes on where it was
    assert b"".join(got) == data
    assert await asyncio.wait_for(watcher.__anext__(), 15) == new
    await watcher.aclose()

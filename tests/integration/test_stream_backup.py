"""Stream backup and restore (the snapshot chunk protocol): a 100k-message stream with consumers
moved to a fresh server intact; typed errors for an existing stream and for damaged data, with
nothing left half-created; progress reports; path, file and async sink/source forms."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from conftest import JetStreamFactory

from jetstream import BackupProgress, ConsumerConfig, JetStream, StreamConfig, errors
from jetstream.testing import NatsCluster, NatsServer

MESSAGES = 100_000
FETCH_BATCH = 5000


async def _fill(js: JetStream, stream: str, count: int) -> None:
    """``count`` messages on three subjects, every fifth with headers (one multi-valued)."""
    await js.stream_create(stream, subjects=[f"{stream.lower()}.>"], allow_direct=True)
    for i in range(count):
        headers = {"n": str(i), "kind": "x" if i % 2 else "y"} if i % 5 == 0 else None
        await js.publish_async(f"{stream.lower()}.{i % 3}", f"m{i}".encode() * (1 + i % 4), headers=headers)
    await js.publish_async_complete(timeout=60)


async def _all_messages(js: JetStream, stream: str, count: int) -> list[tuple[object, ...]]:
    """Every message of ``stream`` (``count`` expected) as comparable tuples, through an ordered
    consumer (far faster than batched direct gets for a whole stream)."""
    oc = await js.ordered_consumer(stream)
    out: list[tuple[object, ...]] = []
    while len(out) < count:
        before = len(out)
        async for msg in oc.fetch(min(FETCH_BATCH, count - before), expires=5):
            meta = msg.metadata
            out.append((meta.sequence.stream, msg.subject, msg.data, msg.headers.items_all(), meta.timestamp))
        if len(out) == before:
            break
    await oc.aclose()
    return out


async def _consumer_state(js: JetStream, stream: str, name: str) -> tuple[object, ...]:
    info = await js.consumer_info(stream, name)
    return (
        info.config.durable_name,
        info.config.filter_subject,
        info.config.ack_policy,
        info.delivered.consumer_seq,
        info.delivered.stream_seq,
        info.ack_floor.consumer_seq,
        info.ack_floor.stream_seq,
        info.num_ack_pending,
        info.num_pending,
    )


@pytest.mark.slow
async def test_a_100k_message_stream_with_consumers_moves_to_a_fresh_server(
    js: JetStream, js_factory: JetStreamFactory, tmp_path: Path
) -> None:
    await _fill(js, "ORDERS", MESSAGES)
    # One consumer with progress: 100 delivered, the first 50 and every third after acked.
    worker = await js.create_consumer("ORDERS", ConsumerConfig(durable_name="worker", ack_policy="explicit"))
    async for msg in worker.fetch(100, expires=10):
        if msg.metadata.sequence.stream <= 50 or msg.metadata.sequence.stream % 3 == 0:
            await msg.ack_sync()
    # One untouched, filtered.
    await js.create_consumer("ORDERS", ConsumerConfig(durable_name="audit", filter_subject="orders.1"))
    await js.stream_msg_delete("ORDERS", seq=7)  # a gap the restore must keep

    path = tmp_path / "orders.tar.s2"
    reports: list[BackupProgress] = []
    done = await js.backup_stream("ORDERS", path, progress=reports.append)
    assert done.done and done.bytes + 1000 > path.stat().st_size > done.bytes
    assert reports[-1] == done and len(reports) == done.chunks + 1
    assert [r.bytes for r in reports] == sorted(r.bytes for r in reports)
    assert not (tmp_path / "orders.tar.s2.partial").exists()

    async with NatsServer() as fresh:
        other = await js_factory(fresh.url)
        info = await other.restore_stream("ORDERS", path)
        before = await js.stream_info("ORDERS")
        assert info.config.name == "ORDERS" and info.config.subjects == ["orders.>"]
        assert (info.state.messages, info.state.first_seq, info.state.last_seq) == (
            MESSAGES - 1,
            1,
            MESSAGES,
        )
        assert info.state.bytes == before.state.bytes
        assert sorted(await other.consumer_names("ORDERS")) == ["audit", "worker"]
        for name in ("worker", "audit"):
            assert await _consumer_state(other, "ORDERS", name) == await _consumer_state(js, "ORDERS", name)
        restored, original = await asyncio.gather(
            _all_messages(other, "ORDERS", MESSAGES - 1), _all_messages(js, "ORDERS", MESSAGES - 1)
        )
        assert len(restored) == MESSAGES - 1
        assert restored == original


async def test_restoring_onto_an_existing_stream_is_refused_and_leaves_it_alone(
    js: JetStream, tmp_path: Path
) -> None:
    await _fill(js, "KEEP", 20)
    path = tmp_path / "keep.s2"
    await js.backup_stream("KEEP", path)
    await js.publish("keep.0", b"after the backup")
    with pytest.raises(errors.StreamNameExistRestoreFailedError):
        await js.restore_stream("KEEP", path)
    assert (await js.stream_info("KEEP")).state.messages == 21


def _damaged(data: bytes, how: str) -> bytes:
    if how == "truncated":
        return data[: len(data) * 2 // 3]
    # Flip bytes well inside the snapshot's compressed blocks (past the header).
    middle = len(data) // 2
    return data[:middle] + bytes(b ^ 0x5A for b in data[middle : middle + 64]) + data[middle + 64 :]


@pytest.mark.parametrize("how", ["truncated", "corrupted"])
async def test_damaged_data_raises_and_leaves_no_stream_behind(
    js: JetStream, js_factory: JetStreamFactory, nats_server: NatsServer, tmp_path: Path, how: str
) -> None:
    await _fill(js, "DMG", 3000)
    path = tmp_path / "dmg.s2"
    await js.backup_stream("DMG", path)
    await js.stream_delete("DMG")
    path.write_bytes(_damaged(path.read_bytes(), how))
    with pytest.raises(errors.StreamRestoreError):
        await js.restore_stream("DMG", path, chunk_size=4096)
    with pytest.raises(errors.StreamNotFoundError):
        await js.stream_info("DMG")


async def test_data_that_is_no_backup_raises_before_anything_is_sent(js: JetStream, tmp_path: Path) -> None:
    path = tmp_path / "junk"
    path.write_bytes(b"this is not a backup at all" * 10)
    with pytest.raises(errors.InvalidBackupError):
        await js.restore_stream("JUNK", path)
    path.write_bytes(b"")
    with pytest.raises(errors.InvalidBackupError):
        await js.restore_stream("JUNK", path)
    assert "JUNK" not in await js.stream_names()


async def test_a_missing_stream_raises_and_writes_no_file(js: JetStream, tmp_path: Path) -> None:
    with pytest.raises(errors.StreamNotFoundError):
        await js.backup_stream("NOPE", tmp_path / "nope.s2")
    assert os.listdir(tmp_path) == []


class _Sink:
    def __init__(self) -> None:
        self.data = bytearray()
        self.writes = 0

    async def write(self, data: bytes) -> None:
        await asyncio.sleep(0)
        self.writes += 1
        self.data += data


async def _pieces(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        await asyncio.sleep(0)
        yield data[start : start + size]


async def test_async_sink_and_source_in_small_chunks_with_async_progress(
    js: JetStream, js_factory: JetStreamFactory
) -> None:
    await _fill(js, "SMALL", 2000)
    sink = _Sink()
    seen: list[BackupProgress] = []

    async def progress(p: BackupProgress) -> None:
        seen.append(p)

    # 1 KiB chunks and a 4 KiB window: many chunks, acknowledged as they are written.
    done = await js.backup_stream("SMALL", sink, chunk_size=1024, window_size=4096, progress=progress)
    assert done.chunks > 10 and seen[-1] == done and sink.writes == done.chunks + 1
    assert len(sink.data) > done.bytes

    async with NatsServer() as fresh:
        other = await js_factory(fresh.url)
        restored: list[BackupProgress] = []
        info = await other.restore_stream(
            "SMALL", _pieces(bytes(sink.data), 777), chunk_size=2048, progress=restored.append
        )
        assert info.state.messages == 2000
        assert restored[-1].done and restored[-1].bytes == done.bytes and restored[-1].total is None
        assert [p.bytes for p in restored[:-1]] == [
            min(2048 * (i + 1), done.bytes) for i in range(len(restored) - 1)
        ]
        assert await _all_messages(other, "SMALL", 2000) == await _all_messages(js, "SMALL", 2000)


async def test_file_objects_without_consumers_and_under_a_given_config(
    js: JetStream, js_factory: JetStreamFactory, tmp_path: Path
) -> None:
    await _fill(js, "FILES", 500)
    await js.create_consumer("FILES", "c")
    path = tmp_path / "files.s2"
    with path.open("wb") as out:
        await js.backup_stream("FILES", out, consumers=False, check_msgs=True)
    async with NatsServer() as fresh:
        other = await js_factory(fresh.url)
        progress: list[BackupProgress] = []
        with path.open("rb") as src:
            info = await other.restore_stream(
                "FILES",
                src,
                config=StreamConfig(name="FILES", subjects=["files.>", "more.>"], allow_direct=True),
                progress=progress.append,
            )
        assert info.config.subjects == ["files.>", "more.>"]
        assert info.state.messages == 500 and await other.consumer_names("FILES") == []
        assert progress[-1].done


async def test_a_bare_server_snapshot_restores_with_a_config(js: JetStream, tmp_path: Path) -> None:
    await _fill(js, "BARE", 100)
    sink = _Sink()
    await js.backup_stream("BARE", sink)
    await js.stream_delete("BARE")
    # The server's own bytes start at the second S2 stream identifier (the nats CLI's stream.tar.s2).
    bare = bytes(sink.data[sink.data.index(b"\xff\x06\x00\x00S2sTwO", 1) :])
    with pytest.raises(errors.InvalidBackupError):
        await js.restore_stream("BARE", _pieces(bare, 4096))
    info = await js.restore_stream(
        "BARE", _pieces(bare, 4096), config=StreamConfig(name="BARE", subjects=["bare.>"])
    )
    assert info.state.messages == 100 and info.config.name == "BARE"


async def test_a_memory_stream_restores_under_another_name(js: JetStream, tmp_path: Path) -> None:
    await js.stream_create("MEM", subjects=["mem.>"], storage="memory")
    for i in range(50):
        await js.publish("mem.x", b"%d" % i)
    await js.create_consumer("MEM", "c")
    path = tmp_path / "mem.s2"
    await js.backup_stream("MEM", path)
    await js.stream_delete("MEM")  # the copy's subjects would overlap the original's
    info = await js.restore_stream("COPY", path)
    assert (info.config.name, info.config.storage, info.state.messages) == ("COPY", "memory", 50)
    assert await js.consumer_names("COPY") == ["c"]
    with pytest.raises(errors.InvalidArgumentError):
        await js.restore_stream("COPY2", path, config=StreamConfig(name="OTHER"))


async def test_a_source_failing_mid_upload_leaves_no_stream_behind(js: JetStream) -> None:
    await _fill(js, "HALF", 3000)
    sink = _Sink()
    await js.backup_stream("HALF", sink)
    await js.stream_delete("HALF")
    data = bytes(sink.data)

    class Broken(Exception):
        pass

    async def failing() -> AsyncIterator[bytes]:
        yield data[: len(data) // 2]
        raise Broken

    with pytest.raises(Broken):
        await js.restore_stream("HALF", failing(), chunk_size=2048)
    with pytest.raises(errors.StreamNotFoundError):
        await js.stream_info("HALF")


async def test_a_replicated_stream_round_trips_in_a_cluster(
    nats_cluster: NatsCluster, js_factory: JetStreamFactory, tmp_path: Path
) -> None:
    js = await js_factory(nats_cluster.urls, timeout=20)
    await js.stream_create("R3", subjects=["r3.>"], num_replicas=3)
    for i in range(2000):
        await js.publish_async("r3.x", b"%d" % i)
    await js.publish_async_complete()
    worker = await js.create_consumer("R3", "worker")
    async for msg in worker.fetch(10, expires=10):
        await msg.ack_sync()
    before = await _consumer_state(js, "R3", "worker")
    path = tmp_path / "r3.s2"
    await js.backup_stream("R3", path)
    await js.stream_delete("R3")
    info = await js.restore_stream("R3", path)
    assert (info.config.num_replicas, info.state.messages) == (3, 2000)
    # In a cluster the consumers are created, with their state, a moment after the restore answers.
    after: object = None
    for _ in range(200):  # up to 20 s
        with contextlib.suppress(errors.ConsumerNotFoundError):
            after = await _consumer_state(js, "R3", "worker")
        if after == before:
            break
        await asyncio.sleep(0.1)
    assert after == before

"""Object stores against a real server: the ADR-20 stream, objects put and read back from every kind
of source, info and mtime, replace, delete, update_meta, links, list, seal and status."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import msgspec
import pytest

from jetstream import (
    JetStream,
    ObjectInfo,
    ObjectLink,
    ObjectMeta,
    ObjectStore,
    ObjectStoreConfig,
    errors,
)
from jetstream._objectstore._types import digest_text, encode_name

KIB = 1024


async def stored_subjects(js: JetStream, store: ObjectStore) -> dict[str, int]:
    info = await js.stream_info(store.stream_name, subjects_filter=">")
    return dict(info.state.subjects or {})


async def test_create_makes_the_adr20_stream(js: JetStream) -> None:
    store = await js.create_object_store(
        "files",
        description="reports",
        ttl=timedelta(hours=1),
        max_bytes=64 * 1024 * 1024,
        compression=True,
        metadata={"owner": "infra"},
    )
    assert repr(store) == "ObjectStore(bucket='files')"
    cfg = (await js.stream_info("OBJ_files")).config
    assert cfg.subjects == ["$O.files.C.>", "$O.files.M.>"]
    assert (cfg.discard, cfg.allow_rollup_hdrs, cfg.allow_direct) == ("new", True, True)
    assert (cfg.max_age, cfg.max_bytes, cfg.compression) == (timedelta(hours=1), 64 * 1024 * 1024, "s2")
    assert cfg.description == "reports" and (cfg.metadata or {})["owner"] == "infra"

    # Idempotent with the same configuration; another one is refused.
    again = await js.create_object_store(
        ObjectStoreConfig(
            bucket="files",
            description="reports",
            ttl=timedelta(hours=1),
            max_bytes=64 * 1024 * 1024,
            compression=True,
            metadata={"owner": "infra"},
        )
    )
    assert again.bucket == "files"
    with pytest.raises(errors.ObjectStoreExistsError):
        await js.create_object_store("files", description="else")

    status = await store.status()
    assert (status.bucket, status.description, status.ttl, status.storage) == (
        "files",
        "reports",
        timedelta(hours=1),
        "file",
    )
    assert (status.replicas, status.sealed, status.is_compressed, status.backing_store) == (
        1,
        False,
        True,
        "JetStream",
    )
    assert status.metadata["owner"] == "infra" and status.stream_info.config.name == "OBJ_files"

    updated = await js.update_object_store(msgspec.structs.replace(status.config, description="new"))
    assert (await updated.status()).description == "new"
    assert (await js.create_or_update_object_store("other")).bucket == "other"
    await js.create_key_value("not_a_store")
    assert sorted(await js.object_store_names()) == ["files", "other"]
    assert sorted(s.bucket for s in await js.object_stores()) == ["files", "other"]

    await js.delete_object_store("files")
    with pytest.raises(errors.ObjectStoreNotFoundError):
        await js.object_store("files")
    with pytest.raises(errors.ObjectStoreNotFoundError):
        await js.delete_object_store("files")
    with pytest.raises(errors.ObjectStoreNotFoundError):
        await js.update_object_store("files")
    with pytest.raises(errors.ObjectStoreNotFoundError):
        await store.status()
    await js.stream_create("OBJ_plain", subjects=["plain.>"])
    with pytest.raises(errors.ObjectStoreNotFoundError, match="not an object store"):
        await js.object_store("plain")
    with pytest.raises(errors.InvalidNameError):
        await js.object_store("bad.name")


SIZES = [0, 1, 1000, 1024, 5 * 1024 + 7, 20 * 1024]


@pytest.mark.parametrize("chunk_size", [1024, 128 * KIB])
async def test_round_trip_of_bytes(js: JetStream, chunk_size: int) -> None:
    store = await js.create_object_store("files")
    for size in SIZES:
        data = os.urandom(size)
        name = f"obj-{size}"
        info = await store.put(name, data, chunk_size=chunk_size)
        chunks = -(-size // chunk_size)
        assert (info.name, info.bucket, info.size, info.chunks) == (name, "files", size, chunks)
        assert info.digest == digest_text(hashlib.sha256(data).digest())
        assert info.options is not None and info.options.max_chunk_size == chunk_size
        assert await store.get_bytes(name) == data
        reader = await store.get(name)
        assert reader.info == await store.info(name)
        parts = [chunk async for chunk in reader]
        assert [len(p) for p in parts] == [min(chunk_size, size - i) for i in range(0, size, chunk_size)]
    # Every chunk read through an ordered consumer, and every consumer gone afterwards.
    assert await js.consumer_names("OBJ_files") == []


async def test_put_from_files_iterables_and_get_file(js: JetStream, tmp_path: Path) -> None:
    store = await js.create_object_store("files")
    data = os.urandom(300 * KIB + 3)
    path = tmp_path / "in.bin"
    path.write_bytes(data)

    async def pieces() -> AsyncIterator[bytes]:
        for i in range(0, len(data), 10_000):
            yield data[i : i + 10_000]
            await asyncio.sleep(0)

    def sync_pieces() -> Iterator[bytes]:
        yield data[:5]
        yield data[5:]

    sources: dict[str, object] = {
        "path": path,
        "str-path": str(path),
        "file": io.BytesIO(data),
        "async": pieces(),
        "iterable": sync_pieces(),
    }
    for name, source in sources.items():
        info = await store.put(name, source)  # type: ignore[arg-type]
        assert (info.size, info.chunks) == (len(data), 3), name
        with open(path, "rb") as file:  # noqa: ASYNC230
            assert await store.get_bytes(name) == file.read()
    with open(path, "rb") as file:  # noqa: ASYNC230
        await store.put("open-file", file)
    out = tmp_path / "out.bin"
    got = await store.get_file("open-file", out)
    assert got.size == len(data) and out.read_bytes() == data
    with pytest.raises(errors.ObjectNotFoundError):
        await store.get_file("missing", tmp_path / "never")
    assert not (tmp_path / "never").exists()


async def test_info_meta_and_mtime_from_the_server(js: JetStream) -> None:
    store = await js.create_object_store("files")
    info = await store.put(
        "report.pdf",
        b"%PDF",
        description="Q3",
        headers={"Content-Type": "application/pdf", "X-Tag": ["a", "b"]},
        metadata={"owner": "me"},
    )
    assert info.description == "Q3" and info.metadata == {"owner": "me"}
    assert info.headers == {"Content-Type": ["application/pdf"], "X-Tag": ["a", "b"]}
    stored = await js.direct_get_last_for_subject("OBJ_files", "$O.files.M." + encode_name("report.pdf"))
    assert info.mtime == stored.time  # the server's time of the meta message, to the nanosecond
    again = await store.info("report.pdf")
    assert again == info
    assert b"mtime" not in stored.data
    assert stored.headers.get("Nats-Rollup") == "sub"

    with pytest.raises(errors.ObjectNotFoundError) as missing:
        await store.info("nope")
    assert (missing.value.name, missing.value.deleted) == ("nope", False)
    with pytest.raises(errors.InvalidObjectNameError):
        await store.info("")
    with pytest.raises(errors.InvalidObjectNameError):
        await store.put("", b"x")
    assert await store.list() == [info]


async def test_put_replaces_and_purges_the_old_chunks(js: JetStream) -> None:
    store = await js.create_object_store("files")
    first = await store.put("a", os.urandom(3000), chunk_size=1024)
    second = await store.put("a", b"short", chunk_size=1024)
    assert first.nuid != second.nuid
    subjects = await stored_subjects(js, store)
    assert subjects == {f"$O.files.C.{second.nuid}": 1, "$O.files.M." + encode_name("a"): 1}
    assert await store.get_bytes("a") == b"short"


async def test_delete(js: JetStream) -> None:
    store = await js.create_object_store("files")
    kept = await store.put("kept", b"k")
    info = await store.put("gone", os.urandom(5000), chunk_size=1024, description="d")
    await store.delete("gone")
    with pytest.raises(errors.ObjectNotFoundError) as exc:
        await store.info("gone")
    assert exc.value.deleted
    with pytest.raises(errors.ObjectNotFoundError):
        await store.get_bytes("gone")
    marker = await store.info("gone", show_deleted=True)
    assert (marker.deleted, marker.size, marker.chunks, marker.digest) == (True, 0, 0, None)
    assert (marker.nuid, marker.description) == (info.nuid, "d")
    assert f"$O.files.C.{info.nuid}" not in await stored_subjects(js, store)
    assert [i.name for i in await store.list()] == ["kept"]
    assert [i.name for i in await store.list(show_deleted=True)] == ["kept", "gone"]
    await store.delete("gone")  # again: fine
    with pytest.raises(errors.ObjectNotFoundError):
        await store.delete("never")
    # A deleted name can be used again.
    await store.put("gone", b"back")
    assert await store.get_bytes("gone") == b"back"
    assert (await store.info("kept")) == kept


async def test_get_a_deleted_object_with_show_deleted(js: JetStream) -> None:
    store = await js.create_object_store("files")
    info = await store.put("gone", os.urandom(5000), chunk_size=1024, description="d")
    await store.delete("gone")
    marker = await store.info("gone", show_deleted=True)
    consumers_before = await js.consumer_names(store.stream_name)
    async with await store.get("gone", show_deleted=True) as reader:
        assert reader.info == marker and reader.info.deleted and reader.info.nuid == info.nuid
        assert [chunk async for chunk in reader] == []
    assert await store.get_bytes("gone", show_deleted=True) == b""
    # Nothing to read, so no consumer was made for it.
    assert await js.consumer_names(store.stream_name) == consumers_before == []
    with pytest.raises(errors.ObjectNotFoundError) as exc:
        await store.get("gone")
    assert exc.value.deleted
    # A live object reads as usual; a name that never existed is still not found.
    await store.put("live", b"data")
    assert await store.get_bytes("live", show_deleted=True) == b"data"
    with pytest.raises(errors.ObjectNotFoundError):
        await store.get_bytes("never", show_deleted=True)

    # A deleted link is shown as the link's marker; a live link to a deleted object is followed
    # and the object it leads to is not found.
    target = await store.put("target", b"t")
    await store.add_link("link", target)
    await store.add_link("dangling", target)
    await store.delete("link")
    link_marker = await store.get("link", show_deleted=True)
    assert link_marker.info.deleted and link_marker.info.is_link and await link_marker.read() == b""
    await store.delete("target")
    with pytest.raises(errors.ObjectNotFoundError):
        await store.get_bytes("dangling", show_deleted=True)


async def test_update_meta_and_rename(js: JetStream) -> None:
    store = await js.create_object_store("files")
    info = await store.put("a", b"data", description="old", headers={"A": "1"})
    await store.put("taken", b"t")
    new = await store.update_meta("a", ObjectMeta(name="a", description="new", metadata={"m": "1"}))
    assert (new.description, new.headers, new.metadata, new.nuid) == ("new", None, {"m": "1"}, info.nuid)
    assert (await store.info("a")).description == "new"

    with pytest.raises(errors.ObjectExistsError):
        await store.update_meta("a", msgspec.structs.replace(new.meta, name="taken"))
    renamed = await store.update_meta("a", msgspec.structs.replace(new.meta, name="b"))
    assert renamed.name == "b" and renamed.digest == info.digest
    assert await store.get_bytes("b") == b"data"
    with pytest.raises(errors.ObjectNotFoundError):
        await store.info("a", show_deleted=True)  # the old name's meta is purged

    # Renaming onto a deleted object is allowed; updating a deleted one is not.
    await store.delete("taken")
    await store.update_meta("b", ObjectMeta(name="taken"))
    assert await store.get_bytes("taken") == b"data"
    await store.delete("taken")
    with pytest.raises(errors.ObjectNotFoundError):
        await store.update_meta("taken", ObjectMeta(name="x"))


async def test_links(js: JetStream) -> None:
    store = await js.create_object_store("files")
    other = await js.create_object_store("other")
    target = await store.put("target", b"the data", description="t")
    remote = await other.put("remote", b"remote data")

    link = await store.add_link("link", target)
    assert link.is_link and link.link == ObjectLink(bucket="files", name="target")
    assert (link.size, link.chunks, link.digest) == (0, 0, None)
    assert await store.info("link") == link
    reader = await store.get("link")
    assert reader.info == target  # the reader reads the target
    assert await reader.read() == b"the data"

    cross = await store.add_link("cross", remote)
    assert cross.link == ObjectLink(bucket="other", name="remote")
    assert await store.get_bytes("cross") == b"remote data"

    whole = await store.add_bucket_link("dir", other)
    assert whole.link == ObjectLink(bucket="other") and whole.link.is_bucket_link
    assert (await store.add_bucket_link("dir2", "other")).link == ObjectLink(bucket="other")
    with pytest.raises(errors.ObjectLinkError, match="whole store"):
        await store.get_bytes("dir")

    with pytest.raises(errors.ObjectLinkError):
        await store.add_link("x", link)  # to a link
    with pytest.raises(errors.ObjectExistsError):
        await store.add_link("target", remote)  # onto a live object
    with pytest.raises(errors.ObjectExistsError):
        await store.add_bucket_link("target", other)
    await store.add_link("link", remote)  # a link may be replaced
    assert await store.get_bytes("link") == b"remote data"
    await other.delete("remote")
    deleted = await other.info("remote", show_deleted=True)
    with pytest.raises(errors.ObjectLinkError):
        await store.add_link("y", deleted)
    with pytest.raises(errors.ObjectNotFoundError):
        await store.get_bytes("cross")  # its target is gone
    assert sorted(i.name for i in await store.list()) == ["cross", "dir", "dir2", "link", "target"]
    await store.delete("link")
    assert (await store.info("target")) == target  # deleting a link leaves its target


async def test_seal(js: JetStream) -> None:
    store = await js.create_object_store("files")
    await store.put("a", b"data", chunk_size=2)
    status = await store.seal()
    assert status.sealed and (await store.status()).sealed
    with pytest.raises(errors.ObjectStoreSealedError) as exc:
        await store.put("b", b"data")
    assert isinstance(exc.value.__cause__, errors.StreamSealedError)
    with pytest.raises(errors.ObjectStoreSealedError):
        await store.delete("a")
    with pytest.raises(errors.ObjectStoreSealedError):
        await store.update_meta("a", ObjectMeta(name="a", description="x"))
    with pytest.raises(errors.ObjectStoreSealedError):
        await store.add_bucket_link("l", store)
    assert await store.get_bytes("a") == b"data"  # reads go on
    assert [i.name for i in await store.list()] == ["a"]


async def test_list_of_an_empty_store_and_many_objects(js: JetStream) -> None:
    store = await js.create_object_store("files")
    assert await store.list() == []
    infos = [await store.put(f"obj/{i:03}", str(i).encode()) for i in range(300)]
    await store.put("obj/000", b"replaced")
    listed = await store.list()
    assert len(listed) == 300 and {i.name for i in listed} == {i.name for i in infos}
    assert listed[-1].name == "obj/000" and listed[-1].size == len(b"replaced")
    assert await js.consumer_names("OBJ_files") == []


async def test_put_with_meta_and_nothing_leaks(js: JetStream) -> None:
    store = await js.create_object_store("files")
    meta = ObjectMeta(name="m", description="from meta", headers={"H": ["1"]})
    info = await store.put(meta, b"x")
    assert (info.name, info.description, info.headers) == ("m", "from meta", {"H": ["1"]})
    info = await store.put(meta, b"y", description="given")
    assert info.description == "given"
    assert isinstance(info, ObjectInfo)
    assert js.publish_async_pending() == 0


async def test_a_store_without_direct_gets(js: JetStream) -> None:
    """Stores made before direct gets existed are read with the leader's MSG.GET."""
    await js.stream_create(
        "OBJ_legacy", subjects=["$O.legacy.C.>", "$O.legacy.M.>"], allow_rollup_hdrs=True, discard="new"
    )
    store = await js.object_store("legacy")
    info = await store.put("a", b"x" * 3000, chunk_size=KIB)
    stored = await js.stream_msg_get("OBJ_legacy", last_by_subj="$O.legacy.M." + encode_name("a"))
    assert info.mtime == stored.time
    assert await store.info("a") == info
    assert await store.get_bytes("a") == b"x" * 3000
    await store.delete("a")
    assert await store.list() == []

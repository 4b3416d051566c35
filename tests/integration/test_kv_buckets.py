"""Key/Value buckets against a real nats-server: the stream ADR-8 prescribes, management calls,
status, limit markers (ADR-48), mirrors and sources (ADR-57)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

import pytest

from jetstream import (
    JetStream,
    KeyValue,
    KeyValueConfig,
    KeyValueEntry,
    KeyValueOp,
    Republish,
    StreamSource,
    SubjectTransform,
    errors,
)

T = TypeVar("T")


async def eventually(probe: Callable[[], Awaitable[T]], *, timeout: float = 5.0) -> T:
    """The first result of ``probe`` that does not raise (AssertionError or a JetStream error),
    polling every 20 ms, within ``timeout``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            return await probe()
        except (AssertionError, errors.JetStreamError):
            if loop.time() >= deadline:
                raise
        await asyncio.sleep(0.02)


async def test_create_makes_the_adr8_stream(js: JetStream) -> None:
    kv = await js.create_key_value("CONFIGURATION", history=5, ttl=timedelta(hours=1), metadata={"team": "a"})
    assert isinstance(kv, KeyValue)
    assert (kv.bucket, kv.stream_name) == ("CONFIGURATION", "KV_CONFIGURATION")
    cfg = (await js.stream_info("KV_CONFIGURATION")).config
    assert cfg.subjects == ["$KV.CONFIGURATION.>"]
    assert (cfg.max_msgs_per_subject, cfg.max_msgs, cfg.max_bytes, cfg.max_msg_size) == (5, -1, -1, -1)
    assert (cfg.discard, cfg.retention, cfg.storage, cfg.num_replicas) == ("new", "limits", "file", 1)
    assert (cfg.allow_rollup_hdrs, cfg.deny_delete, cfg.allow_direct) == (True, True, True)
    assert cfg.max_age == timedelta(hours=1)
    assert cfg.duplicate_window == timedelta(minutes=2)
    assert cfg.compression == "none"
    assert cfg.metadata is not None and cfg.metadata["team"] == "a"


async def test_defaults_short_ttl_compression_and_config_object(js: JetStream) -> None:
    await js.create_key_value("plain")
    plain = (await js.stream_info("KV_plain")).config
    assert (plain.max_msgs_per_subject, plain.max_age, plain.duplicate_window) == (
        1,
        timedelta(0),
        timedelta(minutes=2),
    )

    cfg = KeyValueConfig(bucket="short", ttl=timedelta(seconds=30), compression=True, storage="memory")
    await js.create_key_value(cfg, max_value_size=100, description="from kwargs")
    short = (await js.stream_info("KV_short")).config
    assert short.duplicate_window == timedelta(seconds=30)
    assert (short.compression, short.storage, short.max_msg_size) == ("s2", "memory", 100)
    assert short.description == "from kwargs"
    assert cfg.max_value_size == -1  # the caller's config is not changed

    # The value size limit is the server's: a bigger value is refused.
    kv = await js.key_value("short")
    with pytest.raises(errors.APIError):
        await kv.put("k", b"x" * 101)


async def test_create_again_update_create_or_update(js: JetStream) -> None:
    await js.create_key_value("b", history=2)
    await js.create_key_value("b", history=2)  # same configuration: fine
    with pytest.raises(errors.BucketExistsError) as exists:
        await js.create_key_value("b", history=3)
    assert exists.value.bucket == "b"
    assert isinstance(exists.value.__cause__, errors.StreamNameExistError)

    updated = await js.update_key_value("b", history=10, metadata={"v": "2"})
    assert updated.cached_info.config.max_msgs_per_subject == 10
    with pytest.raises(errors.BucketNotFoundError):
        await js.update_key_value("nope", history=3)

    made = await js.create_or_update_key_value("c", history=4)
    assert made.cached_info.config.max_msgs_per_subject == 4
    changed = await js.create_or_update_key_value("c", history=6)
    assert changed.cached_info.config.max_msgs_per_subject == 6
    assert sorted(await js.key_value_bucket_names()) == ["b", "c"]


async def test_bind_delete_and_list(js: JetStream) -> None:
    with pytest.raises(errors.BucketNotFoundError):
        await js.key_value("missing")
    await js.stream_create("KV_fake", subjects=["fake.>"])  # a stream, not a bucket
    with pytest.raises(errors.BucketNotFoundError, match="not a key/value bucket"):
        await js.key_value("fake")
    await js.stream_create("OTHER", subjects=["other.>"])
    assert await js.key_value_bucket_names() == []
    assert await js.key_value_buckets() == []

    for name in ("one", "two"):
        await js.create_key_value(name)
    kv = await js.key_value("one")
    await kv.put("k", b"value")
    assert sorted(await js.key_value_bucket_names()) == ["one", "two"]
    statuses = {s.bucket: s for s in await js.key_value_buckets()}
    assert sorted(statuses) == ["one", "two"]
    assert statuses["one"].values == 1
    assert statuses["two"].values == 0

    await js.delete_key_value("two")
    assert await js.key_value_bucket_names() == ["one"]
    with pytest.raises(errors.BucketNotFoundError):
        await js.delete_key_value("two")


async def test_status(js: JetStream) -> None:
    kv = await js.create_key_value(
        "st", history=3, ttl=timedelta(minutes=10), compression=True, metadata={"owner": "me"}
    )
    for i in range(4):
        await kv.put("a", b"%d" % i)
    await kv.put("b", b"x")
    status = await kv.status()
    assert status.bucket == "st"
    assert status.values == 4  # 3 revisions of a (history 3) + b
    assert status.history == 3
    assert status.ttl == timedelta(minutes=10)
    assert status.limit_marker_ttl == timedelta(0)
    assert status.is_compressed is True
    assert status.backing_store == "JetStream"
    assert status.bytes > 0
    assert status.metadata["owner"] == "me"
    assert status.stream_info.config.name == "KV_st"
    info = await kv.info()
    assert (info.bucket, info.history, info.ttl, info.compression) == ("st", 3, timedelta(minutes=10), True)
    # The configuration read back updates the bucket unchanged.
    await js.update_key_value(info)
    assert (await kv.status()).history == 3


async def test_limit_markers_and_per_key_ttl(js: JetStream) -> None:
    assert (await js.account_info()).api.level >= 1
    kv = await js.create_key_value("ttl", history=5, limit_marker_ttl=timedelta(seconds=1))
    cfg = (await js.stream_info("KV_ttl")).config
    assert cfg.allow_msg_ttl is True
    assert cfg.subject_delete_marker_ttl == timedelta(seconds=1)
    assert (await kv.status()).limit_marker_ttl == timedelta(seconds=1)

    rev = await kv.create("short", b"lives a second", ttl=1)
    await kv.put("kept", b"stays")
    assert (await kv.get("short")).revision == rev

    async def expired() -> KeyValueEntry:
        try:
            await kv.get("short")
        except errors.KeyDeletedError as exc:
            return exc.entry
        raise AssertionError("not expired yet")

    # The server removes the key and writes a MaxAge marker, which reads as a purge (ADR-48).
    marker = await eventually(expired, timeout=6)
    assert marker.operation is KeyValueOp.PURGE
    assert marker.revision > rev
    assert await kv.keys() == ["kept"]
    # A create after the expiry succeeds (the key is gone).
    assert await kv.create("short", b"again") > marker.revision

    # A purge with a TTL: the marker itself goes away after it.
    await kv.purge("kept", ttl=1)

    async def gone() -> None:
        try:
            await kv.get("kept")
        except errors.KeyDeletedError:
            raise AssertionError("the purge marker is still there") from None
        except errors.KeyNotFoundError:
            return
        raise AssertionError("the key has a value")

    await eventually(gone, timeout=6)


async def test_ttl_on_a_bucket_without_limit_markers_is_refused_by_the_server(js: JetStream) -> None:
    kv = await js.create_key_value("nottl")
    with pytest.raises(errors.MessageTTLDisabledError):
        await kv.create("k", b"v", ttl=5)


async def test_sources_are_mapped_to_the_bucket(js: JetStream) -> None:
    orders = await js.create_key_value("ORDERS")
    users = await js.create_key_value("USERS")
    await orders.put("o1", b"order")
    await users.put("u1", b"user")
    await js.stream_create("EVENTS", subjects=["events.>"])
    await js.publish("events.processed.e1", b"event")
    events = StreamSource(
        name="EVENTS", subject_transforms=[SubjectTransform(src="events.processed.>", dest="$KV.ALL.ev.>")]
    )
    combined = await js.create_key_value(
        "ALL", sources=[StreamSource(name="ORDERS"), StreamSource(name="KV_USERS"), events]
    )
    sources = combined.cached_info.config.sources or []
    assert [s.name for s in sources] == ["KV_ORDERS", "KV_USERS", "EVENTS"]

    async def synced() -> list[str]:
        keys = await combined.keys()
        assert keys == ["ev.e1", "o1", "u1"]
        return keys

    await eventually(synced)
    assert (await combined.get("o1")).value == b"order"
    assert (await combined.get("ev.e1")).value == b"event"
    # The sourced bucket is writable under its own name.
    await combined.put("local", b"mine")
    assert (await combined.get("local")).value == b"mine"


async def test_mirror_reads_origin_keys_and_writes_to_the_origin(js: JetStream) -> None:
    origin = await js.create_key_value("ORIGIN", history=5)
    await origin.put("name", b"derek")
    await origin.put("gone", b"x")
    await origin.delete("gone")

    mirror = await js.create_key_value("COPY", mirror=StreamSource(name="ORIGIN"), history=5)
    cfg = mirror.cached_info.config
    assert cfg.mirror is not None and cfg.mirror.name == "KV_ORIGIN"
    assert cfg.mirror_direct is True
    assert not cfg.subjects

    async def synced() -> None:
        assert (await mirror.status()).values == 3

    await eventually(synced)
    assert (await mirror.get("name")).value == b"derek"
    with pytest.raises(errors.KeyDeletedError):
        await mirror.get("gone")
    assert await mirror.keys() == ["name"]

    # Writes through the mirror land in the origin and come back to the mirror.
    rev = await mirror.put("name", b"rip")
    assert (await origin.get("name")).revision == rev
    await mirror.delete("name")
    with pytest.raises(errors.KeyDeletedError):
        await origin.get("name")
    history = await eventually(lambda: _history_of(mirror, "name", 3))
    assert [e.operation for e in history] == [KeyValueOp.PUT, KeyValueOp.PUT, KeyValueOp.DEL]


async def _history_of(kv: KeyValue, key: str, n: int) -> list[KeyValueEntry]:
    entries = await kv.history(key)
    assert len(entries) == n
    return entries


async def test_republish(js: JetStream) -> None:
    kv = await js.create_key_value("rp", republish=Republish(src=">", dest="repub.>"))
    nc = js.nc
    assert nc is not None
    sub = await nc.subscribe("repub.>")
    await kv.put("a.b", b"value")
    msg = await sub.next_msg(timeout=5)
    assert msg.subject == "repub.$KV.rp.a.b"
    assert msg.data == b"value"
    await sub.unsubscribe()

"""Bulk Key/Value reads against a real nats-server: `KeyValue.get_many` in batched direct gets
(ADR-31 ``multi_last``), in the order asked, without missing, deleted or purged keys; split over
several requests (more than 1024 keys, a small ``max_payload``, replies beyond the server's byte
limit) at one snapshot; point-in-time reads; filters; hostile stored headers; the fallbacks."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from typing import Any

import pytest
from conftest import JetStreamFactory, raw_hpub

from jetstream import ClientTrace, JetStream, KeyValue, RequestDone, StreamConfig, errors
from jetstream._kv._bulk import latest_entries
from jetstream.testing import NatsServer


async def _same_as_get(kv: KeyValue, entries: dict[str, object]) -> None:
    for key, entry in entries.items():
        assert await kv.get(key) == entry


async def test_order_missing_deleted_purged(js: JetStream) -> None:
    kv = await js.create_key_value("bulk", history=5)
    for key in ("a", "b.c", "d", "e", "f"):
        await kv.put(key, key.encode())
    await kv.put("a", b"a2")
    await kv.delete("d")
    await kv.purge("e")

    asked = ["f", "nothing", "d", "a", "e", "b.c", "a"]
    entries = await kv.get_many(asked)
    assert list(entries) == ["f", "a", "b.c"]
    assert [e.value for e in entries.values()] == [b"f", b"a2", b"b.c"]
    await _same_as_get(kv, dict(entries))
    assert await kv.get_many([]) == {}
    assert await kv.get_many(["nothing", "else"]) == {}

    # A key written again after its delete is back.
    await kv.put("d", b"again")
    assert (await kv.get_many(["d"]))["d"].value == b"again"


async def test_more_keys_than_one_request(js: JetStream) -> None:
    kv = await js.create_key_value("many")
    keys = [f"k.{i:05d}" for i in range(1500)]
    for key in keys:
        await kv.put(key, key.encode())
    await kv.delete("k.00007")
    asked = [*reversed(keys), "k.missing"]
    entries = await kv.get_many(asked)
    assert list(entries) == [k for k in reversed(keys) if k != "k.00007"]
    assert all(e.value == k.encode() for k, e in entries.items())
    await _same_as_get(kv, {k: entries[k] for k in ("k.00000", "k.01023", "k.01024", "k.01499")})


async def test_small_max_payload(js_factory: JetStreamFactory) -> None:
    # 4 KiB: about 120 of these subjects fit one request.
    async with NatsServer(jetstream=True, max_payload=4096) as server:
        js = await js_factory(server.url)
        kv = await js.create_key_value("small")
        keys = [f"key.number.{i:04d}" for i in range(400)]
        for key in keys:
            await kv.put(key, b"x" * 500)
        entries = await kv.get_many(keys)
        assert list(entries) == keys
        assert all(len(e.value) == 500 for e in entries.values())
        assert len(await kv.get_many(filters="key.>")) == 400


async def test_byte_limited_replies_continue_at_one_snapshot(js: JetStream) -> None:
    # The server ends a reply after max_bytes (its max_pending unless asked): the follow-ups start
    # after the last sequence received and read at the first reply's snapshot.
    kv = await js.create_key_value("bytes")
    keys = [f"b.{i:03d}" for i in range(60)]
    for key in keys:
        await kv.put(key, b"y" * 300)
    requests: list[bytes] = []

    async def record(msg: Any) -> None:
        requests.append(msg.data)

    sub = await js.nc.subscribe("$JS.API.DIRECT.GET.KV_bytes", cb=record)
    await js.nc.flush()
    seen = [
        e.key
        async for e in latest_entries(
            js._core,
            "KV_bytes",
            "bytes",
            "$KV.bytes.",
            ["$KV.bytes." + k for k in keys],
            up_to_seq=None,
            up_to_time=None,
            timeout=5.0,
            max_bytes=2000,
        )
    ]
    await sub.unsubscribe()
    assert seen == keys
    assert len(requests) >= 9
    assert all(b'"up_to_seq":60' in r for r in requests[1:])


async def test_one_snapshot_and_point_in_time(js: JetStream) -> None:
    kv = await js.create_key_value("snap", history=5)
    r1 = await kv.put("user.name", b"Bob")
    await kv.put("user.address", b"1 Main Street")
    r3 = await kv.put("user.address", b"10 Oak Lane")
    late = await kv.put("user.late", b"later")

    now = await kv.get_many(filters="user.>")
    assert list(now) == ["user.address", "user.late", "user.name"]
    before = await kv.get_many(["user.name", "user.address", "user.late"], up_to_revision=r3 - 1)
    assert {k: e.value for k, e in before.items()} == {"user.name": b"Bob", "user.address": b"1 Main Street"}
    # up_to_time: as the bucket was just before that time (what was stored at it is left out).
    at = await kv.get_many(filters="user.>", up_to_time=(await kv.get("user.late")).created)
    assert late == r3 + 1
    assert {k: e.revision for k, e in at.items()} == {"user.address": r3, "user.name": r1}
    early = datetime(2000, 1, 1, tzinfo=timezone.utc)
    assert await kv.get_many(["user.name"], up_to_time=early) == {}

    with pytest.raises(errors.InvalidArgumentError):
        await kv.get_many(["user.name"], up_to_revision=1, up_to_time=early)
    with pytest.raises(errors.InvalidArgumentError):
        await kv.get_many("user.name")  # a str is an iterable of keys, but surely not meant as one
    with pytest.raises(errors.InvalidArgumentError):
        await kv.get_many(["user.name"], filters=">")
    with pytest.raises(errors.InvalidKeyError):
        await kv.get_many(["user.*"])


async def test_filters_beyond_one_request_use_the_ordered_consumer(js: JetStream) -> None:
    kv = await js.create_key_value("wide")
    keys = [f"w.{i:04d}" for i in range(1100)]
    for key in keys:
        await kv.put(key, b"v")
    await kv.delete("w.0003")
    entries = await kv.get_many(filters=["w.>"])
    assert list(entries) == [k for k in keys if k != "w.0003"]
    with pytest.raises(errors.InvalidArgumentError):
        await kv.get_many(filters="w.>", up_to_revision=1090)
    # Streaming the keys of a large bucket: `list_keys` hands them out as they arrive.
    seen = [key async for key in kv.list_keys("w.*")]
    assert len(seen) == 1099


async def test_hostile_stored_headers(js: JetStream, nats_server: NatsServer) -> None:
    kv = await js.create_key_value("hostile")
    await kv.put("first", b"1")
    # A raw publisher writes a status line and the server's own header names into a value.
    block = (
        b"NATS/1.0 204 EOB\r\nNats-Subject: $KV.hostile.first\r\nNats-Sequence: 999\r\n"
        b"Nats-Num-Pending: 0\r\nNats-Last-Sequence: 999\r\nNats-Stream: KV_other\r\n\r\n"
    )
    await raw_hpub(nats_server, "$KV.hostile.evil", block)
    await raw_hpub(nats_server, "$KV.hostile.loud", block.replace(b"204 EOB", b"408 Bad Request"), b"x")
    last = await kv.put("last", b"3")

    entries = await kv.get_many(["first", "evil", "loud", "last"])
    assert list(entries) == ["first", "evil", "loud", "last"]
    assert (entries["evil"].key, entries["evil"].value, entries["evil"].revision) == ("evil", b"", last - 2)
    assert (entries["loud"].value, entries["loud"].revision) == (b"x", last - 1)
    assert entries["first"].value == b"1" and entries["last"].revision == last
    assert list(await kv.get_many(filters=">")) == ["evil", "first", "last", "loud"]
    await _same_as_get(kv, dict(entries))


async def test_bucket_without_direct_gets(js: JetStream) -> None:
    # A bucket made before direct gets existed: key by key (MSG.GET), filters by the ordered consumer.
    await js.create_stream(
        StreamConfig(
            name="KV_old",
            subjects=["$KV.old.>"],
            max_msgs_per_subject=1,
            allow_rollup_hdrs=True,
            deny_delete=True,
            allow_direct=False,
        )
    )
    kv = await js.key_value("old")
    for key in ("x", "y", "z"):
        await kv.put(key, key.encode())
    await kv.delete("y")
    entries = await kv.get_many(["z", "y", "x", "none"])
    assert list(entries) == ["z", "x"]
    await _same_as_get(kv, dict(entries))
    assert list(await kv.get_many(filters=">")) == ["x", "z"]
    with pytest.raises(errors.InvalidArgumentError):
        await kv.get_many(["x"], up_to_revision=1)


async def test_concurrent_reads_share_the_inbox(js: JetStream) -> None:
    kv = await js.create_key_value("busy")
    for i in range(50):
        await kv.put(f"k{i}", str(i).encode())
    asked = [[f"k{j}" for j in range(i, 50, 7)] + ["none"] for i in range(7)]
    results = await asyncio.gather(*(kv.get_many(keys) for keys in asked * 10))
    for keys, got in zip(asked * 10, results, strict=True):
        assert list(got) == keys[:-1]
        assert all(e.value == k[1:].encode() for k, e in got.items())


async def test_failures_are_typed(js_factory: JetStreamFactory) -> None:
    async with NatsServer(jetstream=True) as server:
        js = await js_factory(server.url)
        kv = await js.create_key_value("gone")
        await kv.put("a", b"1")
        await js.delete_key_value("gone")
        with pytest.raises(errors.NoRespondersError):
            await kv.get_many(["a"])
        other = await js.create_key_value("closing")
        await js.close()
        with pytest.raises(errors.ConnectionClosedError):
            await other.get_many(["a"])


async def test_traced_as_one_request_per_batch(nats_server: NatsServer, js_factory: JetStreamFactory) -> None:
    done: list[RequestDone] = []
    js = await js_factory(nats_server.url, trace=ClientTrace(request_done=done.append))
    kv = await js.create_key_value("traced")
    for key in ("a", "b", "c"):
        await kv.put(key, b"v")
    done.clear()
    assert list(await kv.get_many(["c", "a", "x"])) == ["c", "a"]
    [event] = done
    assert event.subject == "$JS.API.DIRECT.GET.KV_traced"
    assert (event.replies, event.reply_size, event.error) == (3, 2, None)  # two entries and the end


async def test_through_a_domain_prefix(js_factory: JetStreamFactory) -> None:
    async with NatsServer(jetstream=True, domain="hub") as server:
        js = await js_factory(server.url, domain="hub")
        kv = await js.create_key_value("far")
        await kv.put("k", b"v")
        entries = await kv.get_many(["k", "none"])
        assert {k: e.value for k, e in entries.items()} == {"k": b"v"}
        assert list(await kv.get_many(filters="*")) == ["k"]

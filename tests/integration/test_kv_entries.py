"""Key/Value entries against a real nats-server: put/get/revisions, create/update CAS, delete and
purge, purge_deletes, keys (server-side filtering, no values transferred) and history."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from conftest import JetStreamFactory

from jetstream import InitialValuesDone, JetStream, KeyValue, KeyValueOp, Timestamp, errors
from jetstream.testing import NatsCluster

# Seconds a replicated bucket may need to elect its first leader (see the R3 test).
_ELECTION = 20.0


async def test_put_get_and_revisions(js: JetStream) -> None:
    kv = await js.create_key_value("cfg", history=3)
    r1 = await kv.put("a.b", b"one")
    r2 = await kv.put("a.b", b"two")
    r3 = await kv.put("other", b"")
    assert (r1, r2, r3) == (1, 2, 3)

    latest = await kv.get("a.b")
    assert (latest.bucket, latest.key, latest.value, latest.revision) == ("cfg", "a.b", b"two", 2)
    assert (latest.delta, latest.operation) == (0, KeyValueOp.PUT)
    assert (await kv.get("other")).value == b""

    # `created` is the server's store time, exact to the nanosecond.
    stored = await js.stream_msg_get("KV_cfg", seq=2)
    assert isinstance(latest.created, Timestamp) and isinstance(stored.time, Timestamp)
    assert latest.created == stored.time
    assert latest.created.nanosecond == stored.time.nanosecond

    first = await kv.get("a.b", revision=1)
    assert (first.value, first.revision) == (b"one", 1)
    with pytest.raises(errors.KeyNotFoundError) as other:
        await kv.get("a.b", revision=3)  # revision 3 is another key's
    assert (other.value.key, other.value.revision) == ("a.b", 3)
    with pytest.raises(errors.KeyNotFoundError):
        await kv.get("a.b", revision=99)
    with pytest.raises(errors.KeyNotFoundError) as missing:
        await kv.get("nothing")
    assert not isinstance(missing.value, errors.KeyDeletedError)


async def test_create_update_and_both_cas_errors(js: JetStream) -> None:
    kv = await js.create_key_value("cas", history=5)
    rev = await kv.create("k", b"first")
    with pytest.raises(errors.KeyExistsError) as exists:
        await kv.create("k", b"again")
    assert exists.value.err_code == 10071
    assert isinstance(exists.value.__cause__, errors.StreamWrongLastSequenceError)

    rev2 = await kv.update("k", b"second", last=rev)
    assert rev2 > rev
    with pytest.raises(errors.WrongLastRevisionError) as wrong:
        await kv.update("k", b"stale", last=rev)
    assert (wrong.value.expected, wrong.value.err_code) == (rev, 10071)
    assert not isinstance(wrong.value, errors.KeyExistsError)
    assert (await kv.get("k")).value == b"second"


@pytest.mark.parametrize("remove", ["delete", "purge"])
async def test_create_after_delete_or_purge(js: JetStream, remove: str) -> None:
    kv = await js.create_key_value("re", history=5)
    await kv.put("k", b"v1")
    marker = await (kv.delete("k") if remove == "delete" else kv.purge("k"))
    with pytest.raises(errors.KeyDeletedError) as deleted:
        await kv.get("k")
    assert deleted.value.entry.revision == marker
    assert deleted.value.entry.operation is (KeyValueOp.DEL if remove == "delete" else KeyValueOp.PURGE)
    # ADR-8: create retries with the marker's revision.
    rev = await kv.create("k", b"v2")
    assert rev == marker + 1
    assert (await kv.get("k")).value == b"v2"
    with pytest.raises(errors.KeyExistsError):
        await kv.create("k", b"v3")


async def test_delete_and_purge_with_last_revision(js: JetStream) -> None:
    kv = await js.create_key_value("dp", history=10)
    r1 = await kv.put("k", b"1")
    r2 = await kv.put("k", b"2")
    with pytest.raises(errors.WrongLastRevisionError):
        await kv.delete("k", last=r1)
    d = await kv.delete("k", last=r2)
    assert [e.operation for e in await kv.history("k")] == [KeyValueOp.PUT, KeyValueOp.PUT, KeyValueOp.DEL]

    with pytest.raises(errors.WrongLastRevisionError):
        await kv.purge("k", last=r2)
    p = await kv.purge("k", last=d)
    history = await kv.history("k")
    assert [(e.revision, e.operation) for e in history] == [(p, KeyValueOp.PURGE)]
    assert history[0].value == b""


async def test_purge_deletes(js: JetStream) -> None:
    kv = await js.create_key_value("pd", history=10)
    for key in ("a", "b", "c"):
        await kv.put(key, b"1")
        await kv.put(key, b"2")
    await kv.delete("a")
    await kv.purge("b")

    # Markers younger than the threshold stay; what is behind them goes.
    assert await kv.purge_deletes() == 2
    assert [e.operation for e in await kv.history("a")] == [KeyValueOp.DEL]
    assert [e.operation for e in await kv.history("b")] == [KeyValueOp.PURGE]
    assert len(await kv.history("c")) == 2

    # older_than=None removes the markers themselves.
    assert await kv.purge_deletes(older_than=None) == 2
    for key in ("a", "b"):
        with pytest.raises(errors.KeyNotFoundError):
            await kv.history(key)
    assert (await kv.status()).values == 2
    assert await kv.purge_deletes(older_than=None) == 0


async def test_keys(js: JetStream) -> None:
    kv = await js.create_key_value("keys", history=3)
    assert await kv.keys() == []  # P10: an empty bucket is an empty list, not an error
    for key in ("a.1", "a.2", "b.1", "b.2.x", "c"):
        await kv.put(key, b"v")
    await kv.put("a.1", b"again")
    await kv.delete("b.1")
    await kv.put("d", b"soon gone")
    await kv.purge("d")
    assert await kv.keys() == ["a.1", "a.2", "b.2.x", "c"]
    assert await kv.keys("a.*") == ["a.1", "a.2"]
    assert await kv.keys("b.>") == ["b.2.x"]
    assert await kv.keys(["a.2", "c"]) == ["a.2", "c"]
    assert await kv.keys("nothing.*") == []
    assert sorted([k async for k in kv.list_keys("a.*")]) == ["a.1", "a.2"]
    # keys() leaves no consumer behind.
    assert await js.consumer_names("KV_keys") == []


async def test_keys_are_filtered_by_the_server_without_values(js: JetStream) -> None:
    """P10: filters go to the server and values never travel (headers-only, filtered consumer)."""
    kv = await js.create_key_value("big")
    big = b"x" * 200_000
    for i in range(300):
        await kv.put(f"other.{i}", b"")
    for i in range(3):
        await kv.put(f"want.{i}", big)
    nc = js.nc
    assert nc is not None

    before_msgs, before_bytes = nc.stats["in_msgs"], nc.stats["in_bytes"]
    assert await kv.keys("want.*") == ["want.0", "want.1", "want.2"]
    msgs, received = nc.stats["in_msgs"] - before_msgs, nc.stats["in_bytes"] - before_bytes
    assert msgs < 20, f"{msgs} messages received: the filter was not applied by the server"
    assert received < 20_000, f"{received} bytes received: values were transferred"

    # All 303 keys, across several pull batches, still without values.
    before_bytes = nc.stats["in_bytes"]
    keys = await kv.keys()
    assert len(keys) == 303
    assert nc.stats["in_bytes"] - before_bytes < 200_000


async def test_history(js: JetStream) -> None:
    kv = await js.create_key_value("hist", history=3)
    for i in range(5):
        await kv.put("k", b"%d" % i)
    await kv.put("other", b"x")
    await kv.delete("k")
    history = await kv.history("k")
    # history 3 keeps the last three entries of the key: two values and the delete marker.
    assert [(e.value, e.operation) for e in history] == [
        (b"3", KeyValueOp.PUT),
        (b"4", KeyValueOp.PUT),
        (b"", KeyValueOp.DEL),
    ]
    assert [e.delta for e in history] == [2, 1, 0]
    assert [e.revision for e in history] == sorted(e.revision for e in history)
    assert all(e.key == "k" and e.bucket == "hist" for e in history)
    with pytest.raises(errors.KeyNotFoundError):
        await kv.history("never")
    assert await js.consumer_names("KV_hist") == []


async def test_entry_created_is_the_same_from_get_watch_and_history(js: JetStream) -> None:
    kv = await js.create_key_value("ts")
    await kv.put("k", b"v")
    got = await kv.get("k")
    (hist,) = await kv.history("k")
    async with kv.watch("k") as watcher:
        watched = await watcher.__anext__()
    assert not isinstance(watched, InitialValuesDone)
    assert got.created == hist.created == watched.created
    assert isinstance(watched.created, Timestamp) and isinstance(got.created, Timestamp)
    assert watched.created.nanosecond == got.created.nanosecond


async def _concurrent_updates(kv: KeyValue, key: str, last: int, n: int) -> list[BaseException | int]:
    return await asyncio.gather(
        *(kv.update(key, b"%d" % i, last=last) for i in range(n)), return_exceptions=True
    )


@pytest.mark.cluster
async def test_replicated_bucket_maps_10164_and_10071_to_one_error(
    nats_cluster: NatsCluster, js_factory: JetStreamFactory
) -> None:
    """On an R3 bucket concurrent CAS writes race; the losers get 10071 or (while another write
    to the key is in flight) 10164. Both must be `WrongLastRevisionError` (`KeyExistsError` for
    create)."""
    js = await js_factory(nats_cluster.urls)
    # Answered once the bucket's raft group has elected a leader: a first election that misses
    # a peer is retried after a 4-9 s election timeout, beyond the default 5 s request timeout.
    kv = await js.create_key_value("r3", replicas=3, history=5, timeout=_ELECTION)
    # The stream leader announces its subscription over the routes while the create reply
    # travels on another route connection: wait until every node knows it before writing.
    await nats_cluster.wait_for_interest("$KV.r3.k", timeout=_ELECTION)
    seen: set[int] = set()
    rev = await kv.put("k", b"start")
    for _ in range(20):
        outcomes = await _concurrent_updates(kv, "k", rev, 8)
        wins = [o for o in outcomes if isinstance(o, int)]
        losses = [o for o in outcomes if not isinstance(o, int)]
        assert len(wins) == 1, outcomes
        assert all(isinstance(o, errors.WrongLastRevisionError) for o in losses), losses
        seen.update(o.err_code for o in losses if isinstance(o, errors.WrongLastRevisionError))
        rev = wins[0]
        if 10164 in seen:
            break
    # 8 concurrent CAS writes on an R3 stream always have some in flight together.
    assert 10164 in seen
    assert seen <= {10071, 10164}
    creates = await asyncio.gather(*(kv.create("new", b"%d" % i) for i in range(8)), return_exceptions=True)
    assert len([c for c in creates if isinstance(c, int)]) == 1
    assert all(isinstance(c, errors.KeyExistsError) for c in creates if not isinstance(c, int))


async def test_timeout_per_call(js: JetStream) -> None:
    kv = await js.create_key_value("t")
    assert await kv.put("k", b"v", timeout=timedelta(seconds=2)) == 1
    assert (await kv.get("k", timeout=2.0)).value == b"v"

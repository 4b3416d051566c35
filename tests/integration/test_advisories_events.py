"""js.advisories() against a real server: each kind a single server emits arrives as its typed class,
narrowed by kind, stream and consumer; foreign and broken payloads on the subjects do not end it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TypeVar

import pytest
from conftest import JetStreamFactory, next_event

from jetstream import ConsumerConfig, JetStream, errors
from jetstream.advisories import (
    Advisories,
    Advisory,
    ApiAuditAdvisory,
    ApiLimitReachedAdvisory,
    ConsumerAckMetric,
    ConsumerActionAdvisory,
    ConsumerGroupPinnedAdvisory,
    ConsumerGroupUnpinnedAdvisory,
    ConsumerPauseAdvisory,
    MaxDeliverAdvisory,
    NakAdvisory,
    RestoreCompleteAdvisory,
    RestoreCreateAdvisory,
    SnapshotCompleteAdvisory,
    SnapshotCreateAdvisory,
    StreamActionAdvisory,
    StreamBatchAbandonedAdvisory,
    TerminatedAdvisory,
    UnknownAdvisory,
)
from jetstream.testing import Permissions, User
from jetstream.testing.pytest_plugin import NatsServerFactory

A = TypeVar("A")
WAIT = 10.0  # bounds every wait for an event: the server sends them at once


async def next_of(advs: Advisories, cls: type[A], where: Callable[[A], bool] = lambda _: True) -> A:
    return await next_event(advs, cls, where, WAIT)


async def take(advs: Advisories, n: int) -> list[Advisory]:
    async def first() -> list[Advisory]:
        got: list[Advisory] = []
        async for adv in advs:
            got.append(adv)
            if len(got) == n:
                break
        return got

    return await asyncio.wait_for(first(), WAIT)


async def test_stream_and_consumer_lifecycle_and_api_audit(js: JetStream) -> None:
    async with js.advisories() as advs:
        await js.stream_create("S", subjects=["s.>"], storage="memory")
        await js.stream_update("S", subjects=["s.>", "t.>"], storage="memory")
        await js.consumer_create("S", "C")
        await js.consumer_delete("S", "C")
        await js.stream_delete("S")
        events = await take(advs, 10)
    actions = [
        (type(a).__name__, a.action)
        for a in events
        if isinstance(a, (StreamActionAdvisory, ConsumerActionAdvisory))
    ]
    audits = [a for a in events if isinstance(a, ApiAuditAdvisory)]
    # The server sends each advisory from the handler that made it, some after the reply: their
    # order across requests is not promised (a stream update's audit was seen after the consumer's).
    assert sorted(actions) == sorted(
        [
            ("StreamActionAdvisory", "create"),
            ("StreamActionAdvisory", "modify"),
            ("ConsumerActionAdvisory", "create"),
            ("ConsumerActionAdvisory", "delete"),
            ("StreamActionAdvisory", "delete"),
        ]
    )
    assert sorted(a.subject for a in audits) == sorted(
        [
            "$JS.API.STREAM.CREATE.S",
            "$JS.API.STREAM.UPDATE.S",
            "$JS.API.CONSUMER.CREATE.S.C",
            "$JS.API.CONSUMER.DELETE.S.C",
            "$JS.API.STREAM.DELETE.S",
        ]
    )
    assert all(a.client.acc and a.response for a in audits)


async def test_narrowed_by_kind_stream_and_consumer(js: JetStream) -> None:
    for name in ("S", "T"):
        await js.stream_create(name, subjects=[f"{name.lower()}.>"], storage="memory")
    async with (
        js.advisories(kinds=[ConsumerActionAdvisory], stream="S") as of_s,
        js.advisories(stream="T", consumer="D") as of_t_d,
        js.advisories(kinds="stream_action") as streams,
    ):
        await js.consumer_create("T", "C")
        await js.consumer_create("T", "D")
        await js.consumer_create("S", "C")
        await js.consumer_delete("S", "C")
        await js.consumer_delete("T", "D")
        await js.stream_delete("T")
        await js.stream_delete("S")
        s_events = await take(of_s, 2)
        t_events = await take(of_t_d, 2)
        stream_events = await take(streams, 2)
    assert [(a.stream, a.consumer, a.action) for a in s_events] == [  # type: ignore[union-attr]
        ("S", "C", "create"),
        ("S", "C", "delete"),
    ]
    assert [(type(a), a.consumer, a.action) for a in t_events] == [  # type: ignore[union-attr]
        (ConsumerActionAdvisory, "D", "create"),
        (ConsumerActionAdvisory, "D", "delete"),
    ]
    # a stream's delete advisory is sent once its deletion is done: the two may come in either order
    assert sorted((a.stream, a.action) for a in stream_events) == [("S", "delete"), ("T", "delete")]  # type: ignore[union-attr]


async def test_nak_terminated_max_deliveries_and_ack_metric(js: JetStream) -> None:
    await js.stream_create("S", subjects=["s.>"], storage="memory")
    consumer = await js.create_consumer(
        "S",
        ConsumerConfig(durable_name="C", max_deliver=2, ack_wait=timedelta(seconds=30), sample_freq="100%"),
    )
    for i in range(2):
        await js.publish("s.a", b"%d" % i)
    async with (
        js.advisories(stream="S", consumer="C") as advs,
        js.advisories(kinds=[ConsumerAckMetric]) as metrics,
    ):
        first = await consumer.next(timeout=5)
        await first.nak()
        nak = await next_of(advs, NakAdvisory)
        again = await consumer.next(timeout=5)
        assert again.metadata.sequence.stream == 1 and again.metadata.num_delivered == 2
        await again.nak()
        # the nak is processed (its advisory seen), so the next pull finds the exceeded maximum
        await next_of(advs, NakAdvisory, lambda a: a.deliveries == 2)
        second = await consumer.next(timeout=5)
        assert second.metadata.sequence.stream == 2
        exceeded = await next_of(advs, MaxDeliverAdvisory)
        await second.term(reason="bad input")
        terminated = await next_of(advs, TerminatedAdvisory)
        await js.publish("s.a", b"2")
        third = await consumer.next(timeout=5)
        await third.ack_sync()
        metric = await next_of(metrics, ConsumerAckMetric)
    assert (nak.stream, nak.consumer, nak.stream_seq, nak.consumer_seq, nak.deliveries) == ("S", "C", 1, 1, 1)
    assert (exceeded.stream_seq, exceeded.deliveries) == (1, 2)
    assert (terminated.stream_seq, terminated.deliveries, terminated.reason) == (2, 1, "bad input")
    assert (metric.stream, metric.consumer, metric.stream_seq, metric.deliveries) == ("S", "C", 3, 1)
    assert metric.ack_time >= 1


async def test_pause_and_resume(js: JetStream) -> None:
    await js.stream_create("S", subjects=["s.>"], storage="memory")
    await js.consumer_create("S", "C")
    until = datetime.now(timezone.utc) + timedelta(hours=1)
    async with js.advisories(kinds=[ConsumerPauseAdvisory], stream="S", consumer="C") as advs:
        await js.consumer_pause("S", "C", pause_until=until)
        paused = await next_of(advs, ConsumerPauseAdvisory)
        await js.consumer_pause("S", "C")
        resumed = await next_of(advs, ConsumerPauseAdvisory)
    assert paused.paused is True and paused.pause_until == until
    assert resumed.paused is False


async def test_pinned_and_unpinned(js: JetStream) -> None:
    await js.stream_create("S", subjects=["s.>"], storage="memory")
    consumer = await js.create_consumer(
        "S", ConsumerConfig(durable_name="P", priority_groups=["jobs"], priority_policy="pinned_client")
    )
    await js.publish("s.a", b"x")
    async with js.advisories(stream="S", consumer="P") as advs:
        msg = await consumer.next(timeout=5, group="jobs")
        await msg.ack()
        pinned = await next_of(advs, ConsumerGroupPinnedAdvisory)
        await js.consumer_unpin("S", "P", group="jobs")
        unpinned = await next_of(advs, ConsumerGroupUnpinnedAdvisory)
    assert (pinned.group, pinned.pinned_id) == ("jobs", consumer.pin_id)
    assert (unpinned.group, unpinned.reason) == ("jobs", "admin")


async def test_atomic_batch_abandoned(js: JetStream) -> None:
    await js.stream_create("S", subjects=["s.>"], storage="memory", allow_atomic=True)
    async with js.advisories(kinds=[StreamBatchAbandonedAdvisory], stream="S") as advs:
        # sequence 1 then 3: a gap, which the server answers by abandoning the batch
        for seq in (1, 3):
            headers = {"Nats-Batch-Id": "b1", "Nats-Batch-Sequence": str(seq)}
            await js.nc.publish("s.a", b"x", headers=headers, reply=js.nc.new_inbox())
        abandoned = await next_of(advs, StreamBatchAbandonedAdvisory)
    assert (abandoned.stream, abandoned.batch, abandoned.reason) == ("S", "b1", "incomplete")


async def test_snapshot_and_restore(js: JetStream, tmp_path: Path) -> None:
    await js.stream_create("S", subjects=["s.>"])
    for i in range(5):
        await js.publish("s.a", b"%d" % i)
    async with js.advisories(stream="S") as advs:
        await js.backup_stream("S", tmp_path / "s.tar.s2")
        created = await next_of(advs, SnapshotCreateAdvisory)
        completed = await next_of(advs, SnapshotCompleteAdvisory)
        await js.stream_delete("S")
        await js.restore_stream("S", tmp_path / "s.tar.s2")
        restore_created = await next_of(advs, RestoreCreateAdvisory)
        restored = await next_of(advs, RestoreCompleteAdvisory)
    assert created.stream == completed.stream == "S" and created.client.acc
    assert completed.start <= completed.end
    assert restore_created.stream == restored.stream == "S" and restored.bytes > 0
    assert (await js.stream_info("S")).state.messages == 5


async def test_foreign_and_broken_payloads_do_not_end_it(
    js: JetStream, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="jetstream.advisories")
    async with js.advisories() as advs:
        await js.nc.publish("$JS.EVENT.ADVISORY.X", b"{not json")
        await js.nc.publish("$JS.EVENT.ADVISORY.X", b'{"type":"io.nats.jetstream.advisory.v1.nak"}')
        await js.nc.publish("$JS.EVENT.ADVISORY.Y", b'{"type":"io.example.v1.thing","id":"7","n":1}')
        await js.stream_create("S", subjects=["s.>"], storage="memory")
        unknown = await next_of(advs, UnknownAdvisory)
        created = await next_of(advs, StreamActionAdvisory)
    assert (unknown.type, unknown.id, unknown.subject, unknown.data["n"]) == (
        "io.example.v1.thing",
        "7",
        "$JS.EVENT.ADVISORY.Y",
        1,
    )
    assert created.stream == "S"
    assert advs.skipped == 2
    logged = [r.getMessage() for r in caplog.records if r.name == "jetstream.advisories"]
    assert len(logged) == 2 and all(m.startswith("skipped an advisory: invalid advisory on") for m in logged)
    assert "not JSON" in logged[0] and "not a valid io.nats.jetstream.advisory.v1.nak" in logged[1]


async def test_closing_ends_the_iteration(js: JetStream) -> None:
    advs = js.advisories()
    await advs.start()
    waiter = asyncio.ensure_future(take(advs, 1))
    await advs.aclose()
    assert await waiter == []
    await advs.aclose()  # idempotent
    assert "closed" in repr(advs)

    async with js.advisories() as other:
        waiting = asyncio.ensure_future(take(other, 1))
        await js.close()
        assert await waiting == []


async def test_a_refused_subscription_raises(
    nats_server_factory: NatsServerFactory, js_factory: JetStreamFactory
) -> None:
    server = await nats_server_factory(
        users=[User("watcher", "watcher-pw-0001", Permissions(subscribe_deny=["$JS.EVENT.ADVISORY.>"]))]
    )
    js = await js_factory(server.url, user="watcher", password="watcher-pw-0001")
    async with js.advisories() as advs:
        with pytest.raises(errors.PermissionDeniedError) as info:
            await take(advs, 1)
    assert (info.value.operation, info.value.subject) == ("subscribe", "$JS.EVENT.ADVISORY.>")


async def test_api_limit_reached_on_the_system_account(
    nats_server_factory: NatsServerFactory, js_factory: JetStreamFactory, tmp_path: Path
) -> None:
    # A queue of one API request: the server drops what piles up, and says so in the system account.
    # (A second `jetstream` block replaces the first, so it names its own store dir.)
    server = await nats_server_factory(
        extra_config=f'jetstream {{ store_dir: "{tmp_path}", request_queue_limit: 1 }}'
    )
    assert server.system_url is not None
    sys_js = await js_factory(server.system_url)
    js = await js_factory(server.url)
    async with sys_js.advisories(kinds=[ApiLimitReachedAdvisory]) as advs:
        # bursts of requests: they queue up (when the server's workers are slower than the burst),
        # and a full queue is dropped; bounded
        for _ in range(10):
            await asyncio.gather(*(js.account_info(timeout=0.5) for _ in range(20)), return_exceptions=True)
            with contextlib.suppress(asyncio.TimeoutError):
                reached = await next_event(advs, ApiLimitReachedAdvisory, timeout=1.0)
                break
        else:
            raise AssertionError("no api_limit_reached advisory")
    # `dropped` counts what was still queued: the server's workers may have taken it all meanwhile
    assert reached.server == server.name and reached.dropped >= 0

"""Publishing to an R3 stream on a 3-node cluster while its leader steps down again and again and
then dies: every message, published with a msg-id and resent until acknowledged, is stored exactly
once - awaited publishes and `publish_async` alike."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

import pytest
from conftest import JetStreamFactory

from jetstream import JetStream, PubAck, errors
from jetstream.testing import NatsCluster

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

# Everything that can happen to a publish while the stream has no leader or the client reconnects.
# Retried with the same msg-id, which makes a resend of a message already stored a no-op.
_TRANSIENT = (
    errors.TimeoutError,
    errors.NoRespondersError,
    errors.ConnectionClosedError,
    errors.ClusterNotAvailError,
    errors.StreamNotFoundError,  # briefly, from a node whose stream was not loaded yet after restart
    # 10158: a retry reached the leader while the attempt that timed out was still being proposed;
    # the next retry gets that attempt's ack or a duplicate, never a second copy.
    errors.StreamDuplicateMessageConflictError,
)
_GIVE_UP = 30.0  # a message not stored by then is a failure, not a slow election


async def create_stream(js: JetStream) -> None:
    # Answered by the new R3 group's leader once elected: a first election that misses a peer
    # is retried after a raft election timeout (4-9 s), beyond the 2 s client default here.
    await js.stream_create(
        "F",
        subjects=["f.>"],
        num_replicas=3,
        storage="file",
        duplicate_window=timedelta(minutes=2),
        timeout=_GIVE_UP,
    )


async def chaos(js: JetStream, cluster: NatsCluster, log: list[str]) -> None:
    for _ in range(4):
        await asyncio.sleep(0.3)
        try:
            await js.stream_leader_stepdown("F", timeout=2.0)
            log.append("stepdown")
        except (*_TRANSIENT, errors.APIError) as exc:
            log.append(f"stepdown failed: {exc!r}")
    await asyncio.sleep(0.3)
    leader = None
    for _ in range(50):
        with contextlib.suppress(*_TRANSIENT):
            leader = (await js.stream_info("F", timeout=1.0)).cluster
        if leader is not None and leader.leader:
            break
        await asyncio.sleep(0.1)
    assert leader is not None and leader.leader, "the stream has no leader"
    index = [s.name for s in cluster.servers].index(leader.leader)
    await cluster.kill(index)
    log.append(f"killed {leader.leader}")
    await asyncio.sleep(1.0)
    await cluster.restart(index, timeout=_GIVE_UP)
    log.append("restarted")


async def publish_sync(js: JetStream, done: asyncio.Event, retries: list[str]) -> int:
    """Awaited publishes until the chaos is over; returns how many messages."""
    loop = asyncio.get_running_loop()
    i = 0
    while not done.is_set() or i < 200:
        deadline = loop.time() + _GIVE_UP
        while True:
            try:
                await js.publish(
                    f"f.s.{i}", b"x", msg_id=f"s-{i}", timeout=2.0, retry_attempts=8, retry_wait=0.1
                )
                break
            except _TRANSIENT as exc:
                retries.append(type(exc).__name__)
                if loop.time() > deadline:
                    raise
                await asyncio.sleep(0.05)
        i += 1
    return i


async def publish_pipelined(js: JetStream, done: asyncio.Event, retries: list[str]) -> int:
    """`publish_async` in rounds of 50; each failed future is published again with its msg-id."""
    loop = asyncio.get_running_loop()
    i = 0
    while not done.is_set() or i < 500:
        todo = list(range(i, i + 50))
        deadline = loop.time() + _GIVE_UP
        while todo:
            futures: dict[int, asyncio.Future[PubAck]] = {}
            for n in todo:
                try:
                    futures[n] = await js.publish_async(f"f.a.{n}", b"y", msg_id=f"a-{n}", timeout=2.0)
                except _TRANSIENT as exc:
                    retries.append(type(exc).__name__)
            await asyncio.wait_for(asyncio.gather(*futures.values(), return_exceptions=True), _GIVE_UP)
            failed = [n for n, f in futures.items() if f.exception() is not None]
            for n in failed:
                error = futures[n].exception()
                assert isinstance(error, _TRANSIENT), error
                retries.append(type(error).__name__)
            todo = [n for n in todo if n not in futures] + failed
            if todo:
                if loop.time() > deadline:
                    raise AssertionError(f"not stored after {_GIVE_UP}s: {todo[:5]}")
                await asyncio.sleep(0.05)
        i += 50
    return i


async def test_no_loss_no_duplicate_through_stepdowns_and_a_leader_kill(
    nats_cluster: NatsCluster, js_factory: JetStreamFactory
) -> None:
    js = await js_factory(nats_cluster.urls, max_reconnect_attempts=-1, reconnect_time_wait=0.1, timeout=2.0)
    await create_stream(js)
    # The new leader announces the stream's subscription over the routes while the create reply
    # travels on another route connection: publish once every node knows of it.
    await nats_cluster.wait_for_interest("f.s.0", timeout=_GIVE_UP)
    done = asyncio.Event()
    log: list[str] = []
    sync_retries: list[str] = []
    async_retries: list[str] = []

    async def run_chaos() -> None:
        try:
            await chaos(js, nats_cluster, log)
        finally:
            done.set()

    _, n_sync, n_async = await asyncio.wait_for(
        asyncio.gather(
            run_chaos(),
            publish_sync(js, done, sync_retries),
            publish_pipelined(js, done, async_retries),
        ),
        120,
    )
    assert "restarted" in log and any(entry.startswith("killed") for entry in log), log
    assert sync_retries or async_retries, "the faults went unnoticed: the test proves nothing"

    info = None
    for _ in range(100):
        try:
            info = await js.stream_info("F", subjects_filter="f.>", timeout=2.0)
            if info.state.messages == n_sync + n_async:
                break
        except _TRANSIENT:
            pass
        await asyncio.sleep(0.1)
    assert info is not None
    subjects = info.state.subjects or {}
    # every message once: all subjects present, one message each, and no sequence was spent twice
    assert {s for s, count in subjects.items() if count != 1} == set()
    assert set(subjects) == {f"f.s.{i}" for i in range(n_sync)} | {f"f.a.{i}" for i in range(n_async)}
    assert info.state.messages == info.state.last_seq == n_sync + n_async

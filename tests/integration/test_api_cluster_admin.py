"""Cluster administration endpoints against real 3-node (and 4-node) nats-server clusters.

Leader stepdowns, stream peer removal/evacuation, stream moves and their cancellation, server
removal/evacuation, meta rescue and account purge, each with its success path (the cluster really
changes) and its error cases (typed errors). Most of these endpoints act asynchronously (raft
elections, catch-up, leadership transfer), so results are polled with `eventually`, always
bounded, never with bare sleeps.

What nats-server 2.15.1 does that is not obvious from the schemas:

* system-account-only endpoints (META.LEADER.STEPDOWN, SERVER.REMOVE, SERVER.EVACUATE,
  ACCOUNT.PURGE, META.RESCUE) silently ignore requests from other accounts: a single-reply call
  times out rather than getting an error or no-responders;
* ACCOUNT.STREAM.MOVE / CANCEL_MOVE also accept the stream's own account, not only the system one;
* `server=` of ACCOUNT.STREAM.MOVE names the server to move *off*; the server picks the target;
* removing or evacuating a peer of an R3 stream in a 3-node cluster is refused (no replacement).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import pytest
import pytest_asyncio
from conftest import JetStreamFactory

from jetstream import (
    AccountPurgeResponse,
    ClusterInfo,
    ConsumerConfig,
    ConsumerLeaderStepdownResponse,
    JetStream,
    MetaLeaderStepdownResponse,
    MetaRescueResponse,
    MetaServerRemoveResponse,
    Placement,
    PubAck,
    StreamLeaderStepdownResponse,
    StreamRemovePeerResponse,
    StreamUpdateResponse,
    errors,
)
from jetstream.testing import APP_ACCOUNT, NatsCluster, NatsServer

pytestmark = pytest.mark.cluster

S = TypeVar("S")

# Per-request timeout while polling: short, so a request that lands during an election (no
# leader to answer) costs little of the polling budget.
_POLL_REQUEST_TIMEOUT = 1.0
# Upper bound for anything the cluster does asynchronously (elections, moves, purges). Raft
# election timeouts are 4-9 s, and an election can need a second round on a loaded machine.
_SETTLE = 30.0
# The create of a replicated stream or consumer is answered by the new group's leader, once
# elected. When the first candidate's vote requests reach a peer that has not applied the
# assignment yet, they are lost and the next round waits a random raft election timeout
# (4-9 s): longer than the default 5 s request timeout, not a failure.
_ELECTION = 20.0
# For requests the server is known to ignore (wrong account): how long to wait for the silence.
_IGNORED = 0.5
# How long a broadcast (META.RESCUE) collects answers: every server answers for itself, and a
# loaded server takes longer than _IGNORED to.
_BROADCAST = 3.0
# Errors a request may hit while a raft group has no leader; polling retries them.
_TRANSIENT = (errors.TimeoutError, errors.ClusterNotAvailError, errors.JetStreamNotEnabledError)


# ------------------------------------------------------------------------------------- helpers


@pytest_asyncio.fixture
async def nats_cluster4() -> AsyncIterator[NatsCluster]:
    """A 4-node cluster: an R3 stream then has a spare server to take over a removed peer."""
    async with NatsCluster(4) as cluster:
        yield cluster


async def eventually(
    probe: Callable[[], Awaitable[S]],
    done: Callable[[S], bool],
    what: str,
    *,
    timeout: float = _SETTLE,
) -> S:
    """Call ``probe`` until ``done(result)``; fail with the last state after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last: object = "no probe completed"
    while True:
        try:
            state = await probe()
        except _TRANSIENT as exc:
            last = exc
        else:
            if done(state):
                return state
            last = state
        if loop.time() >= deadline:
            raise AssertionError(f"{what}: not reached within {timeout}s; last: {last!r}")
        await asyncio.sleep(0.1)


def placement_of(cluster: ClusterInfo | None) -> tuple[str | None, set[str]]:
    """(leader, names of the other replicas) of a raft group."""
    assert cluster is not None, "clustered assets carry cluster info"
    return cluster.leader, {peer.name for peer in cluster.replicas or []}


def settled(cluster: ClusterInfo | None, size: int) -> bool:
    """A leader is elected and every one of the ``size`` - 1 other replicas is current."""
    leader, replicas = placement_of(cluster)
    assert cluster is not None
    return (
        leader is not None
        and len(replicas) == size - 1
        and all(peer.current for peer in cluster.replicas or [])
    )


async def stream_cluster(js: JetStream, stream: str) -> ClusterInfo | None:
    return (await js.stream_info(stream, timeout=_POLL_REQUEST_TIMEOUT)).cluster


async def consumer_cluster(js: JetStream, stream: str, consumer: str) -> ClusterInfo | None:
    return (await js.consumer_info(stream, consumer, timeout=_POLL_REQUEST_TIMEOUT)).cluster


async def wait_stream_settled(js: JetStream, stream: str, size: int) -> ClusterInfo:
    cluster = await eventually(
        lambda: stream_cluster(js, stream), lambda c: settled(c, size), f"stream {stream} R{size} settled"
    )
    assert cluster is not None
    return cluster


async def meta_state(server: NatsServer) -> dict[str, Any]:
    """The ``meta_cluster`` section of a node's ``/jsz``."""
    jsz = await server.monitor("/jsz")
    meta = jsz.get("meta_cluster") if isinstance(jsz, dict) else None
    return meta if isinstance(meta, dict) else {}


async def wait_meta_leader_changed(cluster: NatsCluster, old: str) -> str:
    """Wait for a new meta leader that every node agrees on; return its name."""
    await eventually(cluster.meta_leader, lambda leader: leader not in (None, old), "new meta leader")
    await cluster.wait_ready(timeout=_SETTLE)
    leader = await cluster.meta_leader()
    assert leader is not None and leader != old
    return leader


async def reconfigure_idle(cancel: Callable[[], Awaitable[StreamUpdateResponse]]) -> bool:
    """Whether a cancel-move call finds no reconfiguration in progress (right after a rollback,
    a repeated cancel is still accepted while the rollback itself is applied)."""
    try:
        await cancel()
    except errors.StreamReconfigureNotInProgressError:
        return True
    return False


async def publish(cluster: NatsCluster, js: JetStream, subject: str, data: bytes) -> PubAck:
    """Publish once every node knows the stream's subscription.

    The stream's leader subscribes its subjects when elected and announces that to the other
    nodes over the routes, while the create reply travels on another route connection: it can
    reach the client before the node the client is connected to has learnt of the stream.
    """
    await cluster.wait_for_interest(subject, timeout=_SETTLE)
    return await js.publish(subject, data)


async def system_client(cluster: NatsCluster, js_factory: JetStreamFactory) -> JetStream:
    """A system-account client whose reply inbox every running node knows of.

    The inbox is subscribed on the first request and announced to the other nodes over the
    routes. A reply from a node that has not learnt of it yet is dropped, and the first request
    may be answered by a node that heard of it from another node, not from the client's: a move
    is answered by the stream's leader once the meta leader has assigned the move.
    """
    sys = await js_factory([url for url in (s.system_url for s in cluster.servers if s.running) if url])
    inbox = await sys.connection.router.prefix()
    await cluster.wait_for_interest(inbox + "0", timeout=_SETTLE)
    return sys


def names(cluster: NatsCluster) -> list[str]:
    return [server.name for server in cluster.servers]


# ------------------------------------------------------------------------- leader stepdowns


async def test_stream_leader_stepdown_elects_another_replica(
    nats_cluster: NatsCluster, js_factory: JetStreamFactory
) -> None:
    js = await js_factory(nats_cluster.urls)
    await js.stream_create("ORDERS", subjects=["orders.>"], num_replicas=3, timeout=_ELECTION)
    await publish(nats_cluster, js, "orders.1", b"one")
    before = await wait_stream_settled(js, "ORDERS", 3)

    result = await js.stream_leader_stepdown("ORDERS")

    assert isinstance(result, StreamLeaderStepdownResponse)
    assert result.success is True
    after = await eventually(
        lambda: stream_cluster(js, "ORDERS"),
        lambda c: c is not None and c.leader not in (None, before.leader),
        "new stream leader",
    )
    assert after is not None
    assert after.leader in names(nats_cluster)
    # Same group, new leader: the old leader is now a follower and no data was lost.
    assert placement_of(after)[1] | {after.leader} == placement_of(before)[1] | {before.leader}
    assert (await js.stream_info("ORDERS")).state.messages == 1


async def test_stream_leader_stepdown_to_preferred_server(
    nats_cluster: NatsCluster, js_factory: JetStreamFactory
) -> None:
    js = await js_factory(nats_cluster.urls)
    await js.stream_create("ORDERS", subjects=["orders.>"], num_replicas=3, timeout=_ELECTION)
    before = await wait_stream_settled(js, "ORDERS", 3)
    preferred = sorted(placement_of(before)[1])[0]

    result = await js.stream_leader_stepdown("ORDERS", placement=Placement(preferred=preferred))

    assert result.success is True
    after = await eventually(
        lambda: stream_cluster(js, "ORDERS"),
        lambda c: c is not None and c.leader not in (None, before.leader),
        "new stream leader",
    )
    assert after is not None and after.leader == preferred


async def test_stream_leader_stepdown_errors(nats_cluster: NatsCluster, js_factory: JetStreamFactory) -> None:
    js = await js_factory(nats_cluster.urls)
    await js.stream_create("ORDERS", subjects=["orders.>"], num_replicas=3, timeout=_ELECTION)
    leader = (await wait_stream_settled(js, "ORDERS", 3)).leader

    with pytest.raises(errors.StreamNotFoundError) as missing:
        await js.stream_leader_stepdown("NOPE")
    assert (missing.value.code, missing.value.err_code) == (404, 10059)
    with pytest.raises(errors.ClusterNoPeersError, match="already leader"):
        await js.stream_leader_stepdown("ORDERS", placement=Placement(preferred=leader))
    with pytest.raises(errors.ClusterNoPeersError, match="not known"):
        await js.stream_leader_stepdown("ORDERS", placement=Placement(preferred="no-such-server"))
    with pytest.raises(errors.InvalidNameError):
        await js.stream_leader_stepdown("BAD.NAME")
    # None of the refused requests moved the leader.
    assert placement_of(await stream_cluster(js, "ORDERS"))[0] == leader


async def test_consumer_leader_stepdown_elects_another_replica(
    nats_cluster: NatsCluster, js_factory: JetStreamFactory
) -> None:
    js = await js_factory(nats_cluster.urls)
    await js.stream_create("ORDERS", subjects=["orders.>"], num_replicas=3, timeout=_ELECTION)
    await publish(nats_cluster, js, "orders.1", b"one")
    created = await js.consumer_create("ORDERS", ConsumerConfig(durable_name="PROCESSOR"), timeout=_ELECTION)
    assert created.config.durable_name == "PROCESSOR"
    before = await eventually(
        lambda: consumer_cluster(js, "ORDERS", "PROCESSOR"), lambda c: settled(c, 3), "consumer R3 settled"
    )
    assert before is not None

    result = await js.consumer_leader_stepdown("ORDERS", "PROCESSOR")

    assert isinstance(result, ConsumerLeaderStepdownResponse)
    assert result.success is True
    after = await eventually(
        lambda: consumer_cluster(js, "ORDERS", "PROCESSOR"),
        lambda c: c is not None and c.leader not in (None, before.leader),
        "new consumer leader",
    )
    assert after is not None and after.leader in names(nats_cluster)
    # The consumer state moved with the leadership.
    assert (await js.consumer_info("ORDERS", "PROCESSOR")).num_pending == 1

    # And back, by name: a preferred follower becomes the leader.
    settled_after = await eventually(
        lambda: consumer_cluster(js, "ORDERS", "PROCESSOR"), lambda c: settled(c, 3), "consumer settled"
    )
    assert settled_after is not None
    back = await js.consumer_leader_stepdown(
        "ORDERS", "PROCESSOR", placement=Placement(preferred=before.leader)
    )
    assert back.success is True
    final = await eventually(
        lambda: consumer_cluster(js, "ORDERS", "PROCESSOR"),
        lambda c: c is not None and c.leader not in (None, after.leader),
        "new consumer leader",
    )
    assert final is not None and final.leader == before.leader


async def test_consumer_leader_stepdown_errors(
    nats_cluster: NatsCluster, js_factory: JetStreamFactory
) -> None:
    js = await js_factory(nats_cluster.urls)
    await js.stream_create("ORDERS", subjects=["orders.>"], num_replicas=3, timeout=_ELECTION)
    await js.consumer_create("ORDERS", ConsumerConfig(durable_name="PROCESSOR"), timeout=_ELECTION)
    await eventually(
        lambda: consumer_cluster(js, "ORDERS", "PROCESSOR"), lambda c: settled(c, 3), "consumer R3 settled"
    )

    with pytest.raises(errors.ConsumerNotFoundError) as missing:
        await js.consumer_leader_stepdown("ORDERS", "NOPE")
    assert (missing.value.code, missing.value.err_code) == (404, 10014)
    with pytest.raises(errors.StreamNotFoundError):
        await js.consumer_leader_stepdown("NOPE", "PROCESSOR")
    with pytest.raises(errors.ClusterNoPeersError, match="not known"):
        await js.consumer_leader_stepdown(
            "ORDERS", "PROCESSOR", placement=Placement(preferred="no-such-server")
        )
    with pytest.raises(errors.InvalidNameError):
        await js.consumer_leader_stepdown("ORDERS", "BAD*NAME")


async def test_meta_leader_stepdown_from_system_account(
    nats_cluster: NatsCluster, js_factory: JetStreamFactory
) -> None:
    sys = await system_client(nats_cluster, js_factory)
    old = await nats_cluster.meta_leader()
    assert old is not None

    result = await sys.meta_leader_stepdown()

    assert isinstance(result, MetaLeaderStepdownResponse)
    assert result.success is True
    new = await wait_meta_leader_changed(nats_cluster, old)

    # A preferred server takes over when asked to.
    preferred = next(name for name in names(nats_cluster) if name != new)
    result = await sys.meta_leader_stepdown(placement=Placement(preferred=preferred))
    assert result.success is True
    assert await wait_meta_leader_changed(nats_cluster, new) == preferred


async def test_meta_leader_stepdown_errors(nats_cluster: NatsCluster, js_factory: JetStreamFactory) -> None:
    sys = await system_client(nats_cluster, js_factory)
    leader = await nats_cluster.meta_leader()
    assert leader is not None

    with pytest.raises(errors.ClusterNoPeersError, match="not known") as unknown:
        await sys.meta_leader_stepdown(placement=Placement(preferred="no-such-server"))
    assert (unknown.value.code, unknown.value.err_code) == (400, 10005)
    with pytest.raises(errors.ClusterNoPeersError, match="already leader"):
        await sys.meta_leader_stepdown(placement=Placement(preferred=leader))
    with pytest.raises(errors.ClusterNoPeersError):
        await sys.meta_leader_stepdown(placement=Placement(cluster="no-such-cluster"))
    assert await nats_cluster.meta_leader() == leader


async def test_meta_leader_stepdown_from_app_account_is_ignored(
    nats_cluster: NatsCluster, js_factory: JetStreamFactory
) -> None:
    # The server drops the request (only logs a warning), so the caller sees a timeout.
    # A long client default shows the call's own timeout is the one applied, with room for a
    # loaded machine to fire the timer late.
    js = await js_factory(nats_cluster.urls, timeout=60.0)
    leader = await nats_cluster.meta_leader()

    started = time.monotonic()
    with pytest.raises(errors.TimeoutError) as exc:
        await js.meta_leader_stepdown(timeout=_IGNORED)
    assert exc.value.subject == "$JS.API.META.LEADER.STEPDOWN"
    assert time.monotonic() - started < 20 * _IGNORED
    assert await nats_cluster.meta_leader() == leader


async def test_cluster_endpoints_refused_without_a_cluster(
    nats_server: NatsServer, js_factory: JetStreamFactory
) -> None:
    js = await js_factory(nats_server.url)
    await js.stream_create("ORDERS", subjects=["orders.>"])
    await js.consumer_create("ORDERS", ConsumerConfig(durable_name="PROCESSOR"))
    calls: list[Callable[[], Awaitable[object]]] = [
        lambda: js.stream_leader_stepdown("ORDERS"),
        lambda: js.consumer_leader_stepdown("ORDERS", "PROCESSOR"),
        lambda: js.stream_peer_remove("ORDERS", peer=nats_server.name),
        lambda: js.stream_peer_evacuate("ORDERS", peer=nats_server.name),
        lambda: js.stream_cancel_move("ORDERS"),
    ]
    for call in calls:
        with pytest.raises(errors.ClusterRequiredError) as exc:
            await call()
        assert (exc.value.code, exc.value.err_code) == (503, 10010)


# --------------------------------------------------------------- stream peers and moves


async def test_stream_peer_remove_replaces_the_peer(
    nats_cluster4: NatsCluster, js_factory: JetStreamFactory
) -> None:
    js = await js_factory(nats_cluster4.urls)
    await js.stream_create("ORDERS", subjects=["orders.>"], num_replicas=3, timeout=_ELECTION)
    for i in range(3):
        await publish(nats_cluster4, js, f"orders.{i}", b"x")
    before = await wait_stream_settled(js, "ORDERS", 3)
    leader, followers = placement_of(before)
    removed = sorted(followers)[0]
    spare = set(names(nats_cluster4)) - followers - {leader}
    assert len(spare) == 1

    result = await js.stream_peer_remove("ORDERS", peer=removed)

    assert isinstance(result, StreamRemovePeerResponse)
    assert result.success is True
    # R3 again, on the spare server, which caught up with the data.
    after = await eventually(
        lambda: stream_cluster(js, "ORDERS"),
        lambda c: settled(c, 3) and removed not in placement_of(c)[1] | {placement_of(c)[0]},
        "R3 again without the removed peer",
    )
    group = placement_of(after)[1] | {placement_of(after)[0]}
    assert removed not in group
    assert spare <= group
    info = await js.stream_info("ORDERS")
    assert info.config.num_replicas == 3
    assert info.state.messages == 3


async def test_stream_peer_remove_errors(nats_cluster: NatsCluster, js_factory: JetStreamFactory) -> None:
    js = await js_factory(nats_cluster.urls)
    await js.stream_create("ORDERS", subjects=["orders.>"], num_replicas=3, timeout=_ELECTION)
    before = await wait_stream_settled(js, "ORDERS", 3)
    follower = sorted(placement_of(before)[1])[0]

    with pytest.raises(errors.ClusterPeerNotMemberError) as unknown:
        await js.stream_peer_remove("ORDERS", peer="no-such-server")
    assert (unknown.value.code, unknown.value.err_code) == (400, 10040)
    # The server answers an empty peer with a 400 (BadRequestError); the SDK refuses it before
    # sending (schemas/overrides/constraints.toml).
    with pytest.raises(errors.InvalidArgumentError, match="peer"):
        await js.stream_peer_remove("ORDERS", peer="")
    with pytest.raises(errors.StreamNotFoundError):
        await js.stream_peer_remove("NOPE", peer=follower)
    # Every server already holds a replica: nothing could replace the removed one.
    with pytest.raises(errors.PeerRemapError) as remap:
        await js.stream_peer_remove("ORDERS", peer=follower)
    assert (remap.value.code, remap.value.err_code) == (503, 10075)
    leader, followers = placement_of(await stream_cluster(js, "ORDERS"))
    assert {leader, *followers} == {before.leader, *placement_of(before)[1]}


async def test_stream_peer_evacuate_moves_an_r1_stream(
    nats_cluster: NatsCluster, js_factory: JetStreamFactory
) -> None:
    # STREAM.PEER.EVACUATE is new in 2.15: the group migrates off the peer before dropping it.
    js = await js_factory(nats_cluster.urls)
    created = await js.stream_create("ORDERS", subjects=["orders.>"], num_replicas=1)
    origin = placement_of(created.cluster)[0]
    assert origin is not None
    for i in range(5):
        await publish(nats_cluster, js, f"orders.{i}", b"x")

    result = await js.stream_peer_evacuate("ORDERS", peer=origin)

    assert isinstance(result, StreamRemovePeerResponse)
    assert result.success is True
    after = await eventually(
        lambda: stream_cluster(js, "ORDERS"),
        lambda c: settled(c, 1) and placement_of(c)[0] != origin,
        "stream moved off the evacuated peer",
    )
    assert placement_of(after)[0] in set(names(nats_cluster)) - {origin}
    assert (await js.stream_info("ORDERS")).state.messages == 5


async def test_stream_peer_evacuate_errors(nats_cluster: NatsCluster, js_factory: JetStreamFactory) -> None:
    js = await js_factory(nats_cluster.urls)
    await js.stream_create("ORDERS", subjects=["orders.>"], num_replicas=3, timeout=_ELECTION)
    leader = (await wait_stream_settled(js, "ORDERS", 3)).leader
    assert leader is not None

    with pytest.raises(errors.ClusterPeerNotMemberError):
        await js.stream_peer_evacuate("ORDERS", peer="no-such-server")
    with pytest.raises(errors.InvalidArgumentError, match="peer"):  # refused before sending
        await js.stream_peer_evacuate("ORDERS", peer="")
    with pytest.raises(errors.StreamNotFoundError):
        await js.stream_peer_evacuate("NOPE", peer=leader)
    with pytest.raises(errors.PeerRemapError):
        await js.stream_peer_evacuate("ORDERS", peer=leader)


async def test_account_stream_move_moves_an_r1_stream(
    nats_cluster: NatsCluster, js_factory: JetStreamFactory
) -> None:
    js = await js_factory(nats_cluster.urls)
    sys = await system_client(nats_cluster, js_factory)
    created = await js.stream_create("ORDERS", subjects=["orders.>"], num_replicas=1)
    origin = placement_of(created.cluster)[0]
    assert origin is not None
    for i in range(5):
        await publish(nats_cluster, js, f"orders.{i}", b"x")

    # `server` names the server to move off; the meta leader picks the destination.
    result = await sys.account_stream_move(APP_ACCOUNT, "ORDERS", server=origin)

    assert isinstance(result, StreamUpdateResponse)
    assert result.config.name == "ORDERS"
    assert result.config.num_replicas == 1
    after = await eventually(
        lambda: stream_cluster(js, "ORDERS"),
        lambda c: settled(c, 1) and placement_of(c)[0] != origin,
        "stream moved to another server",
    )
    assert placement_of(after)[0] in set(names(nats_cluster)) - {origin}
    info = await js.stream_info("ORDERS")
    assert info.config.num_replicas == 1
    assert info.state.messages == 5


async def test_account_stream_move_errors(nats_cluster: NatsCluster, js_factory: JetStreamFactory) -> None:
    js = await js_factory(nats_cluster.urls)
    sys = await system_client(nats_cluster, js_factory)
    created = await js.stream_create("ORDERS", subjects=["orders.>"], num_replicas=1)
    origin = placement_of(created.cluster)[0]
    assert origin is not None
    elsewhere = next(name for name in names(nats_cluster) if name != origin)

    with pytest.raises(errors.NoAccountError) as no_account:
        await sys.account_stream_move("NO_SUCH_ACCOUNT", "ORDERS", server=origin)
    assert no_account.value.err_code == 10035
    with pytest.raises(errors.StreamNotFoundError):
        await sys.account_stream_move(APP_ACCOUNT, "NOPE", server=origin)
    with pytest.raises(errors.ClusterServerNotMemberError):
        await sys.account_stream_move(APP_ACCOUNT, "ORDERS", server="no-such-server")
    with pytest.raises(errors.ClusterPeerNotMemberError):
        await sys.account_stream_move(APP_ACCOUNT, "ORDERS", server=elsewhere)
    with pytest.raises(errors.ClusterNoPeersError, match="tags"):
        await sys.account_stream_move(APP_ACCOUNT, "ORDERS", tags=["no-such-tag"])
    with pytest.raises(errors.InvalidNameError):
        await sys.account_stream_move("BAD.ACCOUNT", "ORDERS")
    # Another account's streams are not the APP account's business: the request is ignored.
    with pytest.raises(errors.TimeoutError):
        await js.account_stream_move("SYS", "ORDERS", server=origin, timeout=_IGNORED)
    # Nothing moved.
    assert placement_of(await stream_cluster(js, "ORDERS")) == (origin, set())


async def test_account_stream_cancel_move_rolls_back(
    nats_cluster: NatsCluster, js_factory: JetStreamFactory
) -> None:
    js = await js_factory(nats_cluster.urls)
    sys = await system_client(nats_cluster, js_factory)
    created = await js.stream_create("ORDERS", subjects=["orders.>"], num_replicas=1)
    origin = placement_of(created.cluster)[0]
    assert origin is not None
    await publish(nats_cluster, js, "orders.1", b"x")

    await sys.account_stream_move(APP_ACCOUNT, "ORDERS", server=origin)
    # A move of even an empty stream takes about a second (catch-up, then leadership
    # transfer), far longer than the next request needs to reach the meta leader.
    result = await sys.account_stream_cancel_move(APP_ACCOUNT, "ORDERS")

    assert isinstance(result, StreamUpdateResponse)
    assert result.config.name == "ORDERS"
    back = await eventually(
        lambda: stream_cluster(js, "ORDERS"),
        lambda c: settled(c, 1) and placement_of(c)[0] == origin,
        "stream back on its origin",
    )
    assert placement_of(back) == (origin, set())
    # Rolled back, not left pending: soon there is nothing left to cancel.
    await eventually(
        lambda: reconfigure_idle(lambda: sys.account_stream_cancel_move(APP_ACCOUNT, "ORDERS")),
        bool,
        "no reconfiguration in progress",
    )
    assert (await js.stream_info("ORDERS")).state.messages == 1


async def test_account_stream_cancel_move_errors(
    nats_cluster: NatsCluster, js_factory: JetStreamFactory
) -> None:
    js = await js_factory(nats_cluster.urls)
    sys = await system_client(nats_cluster, js_factory)
    await js.stream_create("ORDERS", subjects=["orders.>"], num_replicas=1)

    with pytest.raises(errors.StreamReconfigureNotInProgressError) as idle:
        await sys.account_stream_cancel_move(APP_ACCOUNT, "ORDERS")
    assert (idle.value.code, idle.value.err_code) == (400, 10129)
    with pytest.raises(errors.NoAccountError):
        await sys.account_stream_cancel_move("NO_SUCH_ACCOUNT", "ORDERS")
    with pytest.raises(errors.StreamNotFoundError):
        await sys.account_stream_cancel_move(APP_ACCOUNT, "NOPE")
    with pytest.raises(errors.TimeoutError):
        await js.account_stream_cancel_move("SYS", "ORDERS", timeout=_IGNORED)


async def test_stream_cancel_move_from_the_owning_account(
    nats_cluster: NatsCluster, js_factory: JetStreamFactory
) -> None:
    # STREAM.CANCEL_MOVE (2.15) is the account-scoped cancel; ACCOUNT.STREAM.MOVE accepts the
    # owning account as well as the system account, so APP drives the whole cycle itself.
    js = await js_factory(nats_cluster.urls)
    created = await js.stream_create("ORDERS", subjects=["orders.>"], num_replicas=1)
    origin = placement_of(created.cluster)[0]
    assert origin is not None

    moving = await js.account_stream_move(APP_ACCOUNT, "ORDERS", server=origin)
    assert moving.config.name == "ORDERS"
    result = await js.stream_cancel_move("ORDERS")

    assert isinstance(result, StreamUpdateResponse)
    assert result.config.name == "ORDERS"
    back = await eventually(
        lambda: stream_cluster(js, "ORDERS"),
        lambda c: settled(c, 1) and placement_of(c)[0] == origin,
        "stream back on its origin",
    )
    assert placement_of(back) == (origin, set())
    await eventually(
        lambda: reconfigure_idle(lambda: js.stream_cancel_move("ORDERS")),
        bool,
        "no reconfiguration in progress",
    )


async def test_stream_cancel_move_errors(nats_cluster: NatsCluster, js_factory: JetStreamFactory) -> None:
    js = await js_factory(nats_cluster.urls)
    await js.stream_create("ORDERS", subjects=["orders.>"], num_replicas=3, timeout=_ELECTION)
    await wait_stream_settled(js, "ORDERS", 3)

    with pytest.raises(errors.StreamReconfigureNotInProgressError) as idle:
        await js.stream_cancel_move("ORDERS")
    assert (idle.value.code, idle.value.err_code) == (400, 10129)
    with pytest.raises(errors.StreamNotFoundError):
        await js.stream_cancel_move("NOPE")
    with pytest.raises(errors.InvalidNameError):
        await js.stream_cancel_move("BAD>NAME")


# ------------------------------------------------------------------ servers (system account)


async def test_server_remove_drops_a_shut_down_peer(
    nats_cluster: NatsCluster, js_factory: JetStreamFactory
) -> None:
    leader = await nats_cluster.meta_leader()
    all_names = names(nats_cluster)
    victim = next(i for i, name in enumerate(all_names) if name != leader)
    survivors = [server for i, server in enumerate(nats_cluster.servers) if i != victim]
    await nats_cluster.kill(victim)
    sys = await js_factory([url for url in (s.system_url for s in survivors) if url])

    result = await sys.server_remove(peer=all_names[victim])

    assert isinstance(result, MetaServerRemoveResponse)
    assert result.success is True
    leader_node = next(s for s in survivors if s.name == leader)
    meta = await eventually(
        lambda: meta_state(leader_node), lambda m: m.get("cluster_size") == 2, "meta group of 2"
    )
    assert all_names[victim] not in {peer.get("name") for peer in meta.get("replicas") or []}
    # Gone from the meta group: a second removal does not find it.
    with pytest.raises(errors.ClusterServerNotMemberError):
        await sys.server_remove(peer=all_names[victim])


async def test_server_remove_errors(nats_cluster: NatsCluster, js_factory: JetStreamFactory) -> None:
    sys = await system_client(nats_cluster, js_factory)
    js = await js_factory(nats_cluster.urls)

    with pytest.raises(errors.ClusterServerNotMemberError) as unknown:
        await sys.server_remove(peer="no-such-server")
    assert (unknown.value.code, unknown.value.err_code) == (400, 10044)
    with pytest.raises(errors.ClusterServerNotMemberError):
        await sys.server_remove(peer_id="NOPEERID")
    with pytest.raises(errors.BadRequestError):
        await sys.server_remove()
    with pytest.raises(errors.TimeoutError):
        await js.server_remove(peer=nats_cluster.servers[0].name, timeout=_IGNORED)
    assert (await meta_state(nats_cluster.servers[0])).get("cluster_size") == 3


async def test_server_evacuate_moves_streams_off_a_server(
    nats_cluster: NatsCluster, js_factory: JetStreamFactory
) -> None:
    # SERVER.EVACUATE is new in 2.15: every stream with a replica on the server moves off it,
    # and the server stays in the meta group.
    js = await js_factory(nats_cluster.urls)
    sys = await system_client(nats_cluster, js_factory)
    created = await js.stream_create("ORDERS", subjects=["orders.>"], num_replicas=1)
    origin = placement_of(created.cluster)[0]
    assert origin is not None
    for i in range(5):
        await publish(nats_cluster, js, f"orders.{i}", b"x")

    result = await sys.server_evacuate(peer=origin)

    assert isinstance(result, MetaServerRemoveResponse)
    assert result.success is True
    after = await eventually(
        lambda: stream_cluster(js, "ORDERS"),
        lambda c: settled(c, 1) and placement_of(c)[0] != origin,
        "stream moved off the evacuated server",
    )
    assert placement_of(after)[0] in set(names(nats_cluster)) - {origin}
    assert (await js.stream_info("ORDERS")).state.messages == 5
    leader = await nats_cluster.meta_leader()
    leader_node = next(s for s in nats_cluster.servers if s.name == leader)
    assert (await meta_state(leader_node)).get("cluster_size") == 3


async def test_server_evacuate_errors(nats_cluster: NatsCluster, js_factory: JetStreamFactory) -> None:
    sys = await system_client(nats_cluster, js_factory)
    js = await js_factory(nats_cluster.urls)

    with pytest.raises(errors.ClusterServerNotMemberError):
        await sys.server_evacuate(peer="no-such-server")
    with pytest.raises(errors.BadRequestError):
        await sys.server_evacuate()
    with pytest.raises(errors.TimeoutError):
        await js.server_evacuate(peer=nats_cluster.servers[0].name, timeout=_IGNORED)


# ------------------------------------------------------------------------------ meta rescue


async def test_meta_rescue_refused_while_a_leader_is_known(
    nats_cluster: NatsCluster, js_factory: JetStreamFactory
) -> None:
    # META.RESCUE (2.15) is a broadcast: every server answers for itself, here all refuse.
    sys = await system_client(nats_cluster, js_factory)
    leader = await nats_cluster.meta_leader()

    refusals = await sys.meta_rescue(quorum_needed=1, timeout=_BROADCAST)
    assert len(refusals) == 3
    for known in refusals:
        assert isinstance(known, errors.ClusterRescueError)
        assert (known.code, known.err_code) == (400, 10224)
        assert "leader is known" in known.description
    for bad in await sys.meta_rescue(quorum_needed=0, timeout=_BROADCAST):
        assert isinstance(bad, errors.ClusterRescueError)
        assert "between 1 and current quorum" in bad.description
    await nats_cluster.wait_ready(timeout=_SETTLE)
    assert await nats_cluster.meta_leader() == leader


async def test_meta_rescue_from_app_account_is_ignored(
    nats_cluster: NatsCluster, js_factory: JetStreamFactory
) -> None:
    # No server answers a non-system account's broadcast: no replies at all is a timeout.
    js = await js_factory(nats_cluster.urls)
    with pytest.raises(errors.TimeoutError) as exc:
        await js.meta_rescue(quorum_needed=1, timeout=_IGNORED)
    assert exc.value.subject == "$JS.API.META.RESCUE"


async def test_meta_rescue_restores_a_leader_after_losing_quorum(
    nats_cluster: NatsCluster, js_factory: JetStreamFactory
) -> None:
    app = await js_factory(nats_cluster.urls)
    await app.stream_create("ORDERS", subjects=["orders.>"], num_replicas=1)
    leader = await nats_cluster.meta_leader()
    assert leader is not None
    all_names = names(nats_cluster)
    lost = [all_names.index(leader)]
    lost.append(next(i for i in range(3) if i not in lost))
    survivor_index = next(i for i in range(3) if i not in lost)
    survivor = nats_cluster.servers[survivor_index]
    await app.close()
    # The meta leader and one follower are gone: the survivor alone can never reach quorum.
    for i in lost:
        await nats_cluster.kill(i)
    assert survivor.system_url is not None
    sys = await js_factory(survivor.system_url)

    # It refuses while it still remembers the old leader (raft election timeout, 4-9 s).
    replies = await eventually(
        lambda: _rescue_or_none(sys),
        lambda r: r is not None,
        "survivor accepts the rescue",
    )

    assert replies is not None and len(replies) == 1
    [reply] = replies
    assert isinstance(reply, MetaRescueResponse)
    assert reply.server == survivor.name
    assert reply.server_id
    assert (reply.prev_quorum, reply.new_quorum) == (2, 1)
    meta = await eventually(
        lambda: meta_state(survivor),
        lambda m: m.get("leader") == survivor.name,
        "survivor leads the meta group",
    )
    assert meta.get("quorum_needed") == 1
    # The account's JetStream works again on the survivor.
    js = await js_factory(survivor.url)
    created = await js.stream_create("RESCUED", subjects=["rescued.>"], num_replicas=1)
    assert placement_of(created.cluster)[0] == survivor.name
    assert set(await js.stream_names()) == {"ORDERS", "RESCUED"}


async def _rescue_or_none(sys: JetStream) -> list[MetaRescueResponse | errors.APIError] | None:
    outcomes = await sys.meta_rescue(quorum_needed=1, timeout=_BROADCAST)
    for outcome in outcomes:
        if isinstance(outcome, errors.APIError):
            if "leader is known" not in outcome.description:
                raise outcome
            return None
    return outcomes


# ---------------------------------------------------------------------------- account purge


async def test_account_purge_deletes_every_stream_of_the_account(
    nats_cluster: NatsCluster, js_factory: JetStreamFactory
) -> None:
    js = await js_factory(nats_cluster.urls)
    sys = await system_client(nats_cluster, js_factory)
    await js.stream_create("ORDERS", subjects=["orders.>"], num_replicas=3, timeout=_ELECTION)
    await js.stream_create("EVENTS", subjects=["events.>"], num_replicas=1)
    await js.consumer_create("ORDERS", ConsumerConfig(durable_name="PROCESSOR"), timeout=_ELECTION)
    await publish(nats_cluster, js, "orders.1", b"x")
    assert set(await js.stream_names()) == {"ORDERS", "EVENTS"}

    result = await sys.account_purge(APP_ACCOUNT)

    assert isinstance(result, AccountPurgeResponse)
    assert result.initiated is True
    await eventually(
        lambda: js.stream_names(timeout=_POLL_REQUEST_TIMEOUT),
        lambda streams: streams == [],
        "no streams left",
    )
    await eventually(
        lambda: js.account_info(timeout=_POLL_REQUEST_TIMEOUT),
        lambda i: i.streams == 0 and i.consumers == 0,
        "account info without streams",
    )
    # The account itself still works.
    await js.stream_create("AGAIN", subjects=["again.>"], num_replicas=1)


async def test_account_purge_errors(nats_cluster: NatsCluster, js_factory: JetStreamFactory) -> None:
    js = await js_factory(nats_cluster.urls)
    sys = await system_client(nats_cluster, js_factory)
    await js.stream_create("ORDERS", subjects=["orders.>"], num_replicas=1)

    # Only the system account may purge: the APP account's own request is ignored.
    with pytest.raises(errors.TimeoutError) as ignored:
        await js.account_purge(APP_ACCOUNT, timeout=_IGNORED)
    assert ignored.value.subject == f"$JS.API.ACCOUNT.PURGE.{APP_ACCOUNT}"
    with pytest.raises(errors.InvalidNameError):
        await sys.account_purge("BAD/ACCOUNT")
    # The server does not check that the account exists: purging nothing is "initiated".
    assert (await sys.account_purge("NO_SUCH_ACCOUNT")).initiated is True
    assert await js.stream_names() == ["ORDERS"]

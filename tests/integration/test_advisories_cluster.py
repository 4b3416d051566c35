"""js.advisories() on a 3-node cluster: leader elections of streams, consumers and the meta group
(the system account's domain advisory), and a stream losing its quorum."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

import pytest
from conftest import JetStreamFactory, next_event

from jetstream import JetStream, Placement, errors
from jetstream.advisories import (
    Advisories,
    ConsumerLeaderElectedAdvisory,
    ConsumerQuorumLostAdvisory,
    DomainLeaderElectedAdvisory,
    ServerRemovedAdvisory,
    StreamLeaderElectedAdvisory,
    StreamQuorumLostAdvisory,
    UnknownAdvisory,
)
from jetstream.models import PeerInfo
from jetstream.testing import NatsCluster

pytestmark = pytest.mark.cluster

A = TypeVar("A")
# Raft elections take 4-9 s, and may need a second round on a loaded machine.
ELECTION = 30.0
# A leader reports a lost quorum after 10 s without its followers (raft lostQuorumInterval), checked
# every 10 s.
QUORUM_LOST = 45.0
# Errors of requests made while a raft group has no leader.
TRANSIENT = (errors.TimeoutError, errors.ClusterNotAvailError, errors.JetStreamNotEnabledError)


async def next_of(
    advs: Advisories, cls: type[A], where: Callable[[A], bool] = lambda _: True, timeout: float = ELECTION
) -> A:
    return await next_event(advs, cls, where, timeout)


async def retried(call: Callable[[], object]) -> object:
    """A management call retried while its raft group elects a leader (bounded)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ELECTION
    while True:
        try:
            return await call()  # type: ignore[misc]
        except TRANSIENT:
            if loop.time() > deadline:
                raise
            await asyncio.sleep(0.2)


async def listening(cluster: NatsCluster, advs: Advisories, *subjects: str) -> Advisories:
    """Wait until every node knows of the subscriptions (one subject matching each): the leader
    publishing may be another node."""
    await advs.start()
    for subject in subjects:
        await cluster.wait_for_interest(subject)
    return advs


async def test_stream_and_consumer_leaders(nats_cluster: NatsCluster, js_factory: JetStreamFactory) -> None:
    js = await js_factory(nats_cluster.urls)
    async with await listening(
        nats_cluster,
        js.advisories(stream="S"),
        "$JS.EVENT.ADVISORY.STREAM.LEADER_ELECTED.S",
        "$JS.EVENT.ADVISORY.CONSUMER.LEADER_ELECTED.S.C",
    ) as advs:
        await retried(lambda: js.stream_create("S", subjects=["s.>"], num_replicas=3))
        elected = await next_of(advs, StreamLeaderElectedAdvisory)
        await retried(lambda: js.consumer_create("S", "C", num_replicas=3))
        consumer_elected = await next_of(advs, ConsumerLeaderElectedAdvisory)
        await retried(lambda: js.stream_leader_stepdown("S"))
        again = await next_of(advs, StreamLeaderElectedAdvisory, lambda a: a.leader != elected.leader)
    names = {s.name for s in nats_cluster.servers}
    assert elected.stream == "S" and elected.leader in names
    # replicas is a list of peers (the schema says one: patch B7)
    assert len(elected.replicas) == 3 and all(isinstance(p, PeerInfo) for p in elected.replicas)
    assert {p.name for p in elected.replicas} == names
    assert (consumer_elected.stream, consumer_elected.consumer) == ("S", "C")
    assert consumer_elected.leader in names and len(consumer_elected.replicas) == 3
    assert again.leader != elected.leader


async def test_domain_leader_on_the_system_account(
    nats_cluster: NatsCluster, js_factory: JetStreamFactory
) -> None:
    sys_js = await js_factory(nats_cluster.system_urls)
    before = await nats_cluster.meta_leader()
    async with await listening(
        nats_cluster,
        sys_js.advisories(kinds=[DomainLeaderElectedAdvisory]),
        "$JS.EVENT.ADVISORY.DOMAIN.LEADER_ELECTED",
    ) as advs:
        await retried(lambda: sys_js.meta_leader_stepdown())
        elected = await next_of(advs, DomainLeaderElectedAdvisory, lambda a: a.leader != before)
    assert elected.cluster == nats_cluster.name
    assert len(elected.replicas) == 3


@pytest.mark.slow
async def test_stream_quorum_lost(nats_cluster: NatsCluster, js_factory: JetStreamFactory) -> None:
    js = await js_factory(nats_cluster.urls)
    await retried(lambda: js.stream_create("Q", subjects=["q.>"], num_replicas=3))
    info = await retried(lambda: js.stream_info("Q"))
    leader = info.cluster.leader  # type: ignore[attr-defined]
    index = next(i for i, s in enumerate(nats_cluster.servers) if s.name == leader)
    # the consumer's leader moved to the same node, which is then left alone
    await retried(lambda: js.consumer_create("Q", "C", num_replicas=3))
    c_info = await retried(lambda: js.consumer_info("Q", "C"))
    if c_info.cluster.leader != leader:  # type: ignore[attr-defined]
        async with await listening(
            nats_cluster,
            js.advisories(kinds=[ConsumerLeaderElectedAdvisory]),
            "$JS.EVENT.ADVISORY.CONSUMER.LEADER_ELECTED.Q.C",
        ) as elections:
            await retried(
                lambda: js.consumer_leader_stepdown("Q", "C", placement=Placement(preferred=leader))
            )
            await next_of(elections, ConsumerLeaderElectedAdvisory, lambda a: a.leader == leader)
    # watched on the leader itself: the advisories stay on the node that lost its followers
    on_leader: JetStream = await js_factory(nats_cluster.servers[index].url)
    async with (
        on_leader.advisories(kinds=[StreamQuorumLostAdvisory], stream="Q") as advs,
        on_leader.advisories(kinds=[ConsumerQuorumLostAdvisory], stream="Q", consumer="C") as c_advs,
    ):
        for i in range(3):
            if i != index:
                await nats_cluster.stop_node(i)
        lost = await next_of(advs, StreamQuorumLostAdvisory, timeout=QUORUM_LOST)
        c_lost = await next_of(c_advs, ConsumerQuorumLostAdvisory, timeout=QUORUM_LOST)
    assert (c_lost.stream, c_lost.consumer) == ("Q", "C") and len(c_lost.replicas) >= 1
    assert lost.stream == "Q" and len(lost.replicas) >= 1


async def test_server_removed_on_the_system_account(
    nats_cluster: NatsCluster, js_factory: JetStreamFactory
) -> None:
    meta_leader = await nats_cluster.meta_leader()
    victim = next(s for s in nats_cluster.servers if s.name != meta_leader)
    # the removed server says so itself, in its system account
    sys_js = await js_factory(victim.system_url)
    async with sys_js.advisories(kinds=[ServerRemovedAdvisory]) as advs:
        await retried(lambda: sys_js.server_remove(peer=victim.name))
        removed = await next_of(advs, ServerRemovedAdvisory)
    assert (removed.server, removed.cluster) == (victim.name, nats_cluster.name)


@pytest.mark.slow
async def test_a_kind_the_schemas_lack_arrives_as_unknown(
    nats_cluster: NatsCluster, js_factory: JetStreamFactory
) -> None:
    """meta_rescue (nats-server 2.15) has no schema: it arrives as an UnknownAdvisory, fields intact."""
    leader = await nats_cluster.meta_leader()
    lost = [i for i, s in enumerate(nats_cluster.servers) if s.name == leader]
    lost.append(next(i for i in range(3) if i not in lost))
    survivor = nats_cluster.servers[next(i for i in range(3) if i not in lost)]
    for i in lost:
        await nats_cluster.kill(i)
    sys_js = await js_factory(survivor.system_url)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ELECTION
    async with sys_js.advisories() as advs:
        # refused while the survivor still remembers the old leader (a raft election timeout)
        while any(
            isinstance(r, errors.APIError) for r in await sys_js.meta_rescue(quorum_needed=1, timeout=3.0)
        ):
            assert loop.time() < deadline, "the survivor never accepted the rescue"
        rescue = await next_of(advs, UnknownAdvisory, lambda a: a.type.endswith(".meta_rescue"))
    assert rescue.subject == "$JS.EVENT.ADVISORY.SERVER.META_RESCUE"
    assert (rescue.data["server"], rescue.data["prev_quorum"], rescue.data["new_quorum"]) == (
        survivor.name,
        2,
        1,
    )

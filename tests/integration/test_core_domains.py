"""JetStream domains across a leafnode link, against real servers.

`nats_hub_leaf` runs a hub (JetStream domain ``hub``) and a leaf (domain ``leaf``) whose ``APP``
accounts are joined by the leafnode link. A client picks the JetStream it manages with
``domain=`` (``$JS.<domain>.API.``) or an equivalent ``api_prefix=``; with neither it manages the
JetStream of the server it is connected to. Publishing is never prefixed: a message reaches
whichever stream, in either domain, captures its subject, because the ``APP`` subject interest
flows over the link both ways; the PubAck names the domain that stored it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from conftest import JetStreamFactory

import jetstream
from jetstream import AccountInfo, ConsumerConfig, JetStream, PubAck, StoredMessage, errors
from jetstream.testing import HubAndLeaf, NatsServer

pytestmark = pytest.mark.cluster


async def publish_when_reachable(js: JetStream, subject: str, data: bytes) -> PubAck:
    """Publish, retrying while the stream's subject interest is still crossing the link.

    The hub announces a new stream's subscription to the leaf before it answers the create
    request on the same link, so the first attempt normally succeeds; the bounded retry only
    guards against a busy machine reordering nothing we can observe.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5.0
    while True:
        try:
            return await js.publish(subject, data)
        except errors.NoStreamResponseError:
            if loop.time() >= deadline:
                raise
            await asyncio.sleep(0.05)


async def connection_count(server: NatsServer) -> int:
    connz = await server.monitor("/connz")
    assert isinstance(connz, dict)
    return int(connz["num_connections"])


# ---------------------------------------------------------------------------- which JetStream


async def test_account_info_reports_the_domain_each_client_reaches(
    nats_hub_leaf: HubAndLeaf, js_factory: JetStreamFactory
) -> None:
    leaf, hub = nats_hub_leaf.leaf_url, nats_hub_leaf.hub_url
    cases: list[tuple[str, dict[str, str], str, str]] = [
        # (connected to, options, expected API prefix, expected domain)
        (leaf, {}, "$JS.API.", "leaf"),
        (leaf, {"domain": "leaf"}, "$JS.leaf.API.", "leaf"),
        (leaf, {"domain": "hub"}, "$JS.hub.API.", "hub"),
        (leaf, {"api_prefix": "$JS.hub.API"}, "$JS.hub.API.", "hub"),
        (hub, {}, "$JS.API.", "hub"),
        (hub, {"domain": "hub"}, "$JS.hub.API.", "hub"),
        # The link works both ways: the hub reaches the leaf's JetStream too.
        (hub, {"domain": "leaf"}, "$JS.leaf.API.", "leaf"),
    ]
    for url, options, prefix, domain in cases:
        js = await js_factory(url, **options)
        assert js.api_prefix == prefix
        info = await js.account_info()
        assert isinstance(info, AccountInfo)
        assert info.domain == domain, (url, options)


async def test_leaf_client_manages_hub_streams_with_domain_hub(
    nats_hub_leaf: HubAndLeaf, js_factory: JetStreamFactory
) -> None:
    to_hub = await js_factory(nats_hub_leaf.leaf_url, domain="hub")
    local = await js_factory(nats_hub_leaf.leaf_url)
    on_hub = await js_factory(nats_hub_leaf.hub_url)

    created = await to_hub.stream_create("ORDERS", subjects=["orders.>"])

    assert created.config.name == "ORDERS"
    assert created.config.subjects == ["orders.>"]
    # It lives in the hub's JetStream, not in the leaf's.
    assert await on_hub.stream_names() == ["ORDERS"]
    assert await local.stream_names() == []
    assert await to_hub.stream_names() == ["ORDERS"]
    assert [s.config.name for s in await to_hub.stream_list()] == ["ORDERS"]
    info = await to_hub.stream_info("ORDERS")
    assert info.domain == "hub"
    assert info.cluster is not None and info.cluster.leader == nats_hub_leaf.hub.name
    assert (await to_hub.account_info()).streams == 1
    assert (await local.account_info()).streams == 0

    deleted = await to_hub.stream_delete("ORDERS")

    assert deleted.success is True
    assert await on_hub.stream_names() == []
    with pytest.raises(errors.StreamNotFoundError):
        await to_hub.stream_info("ORDERS")


async def test_publish_from_the_leaf_is_stored_in_the_hub(
    nats_hub_leaf: HubAndLeaf, js_factory: JetStreamFactory
) -> None:
    to_hub = await js_factory(nats_hub_leaf.leaf_url, domain="hub")
    plain = await js_factory(nats_hub_leaf.leaf_url)
    on_hub = await js_factory(nats_hub_leaf.hub_url)
    await to_hub.stream_create("ORDERS", subjects=["orders.>"])

    # Publishing is not domain-prefixed: the subject itself crosses the link to the hub stream.
    ack = await publish_when_reachable(plain, "orders.new", b"from the leaf")
    ack_via_domain_client = await to_hub.publish("orders.new", b"again", msg_id="m-2")

    assert isinstance(ack, PubAck)
    assert (ack.stream, ack.seq, ack.domain) == ("ORDERS", 1, "hub")
    assert (ack_via_domain_client.seq, ack_via_domain_client.domain) == (2, "hub")
    stored = await on_hub.stream_msg_get("ORDERS", seq=1)
    assert isinstance(stored, StoredMessage)
    assert (stored.subject, stored.data) == ("orders.new", b"from the leaf")
    assert (await to_hub.stream_info("ORDERS")).state.messages == 2
    # The leaf's own JetStream stored nothing.
    assert (await plain.account_info()).storage == 0


async def test_leaf_client_manages_its_own_domain(
    nats_hub_leaf: HubAndLeaf, js_factory: JetStreamFactory
) -> None:
    to_leaf = await js_factory(nats_hub_leaf.leaf_url, domain="leaf")
    plain = await js_factory(nats_hub_leaf.leaf_url)
    on_hub = await js_factory(nats_hub_leaf.hub_url)

    await to_leaf.stream_create("LOCAL", subjects=["local.>"])

    assert await plain.stream_names() == ["LOCAL"]
    assert await on_hub.stream_names() == []
    assert (await plain.stream_info("LOCAL")).domain == "leaf"
    ack = await plain.publish("local.reading", b"21.5")
    assert (ack.stream, ack.seq, ack.domain) == ("LOCAL", 1, "leaf")
    # A hub client's publish reaches the leaf's stream through the same link.
    from_hub = await publish_when_reachable(on_hub, "local.reading", b"22.0")
    assert (from_hub.stream, from_hub.seq, from_hub.domain) == ("LOCAL", 2, "leaf")
    assert (await to_leaf.stream_info("LOCAL")).state.messages == 2


async def test_same_stream_name_in_both_domains_is_two_streams(
    nats_hub_leaf: HubAndLeaf, js_factory: JetStreamFactory
) -> None:
    to_hub = await js_factory(nats_hub_leaf.leaf_url, domain="hub")
    to_leaf = await js_factory(nats_hub_leaf.leaf_url, domain="leaf")
    await to_hub.stream_create("EVENTS", subjects=["hub.events.>"])
    await to_leaf.stream_create("EVENTS", subjects=["leaf.events.>"])
    await publish_when_reachable(to_leaf, "hub.events.a", b"h")
    await to_leaf.publish("leaf.events.a", b"l1")
    await to_leaf.publish("leaf.events.b", b"l2")

    hub_info, leaf_info = await to_hub.stream_info("EVENTS"), await to_leaf.stream_info("EVENTS")

    assert (hub_info.domain, hub_info.config.subjects, hub_info.state.messages) == (
        "hub",
        ["hub.events.>"],
        1,
    )
    assert (leaf_info.domain, leaf_info.config.subjects, leaf_info.state.messages) == (
        "leaf",
        ["leaf.events.>"],
        2,
    )
    purged = await to_leaf.stream_purge("EVENTS")
    assert purged.purged == 2
    assert (await to_hub.stream_info("EVENTS")).state.messages == 1


async def test_api_prefix_behaves_like_the_domain(
    nats_hub_leaf: HubAndLeaf, js_factory: JetStreamFactory
) -> None:
    by_prefix = await js_factory(nats_hub_leaf.leaf_url, api_prefix="$JS.hub.API")
    by_domain = await js_factory(nats_hub_leaf.leaf_url, domain="hub")
    on_hub = await js_factory(nats_hub_leaf.hub_url)

    await by_prefix.stream_create("ORDERS", subjects=["orders.>"])
    await by_prefix.consumer_create("ORDERS", ConsumerConfig(durable_name="PROCESSOR"))

    assert await on_hub.stream_names() == ["ORDERS"]
    assert await by_domain.consumer_names("ORDERS") == ["PROCESSOR"]
    assert (await by_prefix.stream_info("ORDERS")).domain == "hub"
    with pytest.raises(errors.StreamNameExistError):
        await by_domain.stream_create("ORDERS", subjects=["other.>"])


async def test_consumer_in_the_hub_from_the_leaf(
    nats_hub_leaf: HubAndLeaf, js_factory: JetStreamFactory
) -> None:
    to_hub = await js_factory(nats_hub_leaf.leaf_url, domain="hub")
    on_hub = await js_factory(nats_hub_leaf.hub_url)
    await to_hub.stream_create("ORDERS", subjects=["orders.>"])
    await publish_when_reachable(to_hub, "orders.1", b"x")

    created = await to_hub.consumer_create("ORDERS", ConsumerConfig(durable_name="PROCESSOR"))

    assert created.name == "PROCESSOR"
    info = await on_hub.consumer_info("ORDERS", "PROCESSOR")
    assert (info.stream_name, info.num_pending) == ("ORDERS", 1)
    assert (await to_hub.consumer_delete("ORDERS", "PROCESSOR")).success is True
    assert await on_hub.consumer_names("ORDERS") == []


async def test_leaf_client_pulls_from_a_hub_consumer(
    nats_hub_leaf: HubAndLeaf, js_factory: JetStreamFactory
) -> None:
    to_hub = await js_factory(nats_hub_leaf.leaf_url, domain="hub")
    await to_hub.stream_create("ORDERS", subjects=["orders.>"])
    await publish_when_reachable(to_hub, "orders.1", b"pulled across the link")
    await to_hub.consumer_create("ORDERS", ConsumerConfig(durable_name="PROCESSOR"))

    msg = await to_hub.consumer_msg_next("ORDERS", "PROCESSOR", batch=1, timeout=2.0)

    assert (msg.subject, msg.data) == ("orders.1", b"pulled across the link")
    assert msg.reply.startswith("$JS.ACK.ORDERS.PROCESSOR.")
    # Nothing else to pull: the hub answers with a typed 404 status, across the link as well.
    with pytest.raises(errors.NoMessageFoundError):
        await to_hub.consumer_msg_next("ORDERS", "PROCESSOR", batch=1, no_wait=True, timeout=2.0)
    info = await to_hub.consumer_info("ORDERS", "PROCESSOR")
    assert (info.num_pending, info.num_ack_pending) == (0, 1)


# ------------------------------------------------------------------------------------- errors


async def test_unknown_domain_fails_fast_as_not_enabled(
    nats_hub_leaf: HubAndLeaf, js_factory: JetStreamFactory
) -> None:
    # Nobody serves $JS.nope.API.>: nats answers "no responders" at once, never a hang.
    nowhere = await js_factory(nats_hub_leaf.leaf_url, domain="nope", timeout=10.0)
    bad_prefix = await js_factory(nats_hub_leaf.leaf_url, api_prefix="$JS.nope.API", timeout=10.0)
    from_hub = await js_factory(nats_hub_leaf.hub_url, domain="nope", timeout=10.0)

    calls: list[tuple[Callable[[], Awaitable[object]], str]] = [
        (nowhere.account_info, "$JS.nope.API.INFO"),
        (lambda: nowhere.stream_create("ORDERS", subjects=["orders.>"]), "$JS.nope.API.STREAM.CREATE.ORDERS"),
        (bad_prefix.stream_names, "$JS.nope.API.STREAM.NAMES"),
        (from_hub.account_info, "$JS.nope.API.INFO"),
    ]
    for call, subject in calls:
        started = time.monotonic()
        with pytest.raises(errors.JetStreamNotEnabledError) as exc:
            await call()
        assert exc.value.subject == subject
        assert time.monotonic() - started < 2.0


async def test_domain_stream_errors_are_typed(
    nats_hub_leaf: HubAndLeaf, js_factory: JetStreamFactory
) -> None:
    to_hub = await js_factory(nats_hub_leaf.leaf_url, domain="hub")
    to_leaf = await js_factory(nats_hub_leaf.leaf_url, domain="leaf")
    await to_leaf.stream_create("LOCAL", subjects=["local.>"])

    # A stream of the other domain is simply not there.
    with pytest.raises(errors.StreamNotFoundError) as missing:
        await to_hub.stream_info("LOCAL")
    assert (missing.value.code, missing.value.err_code) == (404, 10059)
    # Clustering endpoints answer from the (single-server) hub, not the leaf.
    with pytest.raises(errors.ClusterRequiredError):
        await to_hub.stream_leader_stepdown("LOCAL")


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({"domain": "hub", "api_prefix": "$JS.hub.API"}, id="domain-and-prefix"),
        pytest.param({"domain": "bad.domain"}, id="invalid-domain"),
        pytest.param({"api_prefix": "$JS.*.API"}, id="wildcard-prefix"),
    ],
)
async def test_invalid_domain_options_fail_before_connecting(
    nats_hub_leaf: HubAndLeaf, options: dict[str, Any]
) -> None:
    hub = nats_hub_leaf.hub
    before = await connection_count(hub)
    with pytest.raises(errors.InvalidArgumentError):
        await jetstream.connect(nats_hub_leaf.hub_url, **options)
    # Refused before a connection was opened, so none is left behind.
    await asyncio.sleep(0.1)
    assert await connection_count(hub) == before

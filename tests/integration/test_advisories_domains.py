"""js.advisories() across JetStream domains (hub and leaf sharing an account over a leaf node): events
come on the account's own subjects, from both domains; a domain passes over the other's."""

from __future__ import annotations

import asyncio

from conftest import JetStreamFactory

from jetstream import JetStream
from jetstream.advisories import Advisories, StreamActionAdvisory
from jetstream.testing import HubAndLeaf

WAIT = 10.0


async def names_until(advs: Advisories, last: str) -> list[str]:
    """The streams of the create events up to the one of ``last`` (probe streams left out)."""

    async def collect() -> list[str]:
        names: list[str] = []
        async for adv in advs:
            if isinstance(adv, StreamActionAdvisory) and adv.action == "create" and adv.stream != "PROBE":
                names.append(adv.stream)
                if adv.stream == last:
                    return names
        raise AssertionError("ended early")

    return await asyncio.wait_for(collect(), WAIT)


async def heard_from_the_hub(to_hub: JetStream, advs: Advisories) -> None:
    """Wait until the hub's events reach the leaf: the subscriptions' interest crosses the leaf node
    on its own time. Each probe update sends one event; bounded."""
    await to_hub.stream_create("PROBE", subjects=["probe"], storage="memory")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT

    async def probe_event() -> None:
        async for adv in advs:
            if isinstance(adv, StreamActionAdvisory) and adv.stream == "PROBE" and adv.action == "modify":
                return

    while True:
        await to_hub.stream_update(
            "PROBE", subjects=["probe"], storage="memory", description=str(loop.time())
        )
        try:
            await asyncio.wait_for(probe_event(), 0.5)
            return
        except asyncio.TimeoutError:
            assert loop.time() < deadline, "the hub's advisories never reached the leaf"


async def test_a_domain_passes_over_the_events_of_the_other(
    nats_hub_leaf: HubAndLeaf, js_factory: JetStreamFactory
) -> None:
    local = await js_factory(nats_hub_leaf.leaf_url)
    to_hub = JetStream(local.nc, domain="hub")  # one connection: one interest over the leaf node
    kinds = [StreamActionAdvisory]
    async with (
        local.advisories(kinds) as every_domain,
        to_hub.advisories(kinds) as hub_only,  # the client's domain by default
        local.advisories(kinds, domain="leaf") as leaf_only,
    ):
        await heard_from_the_hub(to_hub, every_domain)
        await to_hub.stream_create("H1", subjects=["h1"], storage="memory")
        await local.stream_create("L1", subjects=["l1"], storage="memory")
        await to_hub.stream_create("H2", subjects=["h2"], storage="memory")
        await local.stream_create("L2", subjects=["l2"], storage="memory")
        assert await names_until(hub_only, "H2") == ["H1", "H2"]
        assert await names_until(leaf_only, "L2") == ["L1", "L2"]
        seen = set(await names_until(every_domain, "L2"))
        if "H2" not in seen:  # the hub's events may come after the leaf's
            seen |= set(await names_until(every_domain, "H2"))
    assert seen == {"H1", "L1", "H2", "L2"}
    assert hub_only.domain == "hub" and every_domain.domain is None

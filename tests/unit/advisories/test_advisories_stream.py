"""The iterator of js.advisories() over the in-memory connection: buffering, the domain filter,
what ends it."""

from __future__ import annotations

import asyncio
import contextlib
import gc

import pytest
from unit_support import settle

from jetstream import FakeConnection, JetStream, errors
from jetstream.advisories import Advisories, ConsumerActionAdvisory, UnknownAdvisory

SUBJECT = "$JS.EVENT.ADVISORY.CONSUMER.CREATED.S.C"


def created(consumer: str, domain: str | None = None) -> bytes:
    extra = f',"domain":"{domain}"' if domain else ""
    return (
        b'{"type":"io.nats.jetstream.advisory.v1.consumer_action","id":"i","timestamp":"2026-12-03T13:23:34Z",'
        b'"stream":"S","consumer":"%s","action":"create"%s}' % (consumer.encode(), extra.encode())
    )


async def read(advs: Advisories, n: int) -> list[str]:
    out: list[str] = []
    for _ in range(n):
        adv = await asyncio.wait_for(advs.__anext__(), 5)
        out.append((adv.consumer or "") if isinstance(adv, ConsumerActionAdvisory) else adv.type)
    return out


async def test_events_beyond_max_buffered_are_dropped_and_counted() -> None:
    conn = FakeConnection()
    js = JetStream(transport=conn)
    async with js.advisories(max_buffered=2) as advs:
        for name in ("a", "b", "c"):
            await conn.publish(SUBJECT, created(name))
        await conn.publish(SUBJECT, b"not json")
        await settle(lambda: advs.dropped == 1 and advs.skipped == 1)
        assert await read(advs, 2) == ["a", "b"]
        await conn.publish(SUBJECT, created("d"))
        assert await read(advs, 1) == ["d"]
    assert (advs.dropped, advs.skipped) == (1, 1)


async def test_the_domain_filter_keeps_its_domain_and_events_without_one() -> None:
    conn = FakeConnection()
    hub = JetStream(transport=conn, domain="hub")
    async with hub.advisories() as advs, hub.advisories(domain=None) as every:
        assert advs.domain == "hub" and every.domain is None
        await conn.publish(SUBJECT, created("leaf-1", "leaf"))
        await conn.publish(SUBJECT, created("hub-1", "hub"))
        await conn.publish(SUBJECT, created("none"))
        await conn.publish("$JS.EVENT.ADVISORY.X", b'{"type":"x.y","domain":"leaf"}')
        await conn.publish("$JS.EVENT.ADVISORY.X", b'{"type":"x.z","domain":"hub"}')
        assert await read(advs, 3) == ["hub-1", "none", "x.z"]
        assert await read(every, 5) == ["leaf-1", "hub-1", "none", "x.y", "x.z"]
    with pytest.raises(errors.InvalidNameError):
        hub.advisories(domain="a b")


async def test_a_closed_connection_ends_it_and_a_refusal_raises() -> None:
    conn = FakeConnection()
    js = JetStream(transport=conn)
    advs = js.advisories(["consumer_action"])
    async with advs:
        conn.deny("subscribe", "$JS.EVENT.ADVISORY.CONSUMER.DELETED.*.*")
        with pytest.raises(errors.PermissionDeniedError):
            await read(advs, 1)
    with pytest.raises(errors.ConnectionClosedError):
        await advs.start()  # closed for good
    async with js.advisories() as other:
        await conn.publish(SUBJECT, created("a"))
        await conn.close()
        # what arrived before the close may still be read; then it ends
        assert [a.consumer async for a in other if isinstance(a, ConsumerActionAdvisory)] in ([], ["a"])
    assert repr(other).startswith("<Advisories closed")


async def test_unknown_kinds_pass_through() -> None:
    conn = FakeConnection()
    js = JetStream(transport=conn)
    async with js.advisories() as advs:
        await conn.publish(
            "$JS.EVENT.ADVISORY.SERVER.META_RESCUE", b'{"type":"io.nats.jetstream.advisory.v1.meta_rescue"}'
        )
        adv = await asyncio.wait_for(advs.__anext__(), 5)
    assert isinstance(adv, UnknownAdvisory) and adv.subject == "$JS.EVENT.ADVISORY.SERVER.META_RESCUE"


async def test_an_iterator_dropped_without_aclose_unsubscribes() -> None:
    served: list[str] = []

    def handler(subject: str, payload: bytes, headers: object) -> bytes:
        served.append(subject)  # reached only by a request that no subscription takes
        return b""

    conn = FakeConnection(handler)
    advs = JetStream(transport=conn).advisories()
    await advs.start()
    del advs
    gc.collect()
    # the finalizer unsubscribes in the background; then a request on the subject finds nobody
    for _ in range(10):
        await conn.publish(SUBJECT, created("a"), reply="_INBOX.x")
        with contextlib.suppress(AssertionError):
            await settle(lambda: bool(served))
            break
    assert served and set(served) == {SUBJECT}

"""Subject permissions and account isolation against real nats-server processes.

Contract (DESIGN.md, errors): when the server refuses a publish or a subscribe, the call that used
that subject raises `errors.PermissionDeniedError` (``.operation``, ``.subject``) as soon as the
server says so - well under a second, not after the request timeout - and the connection stays
usable. A user who may not subscribe to ``_INBOX.>`` gets a "subscribe" denial naming
``inbox_prefix=`` as the remedy, and works with an allowed ``inbox_prefix``. Accounts are isolated.

Every denial prints its time to error (``pytest -s``): ``[time-to-error] <case>: <ms>``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
import pytest_asyncio

import jetstream
from jetstream import JetStream, errors
from jetstream.testing import Account, NatsServer, Permissions, User
from jetstream.testing.pytest_plugin import NatsServerFactory

pytestmark = pytest.mark.asyncio

#: The contract: the denial arrives as soon as the server refuses ("well under 1 s").
FAST = 1.0
#: A call still running after this long fails the test here, not at the pytest timeout.
HANG_GUARD = 15.0

ADMIN = ("admin", "admin-pw-0001")
LIMITED = ("limited", "limited-pw-0001")
NO_INBOX = ("noinbox", "noinbox-pw-0001")
MY_INBOX = "_MY.INBOX"

DENIED_PUBLISH = [
    "$JS.API.STREAM.DELETE.>",
    "$JS.API.STREAM.PURGE.>",
    "$JS.API.CONSUMER.DELETE.>",
    "denied.>",
    "$KV.locked.>",
]


# ------------------------------------------------------------------------- helpers


def report(case: str, elapsed: float) -> None:
    print(f"\n[time-to-error] {case}: {elapsed * 1000:.1f} ms")


@asynccontextmanager
async def connected(
    server: NatsServer, credentials: tuple[str, str], **options: Any
) -> AsyncIterator[JetStream]:
    user, password = credentials
    js = await asyncio.wait_for(
        jetstream.connect(server.url, user=user, password=password, **options), HANG_GUARD
    )
    try:
        yield js
    finally:
        await asyncio.wait_for(js.close(), HANG_GUARD)


async def expect_denied(
    case: str, call: Awaitable[Any], *, operation: str, subject: str | None = None
) -> errors.PermissionDeniedError:
    """Await ``call``; it must raise PermissionDeniedError for ``operation`` (and ``subject``) fast."""
    start = time.perf_counter()
    with pytest.raises(errors.PermissionDeniedError) as info:
        await asyncio.wait_for(call, HANG_GUARD)
    elapsed = time.perf_counter() - start
    report(case, elapsed)
    exc = info.value
    assert isinstance(exc, errors.JetStreamError)
    assert exc.operation == operation, exc
    if subject is not None:
        assert exc.subject == subject, exc
    assert elapsed < FAST, f"{case}: {elapsed:.3f}s to error (contract: well under {FAST}s)"
    return exc


async def still_works(js: JetStream) -> None:
    """Other calls on the same connection keep working."""
    await js.account_info()
    assert (await js.stream_info("P")).config.name == "P"
    assert (await js.publish("p.ok", b"fine")).stream == "P"


async def message_count(js: JetStream, stream: str) -> int:
    return (await js.stream_info(stream)).state.messages


@pytest_asyncio.fixture
async def server(nats_server_factory: NatsServerFactory) -> NatsServer:
    return await nats_server_factory(
        users=[
            User(*ADMIN),
            User(*LIMITED, Permissions(publish_deny=DENIED_PUBLISH)),
            # allow-list: _INBOX.> is not allowed, _MY.INBOX.> is
            User(*NO_INBOX, Permissions(subscribe_allow=[f"{MY_INBOX}.>"])),
        ]
    )


@pytest_asyncio.fixture
async def admin(server: NatsServer) -> AsyncIterator[JetStream]:
    """Sets up stream P (3 messages) with consumer C, and bucket "locked" (key k = b"v0")."""
    async with connected(server, ADMIN) as js:
        await js.stream_create("P", subjects=["p.>", "denied.>"])
        for n in range(3):
            await js.publish("p.setup", str(n).encode())
        await js.consumer_create("P", "C")
        kv = await js.create_key_value("locked")
        await kv.put("k", b"v0")
        yield js


@pytest_asyncio.fixture
async def limited(server: NatsServer, admin: JetStream) -> AsyncIterator[JetStream]:
    async with connected(server, LIMITED) as js:
        yield js


# ---------------------------------------------------------------- denied publish


async def test_stream_delete_denied(limited: JetStream, admin: JetStream) -> None:
    await expect_denied(
        "publish denied: stream_delete",
        limited.stream_delete("P"),
        operation="publish",
        subject="$JS.API.STREAM.DELETE.P",
    )
    await still_works(limited)
    assert await message_count(admin, "P") == 4  # not deleted (3 + the still_works publish)


async def test_stream_purge_denied(limited: JetStream, admin: JetStream) -> None:
    await expect_denied(
        "publish denied: stream_purge",
        limited.stream_purge("P"),
        operation="publish",
        subject="$JS.API.STREAM.PURGE.P",
    )
    await still_works(limited)
    assert await message_count(admin, "P") == 4  # nothing purged


async def test_consumer_delete_denied(limited: JetStream, admin: JetStream) -> None:
    await expect_denied(
        "publish denied: consumer_delete",
        limited.consumer_delete("P", "C"),
        operation="publish",
        subject="$JS.API.CONSUMER.DELETE.P.C",
    )
    await still_works(limited)
    assert (await admin.consumer_info("P", "C")).name == "C"


async def test_publish_denied(limited: JetStream, admin: JetStream) -> None:
    await expect_denied(
        "publish denied: js.publish",
        limited.publish("denied.x", b"1"),
        operation="publish",
        subject="denied.x",
    )
    await still_works(limited)
    assert await message_count(admin, "P") == 4  # only the allowed publish was stored


async def test_publish_async_denied(limited: JetStream, admin: JetStream) -> None:
    async def publish_and_wait() -> Any:
        future = await limited.publish_async("denied.y", b"1")
        return await future

    await expect_denied(
        "publish denied: js.publish_async (future)",
        publish_and_wait(),
        operation="publish",
        subject="denied.y",
    )
    ack = await asyncio.wait_for(await limited.publish_async("p.async", b"ok"), HANG_GUARD)
    assert ack.stream == "P"
    await still_works(limited)
    assert await message_count(admin, "P") == 5


async def test_kv_put_denied(limited: JetStream) -> None:
    kv = await limited.key_value("locked")
    await expect_denied(
        "publish denied: kv.put", kv.put("k", b"v1"), operation="publish", subject="$KV.locked.k"
    )
    entry = await kv.get("k")  # reading is allowed, the value is unchanged
    assert entry.value == b"v0"
    await still_works(limited)


async def test_denial_with_a_user_error_callback(server: NatsServer, admin: JetStream) -> None:
    """A caller's own nats-py error_cb does not stop the call from raising the denial."""
    seen: list[Exception] = []

    async def error_cb(exc: Exception) -> None:
        seen.append(exc)

    async with connected(server, LIMITED, error_cb=error_cb) as js:
        await expect_denied(
            "publish denied: stream_delete, user error_cb",
            js.stream_delete("P"),
            operation="publish",
            subject="$JS.API.STREAM.DELETE.P",
        )
        await still_works(js)


async def test_repeated_denials_keep_the_connection_usable(limited: JetStream) -> None:
    calls: list[Callable[[], Awaitable[Any]]] = [
        lambda: limited.stream_delete("P"),
        lambda: limited.stream_purge("P"),
        lambda: limited.consumer_delete("P", "C"),
        lambda: limited.publish("denied.z", b""),
    ]
    start = time.perf_counter()
    for _ in range(5):
        for call in calls:
            with pytest.raises(errors.PermissionDeniedError):
                await asyncio.wait_for(call(), HANG_GUARD)
        await still_works(limited)
    report("20 denials + 5 rounds of allowed calls (total)", time.perf_counter() - start)
    assert limited.nc is not None and limited.nc.is_connected


async def test_denial_only_fails_the_call_that_used_the_subject(limited: JetStream) -> None:
    """Allowed calls in flight at the same time as a denied one all succeed."""
    results = await asyncio.wait_for(
        asyncio.gather(
            limited.stream_info("P"),
            limited.stream_delete("P"),
            limited.publish("p.concurrent", b"1"),
            limited.account_info(),
            limited.consumer_info("P", "C"),
            limited.publish("denied.concurrent", b"1"),
            limited.stream_names(),
            return_exceptions=True,
        ),
        HANG_GUARD,
    )
    failed = {i: r for i, r in enumerate(results) if isinstance(r, BaseException)}
    assert set(failed) == {1, 5}, {i: repr(r) for i, r in failed.items()}
    assert isinstance(failed[1], errors.PermissionDeniedError)
    assert failed[1].subject == "$JS.API.STREAM.DELETE.P"
    assert isinstance(failed[5], errors.PermissionDeniedError)
    assert failed[5].subject == "denied.concurrent"


# ------------------------------------------------------------------ inbox prefix


async def test_inbox_subscribe_denied_names_the_remedy(server: NatsServer, admin: JetStream) -> None:
    async with connected(server, NO_INBOX) as js:
        calls: list[tuple[str, Callable[[], Awaitable[Any]]]] = [
            ("account_info", js.account_info),
            ("stream_info", lambda: js.stream_info("P")),
            ("stream_names", js.stream_names),
            ("js.publish", lambda: js.publish("p.x", b"1")),
            ("account_info again", js.account_info),
        ]
        for name, call in calls:
            exc = await expect_denied(f"subscribe denied (_INBOX.>): {name}", call(), operation="subscribe")
            assert exc.subject.startswith("_INBOX."), exc.subject
            assert "inbox_prefix=" in str(exc), str(exc)


async def test_allowed_inbox_prefix_works(server: NatsServer, admin: JetStream) -> None:
    async with connected(server, NO_INBOX, inbox_prefix=MY_INBOX) as js:
        await js.account_info()
        assert "P" in await js.stream_names()
        await js.stream_create("MINE", subjects=["mine.>"])
        assert (await js.publish("mine.x", b"1")).seq == 1
        await asyncio.wait_for(await js.publish_async("mine.y", b"2"), HANG_GUARD)
        await js.consumer_create("MINE", "reader")
        consumer = await js.consumer("MINE", "reader")
        msg = await consumer.next(timeout=5)
        assert msg.data == b"1"
        await msg.ack_sync()
        kv = await js.create_key_value("mine")
        await kv.put("a", b"1")
        assert (await kv.get("a")).value == b"1"


# ------------------------------------------------------------ account isolation


async def test_two_accounts_are_isolated(nats_server_factory: NatsServerFactory) -> None:
    server = await nats_server_factory(
        accounts=[Account("A", [User("alice", "alice-pw-01")]), Account("B", [User("bob", "bob-pw-0001")])]
    )
    async with (
        connected(server, ("alice", "alice-pw-01")) as a,
        connected(server, ("bob", "bob-pw-0001")) as b,
    ):
        await a.stream_create("ORDERS", subjects=["orders.>"])
        await a.publish("orders.1", b"from A")
        kv = await a.create_key_value("cfg")
        await kv.put("k", b"A")

        # B sees none of A's streams or buckets ...
        assert await b.stream_names() == []
        with pytest.raises(errors.StreamNotFoundError):
            await b.stream_info("ORDERS")
        with pytest.raises(errors.BucketNotFoundError):
            await b.key_value("cfg")
        with pytest.raises(errors.NoStreamResponseError):
            await b.publish("orders.2", b"from B")  # no stream of B captures it

        # ... and the same names in B are B's own.
        await b.stream_create("ORDERS", subjects=["orders.>"])
        assert (await b.publish("orders.3", b"from B")).seq == 1
        assert (await a.stream_info("ORDERS")).state.messages == 1
        assert (await b.stream_info("ORDERS")).state.messages == 1
        assert (await a.stream_msg_get("ORDERS", seq=1)).data == b"from A"
        assert (await b.stream_msg_get("ORDERS", seq=1)).data == b"from B"
        assert (await a.account_info()).streams == 2  # ORDERS and KV_cfg
        assert (await b.account_info()).streams == 1

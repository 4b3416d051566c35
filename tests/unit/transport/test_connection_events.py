"""The connection-state hub and what listens to it, over the in-memory `FakeConnection`: the reply
router, pulls and the publish window fail at once on a permission violation or a close, instead of
at their timeout; the permission text of the server is parsed into a typed error."""

from __future__ import annotations

import asyncio

import pytest
from unit_support import CONSUMER_CREATE_DURABLE

from jetstream import Consumer, JetStream, errors
from jetstream._transport import (
    FakeConnection,
    LinkClosed,
    PermissionDenied,
    ReplyRouter,
    ServerError,
    parse_permission,
    status_msg,
)


async def pending(router: ReplyRouter, n: int = 1) -> None:
    """Wait until ``n`` requests are registered (a condition, not a guess at scheduling)."""
    for _ in range(1000):
        if len(router._pending) >= n:
            return
        await asyncio.sleep(0.001)
    raise AssertionError("the requests never got registered")


def silent(subject: str, payload: bytes, headers: object) -> bytes:
    raise errors.TimeoutError(subject, None)  # the fake server never answers


@pytest.mark.parametrize(
    ("text", "operation", "subject"),
    [
        (
            'nats: Permissions Violation for Publish to "$JS.API.STREAM.DELETE.P"',
            "publish",
            "$JS.API.STREAM.DELETE.P",
        ),
        ("nats: 'Permissions Violation for Subscription to \"_INBOX.>\"'", "subscribe", "_INBOX.>"),
        ('Permissions Violation for Publish with Reply of "_INBOX.x.1"', "reply", "_INBOX.x.1"),
    ],
)
def test_permission_violations_are_parsed(text: str, operation: str, subject: str) -> None:
    error = parse_permission(text)
    assert error is not None
    assert (error.operation, error.subject) == (operation, subject)
    assert isinstance(error, errors.JetStreamError)


def test_other_server_errors_are_not_permission_errors() -> None:
    assert parse_permission("nats: 'Maximum Payload Violation'") is None
    conn = FakeConnection()
    seen: list[object] = []
    conn.hub.on_event(seen.append)
    conn.hub.server_error("nats: 'Slow Consumer'")
    conn.hub.server_error('nats: Permissions Violation for Publish to "a.b"')
    assert isinstance(seen[0], ServerError)
    assert isinstance(seen[1], PermissionDenied)


async def test_a_denied_request_fails_at_once_and_others_keep_waiting() -> None:
    conn = FakeConnection(silent)
    router = ReplyRouter(conn)
    loop = asyncio.get_running_loop()
    denied = asyncio.ensure_future(router.request("$JS.API.STREAM.DELETE.P", b"", 30, None))
    other = asyncio.ensure_future(router.request("$JS.API.STREAM.INFO.P", b"", 30, None))
    await pending(router, 2)
    started = loop.time()
    conn.deny("publish", "$JS.API.STREAM.DELETE.P")
    with pytest.raises(errors.PermissionDeniedError) as info:
        await asyncio.wait_for(denied, 1)
    assert loop.time() - started < 0.5
    assert (info.value.operation, info.value.subject) == ("publish", "$JS.API.STREAM.DELETE.P")
    assert not other.done()
    other.cancel()


async def test_a_denied_reply_inbox_fails_every_call_naming_inbox_prefix() -> None:
    conn = FakeConnection(silent)
    router = ReplyRouter(conn)
    waiting = asyncio.ensure_future(router.request("$JS.API.INFO", b"", 30, None))
    await pending(router)
    inbox = router._subject
    conn.deny("subscribe", inbox)
    with pytest.raises(errors.PermissionDeniedError, match="inbox_prefix=") as info:
        await asyncio.wait_for(waiting, 1)
    assert info.value.operation == "subscribe"
    with pytest.raises(errors.PermissionDeniedError, match="inbox_prefix="):
        await router.request("$JS.API.INFO", b"", 30, None)  # later calls fail at once too
    conn.reconnect()  # a reconnect subscribes again: the server decides anew
    later = asyncio.ensure_future(router.request("$JS.API.INFO", b"", 0.05, None))
    with pytest.raises(errors.TimeoutError):
        await later


async def test_a_close_fails_waiting_requests_at_once() -> None:
    conn = FakeConnection(silent)
    router = ReplyRouter(conn)
    waiting = asyncio.ensure_future(router.request("x.y", b"", None, None))
    await pending(router)
    await conn.close()
    with pytest.raises(errors.ConnectionClosedError):
        await asyncio.wait_for(waiting, 1)


async def test_replies_reach_their_request_and_status_replies_are_typed() -> None:
    def server(subject: str, payload: bytes, headers: object) -> bytes:
        return b"re:" + payload

    conn = FakeConnection(server)
    router = ReplyRouter(conn)
    replies = await asyncio.gather(*(router.request("echo", b"%d" % i, 1, None) for i in range(50)))
    assert [r.data for r in replies] == [b"re:%d" % i for i in range(50)]
    assert not router._pending


# The pull subject (ADR-13) of the consumer in CONSUMER_CREATE_DURABLE.
NEXT = "$JS.API.CONSUMER.MSG.NEXT.MIN.D2"


def consumer_info_only(subject: str, payload: bytes, headers: object) -> bytes:
    """A server that knows consumer MIN/D2 and never answers anything else (a pull waits)."""
    if subject == "$JS.API.CONSUMER.INFO.MIN.D2":
        return CONSUMER_CREATE_DURABLE
    raise errors.TimeoutError(subject, None)


async def _consumer() -> tuple[FakeConnection, Consumer]:
    conn = FakeConnection(consumer_info_only)
    return conn, await JetStream(transport=conn).consumer("MIN", "D2")


async def test_a_fetch_whose_pull_is_denied_ends_with_the_permission_error() -> None:
    conn, consumer = await _consumer()
    conn.deny("publish", NEXT)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(errors.PermissionDeniedError) as info:
        async for _ in consumer.fetch(5, expires=30):
            pass
    assert loop.time() - started < 1
    assert info.value.subject == NEXT


async def test_messages_whose_pull_is_denied_ends_with_the_permission_error() -> None:
    conn, consumer = await _consumer()
    conn.deny("publish", NEXT)
    with pytest.raises(errors.PermissionDeniedError):
        async with consumer.messages(expires=30) as stream:
            await asyncio.wait_for(stream.__anext__(), 2)


async def test_a_stored_status_header_is_data_but_a_status_line_is_a_status() -> None:
    """The fake delivers what a real connection's parser does: `status_msg` carries a status line."""
    from jetstream._consume._status import Kind, classify
    from jetstream._transport import FakeMsg

    assert classify(status_msg("_INBOX.x", 409, "Consumer Deleted")) is Kind.DELETED
    forged = FakeMsg(
        "s.a", b"", "$JS.ACK.S.C.1.1.1.1.0", {"Status": "409", "Description": "Consumer Deleted"}
    )
    assert classify(forged) is Kind.USER
    line_with_reply = status_msg("s.a", 409, "Consumer Deleted")
    line_with_reply = FakeMsg(line_with_reply.subject, b"", "$JS.ACK.S.C.1.1.1.1.0", line_with_reply.headers)
    assert classify(line_with_reply) is Kind.USER  # a delivered message always has its ack reply
    assert classify(status_msg("_INBOX.x", 100)) is Kind.HEARTBEAT


async def test_hub_events_reach_listeners_and_callbacks() -> None:
    conn = FakeConnection()
    seen: list[str] = []

    class Listener:
        def connection_event(self, event: object) -> None:
            seen.append(type(event).__name__)

    listener = Listener()
    conn.hub.add(listener)
    stop = conn.hub.on_event(lambda e: seen.append("cb:" + type(e).__name__))
    conn.disconnect()
    conn.reconnect()
    stop()
    await conn.close()
    assert seen == [
        "cb:LinkDisconnected",
        "LinkDisconnected",
        "cb:LinkReconnected",
        "LinkReconnected",
        "LinkClosed",
    ]
    assert conn.hub.closed and conn.hub.generation == 1
    assert isinstance(LinkClosed(), LinkClosed)


def test_connect_and_permission_errors_survive_pickling() -> None:
    import pickle

    for error in (
        errors.AuthorizationError("cannot connect", servers=("nats://h:4222",)),
        errors.TLSError("tls"),
        errors.ServerUnreachableError("down"),
        errors.NoServersError("none", servers=("nats://a", "nats://b")),
        errors.PermissionDeniedError("subscribe", "_INBOX.x.*", "pass inbox_prefix="),
    ):
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error) and str(copy) == str(error)
        assert isinstance(copy, errors.JetStreamError)
        if isinstance(error, errors.ConnectError):
            assert isinstance(copy, errors.ConnectError) and copy.servers == error.servers
        else:
            assert isinstance(copy, errors.PermissionDeniedError)
            assert (copy.operation, copy.subject, copy.remedy) == (
                error.operation,
                error.subject,
                error.remedy,
            )


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("nats://user:s3cret@127.0.0.1:4222", "nats://127.0.0.1:4222"),
        ("tls://tok3n@host.example:4443", "tls://host.example:4443"),
        ("127.0.0.1:4222", "nats://127.0.0.1:4222"),
        ("nats://[::1]:4222", "nats://[::1]:4222"),
    ],
)
def test_server_urls_are_shown_without_credentials(url: str, shown: str) -> None:
    from jetstream._transport import redact

    assert redact(url) == shown

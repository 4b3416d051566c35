"""One request, many replies (a batched direct get, ADR-31), on the connection's shared reply inbox.

Every such request of a connection goes through one channel of its reply router, and tells its own
replies by the token after the channel's prefix: no subscription per request, no task per reply,
and no wait while replies are buffered. The connection's failures (closed for good, the request
subject refused) come through its hub's events.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncGenerator

from .._exceptions import (
    ConnectionClosedError,
    JetStreamError,
    NoRespondersError,
    PermissionDeniedError,
    TimeoutError,
)
from .._transport import Connection, ConnectionEvent, LinkClosed, Msg, PermissionDenied, Reply, status_of
from ._trace import ClientTrace, Span

__all__ = ["replies"]

_NO_RESPONDERS = "503"


class _Batch:
    """The replies of one request, as the channel hands them over, and how it failed."""

    __slots__ = ("error", "event", "replies")

    def __init__(self) -> None:
        self.replies: list[Reply] = []
        self.event = asyncio.Event()
        self.error: JetStreamError | None = None

    def fail(self, error: JetStreamError) -> None:
        if self.error is None:
            self.error = error
        self.event.set()


class _Channel:
    """A reply channel of one connection's router, shared by the multi-reply requests of that connection."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.waiting: dict[str, _Batch] = {}
        self.next = 0

    def on_msg(self, msg: Msg) -> None:
        batch = self.waiting.get(msg.subject[len(self.prefix) :])
        if batch is not None:
            batch.replies.append(Reply(msg.subject, msg.data, msg.headers, msg.reply, status_of(msg)))
            batch.event.set()


_CHANNELS: weakref.WeakKeyDictionary[object, _Channel] = weakref.WeakKeyDictionary()


async def _channel(conn: Connection) -> _Channel:
    router = conn.router
    channel = _CHANNELS.get(router)
    if channel is None:
        await router.prefix()
        channel = _CHANNELS.get(router)
        if channel is None:
            # The inbox is subscribed now: nothing below gives way to another task, so no second
            # channel is made for the same connection.
            channel = _Channel("")
            channel.prefix, _ = await router.channel(channel.on_msg)
            _CHANNELS[router] = channel
    return channel


async def replies(
    conn: Connection, trace: ClientTrace | None, subject: str, payload: bytes, wait: float | None
) -> AsyncGenerator[Reply, None]:
    """Send one request and yield its replies as they come, until the caller stops: status replies
    (end of batch, 404 ...) are replies the caller interprets, but a first reply 503 is
    `errors.NoRespondersError`. `errors.TimeoutError` when no reply comes within ``wait`` (None: no
    limit), and the connection's failures as they happen. Traced as one request (when ``trace`` is
    given) that ends when the caller stops."""
    channel = await _channel(conn)
    channel.next += 1
    token = str(channel.next)
    batch = channel.waiting[token] = _Batch()

    def on_event(event: ConnectionEvent) -> None:
        if isinstance(event, LinkClosed):
            batch.fail(ConnectionClosedError(f"connection closed while requesting {subject!r}"))
        elif isinstance(event, PermissionDenied) and event.refuses("publish", subject):
            batch.fail(PermissionDeniedError("publish", subject))

    stop_events = conn.hub.on_event(on_event)
    span = None if trace is None else Span(trace, subject, len(payload))
    at = size = 0
    error: BaseException | None = None
    try:
        conn.router.check_usable()
        await conn.publish(subject, payload, channel.prefix + token)
        while True:
            buffered = batch.replies
            if at == 0 and buffered and buffered[0].status == _NO_RESPONDERS:
                raise NoRespondersError(subject)
            while at < len(buffered):
                reply = buffered[at]
                at += 1
                size += len(reply.data)
                yield reply
            if batch.error is not None:
                raise batch.error
            batch.event.clear()
            try:
                await asyncio.wait_for(batch.event.wait(), wait)
            except asyncio.TimeoutError:
                raise TimeoutError(subject, wait) from None
    except BaseException as exc:
        if not isinstance(exc, GeneratorExit):  # not the caller stopping, the usual end
            error = exc
        raise
    finally:
        stop_events()
        del channel.waiting[token]
        if span is not None:
            span.done(size, error, at)

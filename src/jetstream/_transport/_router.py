"""Request/reply and publish acks over one wildcard inbox subscription.

A request is one future and one timer handle; a message without headers is one append to the
connection's outgoing buffer (`send_nowait`). Replies come back on ``<inbox>.<token>``: a token of
digits belongs to a request, one starting with a letter to a channel (the publish-ack table of
`publish_async` is one), which gets the message itself.

Failures are told at once rather than at the timeout: a connection that closes fails every waiting
request; a permission violation fails the requests sent to the refused subject, and a refused
subscription of the inbox itself fails them all (and every later one, until a reconnect) with the
remedy named. A reconnect keeps requests waiting, as nats-py does (the subscription is restored; a
reply lost with the old connection ends in a timeout).
"""

from __future__ import annotations

import asyncio
import string
from collections.abc import Callable, Mapping
from typing import Protocol

from .._exceptions import ConnectionClosedError, PermissionDeniedError, TimeoutError
from .._typing import Payload
from ._hub import ConnectionEvent, ConnectionHub, LinkClosed, LinkReconnected, PermissionDenied
from ._msg import Msg, MsgHandler, Subscription


class RouterLink(Protocol):
    """What the router needs of its connection: the part of `Connection` that sends and subscribes
    (`Connection` extends it), named here so that the connection protocol can expose its router
    without the two modules importing each other."""

    @property
    def hub(self) -> ConnectionHub:
        """Connection-state events (disconnected, reconnected, closed, lame duck, server errors,
        permission violations) and the current state."""
        ...

    def new_inbox(self) -> str:
        """A fresh inbox subject (under the connection's inbox prefix)."""
        ...

    def check(
        self, subject: str, payload: Payload, headers: Mapping[str, str] | None = None, reply: str = ""
    ) -> None:
        """Refuse, with a typed error and before anything is queued, what `publish` would fail on."""
        ...

    async def publish(
        self,
        subject: str,
        payload: Payload,
        reply: str = "",
        headers: Mapping[str, str] | None = None,
        *,
        checked: bool = False,
    ) -> None:
        """Send one message. ``checked``: `check` passed for it already (it is not checked again)."""
        ...

    def send_nowait(
        self, subject: str, payload: Payload, reply: str = "", *, checked: bool = False, direct: bool = False
    ) -> bool:
        """Queue one message without headers at once; False when it cannot be done this way now (then
        `publish` must be used). ``checked``: `check` passed for it already. ``direct``: write to the
        socket now if nothing is queued before it (a lone request)."""
        ...

    async def subscribe(self, subject: str, cb: MsgHandler, *, queue: str = "") -> Subscription:
        """Deliver every message on ``subject`` (wildcards allowed) to ``cb``, in order; with a
        ``queue`` group, each message goes to one member of the group."""
        ...


_INBOX_REMEDY = (
    "the API replies arrive on the reply inbox: allow this user to subscribe to it, or pass"
    " inbox_prefix= (to connect) with a prefix the user may subscribe to"
)
_CHANNEL_TAGS = string.ascii_letters
# How often a close is looked for while requests wait (when no event reported it).
_POLL = 0.1


class ReplyRouter:
    def __init__(self, conn: RouterLink) -> None:
        self._conn = conn
        self._prefix: str | None = None
        self._subject = ""
        self._lock = asyncio.Lock()
        self._pending: dict[str, tuple[asyncio.Future[Msg], str]] = {}
        self._channels: dict[str, Callable[[Msg], None]] = {}
        self._next = 0
        self._denied: PermissionDeniedError | None = None
        self._watch: asyncio.TimerHandle | None = None
        conn.hub.on_event(self._on_event)

    async def prefix(self) -> str:
        """``<inbox>.``: subscribed on first use."""
        if self._prefix is not None:
            return self._prefix
        async with self._lock:
            if self._prefix is None:
                prefix = self._conn.new_inbox() + "."
                self._subject = prefix + "*"
                await self._conn.subscribe(self._subject, self._on_reply)
                self._prefix = prefix
            return self._prefix

    async def channel(self, handler: Callable[[Msg], None]) -> tuple[str, Callable[[], None]]:
        """A reply-subject prefix whose replies go to ``handler``; returns it and its remover.
        Append any token made of letters and digits to the prefix to form a reply subject."""
        prefix = await self.prefix()
        tag = next(t for t in _CHANNEL_TAGS if t not in self._channels)
        self._channels[tag] = handler

        def remove() -> None:
            if self._channels.get(tag) is handler:
                del self._channels[tag]

        return prefix + tag, remove

    @property
    def denied(self) -> PermissionDeniedError | None:
        """The server's refusal of the inbox subscription, if it refused it (until a reconnect)."""
        return self._denied

    def check_usable(self) -> None:
        """Raise the inbox's permission error, if the server refused the subscription."""
        if self._denied is not None:
            raise self._denied

    async def _on_reply(self, msg: Msg) -> None:
        prefix = self._prefix
        if prefix is None:
            return
        token = msg.subject[len(prefix) :]
        if not token:
            return
        if token[0].isdigit():
            waiter = self._pending.pop(token, None)
            if waiter is not None and not waiter[0].done():
                waiter[0].set_result(msg)
            return
        handler = self._channels.get(token[0])
        if handler is not None:
            handler(msg)

    async def request(
        self, subject: str, payload: bytes, timeout: float | None, headers: dict[str, str] | None
    ) -> Msg:
        """The first reply; `TimeoutError` after ``timeout`` seconds (None: no limit),
        `ConnectionClosedError` if the connection closes first, `PermissionDeniedError` as soon as
        the server refuses the subject or the inbox."""
        prefix = self._prefix if self._prefix is not None else await self.prefix()
        if self._denied is not None:
            raise self._denied
        loop = asyncio.get_running_loop()
        self._next += 1
        token = str(self._next)
        future: asyncio.Future[Msg] = loop.create_future()
        pending = self._pending
        pending[token] = (future, subject)
        reply = prefix + token
        timer = None
        try:
            conn = self._conn
            # The reply subject is ours: only what the caller gave is checked.
            conn.check(subject, payload, headers)
            if headers or not conn.send_nowait(subject, payload, reply, checked=True, direct=True):
                await conn.publish(subject, payload, reply, headers, checked=True)
            if timeout is not None:
                timer = loop.call_later(timeout, _expire, future, subject, timeout)
            if self._watch is None:
                self._watch = loop.call_later(_POLL, self._on_watch)
            return await future
        finally:
            if timer is not None:
                timer.cancel()
            pending.pop(token, None)

    def _on_event(self, event: ConnectionEvent) -> None:
        if isinstance(event, LinkClosed):
            self._fail_closed()
        elif isinstance(event, LinkReconnected):
            self._denied = None
        elif isinstance(event, PermissionDenied):
            error = event.error
            if self._subject and event.refuses("subscribe", self._subject):
                self._denied = PermissionDeniedError("subscribe", self._subject, _INBOX_REMEDY)
                inbox = self._subject
                self._fail(lambda _: True, lambda _: PermissionDeniedError("subscribe", inbox, _INBOX_REMEDY))
            elif error.operation == "publish":
                self._fail(
                    lambda subject: event.refuses("publish", subject),
                    lambda subject: PermissionDeniedError("publish", subject),
                )
            elif (
                error.operation == "reply"
                and self._prefix
                and error.subject.lower().startswith(self._prefix.lower())
            ):
                self._fail(
                    lambda _: True, lambda _: PermissionDeniedError("reply", error.subject, _INBOX_REMEDY)
                )

    def _fail_closed(self) -> None:
        self._fail(
            lambda _subject: True,
            lambda _subject: ConnectionClosedError("the connection closed before the reply arrived"),
        )

    def _fail(self, which: Callable[[str], bool], error: Callable[[str], BaseException]) -> None:
        """Fail the waiting requests whose subject ``which`` selects, each with its own error."""
        for token, (future, subject) in list(self._pending.items()):
            if which(subject):
                del self._pending[token]
                if not future.done():
                    future.set_exception(error(subject))

    def _on_watch(self) -> None:
        # A safety net for connections whose close is not reported (no hook into nats-py).
        self._watch = None
        if not self._pending:
            return
        if self._conn.hub.closed:
            self._fail_closed()
            return
        self._watch = asyncio.get_running_loop().call_later(_POLL, self._on_watch)


def _expire(future: asyncio.Future[Msg], subject: str, timeout: float) -> None:
    if not future.done():
        future.set_exception(TimeoutError(subject, timeout))

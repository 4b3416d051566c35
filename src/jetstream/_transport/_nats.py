"""`NatsConnection`: the `Connection` protocol over a nats-py client - the only code that uses it.

nats-py's public API is used wherever it is enough. Three private capabilities make the hot paths
and the state hub possible; each is looked up once, at construction, and has a fallback:

- the outgoing buffer and flusher (``_pending``, ``_pending_data_size``, ``_flush_queue``,
  ``_max_pending_size``, ``_transport``): `send_nowait` queues a header-less message with one
  append and one flusher wake-up per burst (fallback: ``publish``);
- ``_send_publish``: a publish whose subjects were checked here skips nats-py's two regexes
  (fallback: ``publish``);
- ``_process_headers``: status lines told from data, repeated header names kept (`_header_hook`;
  fallback: nats-py's parser, and status messages are recognised by having no reply and no data);
- the callbacks of a connection this SDK did not open (``_disconnected_cb`` ... ``_error_cb``) are
  wrapped to feed the hub (fallback: the state is polled; permission violations then surface as
  timeouts).

A connection opened by `open_connection` gets its callbacks through nats-py's public options.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, cast

import nats.errors
from nats.aio.client import Client as NATS

from .._exceptions import (
    ConnectionClosedError,
    InvalidArgumentError,
    JetStreamError,
    NoRespondersError,
    PayloadTooLargeError,
    PermissionDeniedError,
    TimeoutError,
)
from .._typing import Payload
from . import _header_hook
from ._checks import as_bytes, check_wire_subject
from ._hub import (
    ConnectionEvent,
    ConnectionHub,
    LameDuck,
    LinkClosed,
    LinkDisconnected,
    LinkReconnected,
    PermissionDenied,
)
from ._msg import Msg, MsgHandler, Reply, Subscription
from ._router import ReplyRouter
from ._status import status_of
from ._types import ConnectionBase

logger = logging.getLogger("jetstream")

_BUFFER_ATTRS = ("_pending", "_pending_data_size", "_flush_queue", "_max_pending_size", "_transport", "stats")
_CALLBACK_ATTRS = ("_disconnected_cb", "_reconnected_cb", "_closed_cb", "_error_cb", "_lame_duck_mode_cb")


def translate(exc: BaseException, subject: str) -> JetStreamError:
    """The typed error for a nats-py failure to send; the caller chains it with ``from``."""
    if isinstance(exc, nats.errors.MaxPayloadError):
        return PayloadTooLargeError(f"message to {subject!r} exceeds the server's max_payload")
    if isinstance(exc, (nats.errors.BadSubjectError, nats.errors.BadHeaderError)):
        return InvalidArgumentError(f"cannot send to {subject!r}: {type(exc).__name__}")
    if isinstance(exc, nats.errors.ConnectionDrainingError):
        return ConnectionClosedError(f"the connection is draining: {subject!r} not sent")
    if isinstance(exc, nats.errors.ConnectionClosedError):
        return ConnectionClosedError(f"connection closed while sending to {subject!r}")
    if isinstance(exc, nats.errors.OutboundBufferLimitError):
        return ConnectionClosedError(f"disconnected and the reconnect buffer is full: {subject!r} not sent")
    if isinstance(exc, nats.errors.TimeoutError):
        return TimeoutError(subject, None)
    return ConnectionClosedError(f"cannot send to {subject!r}: {type(exc).__name__}")


def _as_dict(headers: Mapping[str, str] | None) -> dict[str, str] | None:
    """nats-py wants a dict; a MultiValueDict (repeated names) must reach it unchanged."""
    if not headers:
        return None
    return headers if isinstance(headers, dict) else dict(headers)


class _NatsSubscription:
    __slots__ = ("_sub", "subject")

    def __init__(self, sub: Any, subject: str) -> None:
        self._sub = sub
        self.subject = subject

    async def unsubscribe(self) -> None:
        """Stop delivery; a no-op when already gone."""
        with contextlib.suppress(nats.errors.Error):
            await self._sub.unsubscribe()

    async def drain(self) -> None:
        """Let subscriptions finish, send what is queued, then close."""
        with contextlib.suppress(nats.errors.Error):
            await self._sub.drain()


_registry: weakref.WeakKeyDictionary[NATS, NatsConnection] = weakref.WeakKeyDictionary()


def for_client(nc: NATS) -> NatsConnection:
    """The one `NatsConnection` of a nats-py client (made on first use)."""
    conn = _registry.get(nc)
    if conn is None:
        conn = NatsConnection(nc)
    return conn


class NatsConnection(ConnectionBase):
    """`Connection` over a nats-py client (use `for_client` to share one per client)."""

    def __init__(self, nc: NATS, *, own_callbacks: bool = False) -> None:
        self.nc = nc
        self.hub: ConnectionHub = ConnectionHub(self)
        self.headers_hooked: bool = _header_hook.install(nc)
        send = getattr(nc, "_send_publish", None)
        self._send_publish = cast("Callable[..., Awaitable[None]] | None", send if callable(send) else None)
        self.buffer_ok: bool = all(hasattr(nc, name) for name in _BUFFER_ATTRS)
        self.callbacks_hooked: bool = True if own_callbacks else self._wrap_callbacks()
        self.router: ReplyRouter = ReplyRouter(self)
        _registry[nc] = self

    def __repr__(self) -> str:
        state = "closed" if self.is_closed else "connected" if self.is_connected else "disconnected"
        return f"NatsConnection({state})"

    # -- state ------------------------------------------------------------------------------------

    @property
    def is_connected(self) -> bool:
        """Connected now (not reconnecting, not closed)."""
        return self.nc.is_connected

    @property
    def is_closed(self) -> bool:
        """Closed for good."""
        return self.nc.is_closed

    @property
    def reconnects(self) -> int:
        """How many times the connection reconnected."""
        return int(self.nc.stats.get("reconnects", 0))

    @property
    def max_payload(self) -> int | None:
        """The server's limit for headers plus payload, in bytes (None: not known)."""
        value = self.nc.max_payload
        return value if isinstance(value, int) and value > 0 else None

    # nats-py callbacks (passed as options by open_connection, or wrapped around a user's client)

    async def on_disconnected(self) -> None:
        """nats-py's disconnected callback: tells the hub."""
        self.hub.emit(LinkDisconnected())

    async def on_reconnected(self) -> None:
        """nats-py's reconnected callback: tells the hub."""
        self.hub.emit(LinkReconnected())

    async def on_closed(self) -> None:
        """nats-py's closed callback: tells the hub."""
        self.hub.emit(LinkClosed())

    async def on_lame_duck(self) -> None:
        """nats-py's lame-duck callback: tells the hub."""
        self.hub.emit(LameDuck())

    async def on_error(self, error: Exception) -> None:
        """nats-py's error callback: tells the hub (a permission violation is its own event)."""
        self.hub.server_error(str(error) or type(error).__name__)

    def _wrap_callbacks(self) -> bool:
        nc = self.nc
        if not all(hasattr(nc, name) for name in _CALLBACK_ATTRS):
            return False
        pairs: list[tuple[str, Callable[..., Awaitable[None]]]] = [
            ("_disconnected_cb", self.on_disconnected),
            ("_reconnected_cb", self.on_reconnected),
            ("_closed_cb", self.on_closed),
            ("_error_cb", self.on_error),
            ("_lame_duck_mode_cb", self.on_lame_duck),
        ]
        for name, ours in pairs:
            previous = getattr(nc, name)
            if previous is not None and not callable(previous):
                return False
            setattr(nc, name, _chain(ours, cast("Callable[..., Awaitable[None]] | None", previous)))
        return True

    # -- sending ----------------------------------------------------------------------------------

    def new_inbox(self) -> str:
        """A fresh inbox subject (under the connection's inbox prefix)."""
        return self.nc.new_inbox()

    async def _send(self, subject: str, data: bytes, reply: str, headers: Mapping[str, str] | None) -> None:
        nc = self.nc
        send = self._send_publish
        try:
            if send is not None and nc.is_connected and not nc.is_draining_pubs:
                await send(subject, reply, data, len(data), _as_dict(headers))
            else:
                await nc.publish(subject, data, reply=reply, headers=_as_dict(headers))
        except (nats.errors.Error, OSError) as exc:
            raise translate(exc, subject) from exc

    def send_nowait(
        self, subject: str, payload: Payload, reply: str = "", *, checked: bool = False, direct: bool = False
    ) -> bool:
        """Queue one message without headers at once; False when it must go through `publish`."""
        nc = self.nc
        if not self.buffer_ok or not nc.is_connected or nc.is_draining_pubs:
            return False
        if not checked:
            self.check(subject, payload, None, reply)
        data = as_bytes(payload)
        size = len(data)
        if reply:
            cmd = b"PUB %b %b %d\r\n%b\r\n" % (subject.encode(), reply.encode(), size, data)
        else:
            cmd = b"PUB %b %d\r\n%b\r\n" % (subject.encode(), size, data)
        pending: Any = nc._pending
        limit = nc._max_pending_size
        if limit > 0 and nc._pending_data_size + len(cmd) > limit:
            return False  # nats-py's publish flushes first
        if direct and not pending and (write := getattr(nc._transport, "write", None)) is not None:
            # A lone request goes to the socket now rather than on the flusher's next turn: a loop
            # iteration less of latency. Only with nothing queued before it, to keep the order.
            write(cmd)
        else:
            pending.append(cmd)
            nc._pending_data_size += len(cmd)
        stats = nc.stats
        stats["out_msgs"] += 1
        stats["out_bytes"] += size
        queue = nc._flush_queue
        if pending and queue is not None and queue.empty():
            # The flusher writes everything pending when it wakes: one wake-up per burst.
            queue.put_nowait(asyncio.get_running_loop().create_future())
        return True

    async def subscribe(self, subject: str, cb: MsgHandler, *, queue: str = "") -> Subscription:
        """Deliver every message on ``subject`` to ``cb``, in order (one member of a ``queue`` group)."""
        check_wire_subject(subject)
        try:
            # nats-py's Msg is a `Msg`: the callback is handed over as it is (no frame per message).
            sub = await self.nc.subscribe(subject, queue=queue, cb=cb)
        except (nats.errors.Error, OSError) as exc:
            raise translate(exc, subject) from exc
        return _NatsSubscription(sub, subject)

    # -- requests ---------------------------------------------------------------------------------

    async def request(
        self, subject: str, payload: Payload, timeout: float | None, headers: Mapping[str, str] | None = None
    ) -> Reply:
        """Send on the shared reply inbox and return the first reply (typed errors, see `Connection`)."""
        msg = await self.router.request(subject, as_bytes(payload), timeout, _as_dict(headers))
        status = status_of(msg)
        if status == "503":
            raise NoRespondersError(subject)
        return Reply(msg.subject, msg.data, msg.headers, msg.reply, status)

    async def request_many(
        self, subject: str, payload: bytes, timeout: float | None, max_replies: int | None = None
    ) -> list[Reply]:
        # A private inbox: the shared one matches replies by their subject, and a pulled message
        # arrives under its stream subject.
        """Send once on a private inbox and collect the replies within ``timeout``."""
        replies: list[Reply] = []
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        async with _private_inbox(self, subject, payload) as queue:
            while True:
                left = None if deadline is None else deadline - loop.time()
                if left is not None and left <= 0:
                    break
                try:
                    msg = await asyncio.wait_for(queue.get(), left)
                except asyncio.TimeoutError:
                    break
                if isinstance(msg, JetStreamError):
                    raise msg
                reply = _reply(msg)
                if reply.status == "503":
                    if not replies:
                        raise NoRespondersError(subject)
                    continue
                replies.append(reply)
                if max_replies is not None and len(replies) >= max_replies:
                    break
        return replies

    # -- lifecycle --------------------------------------------------------------------------------

    async def flush(self, timeout: float) -> None:
        """Wait until the server has seen everything sent so far."""
        try:
            await self.nc.flush(timeout)  # type: ignore[arg-type]  # nats-py says int, means seconds
        except nats.errors.TimeoutError as exc:
            raise TimeoutError("flush", timeout) from exc
        except (nats.errors.Error, OSError) as exc:
            raise ConnectionClosedError("the connection closed while flushing") from exc

    async def drain(self) -> None:
        """Let subscriptions finish, send what is queued, then close."""
        if self.nc.is_closed:
            return
        try:
            await self.nc.drain()
        except (nats.errors.Error, OSError, asyncio.TimeoutError) as exc:
            logger.debug("drain failed: %s", type(exc).__name__)
            with contextlib.suppress(Exception):
                await self.nc.close()

    async def close(self) -> None:
        """Close now; idempotent."""
        if not self.nc.is_closed:
            with contextlib.suppress(nats.errors.Error, OSError):
                await self.nc.close()


def _chain(
    ours: Callable[..., Awaitable[None]], previous: Callable[..., Awaitable[None]] | None
) -> Callable[..., Awaitable[None]]:
    async def callback(*args: Any) -> None:
        try:
            await ours(*args)
        finally:
            if previous is not None:
                await previous(*args)

    return callback


def _reply(msg: Msg) -> Reply:
    return Reply(msg.subject, msg.data, msg.headers, msg.reply, status_of(msg))


class _private_inbox:
    """Subscribe a fresh inbox, publish the request with it as reply, yield the queue of replies;
    unsubscribe on exit."""

    def __init__(self, conn: NatsConnection, subject: str, payload: bytes) -> None:
        self._conn = conn
        self._subject = subject
        self._payload = payload
        self._sub: Subscription | None = None
        self._stop_events: Callable[[], None] | None = None

    async def __aenter__(self) -> asyncio.Queue[Msg | JetStreamError]:
        conn = self._conn
        conn.router.check_usable()
        conn.check(self._subject, self._payload)
        queue: asyncio.Queue[Msg | JetStreamError] = asyncio.Queue()
        subject = self._subject
        inbox = conn.new_inbox()

        async def deliver(msg: Msg) -> None:
            queue.put_nowait(msg)

        def on_event(event: ConnectionEvent) -> None:
            # Told at once rather than found at the timeout.
            if isinstance(event, LinkClosed):
                queue.put_nowait(ConnectionClosedError(f"connection closed while requesting {subject!r}"))
            elif isinstance(event, PermissionDenied):
                if event.refuses("publish", subject):
                    queue.put_nowait(PermissionDeniedError("publish", subject))
                elif event.refuses("subscribe", inbox):
                    queue.put_nowait(PermissionDeniedError("subscribe", inbox))

        self._stop_events = conn.hub.on_event(on_event)
        try:
            self._sub = await conn.subscribe(inbox, deliver)
            await conn.publish(self._subject, self._payload, inbox, checked=True)
        except BaseException:
            await self.__aexit__()
            raise
        return queue

    async def __aexit__(self, *exc: object) -> None:
        if self._stop_events is not None:
            self._stop_events()
            self._stop_events = None
        if self._sub is not None:
            await self._sub.unsubscribe()
            self._sub = None

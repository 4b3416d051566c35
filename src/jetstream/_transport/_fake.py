"""`FakeConnection`: an in-memory `Connection` for unit tests of logic above the seam.

Subscriptions get what is published to subjects they match (``*`` and ``>`` wildcards), in order,
each on its own delivery task as with nats-py. What nobody subscribes to is answered by
``handler(subject, payload, headers)`` - the stand-in for the server: it returns reply bytes, a
`Reply`, a list of them (each delivered to the reply subject of a publish, one after the other), or
raises (`errors.TimeoutError` for no answer, `errors.NoRespondersError` for a 503). Everything sent is recorded. The connection's state
is driven by `disconnect`, `reconnect`, `close` and `deny`, which emit the hub's events.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from .._exceptions import ConnectionClosedError, NoRespondersError, PermissionDeniedError
from .._typing import Payload
from ._checks import check_wire_subject, matches
from ._hub import ConnectionHub, LinkClosed, LinkDisconnected, LinkReconnected, PermissionDenied
from ._ids import next_id
from ._msg import Msg, MsgHandler, Reply, Subscription
from ._router import ReplyRouter
from ._status import StatusHeaders
from ._types import ConnectionBase

Answer = Reply | bytes | list[Reply | bytes]
Handler = Callable[[str, bytes, "Mapping[str, str] | None"], "Awaitable[Answer] | Answer"]


@dataclass(frozen=True)
class FakeMsg:
    """A delivered message (the `Msg` protocol)."""

    subject: str
    data: bytes = b""
    reply: str = ""
    headers: dict[str, str] | None = field(default=None)


def status_msg(subject: str, code: int, description: str = "", **headers: str) -> FakeMsg:
    """A server status message as the parser of a real connection delivers it."""
    hdrs = StatusHeaders({"Status": str(code)})
    if description:
        hdrs["Description"] = description
    hdrs.update(headers)
    return FakeMsg(subject, b"", "", hdrs)


class _FakeSubscription:
    def __init__(self, conn: FakeConnection, subject: str, cb: MsgHandler, queue: str = "") -> None:
        self.subject = subject
        self.queue = queue
        self._conn = conn
        self._cb = cb
        self._queue: asyncio.Queue[Msg | None] = asyncio.Queue()
        self._task = asyncio.get_running_loop().create_task(self._run())

    def put(self, msg: Msg) -> None:
        """Queue ``msg`` for the subscription's callback."""
        self._queue.put_nowait(msg)

    async def _run(self) -> None:
        while True:
            msg = await self._queue.get()
            if msg is None:
                return
            try:
                await self._cb(msg)
            except Exception:  # as nats-py: a failing callback does not stop the subscription
                continue

    async def unsubscribe(self) -> None:
        """Stop delivery; a no-op when already gone."""
        self._conn._subs.discard(self)
        self._queue.put_nowait(None)

    async def drain(self) -> None:
        """Let subscriptions finish, send what is queued, then close."""
        self._conn._subs.discard(self)
        self._queue.put_nowait(None)
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


async def _no_answer(subject: str, payload: bytes, headers: Mapping[str, str] | None) -> Answer:
    raise NoRespondersError(subject)


class FakeConnection(ConnectionBase):
    """An in-memory `Connection` (see the module docstring). ``requests``/``timeouts`` record the
    requests, ``published`` every publish as (subject, payload, reply, headers)."""

    # The state, driven by `disconnect`, `reconnect` and `close`.
    is_connected: bool
    """Connected now (not reconnecting, not closed)."""
    is_closed: bool
    """Closed for good."""
    reconnects: int
    """How many times the connection reconnected."""

    def __init__(self, handler: Handler | None = None, *, max_payload: int | None = 1024 * 1024) -> None:
        self.handler: Handler = handler if handler is not None else _no_answer
        self.requests: list[tuple[str, bytes, Mapping[str, str] | None]] = []
        self.timeouts: list[float | None] = []
        self.published: list[tuple[str, bytes, str, Mapping[str, str] | None]] = []
        self._max_payload = max_payload
        self._subs: set[_FakeSubscription] = set()
        self._denied_publish: set[str] = set()
        self.is_connected = True
        self.is_closed = False
        self.reconnects = 0
        self.hub: ConnectionHub = ConnectionHub(self)
        self.router: ReplyRouter = ReplyRouter(self)
        self._tasks: set[asyncio.Task[None]] = set()

    def __repr__(self) -> str:
        state = "closed" if self.is_closed else "connected" if self.is_connected else "disconnected"
        return f"FakeConnection({state}, requests={len(self.requests)}, published={len(self.published)})"

    # -- state ------------------------------------------------------------------------------------

    @property
    def max_payload(self) -> int | None:
        """The server's limit for headers plus payload, in bytes (None: not known)."""
        return self._max_payload

    def disconnect(self) -> None:
        """Act as if the connection dropped (emits `LinkDisconnected`)."""
        self.is_connected = False
        self.hub.emit(LinkDisconnected())

    def reconnect(self) -> None:
        """Act as if the connection came back (emits `LinkReconnected`)."""
        self.is_connected = True
        self.reconnects += 1
        self.hub.emit(LinkReconnected())

    def deny(self, operation: str, subject: str) -> None:
        """Make the "server" refuse ``operation`` ("publish"/"subscribe") on ``subject`` from now
        on (publishes) and report it, as a permission violation does."""
        if operation == "publish":
            self._denied_publish.add(subject)
        self.hub.emit(PermissionDenied(PermissionDeniedError(operation, subject)))

    # -- the Connection protocol ----------------------------------------------------------------

    def new_inbox(self) -> str:
        """A fresh inbox subject (under the connection's inbox prefix)."""
        return f"_INBOX.{next_id()}"

    async def _send(self, subject: str, data: bytes, reply: str, headers: Mapping[str, str] | None) -> None:
        if self.is_closed:
            raise ConnectionClosedError(f"connection closed while sending to {subject!r}")
        self.published.append((subject, data, reply, headers))
        self._route(subject, data, reply, headers)

    def send_nowait(
        self, subject: str, payload: Payload, reply: str = "", *, checked: bool = False, direct: bool = False
    ) -> bool:
        """Queue one message without headers at once; False when it must go through `publish`."""
        return False

    async def subscribe(self, subject: str, cb: MsgHandler, *, queue: str = "") -> Subscription:
        """Deliver every message on ``subject`` to ``cb``, in order (one member of a ``queue`` group)."""
        if self.is_closed:
            raise ConnectionClosedError(f"connection closed while subscribing to {subject!r}")
        check_wire_subject(subject)
        sub = _FakeSubscription(self, subject, cb, queue)
        self._subs.add(sub)
        return sub

    def deliver(self, msg: Msg) -> None:
        """Hand ``msg`` to every subscription matching its subject (as if the server sent it)."""
        for sub in self._receivers(msg.subject):
            sub.put(msg)

    def _receivers(self, subject: str) -> list[_FakeSubscription]:
        """The subscriptions a message on ``subject`` goes to: every plain one, one per queue group."""
        groups: set[str] = set()
        receivers: list[_FakeSubscription] = []
        for sub in list(self._subs):
            if matches(sub.subject, subject) and (not sub.queue or sub.queue not in groups):
                groups.add(sub.queue)
                receivers.append(sub)
        return receivers

    def _route(self, subject: str, payload: bytes, reply: str, headers: Mapping[str, str] | None) -> None:
        if subject in self._denied_publish:
            self.hub.emit(PermissionDenied(PermissionDeniedError("publish", subject)))
            return
        delivered = False
        for sub in self._receivers(subject):
            sub.put(FakeMsg(subject, payload, reply, dict(headers) if headers else None))
            delivered = True
        if delivered or not reply:
            return
        task = asyncio.get_running_loop().create_task(self._serve(subject, payload, reply, headers))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _serve(
        self, subject: str, payload: bytes, reply: str, headers: Mapping[str, str] | None
    ) -> None:
        try:
            result = self.handler(subject, payload, headers)
            if isinstance(result, Awaitable):
                result = await result
        except NoRespondersError:
            self.deliver(status_msg(reply, 503))
            return
        except Exception:
            return  # no answer
        for item in result if isinstance(result, list) else [result]:
            if isinstance(item, Reply):
                hdrs = dict(item.headers) if item.headers else None
                if item.status:
                    hdrs = StatusHeaders(hdrs or {})
                    hdrs["Status"] = item.status
                self.deliver(FakeMsg(reply, item.data, item.reply, hdrs))
            else:
                self.deliver(FakeMsg(reply, item))

    async def request(
        self, subject: str, payload: Payload, timeout: float | None, headers: Mapping[str, str] | None = None
    ) -> Reply:
        """Send on the shared reply inbox and return the first reply (typed errors, see `Connection`)."""
        if self.is_closed:
            raise ConnectionClosedError(f"connection closed while requesting {subject!r}")
        data = bytes(payload)
        self.requests.append((subject, data, headers))
        self.timeouts.append(timeout)
        if subject in self._denied_publish:
            raise PermissionDeniedError("publish", subject)
        result = self.handler(subject, data, headers)
        if isinstance(result, Awaitable):
            result = await result
        if isinstance(result, list):
            raise TypeError("a list of replies answers only requests with a reply subject")
        return result if isinstance(result, Reply) else Reply(subject, result)

    async def request_many(
        self, subject: str, payload: bytes, timeout: float | None, max_replies: int | None = None
    ) -> list[Reply]:
        """Send once on a private inbox and collect the replies within ``timeout``."""
        return [await self.request(subject, payload, timeout)]

    async def flush(self, timeout: float) -> None:
        """Wait until the server has seen everything sent so far."""
        if self.is_closed:
            raise ConnectionClosedError("the connection is closed")

    async def drain(self) -> None:
        """Let subscriptions finish, send what is queued, then close."""
        await self.close()

    async def close(self) -> None:
        """Close now; idempotent."""
        if self.is_closed:
            return
        self.is_closed = True
        self.is_connected = False
        for sub in list(self._subs):
            await sub.unsubscribe()
        self.hub.emit(LinkClosed())


MockTransport = FakeConnection
"""The name the unit tests of earlier versions use."""

"""What every way of pulling shares: status messages, events, connection state (the pull options
are in `_options`).

A pull request (ADR-13) is answered on its reply inbox by user messages and by status messages: 100
idle heartbeat, 404/408 "the pull is over", 409/423/400/503 for the rest. `classify` sorts them once;
`next`/`fetch` and `messages`/`consume` decide what each kind means for them (ADR-37).
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Callable, Iterable

import msgspec

from .._exceptions import (
    BadPullRequestError,
    ConsumerDeletedError,
    ConsumerIsPushBasedError,
    PermissionDeniedError,
    PullError,
    PullRequestRejectedError,
)
from .._numbers import parse_status
from .._transport import ConnectionHub, Msg, PermissionDenied, description_of, status_of

logger = logging.getLogger("jetstream")

PIN_ID = "Nats-Pin-Id"
PENDING_MESSAGES = "Nats-Pending-Messages"
PENDING_BYTES = "Nats-Pending-Bytes"

DEFAULT_EXPIRES = 30.0
"""Seconds a pull waits on the server by default (ADR-37)."""
DEFAULT_MAX_MESSAGES = 500
"""Messages `messages()` / `consume()` buffer by default."""
BYTES_ONLY_BATCH = 1_000_000
"""The batch of a pull limited by bytes only (ADR-37: a large number, never 0)."""


class Kind(enum.Enum):
    """What a message on a pull inbox is."""

    USER = enum.auto()
    HEARTBEAT = enum.auto()  # 100 Idle Heartbeat
    END = enum.auto()  # 404 No Messages, 408 Request Timeout / Interest Expired, 409 Batch Completed
    MAX_BYTES = (
        enum.auto()
    )  # 409 Message Size Exceeds MaxBytes: the pull is over, the next message is too big
    PIN_MISMATCH = enum.auto()  # 423: the pin moved to another client
    LEADERSHIP = enum.auto()  # 409 Leadership Change: the pull died with the old leader
    SHUTDOWN = enum.auto()  # 409 Server Shutdown
    NO_RESPONDERS = enum.auto()  # 503: no consumer (deleted, not yet elected) or no JetStream
    REJECTED = enum.auto()  # 409 Exceeded MaxWaiting / MaxRequest* (a warning in ADR-37)
    DELETED = enum.auto()  # 409 Consumer Deleted (terminal)
    PUSH_BASED = enum.auto()  # 409 Consumer is push based (terminal)
    BAD_REQUEST = enum.auto()  # 400 (terminal: repeating the same pull cannot succeed)
    OTHER = enum.auto()  # a status this client does not know


# What a 409 is, by its description (lower-cased), first match wins ("exceeded" is the family of
# Exceeded MaxWaiting / MaxRequestBatch / MaxRequestExpires / MaxRequestMaxBytes).
_CONFLICTS = (
    ("exceeds maxbytes", Kind.MAX_BYTES),
    ("batch completed", Kind.END),
    ("consumer deleted", Kind.DELETED),
    ("push based", Kind.PUSH_BASED),
    ("leadership change", Kind.LEADERSHIP),
    ("server shutdown", Kind.SHUTDOWN),
    ("exceeded", Kind.REJECTED),
)


def classify(msg: Msg) -> Kind:
    """A message is a status only if the server sent it as one (`_transport.status_of`): a stored
    message is data whatever headers its publisher gave it."""
    status = status_of(msg)
    if not status:
        return Kind.USER
    if status == "100":
        return Kind.HEARTBEAT
    if status in ("404", "408"):
        return Kind.END
    description = description_of(msg.headers).lower()
    if status == "409":
        for text, kind in _CONFLICTS:
            if text in description:
                return kind
        return Kind.OTHER
    if status == "423":
        return Kind.PIN_MISMATCH
    if status == "400":
        return Kind.BAD_REQUEST
    if status == "503":
        return Kind.NO_RESPONDERS
    return Kind.OTHER


def code_and_description(msg: Msg) -> tuple[int, str]:
    """(code, description) of a status message; (0, "") for data (`_transport.status_of` is the
    code alone, as text)."""
    code = parse_status(status_of(msg))
    if code is None:
        return 0, ""
    return code, description_of(msg.headers)


def pull_error(kind: Kind, msg: Msg) -> PullError:
    """The typed error for a status that ends a pull in error."""
    code, description = code_and_description(msg)
    if kind is Kind.DELETED:
        return ConsumerDeletedError(code, description)
    if kind is Kind.PUSH_BASED:
        return ConsumerIsPushBasedError(code, description)
    if kind is Kind.BAD_REQUEST:
        return BadPullRequestError(code, description)
    if kind is Kind.REJECTED:
        return PullRequestRejectedError(code, description)
    return PullError(code, description)


def pending_counts(msg: Msg) -> tuple[int, int]:
    """The messages and bytes a finished pull still owed (``Nats-Pending-*``; 0 when absent)."""
    headers = msg.headers or {}
    return _count(headers.get(PENDING_MESSAGES)), _count(headers.get(PENDING_BYTES))


def _count(value: str | None) -> int:
    # A count the server writes in ASCII digits; anything else is no count.
    if value is None or not value.isascii() or not value.isdigit():
        return 0
    return int(value)


def denial_for(event: PermissionDenied, pull_subject: str, inbox: str) -> PermissionDeniedError | None:
    """The error ending a pull when the server refused its request subject or its inbox."""
    if event.refuses("publish", pull_subject):
        return PermissionDeniedError("publish", pull_subject)
    if inbox and event.refuses("subscribe", inbox):
        return PermissionDeniedError("subscribe", inbox)
    return None


def msg_size(msg: Msg) -> int:
    """A message's size as the server counts it against the ``max_bytes`` of a pull (nats-server's
    consumer.go): the UTF-8 bytes of subject, reply, header block and data. (A `MultiValueDict`'s
    ``items()`` gives every header line.)"""
    headers = msg.headers
    subject, reply = msg.subject, msg.reply
    if not headers and subject.isascii() and reply.isascii():  # the common case, once per message
        return len(subject) + len(reply) + len(msg.data)
    return size_of(subject, reply, msg.data, headers.items() if headers else None)


def size_of(subject: str, reply: str, data: bytes, headers: Iterable[tuple[str, str]] | None) -> int:
    """`msg_size` of the parts of a message; ``headers`` gives every (name, value) line."""
    size = len(data)
    size += len(subject) if subject.isascii() else len(subject.encode())
    size += len(reply) if reply.isascii() else len(reply.encode())
    if headers is not None:
        lines = 0
        for name, value in headers:
            # The server adds a pinned client's Nats-Pin-Id after it weighed the message.
            if name != PIN_ID:
                lines += len(name) + 4 + (len(value) if value.isascii() else len(value.encode()))
        if lines:
            size += lines + 12  # "Name: value\r\n" each, in "NATS/1.0\r\n" ... "\r\n"
    return size


# ----------------------------------------------------------------------------------------- events


class ConsumeEvent(msgspec.Struct, frozen=True):
    """A non-terminal event of `messages()` / `consume()`: the stream goes on after it."""


class MissedHeartbeat(ConsumeEvent, frozen=True):
    """No message, status or idle heartbeat for twice the heartbeat interval while connected;
    a new pull request follows (an ordered consumer recreates its consumer)."""

    heartbeat: float


class Disconnected(ConsumeEvent, frozen=True):
    """The connection dropped: pulling and the heartbeat timer are paused."""


class Reconnected(ConsumeEvent, frozen=True):
    """The connection is back: a new pull request is sent (outstanding ones died with the old one)."""


class LeadershipChanged(ConsumeEvent, frozen=True):
    """409 Leadership Change: the consumer has a new leader; a new pull request is sent."""


class PinIdMismatch(ConsumeEvent, frozen=True):
    """423: another client holds the pin of the priority group (ADR-42); the pin id is forgotten
    and pulling goes on without it, as a standby."""


class PullWarning(ConsumeEvent, frozen=True):
    """A pull request was answered with a warning status (409 Exceeded MaxWaiting, 409 Server
    Shutdown, 503 no responders ...); a new pull request is sent after a short pause."""

    status: int
    description: str


class ConsumerRecreated(ConsumeEvent, frozen=True):
    """An ordered consumer replaced its server consumer (``reason``: "gap", "heartbeat",
    "deleted", "reconnect", "unavailable") and resumes at stream sequence ``start_seq``."""

    name: str
    start_seq: int
    reason: str


EventHandler = Callable[[ConsumeEvent], object]
"""``on_event(event)``: called for each `ConsumeEvent`; its exceptions are logged, never raised."""


def emit(on_event: EventHandler | None, event: ConsumeEvent) -> None:
    """Hand ``event`` to ``on_event``. Missed heartbeats and warning statuses are logged at WARNING
    when nobody handles them; everything else, and every event ``on_event`` gets, at DEBUG."""
    warn = on_event is None and isinstance(event, (MissedHeartbeat, PullWarning))
    logger.log(logging.WARNING if warn else logging.DEBUG, "consume event: %r", event)
    if on_event is None:
        return
    try:
        on_event(event)
    except Exception:
        logger.exception("on_event raised while handling %r", event)


# --------------------------------------------------------------------------- waiting and waking


class Link(enum.Enum):
    """What `LinkWatch.look` saw of the connection."""

    CLOSED = enum.auto()
    DOWN = enum.auto()
    RENEWED = enum.auto()
    """Up again after a reconnect since the last look."""
    UP = enum.auto()


class LinkWatch:
    """What a message stream last saw of its connection: each change is told to ``on_event``
    once (`Disconnected`, `Reconnected`)."""

    __slots__ = ("connected", "generation")

    def __init__(self) -> None:
        self.generation = 0
        self.connected = True

    def reset(self, hub: ConnectionHub) -> None:
        """Start from the connection as it is now (when the stream starts)."""
        self.generation = hub.generation
        self.connected = hub.connected

    def unchanged(self, hub: ConnectionHub) -> bool:
        """The connection is up and is the one of the last look: nothing to tell first."""
        return self.connected and hub.generation == self.generation and hub.connected and not hub.closed

    def look(self, hub: ConnectionHub, on_event: EventHandler | None) -> Link:
        """How the connection is now, telling ``on_event`` what changed since the last look."""
        if hub.closed:
            return Link.CLOSED
        if not hub.connected:
            if self.connected:
                self.connected = False
                emit(on_event, Disconnected())
            return Link.DOWN
        self.connected = True
        if hub.generation != self.generation:
            self.generation = hub.generation
            emit(on_event, Reconnected())
            return Link.RENEWED
        return Link.UP


def _settle(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


class Signal:
    """Wakes everyone waiting on it. A wake while nobody waits is kept for the next `wait`, so none
    is lost between a check and the wait that follows it.

    Waiting uses a future and a timer handle: no task is created per wait (asyncio.wait_for would
    create one, and on Python < 3.12 it can drop a result that races with cancellation)."""

    __slots__ = ("__weakref__", "_pending", "_waiters")

    def __init__(self) -> None:
        self._waiters: list[asyncio.Future[None]] = []
        self._pending = False

    def wake(self) -> None:
        if not self._waiters:
            self._pending = True
            return
        waiters, self._waiters = self._waiters, []
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)

    async def wait(self, timeout: float | None) -> None:
        """Return when woken or after `timeout` seconds (None: no limit)."""
        if self._pending:
            self._pending = False
            return
        if timeout is not None and timeout <= 0:
            return
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        self._waiters.append(fut)
        handle = loop.call_later(timeout, _settle, fut) if timeout is not None else None
        try:
            await fut
        finally:
            if handle is not None:
                handle.cancel()
            if fut in self._waiters:
                self._waiters.remove(fut)


# Tasks that only clean up (unsubscribing a pull nobody waits for); kept so they are not collected.
_cleanup_tasks: set[asyncio.Task[None]] = set()


def spawn_cleanup(coro_factory: Callable[[], object]) -> None:
    """Run an async clean-up in the background, if there is a running loop (best effort)."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return

    async def run() -> None:
        try:
            result = coro_factory()
            if asyncio.iscoroutine(result):
                await asyncio.wait_for(result, 5.0)
        except Exception:
            logger.debug("background clean-up failed", exc_info=True)

    task = loop.create_task(run())
    _cleanup_tasks.add(task)
    task.add_done_callback(_cleanup_tasks.discard)

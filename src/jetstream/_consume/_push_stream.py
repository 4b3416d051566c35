"""Push delivery (ADR-15): `PushMessageStream`, what a push consumer sends to its deliver subject
as an async iterator, and what ``consume(handler)`` of a push consumer runs.

Nothing is requested: the server sends to the deliver subject for as long as someone subscribes to
it (as a member of the consumer's deliver group, if it has one). Between the messages come status
messages of the server, which are never handed out:

- 100 Idle Heartbeat (no reply subject): the consumer is alive. Twice the interval without anything
  while connected is a `MissedHeartbeat` event. Heartbeats are not watched on a deliver group: the
  server sends each one to a single member.
- 100 FlowControl Request (with a reply subject): answered with an empty message once every message
  that arrived before it has been handed out, so the server sends no faster than the reader takes.
  A heartbeat carrying ``Nats-Consumer-Stalled`` names a request whose answer was lost: it is
  answered again (unless it is the one held back for the reader).

The server does not tell a push subscriber that its consumer was deleted: after missed heartbeats
the consumer is looked up (`Delivery.check_gone`), and a missing one ends the stream with
`errors.ConsumerDeletedError`. An ordered delivery instead replaces its consumer on a gap, missed
heartbeats, a reconnect or a deletion (`Delivery.ordered`; the machinery is `OrderedCursor`'s).
"""

from __future__ import annotations

import asyncio
import enum
import weakref
from collections import deque
from collections.abc import Callable
from typing import NamedTuple, Protocol

from .._core import Core
from .._exceptions import ConnectionClosedError, ConsumerDeletedError, JetStreamError, PermissionDeniedError
from .._numbers import parse_uint
from .._transport import ConnectionEvent, Msg, PermissionDenied, Subscription, description_of, header_status
from ._consume import StreamBase
from ._message import Message
from ._messages import ResetNeeded
from ._status import (
    EventHandler,
    Link,
    LinkWatch,
    MissedHeartbeat,
    Signal,
    emit,
    logger,
    spawn_cleanup,
)

STALLED = "Nats-Consumer-Stalled"
LAST_CONSUMER = "Nats-Last-Consumer"
# A message a consumer delivers always has an ack subject as reply (also with ack_policy none):
# a status line on such a message is the publisher's, not the server's.
_ACK_PREFIX = "$JS.ACK."
# While disconnected, look at the connection at least this often (in case a notification is missed).
_DISCONNECTED_POLL = 1.0


class Target(NamedTuple):
    """Where a delivery arrives: the deliver subject, the deliver group ("" for none) and the idle
    heartbeat to watch in seconds (None: not watched)."""

    subject: str
    group: str
    heartbeat: float | None


class Delivery(Protocol):
    """The consumer side of a `PushMessageStream`: one push consumer, or the succession of server
    consumers of an ordered push consumer."""

    @property
    def ordered(self) -> bool:
        """Whether messages are checked for order and faults replace the consumer."""
        ...

    async def target(
        self, reason: str, on_event: EventHandler | None, interrupt: Signal, stopping: Callable[[], bool]
    ) -> Target:
        """Where to subscribe (an ordered delivery first makes sure a server consumer exists)."""
        ...

    def accept(self, msg: Message) -> bool:
        """Whether to hand ``msg`` out (False: skip it); raises `ResetNeeded` on a gap."""
        ...

    async def lost(self) -> None:
        """The consumer is to be replaced (ordered deliveries only)."""
        ...

    async def check_gone(self) -> JetStreamError | None:
        """After missed heartbeats: the error ending the stream if the consumer is gone, else None."""
        ...

    async def release(self) -> None:
        """The stream ended (an ordered delivery deletes its server consumer)."""
        ...


class _State(enum.Enum):
    NEW = enum.auto()
    OPEN = enum.auto()
    DRAINING = enum.auto()  # unsubscribed; the buffer is still handed out
    CLOSED = enum.auto()


class _Inbox:
    """One subscription on a deliver subject: nats-py delivers here, the reader takes from here.

    It holds no reference to its stream, so a stream dropped mid-iteration is collected and its
    subscription removed."""

    def __init__(self, core: Core, target: Target, signal: Signal, track: bool) -> None:
        self.core = core
        self.conn = core.transport
        self.target = target
        self.signal = signal
        self.track = track  # keep the last consumer sequence, to compare with heartbeats
        self.buffer: deque[Message] = deque()
        self.received = 0
        self.taken = 0
        self.fc_reply = ""  # a flow-control request held back until the reader reaches it
        self.fc_at = 0
        self.answered = ""  # the last flow-control subject answered
        self.last_cseq = 0
        self.clock = asyncio.get_running_loop().time
        self.last_seen = self.clock()
        self.terminal: BaseException | None = None
        self.sub: Subscription | None = None
        self.closed = False

    def connection_event(self, event: ConnectionEvent) -> None:
        if isinstance(event, PermissionDenied) and event.refuses("subscribe", self.target.subject):
            self.fail(PermissionDeniedError("subscribe", self.target.subject))
        self.signal.wake()

    def fail(self, error: BaseException) -> None:
        if self.terminal is None:
            self.terminal = error
        self.signal.wake()

    def heartbeat_missed(self, now: float) -> bool:
        hb = self.target.heartbeat
        return hb is not None and now - self.last_seen >= 2 * hb

    async def on_msg(self, msg: Msg) -> None:
        if self.closed:
            return
        self.last_seen = self.clock()
        reply = msg.reply
        if not msg.data and not reply.startswith(_ACK_PREFIX):
            code = header_status(msg.headers)
            if code:
                await self._status(code, msg)
                return
        message = Message(self.core, msg.subject, reply, msg.data, msg.headers)
        if self.track:
            try:
                self.last_cseq = message.metadata.sequence.consumer
            except JetStreamError:
                # Published straight to the deliver subject: not the consumer's, nothing to order.
                logger.debug("ordered push consumer: skipped %r (no ack subject)", message)
                return
        self.buffer.append(message)
        self.received += 1
        self.signal.wake()

    async def _status(self, code: str, msg: Msg) -> None:
        headers = msg.headers or {}
        if code == "100":
            if msg.reply:  # FlowControl Request
                if self.taken >= self.received:
                    await self._answer(msg.reply)
                else:
                    self.fc_reply, self.fc_at = msg.reply, self.received
                return
            stalled = headers.get(STALLED)
            if stalled and stalled not in (self.answered, self.fc_reply):
                await self._answer(stalled)
            if self.track:
                last = parse_uint(headers.get(LAST_CONSUMER))
                if last is not None and last != self.last_cseq:
                    self.fail(ResetNeeded("gap"))
            return
        description = description_of(headers)
        if code == "409" and "consumer deleted" in description.lower():
            self.fail(ResetNeeded("deleted") if self.track else ConsumerDeletedError(409, description))
            return
        logger.debug("push consumer: status %s %r ignored", code, description)

    async def _answer(self, subject: str) -> None:
        self.answered = subject
        try:
            if not self.conn.send_nowait(subject, b""):
                await self.conn.publish(subject, b"")
        except JetStreamError as exc:  # an unusable subject, a connection going away
            logger.debug("push consumer: flow-control reply to %r not sent: %s", subject, exc)

    def take(self) -> Message:
        msg = self.buffer.popleft()
        self.taken += 1
        if self.fc_reply and self.taken >= self.fc_at:
            subject, self.fc_reply = self.fc_reply, ""
            self.answered = subject
            try:
                sent = self.conn.send_nowait(subject, b"")
            except JetStreamError:
                sent = True  # not sendable at all: the stalled heartbeat will name it again
            if not sent:
                conn = self.conn
                spawn_cleanup(lambda: conn.publish(subject, b""))
        return msg

    async def unsubscribe(self, *, drain: bool = False) -> None:
        if self.closed:
            return
        self.closed = not drain
        self.conn.hub.discard(self)
        sub, self.sub = self.sub, None
        if sub is not None:
            # A drain delivers what the server sent before the UNSUB into the buffer first.
            await (sub.drain() if drain else sub.unsubscribe())
        self.closed = True


class _Holder:
    """The current inbox of a stream, for the finalizer (which must not hold the stream)."""

    __slots__ = ("inbox",)

    def __init__(self) -> None:
        self.inbox: _Inbox | None = None


def _abandon(holder: _Holder) -> None:
    """A stream was dropped without aclose(): remove its subscription (best effort)."""
    inbox = holder.inbox
    if inbox is not None:
        inbox.buffer.clear()
        spawn_cleanup(inbox.unsubscribe)


class PushMessageStream(StreamBase):
    """The messages of a push consumer for as long as you iterate.

    An async iterator and an async context manager; the subscription on the deliver subject is
    made on the first iteration (or on entering ``async with``). `aclose()` ends it at once,
    dropping what is buffered (unacknowledged, so redelivered after ``ack_wait``); `drain()`
    unsubscribes and ends once the buffered messages are handed out. Heartbeats, flow control,
    disconnects and reconnects are handled here (see `PushConsumer.messages` for the events).
    """

    def __init__(self, core: Core, delivery: Delivery, on_event: EventHandler | None) -> None:
        self._core = core
        self._delivery = delivery
        self._on_event = on_event
        self._signal = Signal()
        self._holder = _Holder()
        self._state = _State.NEW
        self._stop_requested = False
        self._drain_requested = False
        self._reset: str | None = None
        self._terminal: BaseException | None = None
        self._link = LinkWatch()
        self._finalizer: weakref.finalize[..., PushMessageStream] | None = None
        self._start_lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"PushMessageStream(delivery={self._delivery!r}, state={self._state.name})"

    @property
    def closed(self) -> bool:
        """Whether the stream has ended (stopped, drained, or ended by an error)."""
        return self._state is _State.CLOSED

    @property
    def buffered(self) -> int:
        """Messages received and not yet handed out."""
        inbox = self._holder.inbox
        return 0 if inbox is None else len(inbox.buffer)

    @property
    def deliver_subject(self) -> str | None:
        """The subject subscribed to (None before the start)."""
        inbox = self._holder.inbox
        return None if inbox is None else inbox.target.subject

    async def _start(self) -> None:
        if self._state is not _State.NEW:
            return
        async with self._start_lock:
            if self._state is not _State.NEW:
                return
            hub = self._core.transport.hub
            self._link.reset(hub)
            self._state = _State.OPEN
            self._finalizer = weakref.finalize(self, _abandon, self._holder)
            try:
                await self._open("start")
            except BaseException:
                await self._close()
                raise

    async def _open(self, reason: str) -> None:
        target = await self._delivery.target(
            reason, self._on_event, self._signal, lambda: self._stop_requested
        )
        inbox = _Inbox(self._core, target, self._signal, self._delivery.ordered)
        conn = self._core.transport
        inbox.sub = await conn.subscribe(target.subject, inbox.on_msg, queue=target.group)
        conn.hub.add(inbox)
        self._holder.inbox = inbox

    def _pop(self, inbox: _Inbox) -> Message | None:
        """The next buffered message to hand out; None when there is none (or a gap was found)."""
        delivery = self._delivery
        while inbox.buffer:
            msg = inbox.take()
            if not delivery.ordered:
                return msg
            try:
                if delivery.accept(msg):
                    return msg
            except ResetNeeded as reset:
                self._reset = reset.reason
                return None
        return None

    def _take_ready(self) -> Message | None:
        """The next buffered message if nothing else needs doing first (no connection change, no
        missed heartbeat, no stop, drain or reset asked for); None otherwise."""
        inbox = self._holder.inbox
        if (
            inbox is None
            or not inbox.buffer
            or self._state is not _State.OPEN
            or self._stop_requested
            or self._drain_requested
            or self._reset is not None
        ):
            return None
        hub = self._core.transport.hub
        if not self._link.unchanged(hub):
            return None
        if inbox.heartbeat_missed(inbox.clock()):
            return None
        return self._pop(inbox)

    async def __anext__(self) -> Message:
        msg = self._take_ready()
        if msg is not None:
            return msg
        if self._state is _State.NEW:
            await self._start()
        loop = asyncio.get_running_loop()
        while True:
            if self._state is _State.CLOSED:
                raise StopAsyncIteration
            if self._stop_requested:
                await self._close()
                raise StopAsyncIteration
            if self._drain_requested and self._state is _State.OPEN:
                await self._drain_now()
            if self._state is _State.OPEN:
                await self._housekeeping(loop.time())
            if self._reset is not None and self._state is _State.OPEN:
                reason, self._reset = self._reset, None
                try:
                    await self._replace(reason)
                except JetStreamError:
                    await self._close()
                    if self._stop_requested:
                        raise StopAsyncIteration from None
                    raise
                continue
            inbox = self._holder.inbox
            if inbox is not None:
                # Take a message only after the last await: a cancellation cannot drop it.
                msg = self._pop(inbox)
                if msg is not None:
                    return msg
                if self._reset is not None and self._state is _State.OPEN:
                    continue
                terminal = inbox.terminal
                if isinstance(terminal, ResetNeeded):
                    inbox.terminal = None
                    self._reset = terminal.reason
                    continue
                self._terminal = self._terminal or terminal
            await self._end_or_wait(
                self._terminal, self._state is _State.OPEN, self._signal, self._wait_time(loop.time())
            )

    async def _housekeeping(self, now: float) -> None:
        hub = self._core.transport.hub
        inbox = self._holder.inbox
        link = self._link.look(hub, self._on_event)
        if link is Link.CLOSED:
            self._terminal = self._terminal or ConnectionClosedError(
                "the NATS connection closed while consuming"
            )
            return
        if link is Link.DOWN:
            if inbox is not None:
                inbox.last_seen = now  # the heartbeat timer is paused while disconnected
            return
        if link is Link.RENEWED:
            # nats-py restored the subscription; a durable consumer goes on where it was.
            if inbox is not None:
                inbox.last_seen = now
            if self._delivery.ordered:
                self._reset = "reconnect"
            return
        if inbox is not None and inbox.heartbeat_missed(now):
            emit(self._on_event, MissedHeartbeat(inbox.target.heartbeat or 0.0))
            inbox.last_seen = now
            if self._delivery.ordered:
                self._reset = "heartbeat"
                return
            gone = await self._delivery.check_gone()
            if gone is not None:
                inbox.fail(gone)

    def _wait_time(self, now: float) -> float | None:
        if not self._core.transport.hub.connected:
            return _DISCONNECTED_POLL
        inbox = self._holder.inbox
        hb = None if inbox is None else inbox.target.heartbeat
        if inbox is None or hb is None:
            return None  # woken by messages and connection events
        return max(2 * hb - (now - inbox.last_seen), 0.001)

    async def _replace(self, reason: str) -> None:
        inbox, self._holder.inbox = self._holder.inbox, None
        if inbox is not None:
            inbox.buffer.clear()
            await inbox.unsubscribe()
        await self._delivery.lost()
        await self._open(reason)

    async def _drain_now(self) -> None:
        self._state = _State.DRAINING
        inbox = self._holder.inbox
        if inbox is not None:
            await inbox.unsubscribe(drain=True)
        self._signal.wake()

    async def _close(self) -> None:
        if self._state is _State.CLOSED:
            return
        self._state = _State.CLOSED
        if self._finalizer is not None:
            self._finalizer.detach()
        inbox = self._holder.inbox
        self._signal.wake()
        try:
            if inbox is not None:
                inbox.buffer.clear()
                await inbox.unsubscribe()
        finally:
            await self._delivery.release()

    def _request_stop(self) -> None:
        self._stop_requested = True
        self._signal.wake()

    def _request_drain(self) -> None:
        self._drain_requested = True
        self._signal.wake()

    async def drain(self) -> None:
        """Unsubscribe; the iteration hands out what is buffered, then ends."""
        self._request_drain()
        if self._state is _State.NEW:
            await self._close()
        elif self._state is _State.OPEN:
            await self._drain_now()

"""Continuous pulls (ADR-37): `ContinuousPull`, the machinery of `MessageStream` (what
``consumer.messages()`` returns, in `_pull`) and of what ``consumer.consume(handler)`` runs
(`_consume`).

One subscription receives the answers to every pull. The count of messages (or bytes) buffered or
still owed by outstanding pulls is kept; when it falls below the threshold a pull for the
difference is sent. Statuses that end a pull give back what it still owed (``Nats-Pending-*``).
Heartbeats are always requested; twice the interval without anything while connected is a
`MissedHeartbeat` event and a fresh pull. A disconnect pauses the timer and the pulling, a
reconnect sends a fresh pull. Only 409 Consumer Deleted, 409 Consumer is push based and 400 end
the stream.

The pulling is done by whoever waits for the next message (the iterating caller, or the one task
of `consume`): no task per message, and none at all for `messages()`.
"""

from __future__ import annotations

import asyncio
import enum
import time
import weakref
from collections import deque
from collections.abc import Callable

from .._exceptions import ConnectionClosedError, JetStreamError, PermissionDeniedError
from .._transport import Msg, Subscription
from ._consume import StreamBase
from ._message import Message
from ._options import ConsumeOptions
from ._pulls import PullListener, PullState
from ._status import (
    BYTES_ONLY_BATCH,
    EventHandler,
    Kind,
    LeadershipChanged,
    Link,
    LinkWatch,
    MissedHeartbeat,
    PinIdMismatch,
    PullWarning,
    Signal,
    classify,
    code_and_description,
    emit,
    msg_size,
    pending_counts,
    pull_error,
    spawn_cleanup,
)

# Pause before pulling again after a pull was refused (409 Exceeded ..., 503), capped by the heartbeat.
_RETRY_PAUSE = 1.0
# While disconnected, look at the connection at least this often (in case a notification is missed).
_DISCONNECTED_POLL = 1.0


class _Lifecycle(enum.Enum):
    """Where a continuous pull is: not started, pulling, draining, over."""

    NEW = enum.auto()
    OPEN = enum.auto()
    DRAINING = enum.auto()  # no more pulls; the buffer is still handed out
    CLOSED = enum.auto()


class ResetNeeded(Exception):
    """Internal: an ordered consumer must recreate its consumer (never reaches users)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Inbox(PullListener):
    """The receiving half of a `ContinuousPull`: nats-py delivers here, the reader takes from here.

    It holds no reference to its `ContinuousPull`, so a stream dropped mid-iteration is collected
    and its subscription removed."""

    def __init__(self, pulls: PullState, opts: ConsumeOptions, ordered: bool):
        self.pulls = pulls
        self.opts = opts
        self.on_event: EventHandler | None = opts.on_event
        self.ordered = ordered  # an ordered consumer recreates instead of re-pulling
        self.buffer: deque[tuple[Message, int]] = deque()
        self.buffered_bytes = 0
        self.pending_msgs = 0
        self.pending_bytes = 0
        self.delivered = 0  # handed out, for stop_after
        self.clock: Callable[[], float] = time.monotonic  # the loop's, once started
        self.last_seen = 0.0
        self.retry_at = 0.0
        self.terminal: BaseException | None = None
        self.signal = Signal()
        self.state = _Lifecycle.NEW
        self.sub: Subscription | None = None
        self.inbox = ""
        self.link = LinkWatch()
        self.stop_requested = False
        self.drain_requested = False
        self.unsubscribed = False

    def denied(self, error: PermissionDeniedError) -> None:
        self._terminate(error)

    def connection_changed(self) -> None:
        self.signal.wake()

    def reset_pending(self) -> None:
        """Forget what outstanding pulls owed (they are gone); only the buffer is left."""
        self.pending_msgs = len(self.buffer)
        self.pending_bytes = self.buffered_bytes if self.opts.track_bytes else 0

    def outstanding(self) -> bool:
        """Whether a pull is (believed) still waiting on the server, so heartbeats are due."""
        if self.opts.track_bytes:
            return self.pending_bytes > self.buffered_bytes
        return self.pending_msgs > len(self.buffer)

    def stopped_after(self) -> bool:
        """Whether ``stop_after`` messages were handed out: the stream ends."""
        stop_after = self.opts.stop_after
        return stop_after is not None and self.delivered >= stop_after

    def _terminate(self, error: BaseException) -> None:
        if self.terminal is None:
            self.terminal = error
        self.signal.wake()

    async def on_msg(self, msg: Msg) -> None:
        if self.state is _Lifecycle.CLOSED:
            return
        now = self.clock()
        self.last_seen = now
        kind = classify(msg)
        if kind is Kind.USER:
            size = msg_size(msg)
            self.buffer.append((self.pulls.receive(msg), size))
            self.buffered_bytes += size
            if self.opts.capped:
                # pending_bytes: what the byte caps of the outstanding pulls leave. A pull whose
                # cap is used up exactly ends without a status; once every cap is used up, no
                # pull is left and what they owed in messages will not come.
                self.pending_bytes -= size
                if self.pending_bytes <= 0:
                    self.pending_bytes = 0
                    self.pending_msgs = len(self.buffer)
            self.signal.wake()
            return
        if kind is Kind.HEARTBEAT:
            return
        if kind is Kind.END or kind is Kind.MAX_BYTES:
            msgs, nbytes = pending_counts(msg)
            self.pending_msgs = max(0, self.pending_msgs - msgs)
            self.pending_bytes = max(0, self.pending_bytes - nbytes)
            if kind is Kind.MAX_BYTES and nbytes >= (self.opts.max_bytes or 0):
                # Not even the first message fitted a full pull: pulling again at once would loop.
                self.retry_at = now + min(_RETRY_PAUSE, self.opts.heartbeat)
                emit(self.on_event, PullWarning(*code_and_description(msg)))
        elif kind is Kind.PIN_MISMATCH:
            self.pulls.pin_id = None
            self.reset_pending()
            emit(self.on_event, PinIdMismatch())
        elif kind is Kind.LEADERSHIP:
            self.reset_pending()
            emit(self.on_event, LeadershipChanged())
        elif kind in (Kind.SHUTDOWN, Kind.NO_RESPONDERS, Kind.REJECTED, Kind.OTHER):
            self.reset_pending()
            self.retry_at = now + min(_RETRY_PAUSE, self.opts.heartbeat)
            emit(self.on_event, PullWarning(*code_and_description(msg)))
            if self.ordered and kind is Kind.NO_RESPONDERS:
                self._terminate(ResetNeeded("unavailable"))
        elif self.ordered and kind is Kind.DELETED:
            self._terminate(ResetNeeded("deleted"))
        else:  # DELETED, PUSH_BASED, BAD_REQUEST
            self._terminate(pull_error(kind, msg))
        self.signal.wake()

    def take(self) -> Message:
        msg, size = self.buffer.popleft()
        self.buffered_bytes -= size
        self.delivered += 1
        self.pending_msgs = max(0, self.pending_msgs - 1)
        if self.opts.track_bytes:
            self.pending_bytes = max(0, self.pending_bytes - size)
        return msg

    def pull_due(self, now: float) -> bool:
        """Whether what is buffered or owed fell below the threshold, so a pull is to be sent (ADR-37)."""
        if self.state is not _Lifecycle.OPEN or self.terminal is not None or now < self.retry_at:
            return False
        opts = self.opts
        if opts.stop_after is not None and self.delivered + self.pending_msgs >= opts.stop_after:
            return False
        if opts.track_bytes:
            return self.pending_bytes < opts.threshold_bytes
        return self.pending_msgs < opts.threshold_messages

    def heartbeat_missed(self, now: float) -> bool:
        return self.outstanding() and now - self.last_seen >= 2 * self.opts.heartbeat

    async def pull_if_needed(self, now: float) -> None:
        """Send a pull when what is buffered or owed fell below the threshold (ADR-37)."""
        if not self.pull_due(now):
            return
        opts = self.opts
        max_bytes = opts.max_bytes  # with max_messages: a cap on each pull
        if opts.track_bytes and max_bytes is not None:
            batch = BYTES_ONLY_BATCH
            self.pending_bytes, max_bytes = max_bytes, max_bytes - self.pending_bytes
        else:
            batch = opts.max_messages - self.pending_msgs
            if max_bytes is not None:
                # (nothing owed: what the caps seemed to leave belongs to pulls that are over)
                owed = self.pending_msgs > len(self.buffer)
                self.pending_bytes = (self.pending_bytes if owed else 0) + max_bytes
        if opts.stop_after is not None:
            batch = min(batch, opts.stop_after - self.delivered - self.pending_msgs)
        self.pending_msgs += batch
        await self.pulls.pull(
            self.inbox,
            batch=batch,
            max_bytes=max_bytes,
            expires=opts.expires,
            heartbeat=opts.heartbeat,
            priority=opts.priority,
        )


def _abandon(inbox: _Inbox) -> None:
    """A stream was dropped without aclose(): remove its subscription (best effort)."""
    inbox.state = _Lifecycle.CLOSED
    inbox.buffer.clear()
    spawn_cleanup(inbox.unsubscribe)


class ContinuousPull(StreamBase):
    """A continuous pull from the consumer of a `PullState`: all of `MessageStream` but the
    `Consumer` it names, which `_pull` adds (this module cannot import `Consumer`)."""

    def __init__(self, pulls: PullState, opts: ConsumeOptions, *, ordered: bool = False) -> None:
        self._pulls = pulls
        self._inbox = _Inbox(pulls, opts, ordered)
        self._finalizer: weakref.finalize[..., ContinuousPull] | None = None
        self._start_lock = asyncio.Lock()

    @property
    def closed(self) -> bool:
        """Whether the stream has ended (stopped, drained, or ended by an error)."""
        return self._inbox.state is _Lifecycle.CLOSED

    @property
    def pending(self) -> tuple[int, int]:
        """(messages, bytes) buffered or still owed by outstanding pulls - what the thresholds see."""
        inbox = self._inbox
        return inbox.pending_msgs, inbox.pending_bytes

    @property
    def buffered(self) -> int:
        """Messages received and not yet handed out."""
        return len(self._inbox.buffer)

    async def _start(self) -> None:
        inbox = self._inbox
        if inbox.state is not _Lifecycle.NEW:
            return
        async with self._start_lock:
            if inbox.state is not _Lifecycle.NEW:
                return
            pulls = self._pulls
            connection = pulls.connection
            conn = pulls.hub
            inbox.inbox = connection.new_inbox()
            try:
                inbox.sub = await connection.subscribe(inbox.inbox, inbox.on_msg)
            except JetStreamError:
                inbox.state = _Lifecycle.CLOSED
                raise
            conn.add(inbox)
            inbox.link.reset(conn)
            inbox.clock = asyncio.get_running_loop().time
            inbox.last_seen = inbox.clock()
            inbox.state = _Lifecycle.OPEN
            # Messages that a cancelled next()/fetch() left behind come first.
            while pulls.stash:
                inbox.buffer.append((pulls.stash.popleft(), 0))
                inbox.pending_msgs += 1
            self._finalizer = weakref.finalize(self, _abandon, inbox)
            # The first pull goes out now (as nats.go's): a consumer deleted right after the start
            # is answered with 409 Consumer Deleted, not with the no-responders of a later pull.
            await self._housekeeping(inbox.clock())

    def _take_ready(self) -> Message | None:
        """The next buffered message if handing it out needs nothing else first - no pull to send,
        no connection change, no missed heartbeat, no stop or drain asked for - as `__anext__`
        would return it, without its awaits; None otherwise (then `__anext__` does the rest)."""
        inbox = self._inbox
        if (
            not inbox.buffer
            or inbox.stopped_after()
            or inbox.state is not _Lifecycle.OPEN
            or inbox.stop_requested
            or inbox.drain_requested
        ):
            return None
        hub = self._pulls.hub
        if not inbox.link.unchanged(hub):
            return None
        now = inbox.clock()
        if inbox.heartbeat_missed(now) or inbox.pull_due(now):
            return None
        return inbox.take()

    async def __anext__(self) -> Message:
        msg = self._take_ready()
        if msg is not None:
            return msg
        inbox = self._inbox
        if inbox.state is _Lifecycle.NEW:
            await self._start()
        loop = asyncio.get_running_loop()
        while True:
            if (inbox.stop_requested or inbox.stopped_after()) and inbox.state is not _Lifecycle.CLOSED:
                await self._close()
            if inbox.drain_requested and inbox.state is _Lifecycle.OPEN:
                await self._drain_now()
            if inbox.state is _Lifecycle.OPEN:
                await self._housekeeping(loop.time())
            # Take a message only after the last await: a cancellation cannot drop it.
            if inbox.buffer and inbox.state is not _Lifecycle.CLOSED:
                return inbox.take()
            # A stream already closed ends the iteration, terminal error or not.
            terminal = inbox.terminal if inbox.state is not _Lifecycle.CLOSED else None
            await self._end_or_wait(
                terminal, inbox.state is _Lifecycle.OPEN, inbox.signal, self._wait_time(loop.time())
            )

    async def _housekeeping(self, now: float) -> None:
        inbox = self._inbox
        conn = self._pulls.hub
        link = inbox.link.look(conn, inbox.on_event)
        if link is Link.CLOSED:
            inbox._terminate(ConnectionClosedError("the NATS connection closed while consuming"))
            return
        if link is Link.DOWN:
            inbox.last_seen = now  # the heartbeat timer is paused while disconnected
            return
        if link is Link.RENEWED:
            inbox.reset_pending()
            inbox.retry_at = 0.0
            inbox.last_seen = now
            if inbox.ordered:
                inbox._terminate(ResetNeeded("reconnect"))
                return
        elif inbox.heartbeat_missed(now):
            emit(inbox.on_event, MissedHeartbeat(inbox.opts.heartbeat))
            inbox.reset_pending()
            inbox.last_seen = now
            if inbox.ordered:
                inbox._terminate(ResetNeeded("heartbeat"))
                return
        had_outstanding = inbox.outstanding()
        await inbox.pull_if_needed(now)
        if not had_outstanding and inbox.outstanding():
            inbox.last_seen = now

    def _wait_time(self, now: float) -> float:
        inbox = self._inbox
        hb = inbox.opts.heartbeat
        if not self._pulls.hub.connected:
            return _DISCONNECTED_POLL
        wait = 2 * hb
        if inbox.outstanding():
            wait = 2 * hb - (now - inbox.last_seen)
        if inbox.retry_at > now:
            wait = min(wait, inbox.retry_at - now)
        return max(wait, 0.001)

    async def _drain_now(self) -> None:
        inbox = self._inbox
        if inbox.state is not _Lifecycle.OPEN:
            return
        inbox.state = _Lifecycle.DRAINING
        sub = inbox.sub
        inbox.unsubscribed = True
        self._pulls.hub.discard(inbox)
        if sub is not None:
            # UNSUB, then a flush: every message the server sent before it is in the buffer.
            # (nats-py's flush may time out while reconnecting; draining is best effort then.)
            await sub.drain()
        inbox.signal.wake()

    async def _close(self) -> None:
        inbox = self._inbox
        if inbox.state is _Lifecycle.CLOSED and inbox.unsubscribed:
            return
        inbox.state = _Lifecycle.CLOSED
        inbox.buffer.clear()
        inbox.buffered_bytes = 0
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None
        inbox.signal.wake()
        await inbox.unsubscribe()

    def _request_stop(self) -> None:
        self._inbox.stop_requested = True
        self._inbox.signal.wake()

    def _request_drain(self) -> None:
        self._inbox.drain_requested = True
        self._inbox.signal.wake()

    async def drain(self) -> None:
        """Stop pulling; the iteration hands out what is buffered, then ends."""
        self._request_drain()
        if self._inbox.state is _Lifecycle.NEW:
            await self._close()
        else:
            await self._drain_now()

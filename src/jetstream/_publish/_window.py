"""`publish_async`: publishes that return a future for their ack, within a bounded window.

Acks arrive on a channel of the connection's one reply inbox (shared with API requests); each
publish gets its own reply subject ``<inbox>.<tag><token>`` and a table maps the token to its
pending entry. There is
no task, no timer and no ``wait_for`` per message: the entries of each timeout value sit in a queue
in send order (so in deadline order) that one periodic sweep expires; the window is a count of
pending entries with a FIFO of waiting publishers, and a retry (ADR-22) is the only thing that
starts a task.

A full window is let go at its low-water mark (three quarters), not one slot at a time: a publisher
that waits then sends a burst instead of sleeping and waking once per ack.

Connection loss: an ack cannot reach a client that is not connected, and the server does not send
it again later, so every publish sent on a connection that dropped fails with
`ConnectionClosedError` as soon as the connection's hub reports the drop (the state is also looked
at by the periodic sweep). Publishes made while nats-py reconnects are buffered by it and sent on
the new connection; they keep waiting for their ack. A publish the server refuses for lack of
permission fails with `PermissionDeniedError` as soon as the server says so.

A message that cannot be sent (bad subject, headers or payload, over ``max_payload``) is refused
before it takes a window slot.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .._exceptions import (
    ConnectionClosedError,
    InvalidArgumentError,
    JetStreamError,
    NoStreamResponseError,
    PermissionDeniedError,
    TimeoutError,
)
from .._generated.models import PubAck
from .._transport import (
    Connection,
    ConnectionEvent,
    LinkClosed,
    LinkDisconnected,
    Msg,
    PermissionDenied,
    status_of,
)
from .._typing import AsyncResource, Payload
from ._awaited import RETRY_ATTEMPTS, RETRY_WAIT, parse_ack

DEFAULT_MAX_PENDING = 4000
"""The default window of `publish_async`: acks awaited at once (as nats.go)."""

# How often ack deadlines are swept (and the connection state looked at) while acks are pending.
_POLL = 0.1
# An ack timeout fires at most this share of the timeout late (the sweep runs that much more often).
_SWEEP_SHARE = 0.1


def check_max_pending(max_pending: int) -> int:
    if isinstance(max_pending, bool) or not isinstance(max_pending, int) or max_pending < 1:
        raise InvalidArgumentError(f"publish_async_max_pending must be a positive int, got {max_pending!r}")
    return max_pending


def _timeout(subject: str, timeout: float | None, message: str) -> TimeoutError:
    err = TimeoutError(subject, timeout)
    err.args = (message,)
    return err


@dataclass(slots=True, eq=False)
class _Pending:
    """One message of the window, kept until its ack (for the ADR-22 resend)."""

    future: asyncio.Future[PubAck]
    subject: str
    data: Payload
    headers: Mapping[str, str] | None
    timeout: float | None
    deadline: float | None
    generation: int
    retry_attempts: int
    retry_wait: float
    attempts: int = 0


class AsyncPublisher(AsyncResource):
    """The pending acks of one client's `publish_async` calls."""

    def __init__(
        self,
        conn: Connection,
        *,
        max_pending: int = DEFAULT_MAX_PENDING,
        retry_attempts: int = RETRY_ATTEMPTS,
        retry_wait: float = RETRY_WAIT,
        poll: float = _POLL,
    ) -> None:
        self.max_pending = check_max_pending(max_pending)
        self._conn = conn
        self._retry_attempts = retry_attempts
        self._retry_wait = retry_wait
        self._poll = poll
        self._pending: dict[str, _Pending] = {}
        # Per timeout value, (deadline, token, entry) in send order; acked entries leave lazily.
        self._deadlines: dict[float, deque[tuple[float, str, _Pending]]] = {}
        self._low_water = self.max_pending * 3 // 4
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._granted = 0  # window slots handed to waiters that have not published yet
        self._prefix: str | None = None
        self._remove_channel: Callable[[], None] | None = None
        self._stop_events: Callable[[], None] | None = None
        self._start_lock = asyncio.Lock()
        self._idle = asyncio.Event()
        self._idle.set()
        self._watch: asyncio.TimerHandle | None = None
        self._lost_below = 0  # entries of an older connection generation than this lost their ack
        self._seen_state: tuple[bool, bool, int] | None = None
        self._connection_changed = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._next_token = 0
        self._closed = False
        self.max_seen = 0
        """The most acks ever pending at once (never above `max_pending`)."""

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def send(
        self,
        subject: str,
        data: Payload,
        headers: Mapping[str, str] | None,
        timeout: float | None,
        *,
        retry_attempts: int | None = None,
        retry_wait: float | None = None,
    ) -> asyncio.Future[PubAck]:
        """Send one message; returns the future of its ack. The retry options (ADR-22) default to
        the publisher's."""
        if self._closed:
            raise ConnectionClosedError("the client is closed")
        # Refused before it takes a window slot: a bad message must cost the window nothing.
        self._conn.check(subject, data, headers)
        if self._prefix is None:
            await self._start()
        self._conn.router.check_usable()
        if self._waiters or len(self._pending) + self._granted >= self.max_pending:
            await self._reserve(subject, timeout)
            if self._closed:
                raise ConnectionClosedError("the client is closed")
        state = self._state()
        if state != self._seen_state:
            self._seen_state = state
            self._check_link()
        _, connected, reconnects = state
        loop = asyncio.get_running_loop()
        self._next_token += 1
        token = str(self._next_token)
        future: asyncio.Future[PubAck] = loop.create_future()
        deadline = None if timeout is None else loop.time() + timeout
        # A message sent while disconnected goes out (from nats-py's buffer) on the next connection.
        generation = reconnects if connected else reconnects + 1
        entry = _Pending(
            future,
            subject,
            data,
            headers,
            timeout,
            deadline,
            generation,
            self._retry_attempts if retry_attempts is None else retry_attempts,
            self._retry_wait if retry_wait is None else retry_wait,
        )
        pending = self._pending
        if not pending:
            self._idle.clear()
        # Registered before sending: the ack can arrive while the send is still being awaited.
        pending[token] = entry
        if len(pending) > self.max_seen:
            self.max_seen = len(pending)
        if timeout is not None and deadline is not None:
            queue = self._deadlines.get(timeout)
            if queue is None:
                queue = self._deadlines[timeout] = deque()
            queue.append((deadline, token, entry))
        if self._watch is None:
            self._watch = loop.call_later(self._interval(), self._on_watch)
        assert self._prefix is not None
        reply = self._prefix + token
        if headers is None and self._conn.send_nowait(subject, data, reply, checked=True):
            return future
        try:
            await self._conn.publish(subject, data, reply, headers, checked=True)
        except BaseException:
            if self._pending.get(token) is entry:
                self._drop(token, entry)
            future.cancel()
            raise
        return future

    async def complete(self, timeout: float | None) -> None:
        """Wait until no ack is pending (each one arrived, failed or timed out)."""
        if not self._pending:
            return
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except asyncio.TimeoutError:
            raise _timeout(
                "publish_async_complete",
                timeout,
                f"{len(self._pending)} publish acks still pending after {timeout}s",
            ) from None

    async def aclose(self, reason: str = "the client was closed") -> None:
        """Fail every pending ack and waiting publisher; idempotent."""
        if self._closed:
            return
        self._closed = True
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(ConnectionClosedError(reason))
        self._fail_all(f"{reason} before the publish ack arrived")
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None
        for task in list(self._tasks):
            task.cancel()
        remove, self._remove_channel = self._remove_channel, None
        if remove is not None:
            remove()
        stop, self._stop_events = self._stop_events, None
        if stop is not None:
            stop()

    # -- internals --------------------------------------------------------------------------------

    async def _start(self) -> None:
        async with self._start_lock:
            if self._prefix is not None:
                return
            prefix, self._remove_channel = await self._conn.router.channel(self._on_msg)
            self._stop_events = self._conn.hub.on_event(self._on_event)
            self._lost_below = self._generation()
            self._prefix = prefix

    def _state(self) -> tuple[bool, bool, int]:
        hub = self._conn.hub
        return hub.closed, hub.connected, hub.generation

    def _generation(self) -> int:
        # A message sent while disconnected goes out (from nats-py's buffer) on the next connection.
        _, connected, reconnects = self._state()
        return reconnects if connected else reconnects + 1

    def _on_event(self, event: ConnectionEvent) -> None:
        if isinstance(event, PermissionDenied):
            denied = event.error
            inbox_denied = self._conn.router.denied  # the router heard of it first
            if inbox_denied is not None:
                for token, entry in list(self._pending.items()):
                    self._finish(
                        token,
                        entry,
                        PermissionDeniedError(
                            inbox_denied.operation, inbox_denied.subject, inbox_denied.remedy
                        ),
                    )
            elif denied.operation == "publish":
                for token, entry in list(self._pending.items()):
                    if event.refuses("publish", entry.subject):
                        self._finish(token, entry, PermissionDeniedError("publish", entry.subject))
        elif isinstance(event, (LinkClosed, LinkDisconnected)):
            self._check_link()

    async def _reserve(self, subject: str, timeout: float | None) -> None:
        """Return once this publisher may add one pending entry (with no await in between)."""
        if not self._waiters and len(self._pending) + self._granted < self.max_pending:
            return
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self._waiters.append(waiter)
        self._release()
        timer = None
        if timeout is not None and not waiter.done():
            expired = _timeout(
                subject,
                timeout,
                f"the publish window ({self.max_pending} pending acks) stayed full for {timeout}s",
            )
            timer = loop.call_later(timeout, _fail_waiter, waiter, expired)
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                # Granted, then cancelled before it could publish: hand the slot on.
                self._granted -= 1
                self._release()
            else:
                waiter.cancel()
                with contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)
            raise
        finally:
            if timer is not None:
                timer.cancel()
        self._granted -= 1

    def _release(self) -> None:
        """Hand free window slots to waiting publishers, oldest first, once the window has drained to
        its low-water mark (then as many as fit)."""
        if not self._pending:
            self._idle.set()
        if self._waiters and len(self._pending) + self._granted > self._low_water:
            return
        while self._waiters and not self._closed and len(self._pending) + self._granted < self.max_pending:
            waiter = self._waiters.popleft()
            if waiter.done():
                continue  # timed out or cancelled
            self._granted += 1
            waiter.set_result(None)

    def _drop(self, token: str, entry: _Pending) -> None:
        del self._pending[token]
        if entry.timeout is not None:
            # Acks mostly come in send order: trimming the head keeps each queue about a window long.
            queue = self._deadlines.get(entry.timeout)
            pending = self._pending
            while queue and pending.get(queue[0][1]) is not queue[0][2]:
                queue.popleft()
        if self._waiters or not self._pending:
            self._release()

    def _finish(self, token: str, entry: _Pending, outcome: PubAck | BaseException) -> None:
        self._drop(token, entry)
        future = entry.future
        if future.done():
            return  # the caller cancelled it
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)

    def _on_msg(self, msg: Msg) -> None:
        prefix = self._prefix
        subject = msg.subject
        if prefix is None or not subject.startswith(prefix):
            return
        token = subject[len(prefix) :]
        entry = self._pending.get(token)
        if entry is None:
            return  # late: it timed out or its connection was given up
        status = status_of(msg)
        if status == "503":
            if not self._retry(token, entry):
                self._finish(token, entry, NoStreamResponseError(entry.subject))
            return
        try:
            ack = parse_ack(entry.subject, msg.data, status)
        except JetStreamError as exc:
            self._finish(token, entry, exc)
            return
        self._finish(token, entry, ack)

    def _retry(self, token: str, entry: _Pending) -> bool:
        """ADR-22: nobody answered (an election, a stream being created); send again shortly."""
        if entry.attempts >= entry.retry_attempts or self._closed:
            return False
        loop = asyncio.get_running_loop()
        if entry.deadline is not None and entry.deadline - loop.time() <= entry.retry_wait:
            return False
        entry.attempts += 1
        loop.call_later(entry.retry_wait, self._resend, token, entry)
        return True

    def _resend(self, token: str, entry: _Pending) -> None:
        if self._pending.get(token) is not entry:
            return
        task = asyncio.get_running_loop().create_task(self._republish(token, entry))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _republish(self, token: str, entry: _Pending) -> None:
        assert self._prefix is not None
        entry.generation = self._generation()
        try:
            await self._conn.publish(
                entry.subject, entry.data, self._prefix + token, entry.headers, checked=True
            )
        except JetStreamError as exc:
            if self._pending.get(token) is entry:
                self._finish(token, entry, exc)

    def _interval(self) -> float:
        if not self._deadlines:
            return self._poll
        return max(0.001, min(self._poll, min(self._deadlines) * _SWEEP_SHARE))

    def _sweep(self, now: float) -> None:
        """Fail every pending entry whose deadline has passed; forget the acked ones."""
        pending = self._pending
        for timeout, queue in list(self._deadlines.items()):
            while queue:
                deadline, token, entry = queue[0]
                if pending.get(token) is not entry:
                    queue.popleft()
                elif deadline <= now:
                    queue.popleft()
                    message = f"no ack for the publish to {entry.subject!r} within {entry.timeout}s"
                    self._finish(token, entry, _timeout(entry.subject, entry.timeout, message))
                else:
                    break
            if not queue:
                del self._deadlines[timeout]

    def _on_watch(self) -> None:
        self._watch = None
        loop = asyncio.get_running_loop()
        self._sweep(loop.time())
        self._check_link()
        if self._pending and not self._closed:
            self._watch = loop.call_later(self._interval(), self._on_watch)

    def _check_link(self) -> None:
        closed, connected, reconnects = self._state()
        if closed:
            self._fail_all("the connection closed before the publish ack arrived")
            return
        lost_below = reconnects if connected else reconnects + 1
        if lost_below <= self._lost_below:
            return
        self._lost_below = lost_below
        lost = [(token, entry) for token, entry in self._pending.items() if entry.generation < lost_below]
        for token, entry in lost:
            self._finish(
                token,
                entry,
                ConnectionClosedError(
                    f"the connection dropped before the ack for the publish to {entry.subject!r} arrived;"
                    " the message may or may not have been stored"
                ),
            )

    def _fail_all(self, reason: str) -> None:
        for token, entry in list(self._pending.items()):
            self._finish(token, entry, ConnectionClosedError(reason))


def _fail_waiter(waiter: asyncio.Future[None], error: BaseException) -> None:
    if not waiter.done():
        waiter.set_exception(error)

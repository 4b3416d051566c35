"""`publish_async`: publishes that return a future for their ack, within a bounded window.

One wildcard subscription (``<inbox>.*``), made on first use, receives every ack; each publish gets
its own reply subject ``<inbox>.<token>`` and a table maps the token to its pending entry. There is
no task, no timer and no ``wait_for`` per message: the entries of each timeout value sit in a queue
in send order (so in deadline order) that one periodic sweep expires; the window is a count of
pending entries with a FIFO of waiting publishers, and a retry (ADR-22) is the only thing that
starts a task.

A full window is let go at its low-water mark (three quarters), not one slot at a time: a publisher
that waits then sends a burst instead of sleeping and waking once per ack.

Connection loss: an ack cannot reach a client that is not connected, and the server does not send
it again later, so every publish sent on a connection that dropped fails with
`ConnectionClosedError` as soon as the drop is seen (nats-py has no status hook for a connection it
did not create, so the state is polled while acks are pending). Publishes made while nats-py
reconnects are buffered by it and sent on the new connection; they keep waiting for their ack.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol

import nats.errors
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg

from ._exceptions import (
    ConnectionClosedError,
    InvalidArgumentError,
    JetStreamError,
    NoStreamResponseError,
    TimeoutError,
)
from ._generated.models import PubAck
from ._publish import RETRY_ATTEMPTS, RETRY_WAIT, parse_ack
from ._transport import Transport

DEFAULT_MAX_PENDING = 4000
"""The default window of `publish_async`: acks awaited at once (as nats.go)."""

# How often the connection state is looked at, and ack deadlines swept, while acks are pending.
_POLL = 0.1
# An ack timeout fires at most this share of the timeout late (the sweep runs that much more often).
_SWEEP_SHARE = 0.1

OnReply = Callable[[str, bytes, "Mapping[str, str] | None"], None]


class Link(Protocol):
    """What the async publisher needs from a connection (a fake one in unit tests)."""

    def new_inbox(self) -> str: ...

    async def subscribe(self, subject: str, on_reply: OnReply) -> Callable[[], Awaitable[None]]:
        """Subscribe; returns the coroutine function that unsubscribes."""
        ...

    async def publish(
        self, subject: str, data: bytes, reply: str, headers: Mapping[str, str] | None
    ) -> None: ...

    def send_nowait(self, subject: str, data: bytes, reply: str) -> bool:
        """Queue a message without headers at once if the connection allows; else False."""
        ...

    def state(self) -> tuple[bool, bool, int]:
        """(closed, connected, number of reconnects so far)."""
        ...


class NatsLink:
    """`Link` over a nats-py connection; publishes go through the transport."""

    def __init__(self, nc: NATS, transport: Transport) -> None:
        self.nc = nc
        self.transport = transport

    def new_inbox(self) -> str:
        return self.nc.new_inbox()

    async def subscribe(self, subject: str, on_reply: OnReply) -> Callable[[], Awaitable[None]]:
        async def deliver(msg: Msg) -> None:
            on_reply(msg.subject, msg.data, msg.headers)

        try:
            sub = await self.nc.subscribe(subject, cb=deliver)
        except nats.errors.ConnectionClosedError as exc:
            raise ConnectionClosedError("connection closed while subscribing for publish acks") from exc
        return sub.unsubscribe

    def send_nowait(self, subject: str, data: bytes, reply: str) -> bool:
        # The subject was checked by publish_async, the reply is our own inbox.
        return self.transport.send_nowait(subject, data, reply, checked=True)

    async def publish(self, subject: str, data: bytes, reply: str, headers: Mapping[str, str] | None) -> None:
        try:
            # The subject was checked by publish_async, the reply is our own inbox.
            await self.transport.publish(subject, data, reply, headers, checked=True)
        # The transport translates a closed connection; these are the other ways nats-py refuses.
        except (nats.errors.OutboundBufferLimitError, nats.errors.ConnectionDrainingError) as exc:
            raise ConnectionClosedError(f"cannot publish to {subject!r} now: {exc}") from exc
        except nats.errors.MaxPayloadError as exc:
            raise InvalidArgumentError(
                f"message to {subject!r} is larger than the server's max_payload"
            ) from exc

    def state(self) -> tuple[bool, bool, int]:
        nc = self.nc
        return nc.is_closed, nc.is_connected, nc.stats["reconnects"]


def check_max_pending(max_pending: int) -> int:
    if isinstance(max_pending, bool) or not isinstance(max_pending, int) or max_pending < 1:
        raise InvalidArgumentError(f"publish_async_max_pending must be a positive int, got {max_pending!r}")
    return max_pending


def _timeout(subject: str, timeout: float | None, message: str) -> TimeoutError:
    err = TimeoutError(subject, timeout)
    err.args = (message,)
    return err


class _Pending:
    __slots__ = (
        "attempts",
        "data",
        "deadline",
        "future",
        "generation",
        "headers",
        "retry_attempts",
        "retry_wait",
        "subject",
        "timeout",
    )

    def __init__(
        self,
        future: asyncio.Future[PubAck],
        subject: str,
        data: bytes,
        headers: Mapping[str, str] | None,
        timeout: float | None,
        deadline: float | None,
        generation: int,
        retry_attempts: int,
        retry_wait: float,
    ) -> None:
        self.future = future
        self.subject = subject
        self.data = data
        self.headers = headers
        self.timeout = timeout
        self.deadline = deadline
        self.generation = generation
        self.attempts = 0
        self.retry_attempts = retry_attempts
        self.retry_wait = retry_wait


class AsyncPublisher:
    """The pending acks of one client's `publish_async` calls."""

    def __init__(
        self,
        link: Link,
        *,
        max_pending: int = DEFAULT_MAX_PENDING,
        retry_attempts: int = RETRY_ATTEMPTS,
        retry_wait: float = RETRY_WAIT,
        poll: float = _POLL,
    ) -> None:
        self.max_pending = check_max_pending(max_pending)
        self._link = link
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
        self._unsubscribe: Callable[[], Awaitable[None]] | None = None
        self._start_lock = asyncio.Lock()
        self._idle = asyncio.Event()
        self._idle.set()
        self._watch: asyncio.TimerHandle | None = None
        self._lost_below = 0  # entries of an older connection generation than this lost their ack
        self._seen_state: tuple[bool, bool, int] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._next_token = 0
        self._closed = False
        self.max_seen = 0
        """The most acks ever pending at once (never above `max_pending`)."""

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def publish(
        self,
        subject: str,
        data: bytes,
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
        if self._prefix is None:
            await self._start()
        if self._waiters or len(self._pending) + self._granted >= self.max_pending:
            await self._reserve(subject, timeout)
            if self._closed:
                raise ConnectionClosedError("the client is closed")
        state = self._link.state()
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
        if headers is None and self._link.send_nowait(subject, data, reply):
            return future
        try:
            await self._link.publish(subject, data, reply, headers)
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

    async def close(self, reason: str = "the client was closed") -> None:
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
        unsubscribe, self._unsubscribe = self._unsubscribe, None
        if unsubscribe is not None and not self._link.state()[0]:
            # The connection may be going away; the subscription then goes with it.
            with contextlib.suppress(asyncio.TimeoutError, JetStreamError, nats.errors.Error):
                await asyncio.wait_for(unsubscribe(), 1.0)

    # -- internals --------------------------------------------------------------------------------

    async def _start(self) -> None:
        async with self._start_lock:
            if self._prefix is not None:
                return
            prefix = self._link.new_inbox() + "."
            self._unsubscribe = await self._link.subscribe(prefix + "*", self._on_reply)
            self._lost_below = self._generation()
            self._prefix = prefix

    def _generation(self) -> int:
        # A message sent while disconnected goes out (from nats-py's buffer) on the next connection.
        _, connected, reconnects = self._link.state()
        return reconnects if connected else reconnects + 1

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

    def _on_reply(self, subject: str, data: bytes, headers: Mapping[str, str] | None) -> None:
        prefix = self._prefix
        if prefix is None or not subject.startswith(prefix):
            return
        token = subject[len(prefix) :]
        entry = self._pending.get(token)
        if entry is None:
            return  # late: it timed out or its connection was given up
        status = headers.get("Status", "") if headers else ""
        if status == "503":
            if not self._retry(token, entry):
                self._finish(token, entry, NoStreamResponseError(entry.subject))
            return
        try:
            ack = parse_ack(entry.subject, data, status)
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
            await self._link.publish(entry.subject, entry.data, self._prefix + token, entry.headers)
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
        closed, connected, reconnects = self._link.state()
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

"""One-shot pulls: `next()` and `fetch()` of a `Consumer`, each pull on its own inbox.

Each pull has its own inbox subscription and a bounded expiry, and is over when the server says so
(batch filled, 404/408, a 409) or when the client-side deadline, a little after the expiry, passes.
A caller that leaves before its pull is over (cancelled, timed out, broke out of a fetch) does not
lose what the pull still delivers: the pull becomes an *orphan* whose messages go to the consumer's
stash (`PullState`), which the next `next()`/`fetch()` hands out first, and whose subscription is
removed once the server ends it.
"""

from __future__ import annotations

import asyncio
import weakref
from collections import deque
from datetime import timedelta

from .._exceptions import (
    ConnectionClosedError,
    InvalidArgumentError,
    JetStreamError,
    MissedHeartbeatError,
    NoRespondersError,
    PermissionDeniedError,
)
from .._time import seconds
from .._transport import Msg, Subscription
from .._typing import AsyncResource
from ._message import Message
from ._options import Priority
from ._pulls import PullListener, PullState
from ._status import (
    Kind,
    Signal,
    classify,
    msg_size,
    pull_error,
    size_of,
    spawn_cleanup,
)

# A fetch/next pull longer than this gets idle heartbeats unless told otherwise (as nats.go).
_HEARTBEAT_FROM = 10.0
_DEFAULT_FETCH_HEARTBEAT = 5.0
# Shortest pull next() sends; less than this left is a timeout.
MIN_PULL = 0.001


def _grace(expires: float) -> float:
    """How long after the server-side expiry the client still waits for the pull's end (ADR-37:
    the client-side timeout is always longer than the expiry)."""
    return min(1.0, 0.1 + expires * 0.05)


def heartbeat_for(expires: float, heartbeat: float | timedelta | None, *, explicit: bool) -> float | None:
    """The idle heartbeat of a fetch/next pull: as given (checked against the expiry), else 5 s for
    pulls of 10 s or more and none below (as nats.go)."""
    if heartbeat is not None:
        hb = seconds(heartbeat, "heartbeat")
        if 2 * hb > expires:
            if explicit:
                raise InvalidArgumentError(
                    f"heartbeat {hb:g}s must be at most half of expires ({expires:g}s)"
                )
            return None
        return hb
    return _DEFAULT_FETCH_HEARTBEAT if expires >= _HEARTBEAT_FROM else None


class Pull(PullListener):
    """One pull request on a private inbox (`next` and `fetch`)."""

    def __init__(
        self,
        pulls: PullState,
        *,
        batch: int,
        max_bytes: int | None,
        expires: float | None,
        no_wait: bool,
        heartbeat: float | None,
        priority: Priority,
        wait_no_wait: float = 5.0,
    ) -> None:
        self.pulls = pulls
        self.batch = batch
        self.max_bytes = max_bytes
        self.expires = expires
        self.no_wait = no_wait
        self.heartbeat = heartbeat
        self.priority = priority
        self.buffer: deque[Message] = deque()
        self.received = 0
        self.received_bytes = 0
        self.done = False
        self.error: JetStreamError | None = None
        self.retry = False  # ended early for a reason a new pull may not have
        self.signal = Signal()
        self.orphaned = False
        self.sub: Subscription | None = None
        self.inbox = ""
        self.deadline = 0.0
        self.last_seen = 0.0
        self.generation = 0
        self._client_wait = wait_no_wait if expires is None else expires + _grace(expires)
        self._timer: asyncio.TimerHandle | None = None
        self.unsubscribed = False

    # --- server side

    async def start(self) -> None:
        pulls = self.pulls
        connection = pulls.connection
        loop = asyncio.get_running_loop()
        self.inbox = connection.new_inbox()
        try:
            self.sub = await connection.subscribe(self.inbox, self._on_msg)
        except JetStreamError:
            self._finish()
            raise
        conn = pulls.hub
        conn.add(self)
        now = loop.time()
        self.deadline = now + self._client_wait
        self.last_seen = now
        self.generation = conn.generation
        try:
            await self._send(self.batch, self.max_bytes, self.expires)
        except JetStreamError:
            self._finish()
            raise

    async def _send(self, batch: int, max_bytes: int | None, expires: float | None) -> None:
        await self.pulls.pull(
            self.inbox,
            batch=batch,
            max_bytes=max_bytes,
            expires=expires,
            heartbeat=self.heartbeat,
            priority=self.priority,
            no_wait=self.no_wait,
        )

    async def _resend(self, now: float) -> None:
        """After a reconnect: the pull died with the old connection; ask for what is still missing."""
        batch = self.batch - self.received
        expires = None if self.expires is None else self.deadline - _grace(self.expires) - now
        max_bytes = None if self.max_bytes is None else self.max_bytes - self.received_bytes
        if (
            batch <= 0
            or (expires is not None and expires <= MIN_PULL)
            or (max_bytes is not None and max_bytes <= 0)
        ):
            self._finish()
            return
        if self.heartbeat is not None and expires is not None and 2 * self.heartbeat > expires:
            self.heartbeat = None
        self.last_seen = now
        await self._send(batch, max_bytes, expires)

    async def _on_msg(self, msg: Msg) -> None:
        pulls = self.pulls
        kind = classify(msg)
        if self.done:
            # Late deliveries (after a local deadline, or from a pull re-sent after a reconnect)
            # are kept rather than dropped.
            if kind is Kind.USER:
                pulls.stash_put(pulls.wrap(msg))
            return
        self.last_seen = asyncio.get_running_loop().time()
        if kind is Kind.USER:
            self.received += 1
            self.received_bytes += msg_size(msg)
            message = pulls.receive(msg)
            if self.orphaned:
                pulls.stash_put(message)
            else:
                self.buffer.append(message)
            # The server ends a pull silently once its byte budget is used up exactly (nats.go
            # ends there too); a message that does not fit gets 409 Message Size Exceeds MaxBytes.
            if self.received >= self.batch or (
                self.max_bytes is not None and self.received_bytes >= self.max_bytes
            ):
                self._finish()
            else:
                self.signal.wake()
        elif kind is Kind.HEARTBEAT:
            pass
        elif kind is Kind.END or kind is Kind.MAX_BYTES:
            self._finish()
        elif kind is Kind.PIN_MISMATCH:
            pulls.pin_id = None
            self.retry = True
            self._finish()
        elif kind in (Kind.LEADERSHIP, Kind.SHUTDOWN):
            self.retry = True
            self._finish()
        elif kind is Kind.NO_RESPONDERS:
            self._finish(
                NoRespondersError(
                    pulls.next_subject,
                    "the consumer does not exist or has no leader, or JetStream is unavailable",
                )
            )
        else:
            self._finish(pull_error(kind, msg))

    # --- state

    def _finish(self, error: JetStreamError | None = None) -> None:
        if self.done:
            return
        self.done = True
        self.error = error
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.signal.wake()
        if self.orphaned:
            pulls = self.pulls
            pulls.orphans.discard(self)
            pulls.wake_stash_waiters()
            spawn_cleanup(self.unsubscribe)

    def denied(self, error: PermissionDeniedError) -> None:
        self._finish(error)

    def connection_changed(self) -> None:
        if self.orphaned:
            # An orphan's pull does not outlive its connection; nobody is there to re-send it.
            hub = self.pulls.hub
            if not hub.connected or hub.generation != self.generation:
                self._finish()
        else:
            self.signal.wake()

    def orphan(self) -> None:
        """The owner left before the pull ended: what it still delivers goes to the consumer's stash."""
        pulls = self.pulls
        self.orphaned = True
        while self.buffer:
            pulls.stash_put(self.buffer.popleft())
        if self.done:
            spawn_cleanup(self.unsubscribe)
            return
        pulls.orphans.add(self)
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(max(0.0, self.deadline - loop.time()), self._finish)

    async def release(self) -> None:
        """The owner is done with this pull: clean up now if it is over, else leave it as an orphan."""
        if self.done:
            pulls = self.pulls
            while self.buffer:
                pulls.stash_put(self.buffer.popleft())
            await self.unsubscribe()
        else:
            self.orphan()

    # --- owner side

    async def take(self, *, stash_too: bool = False) -> Message | None:
        """The next message of this pull, or None once it is over (raises the error that ended it).
        With `stash_too`, a message landing in the consumer's stash is taken as well."""
        pulls = self.pulls
        conn = pulls.hub
        loop = asyncio.get_running_loop()
        if stash_too:
            pulls.stash_waiters.add(self.signal)
        try:
            while True:
                if self.buffer:
                    return self.buffer.popleft()
                if stash_too and pulls.stash:
                    return pulls.stash.popleft()
                if self.done:
                    if self.error is not None:
                        raise self.error
                    return None
                now = loop.time()
                if now >= self.deadline:
                    self._finish()
                    continue
                wait = self.deadline - now
                if conn.closed:
                    self._finish(ConnectionClosedError("the NATS connection closed while pulling"))
                    continue
                if not conn.connected:
                    # Heartbeats are not expected while disconnected: the timer restarts on reconnect.
                    self.last_seen = now
                    wait = min(wait, 1.0)
                elif conn.generation != self.generation:
                    self.generation = conn.generation
                    await self._resend(now)
                    continue
                elif self.heartbeat is not None:
                    silent = now - self.last_seen
                    if silent >= 2 * self.heartbeat:
                        self._finish(MissedHeartbeatError(self.heartbeat))
                        continue
                    wait = min(wait, 2 * self.heartbeat - silent)
                await self.signal.wait(wait)
        finally:
            if stash_too:
                pulls.stash_waiters.discard(self.signal)


class FetchResult(AsyncResource):
    """The messages of one `Consumer.fetch`: an async iterator that ends when the pull is over.

    The pull request is sent on the first iteration. The iteration ends when ``n`` messages came,
    the server ended the pull (expiry, no messages with ``no_wait``, ``max_bytes`` reached, a
    leadership change) or the client-side deadline passed - on an empty stream that is an empty
    iteration close to ``expires``, never an exception. Errors are typed: `errors.ConsumerDeletedError`,
    `errors.ConsumerIsPushBasedError`, `errors.BadPullRequestError`, `errors.PullRequestRejectedError`,
    `errors.NoRespondersError` (no such consumer), `errors.MissedHeartbeatError`.

    Leaving early (``break``, cancellation, `aclose`) loses nothing: messages not yet handed out,
    and those the pull still brings, are kept for the consumer's next `fetch` / `next`.
    """

    def __init__(
        self,
        pulls: PullState,
        n: int,
        *,
        max_bytes: int | None,
        expires: float,
        no_wait: bool,
        heartbeat: float | None,
        priority: Priority,
        owner: object,
    ) -> None:
        self._pulls = pulls
        self._owner = owner  # the consumer, for the repr
        self._n = n
        self._max_bytes = max_bytes
        self._expires = expires
        self._no_wait = no_wait
        self._heartbeat = heartbeat
        self._priority = priority
        self._ready: deque[Message] = deque()
        self._pull: Pull | None = None
        self._started = False
        self._finished = False
        self._finalizer: weakref.finalize[..., FetchResult] | None = None

    def __repr__(self) -> str:
        return f"FetchResult(consumer={self._owner!r}, n={self._n}, finished={self._finished})"

    def __aiter__(self) -> FetchResult:
        return self

    async def __anext__(self) -> Message:
        if self._finished:
            raise StopAsyncIteration
        if not self._started:
            await self._start()
        if self._ready:
            return self._ready.popleft()
        pull = self._pull
        if pull is not None:
            try:
                msg = await pull.take()
            except JetStreamError:
                await self._finish()
                raise
            if msg is not None:
                return msg
        await self._finish()
        raise StopAsyncIteration

    async def _start(self) -> None:
        self._started = True
        pulls = self._pulls
        # Messages a cancelled call left behind come first and count toward n.
        wanted = self._n
        budget = self._max_bytes
        while wanted and pulls.stash:
            if budget is not None:
                size = message_size(pulls.stash[0])
                if size > budget:
                    break
                budget -= size
            self._ready.append(pulls.stash.popleft())
            wanted -= 1
        if not wanted or (budget is not None and budget <= 0):
            return
        pull = self._pull = Pull(
            pulls,
            batch=wanted,
            max_bytes=budget,
            expires=None if self._no_wait else self._expires,
            no_wait=self._no_wait,
            heartbeat=self._heartbeat,
            priority=self._priority,
            wait_no_wait=pulls.core.default_timeout,
        )
        self._finalizer = weakref.finalize(self, _abandon_fetch, pull, self._ready)
        try:
            await pull.start()
        except BaseException:
            await self._finish()
            raise

    async def _finish(self) -> None:
        self._finished = True
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None
        pulls = self._pulls
        while self._ready:
            pulls.stash_put(self._ready.pop(), front=True)
        if self._pull is not None:
            await self._pull.release()

    async def aclose(self) -> None:
        """Stop iterating; what was not handed out yet is kept for the next fetch / next."""
        if not self._finished:
            await self._finish()


def _abandon_fetch(pull: Pull, ready: deque[Message]) -> None:
    """A fetch was dropped mid-iteration without aclose(): keep what it had and what comes."""
    pulls = pull.pulls
    while ready:
        pulls.stash_put(ready.pop(), front=True)
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # collected outside the loop (interpreter shutdown): nothing to keep
        return
    pull.orphan()


def message_size(msg: Message) -> int:
    """`msg_size` of a `Message`."""
    return size_of(msg.subject, msg.reply, msg.data, msg.headers.items_all())

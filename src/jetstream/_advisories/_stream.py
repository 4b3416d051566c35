"""`Advisories`: what ``js.advisories()`` returns, an async iterator of typed events.

Core NATS subscriptions on the event subjects (no JetStream consumer: advisories are not stored) feed
a buffer that the iterating caller drains. A payload that is not an event is skipped and logged
(``jetstream.advisories`` logger, WARNING) and counted in `skipped`: one bad message from the network
must not end a long-running watch. The subscriptions are made on ``__aenter__`` (or the first
``__anext__``); the server publishes an advisory only when someone listens, so what happened before
is not seen.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections import deque
from collections.abc import Iterable

from .._consume._status import spawn_cleanup
from .._exceptions import (
    ConnectionClosedError,
    InvalidAdvisoryError,
    InvalidArgumentError,
    PermissionDeniedError,
)
from .._transport import Connection, ConnectionEvent, LinkClosed, Msg, PermissionDenied, Subscription
from .._typing import AsyncResource
from .._validate import check_name
from ._decode import Advisory, decode_advisory, domain_of
from ._subjects import DEFAULT_EVENT_PREFIX, Kind, subscriptions

logger = logging.getLogger("jetstream.advisories")

DEFAULT_MAX_BUFFERED = 10_000
# How long `start` waits for the server's round trip, and `aclose` for each unsubscribe (the
# connection may be gone).
_WAIT = 5.0


class _Receiver:
    """The receiving half: the subscriptions deliver here, the iterator reads from here. It holds no
    reference to its `Advisories`, so an iterator dropped without `aclose()` is collected and its
    subscriptions removed (by the finalizer)."""

    def __init__(self, subjects: tuple[str, ...], domain: str | None, max_buffered: int) -> None:
        self.subjects = subjects
        self.domain = domain
        self.max_buffered = max_buffered
        self.buffer: deque[Advisory] = deque()
        self.wakeup = asyncio.Event()
        self.subs: list[Subscription] = []
        self.closed = False
        self.error: BaseException | None = None
        self.skipped = 0
        self.dropped = 0

    async def on_msg(self, msg: Msg) -> None:
        if self.closed:
            return
        try:
            event = decode_advisory(msg.data, msg.subject)
        except InvalidAdvisoryError as exc:
            self.skipped += 1
            logger.warning("skipped an advisory: %s", exc)
            return
        if self.domain is not None and domain_of(event) not in (None, self.domain):
            return
        if len(self.buffer) >= self.max_buffered:
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                logger.warning("advisories: %d dropped, more than %d unread", self.dropped, self.max_buffered)
            return
        self.buffer.append(event)
        self.wakeup.set()

    def connection_event(self, event: ConnectionEvent) -> None:
        """A refused subscription ends the iteration with its error, a closed connection ends it."""
        if isinstance(event, PermissionDenied):
            refused = next((s for s in self.subjects if event.refuses("subscribe", s)), None)
            if refused is not None:
                self.error = PermissionDeniedError("subscribe", refused)
                self.wakeup.set()
        elif isinstance(event, LinkClosed):
            self.closed = True
            self.wakeup.set()

    def close(self) -> list[Subscription]:
        """Stop receiving; the subscriptions to remove."""
        self.closed = True
        self.buffer.clear()
        self.wakeup.set()
        subs, self.subs = self.subs, []
        return subs


async def _unsubscribe(subs: list[Subscription]) -> None:
    for sub in subs:
        with contextlib.suppress(asyncio.TimeoutError, ConnectionClosedError):
            await asyncio.wait_for(sub.unsubscribe(), _WAIT)


def _abandon(receiver: _Receiver) -> None:
    """An iterator collected without `aclose()`: its subscriptions go in the background."""
    subs = receiver.close()
    if subs:
        spawn_cleanup(lambda: _unsubscribe(subs))


class Advisories(AsyncResource):
    """Typed JetStream advisories as they happen: ``async for adv in js.advisories(...)``.

    Each value is the generated class of its kind (`jetstream.advisories.ConsumerActionAdvisory` ...)
    or `jetstream.advisories.UnknownAdvisory`. With a `domain`, events that name another JetStream
    domain are passed over (accounts shared over leaf nodes see the events of every domain).

    An async context manager with `aclose()`: use it with ``async with`` (or call `aclose()`), which
    also makes sure the subscriptions exist before you act. A payload that cannot be decoded is
    skipped and logged (`skipped` counts them); when more than ``max_buffered`` events wait unread,
    newer ones are dropped and counted in `dropped`. Ends when closed or when the connection closes;
    raises `PermissionDeniedError` when the server refuses a subscription.
    """

    def __init__(
        self,
        connection: Connection,
        subjects: list[str],
        *,
        domain: str | None = None,
        max_buffered: int = DEFAULT_MAX_BUFFERED,
    ):
        self._connection = connection
        self.subjects: tuple[str, ...] = tuple(subjects)
        """The subjects subscribed to."""
        self.domain: str | None = domain
        """Events sent by servers of another JetStream domain are passed over (None: every domain)."""
        self._rx = _Receiver(self.subjects, domain, max_buffered)
        self._started = False
        self._finalizer: weakref.finalize[[_Receiver], Advisories] | None = None

    @property
    def skipped(self) -> int:
        """Payloads that were not events (invalid JSON, no ``type``, a known kind of the wrong shape)."""
        return self._rx.skipped

    @property
    def dropped(self) -> int:
        """Events dropped because more than ``max_buffered`` were waiting unread."""
        return self._rx.dropped

    def __repr__(self) -> str:
        state = "closed" if self._rx.closed else "open" if self._started else "new"
        return f"<Advisories {state} subjects={list(self.subjects)!r}>"

    async def start(self) -> None:
        """Subscribe (idempotent); `__aenter__` and the first `__anext__` do it."""
        rx = self._rx
        if rx.closed:
            raise ConnectionClosedError("these advisories are closed")
        if self._started:
            return
        self._started = True
        self._connection.hub.add(rx)
        self._finalizer = weakref.finalize(self, _abandon, rx)
        try:
            for subject in self.subjects:
                rx.subs.append(await self._connection.subscribe(subject, rx.on_msg))
            # A round trip: the server has the subscriptions before the caller acts.
            await self._connection.flush(_WAIT)
        except BaseException:
            await self.aclose()
            raise

    def __aiter__(self) -> Advisories:
        return self

    async def __anext__(self) -> Advisory:
        rx = self._rx
        if not self._started and not rx.closed:
            await self.start()
        while True:
            if rx.buffer:
                return rx.buffer.popleft()
            if rx.error is not None:
                error, rx.error = rx.error, None
                await self.aclose()
                raise error
            if rx.closed or self._connection.hub.closed:
                await self.aclose()
                raise StopAsyncIteration
            rx.wakeup.clear()
            await rx.wakeup.wait()

    async def aclose(self) -> None:
        """Unsubscribe and end the iteration (idempotent); events not yet read are dropped."""
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None
        self._connection.hub.discard(self._rx)
        await _unsubscribe(self._rx.close())

    async def __aenter__(self) -> Advisories:
        await self.start()
        return self


def open_advisories(
    connection: Connection,
    kinds: Iterable[Kind] | Kind | None = None,
    *,
    stream: str | None = None,
    consumer: str | None = None,
    event_prefix: str = DEFAULT_EVENT_PREFIX,
    domain: str | None = None,
    max_buffered: int = DEFAULT_MAX_BUFFERED,
) -> Advisories:
    """`js.advisories()`: the subjects are checked and chosen now, subscribed when iterated."""
    if not isinstance(max_buffered, int) or isinstance(max_buffered, bool) or max_buffered < 1:
        raise InvalidArgumentError(f"max_buffered must be a positive int, got {max_buffered!r}")
    subjects = subscriptions(kinds, stream=stream, consumer=consumer, prefix=event_prefix)
    if domain is not None:
        check_name("domain", domain)
    return Advisories(connection, subjects, domain=domain, max_buffered=max_buffered)

"""`Consumer`: a handle on a pull consumer - `next`, `fetch`, `messages`, `consume` (ADR-37).

`next()` and `fetch()` are one-shot pulls (`_fetch`); `messages()` and `consume()` pull
continuously (`_messages`, `_consume`). `next()` waits on a pull an earlier, cancelled
call left behind instead of stacking a new one on top of it, so cancelled calls never pile up pull
requests (or steal each other's messages).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import timedelta

from .._core import DEFAULT, Timeout
from .._exceptions import InvalidArgumentError, TimeoutError
from .._generated.models import ConsumerInfo
from .._public import provide
from .._time import seconds
from .._transport import Connection, ConnectionHub, Msg
from . import _fetch, _messages
from ._api import ConsumerAPI
from ._consume import ConsumeContext
from ._fetch import MIN_PULL, FetchResult, Pull, heartbeat_for
from ._message import Message
from ._messages import MessageStream
from ._options import ConsumeOptions, Priority
from ._status import DEFAULT_EXPIRES, EventHandler, Signal

# next() splits a long or unlimited wait into pulls of at most this long.
_MAX_NEXT_PULL = DEFAULT_EXPIRES
# Pause before pulling again after a pull ended early (leadership change, pin moved ...).
_RETRY_PAUSE = 0.05


class Consumer:
    """A pull consumer of a stream: `next`, `fetch`, `messages`, `consume` (ADR-37).

    Get one with `JetStream.consumer` (never creates or changes the consumer) or
    `JetStream.create_consumer` / `update_consumer` / `create_or_update_consumer`. ``cached_info``
    is the info it was made with (or last refreshed); `info()` asks the server.
    """

    def __init__(self, js: ConsumerAPI, info: ConsumerInfo) -> None:
        self._js = js
        self._core = js._core
        self._info = info
        self._stream = info.stream_name
        self._name = info.name
        self._next_subject = self._core.subject(f"CONSUMER.MSG.NEXT.{self._stream}.{self._name}")
        self._stash: deque[Message] = deque()
        self._stash_waiters: set[Signal] = set()
        self._orphans: set[Pull] = set()
        self._pin_id: str | None = None

    def __repr__(self) -> str:
        return f"Consumer(stream={self._stream!r}, name={self._name!r})"

    @property
    def name(self) -> str:
        """The consumer's name."""
        return self._name

    @property
    def stream(self) -> str:
        """The name of the consumer's stream."""
        return self._stream

    @property
    def cached_info(self) -> ConsumerInfo:
        """The info this handle was made with, or got by the last `info()`; no request is sent."""
        return self._info

    @property
    def pin_id(self) -> str | None:
        """The pin of a ``pinned_client`` priority group this client holds (ADR-42), if any."""
        return self._pin_id

    async def info(self, *, timeout: Timeout = DEFAULT) -> ConsumerInfo:
        """Fresh info from the server (also refreshes `cached_info`)."""
        self._info = await self._js.consumer_info(self._stream, self._name, timeout=timeout)
        return self._info

    # --- plumbing shared with messages()

    @property
    def _connection(self) -> Connection:
        return self._core.transport

    @property
    def _conn(self) -> ConnectionHub:
        return self._core.transport.hub

    def _wrap(self, msg: Msg) -> Message:
        return Message(self._core, msg.subject, msg.reply, msg.data, msg.headers)

    def _stash_put(self, msg: Message, *, front: bool = False) -> None:
        if front:
            self._stash.appendleft(msg)
        else:
            self._stash.append(msg)
        self._wake_stash_waiters()

    def _wake_stash_waiters(self) -> None:
        for signal in list(self._stash_waiters):
            signal.wake()

    def _priority(
        self, group: str | None, min_pending: int | None, min_ack_pending: int | None, priority: int | None
    ) -> Priority:
        prio = Priority(group, min_pending, min_ack_pending, priority)
        prio.check(self._info)
        return prio

    # --- one-shot pulls

    async def next(
        self,
        timeout: float | timedelta | None = DEFAULT_EXPIRES,
        *,
        heartbeat: float | timedelta | None = None,
        group: str | None = None,
        min_pending: int | None = None,
        min_ack_pending: int | None = None,
        priority: int | None = None,
    ) -> Message:
        """The next message, waiting up to ``timeout`` seconds (None: until one comes).

        Raises `errors.TimeoutError` when none came in time. The pull request is sent only now,
        expires with the timeout, and its subscription is removed before returning. Cancelling
        ``next()`` propagates `asyncio.CancelledError` and loses nothing: a message its pull
        still brings is kept for the next call. ``group`` and the other priority options follow
        ADR-42; a pin received from the server is sent back on later pulls.

        Also raises `errors.ConsumerDeletedError`, `errors.NoRespondersError` (no such consumer),
        `errors.MissedHeartbeatError`, `errors.PullError` subclasses, `errors.ConnectionClosedError`.
        """
        wait = None if timeout is None else seconds(timeout, "timeout")
        prio = self._priority(group, min_pending, min_ack_pending, priority)
        hb_given = None if heartbeat is None else seconds(heartbeat, "heartbeat")
        loop = asyncio.get_running_loop()
        deadline = None if wait is None else loop.time() + wait
        waiting = Signal()
        while True:
            if self._stash:
                return self._stash.popleft()
            now = loop.time()
            remaining = None if deadline is None else deadline - now
            if remaining is not None and remaining <= MIN_PULL:
                raise TimeoutError(self._next_subject, wait)
            if self._orphans:
                # An earlier, abandoned pull is still out: its message will land in the stash.
                horizon = min(o.deadline for o in self._orphans) - now
                self._stash_waiters.add(waiting)
                try:
                    await waiting.wait(horizon if remaining is None else min(horizon, remaining))
                finally:
                    self._stash_waiters.discard(waiting)
                continue
            expires = _MAX_NEXT_PULL if remaining is None else min(remaining, _MAX_NEXT_PULL)
            pull = Pull(
                self,
                batch=1,
                max_bytes=None,
                expires=expires,
                no_wait=False,
                heartbeat=heartbeat_for(expires, hb_given, explicit=False),
                priority=prio,
            )
            msg: Message | None = None
            try:
                await pull.start()
                msg = await pull.take(stash_too=True)
            finally:
                try:
                    await pull.release()
                except BaseException:
                    if msg is not None:
                        self._stash_put(msg, front=True)
                    raise
            if msg is not None:
                return msg
            if pull.retry:
                await asyncio.sleep(_RETRY_PAUSE)

    def fetch(
        self,
        n: int,
        *,
        max_bytes: int | None = None,
        expires: float | timedelta = DEFAULT_EXPIRES,
        no_wait: bool = False,
        heartbeat: float | timedelta | None = None,
        group: str | None = None,
        min_pending: int | None = None,
        min_ack_pending: int | None = None,
        priority: int | None = None,
    ) -> FetchResult:
        """Up to ``n`` messages (and up to ``max_bytes``) from one pull request, as an async iterator.

        ``async for msg in consumer.fetch(10, expires=5): ...`` - the iteration ends when the pull
        is over: ``n`` messages, ``max_bytes`` reached, the server's expiry after ``expires``
        seconds, or at once with ``no_wait`` when nothing is pending. An empty stream is an empty
        iteration, not an error. ``heartbeat`` asks for idle heartbeats (default: 5 s for
        ``expires`` >= 10 s, none below); missing two raises `errors.MissedHeartbeatError`.
        See `FetchResult` for errors and early exits.
        """
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise InvalidArgumentError(f"n must be a positive integer, got {n!r}")
        if max_bytes is not None and (isinstance(max_bytes, bool) or max_bytes < 1):
            raise InvalidArgumentError(f"max_bytes must be a positive integer, got {max_bytes!r}")
        wait = seconds(expires, "expires")
        prio = self._priority(group, min_pending, min_ack_pending, priority)
        hb = None if no_wait else heartbeat_for(wait, heartbeat, explicit=heartbeat is not None)
        return FetchResult(
            self, n, max_bytes=max_bytes, expires=wait, no_wait=no_wait, heartbeat=hb, priority=prio
        )

    # --- continuous pulls (ADR-37), in _messages

    def messages(
        self,
        *,
        max_messages: int | None = None,
        max_bytes: int | None = None,
        expires: float | timedelta = DEFAULT_EXPIRES,
        heartbeat: float | timedelta | None = None,
        threshold_messages: int | None = None,
        threshold_bytes: int | None = None,
        group: str | None = None,
        min_pending: int | None = None,
        min_ack_pending: int | None = None,
        priority: int | None = None,
        on_event: EventHandler | None = None,
    ) -> MessageStream:
        """Messages for as long as you iterate: a continuous pull with a buffer (ADR-37).

        ``async with consumer.messages() as msgs: async for msg in msgs: ...`` (or iterate it
        directly, and `aclose()` it). One subscription serves every pull; a new pull is sent when
        the messages buffered or requested fall below ``threshold_messages`` (default half of
        ``max_messages``, 500) or ``threshold_bytes`` (half of ``max_bytes``; give one of
        ``max_messages`` / ``max_bytes``). Idle heartbeats are always on (default ``expires``/2,
        0.5 s to 30 s). Missed heartbeats, reconnects, leadership changes and warning statuses
        are non-terminal `ConsumeEvent`s passed to ``on_event``, each followed by a new pull.
        The iteration raises only `errors.ConsumerDeletedError`, `errors.ConsumerIsPushBasedError`
        or `errors.BadPullRequestError`, which end it, or ends after `aclose()` / `drain()`.
        """
        opts = ConsumeOptions.build(
            max_messages=max_messages,
            max_bytes=max_bytes,
            expires=expires,
            heartbeat=heartbeat,
            threshold_messages=threshold_messages,
            threshold_bytes=threshold_bytes,
            priority=self._priority(group, min_pending, min_ack_pending, priority),
        )
        return MessageStream(self, opts, on_event)

    async def consume(
        self,
        handler: Callable[[Message], Awaitable[object] | object],
        *,
        max_messages: int | None = None,
        max_bytes: int | None = None,
        expires: float | timedelta = DEFAULT_EXPIRES,
        heartbeat: float | timedelta | None = None,
        threshold_messages: int | None = None,
        threshold_bytes: int | None = None,
        group: str | None = None,
        min_pending: int | None = None,
        min_ack_pending: int | None = None,
        priority: int | None = None,
        on_event: EventHandler | None = None,
        on_error: Callable[[BaseException], object] | None = None,
    ) -> ConsumeContext:
        """Call ``handler(msg)`` (sync or async) for each message, in one background task.

        Same options as `messages`. An exception raised by the handler goes to ``on_error`` (or is
        logged) and consuming goes on; a terminal error (consumer deleted, push based, bad
        request) goes there too and ends it. Returns a `ConsumeContext`: ``aclose()``, ``drain()``,
        ``closed`` (awaitable), ``error``.
        """
        stream = self.messages(
            max_messages=max_messages,
            max_bytes=max_bytes,
            expires=expires,
            heartbeat=heartbeat,
            threshold_messages=threshold_messages,
            threshold_bytes=threshold_bytes,
            group=group,
            min_pending=min_pending,
            min_ack_pending=min_ack_pending,
            priority=priority,
            on_event=on_event,
        )
        await stream._start()
        return ConsumeContext(stream, handler, on_error)


# `_fetch` and `_messages` name `Consumer` in annotations but cannot import it (this
# module imports them): they get it at runtime, for `typing.get_type_hints`.
provide(_fetch, Consumer)
provide(_messages, Consumer)

"""`Consumer`: a handle on a pull consumer - `next`, `fetch`, `messages`, `consume` (ADR-37).

`next()` and `fetch()` are one-shot pulls (`_fetch`); `messages()` and `consume()` pull
continuously (`_messages`, `_consume`). `next()` waits on a pull an earlier, cancelled
call left behind instead of stacking a new one on top of it, so cancelled calls never pile up pull
requests (or steal each other's messages).

Those modules see the consumer's `PullState` only, never the `Consumer`: `MessageStream`, which
names its `Consumer`, is the continuous pull of `_messages` with that one property, defined here.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from .._core import DEFAULT, Timeout
from .._exceptions import TimeoutError
from .._generated.models import ConsumerInfo
from .._time import seconds
from .._typing import Unpack
from ._api import ConsumerAPI
from ._consume import ConsumeContext, ErrorHandler, Handler, consume
from ._fetch import MIN_PULL, FetchResult, Pull, heartbeat_for
from ._message import Message
from ._messages import ContinuousPull
from ._options import (
    ConsumeOptions,
    PriorityOptions,
    PullFetchOptions,
    PullMessagesOptions,
    check_keys,
    check_positive,
    priority_of,
    with_options_signature,
)
from ._pulls import PullState
from ._status import DEFAULT_EXPIRES, Signal

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
        self._info = info
        self._stream = info.stream_name
        self._name = info.name
        # What next(), fetch() and messages() share: the stash, the pin, the connection ...
        self._pulls = PullState(js._core, self._stream, self._name)
        self._next_subject = self._pulls.next_subject  # named by the errors of a pull

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
        return self._pulls.pin_id

    async def info(self, *, timeout: Timeout = DEFAULT) -> ConsumerInfo:
        """Fresh info from the server (also refreshes `cached_info`)."""
        self._info = await self._js.consumer_info(self._stream, self._name, timeout=timeout)
        return self._info

    # --- one-shot pulls

    @with_options_signature(PriorityOptions)
    async def next(
        self,
        timeout: float | timedelta | None = DEFAULT_EXPIRES,
        *,
        heartbeat: float | timedelta | None = None,
        **priority: Unpack[PriorityOptions],
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
        check_keys(priority, PriorityOptions)
        wait = None if timeout is None else seconds(timeout, "timeout")
        prio = priority_of(priority, self._info)
        hb_given = None if heartbeat is None else seconds(heartbeat, "heartbeat")
        loop = asyncio.get_running_loop()
        deadline = None if wait is None else loop.time() + wait
        waiting = Signal()
        pulls = self._pulls
        while True:
            if pulls.stash:
                return pulls.stash.popleft()
            now = loop.time()
            remaining = None if deadline is None else deadline - now
            if remaining is not None and remaining <= MIN_PULL:
                raise TimeoutError(pulls.next_subject, wait)
            if pulls.orphans:
                # An earlier, abandoned pull is still out: its message will land in the stash.
                horizon = min(o.deadline for o in pulls.orphans) - now
                pulls.stash_waiters.add(waiting)
                try:
                    await waiting.wait(horizon if remaining is None else min(horizon, remaining))
                finally:
                    pulls.stash_waiters.discard(waiting)
                continue
            expires = _MAX_NEXT_PULL if remaining is None else min(remaining, _MAX_NEXT_PULL)
            pull = Pull(
                pulls,
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
                        pulls.stash_put(msg, front=True)
                    raise
            if msg is not None:
                return msg
            if pull.retry:
                await asyncio.sleep(_RETRY_PAUSE)

    @with_options_signature(PullFetchOptions)
    def fetch(self, n: int, **options: Unpack[PullFetchOptions]) -> FetchResult:
        """Up to ``n`` messages (and up to ``max_bytes``) from one pull request, as an async iterator.

        ``async for msg in consumer.fetch(10, expires=5): ...`` - the iteration ends when the pull
        is over: ``n`` messages, ``max_bytes`` reached, the server's expiry after ``expires``
        seconds, or at once with ``no_wait`` when nothing is pending. An empty stream is an empty
        iteration, not an error. ``heartbeat`` asks for idle heartbeats (default: 5 s for
        ``expires`` >= 10 s, none below); missing two raises `errors.MissedHeartbeatError`.
        ``group`` and the other priority options follow ADR-42. See `FetchResult` for errors and
        early exits.
        """
        check_keys(options, PullFetchOptions)
        check_positive("n", n)
        wait = seconds(options.get("expires", DEFAULT_EXPIRES), "expires")
        prio = priority_of(options, self._info)
        no_wait = bool(options.get("no_wait", False))
        heartbeat = options.get("heartbeat")
        hb = None if no_wait else heartbeat_for(wait, heartbeat, explicit=heartbeat is not None)
        return FetchResult(
            self._pulls,
            n,
            max_bytes=check_positive("max_bytes", options.get("max_bytes")),
            expires=wait,
            no_wait=no_wait,
            heartbeat=hb,
            priority=prio,
            owner=self,
        )

    # --- continuous pulls (ADR-37), in _messages

    @with_options_signature(PullMessagesOptions)
    def messages(self, **options: Unpack[PullMessagesOptions]) -> MessageStream:
        """Messages for as long as you iterate: a continuous pull with a buffer (ADR-37).

        ``async with consumer.messages() as msgs: async for msg in msgs: ...`` (or iterate it
        directly, and `aclose()` it). One subscription serves every pull; a new pull is sent when
        the messages buffered or requested fall below ``threshold_messages`` (default half of
        ``max_messages``, 500), or, with ``max_bytes`` alone, the bytes below ``threshold_bytes``
        (half of ``max_bytes``). ``max_messages`` and ``max_bytes`` together: ``max_bytes`` caps
        each pull request (nats.go's ``PullMaxMessagesWithBytesLimit``). ``stop_after=n`` ends the
        iteration once ``n`` messages were handed out (pulls never ask for more). Idle heartbeats
        are always on (default ``expires``/2, 0.5 s to 30 s). Missed heartbeats, reconnects,
        leadership changes and warning statuses are non-terminal `ConsumeEvent`s passed to
        ``on_event``, each followed by a new pull. ``group`` and the other priority options follow
        ADR-42. The iteration raises only `errors.ConsumerDeletedError`,
        `errors.ConsumerIsPushBasedError` or `errors.BadPullRequestError`, which end it, or ends
        after `aclose()` / `drain()` / ``stop_after``.
        """
        return MessageStream(self, ConsumeOptions.build(self._info, **options))

    @with_options_signature(PullMessagesOptions)
    async def consume(
        self,
        handler: Handler,
        *,
        on_error: ErrorHandler | None = None,
        **options: Unpack[PullMessagesOptions],
    ) -> ConsumeContext:
        """Call ``handler(msg)`` (sync or async) for each message, in one background task.

        Same options as `messages`. The first pull request is sent before this returns. An
        exception raised by the handler goes to ``on_error`` (or is logged) and consuming goes on;
        a terminal error (consumer deleted, push based, bad request) goes there too and ends it, as
        ``stop_after`` messages handled do. Returns a `ConsumeContext`: ``aclose()``, ``drain()``,
        ``closed`` (awaitable), ``error``.
        """
        return await consume(self.messages(**options), handler, on_error)


class MessageStream(ContinuousPull):
    """The messages of a pull consumer, for as long as you iterate (ADR-37 ``Messages``).

    An async iterator and an async context manager. The subscription is made on the first
    iteration (or on entering ``async with``). `aclose()` ends it at once, dropping what is buffered
    (those messages are not acknowledged: the server redelivers them after ``ack_wait``); `drain()`
    stops pulling and ends once the buffered messages are handed out. Several tasks may iterate
    the same stream. See `Consumer.messages` for the options and events.
    """

    def __init__(self, consumer: Consumer, opts: ConsumeOptions, *, ordered: bool = False) -> None:
        super().__init__(consumer._pulls, opts, ordered=ordered)
        self._consumer = consumer

    def __repr__(self) -> str:
        return f"MessageStream(consumer={self._consumer!r}, state={self._inbox.state.name})"

    @property
    def consumer(self) -> Consumer:
        """The `Consumer` this stream pulls from."""
        return self._consumer

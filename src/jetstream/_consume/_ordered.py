"""`OrderedConsumer` (ADR-17): every message of a stream (or of its filters) exactly once, in order,
without a durable consumer.

It runs an ephemeral, R1, memory-stored pull consumer with ``ack_policy: none`` and remembers the
last stream and consumer sequence it handed out. When anything may have broken the sequence - a
consumer-sequence gap, missed heartbeats, the consumer deleted or gone, a reconnect - it replaces the
consumer with a new one starting at the last stream sequence + 1. Messages of a replaced consumer
still in flight carry its name and are skipped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from types import TracebackType

import msgspec

from .._core import DEFAULT, Timeout
from .._exceptions import (
    APIError,
    InvalidArgumentError,
    JetStreamError,
    NoRespondersError,
    OrderedConsumerBusyError,
    TimeoutError,
)
from .._generated.models import ConsumerConfig, ConsumerInfo, DeliverPolicy, ReplayPolicy
from .._public import provide
from .._time import seconds
from .._transport import next_id
from . import _ordered_streams
from ._api import ConsumerAPI
from ._consume import ConsumeContext
from ._message import Message
from ._messages import ResetNeeded
from ._options import ConsumeOptions
from ._ordered_streams import RECREATE_ON, OrderedFetchResult, OrderedMessageStream, reason_of
from ._pull import Consumer
from ._status import (
    DEFAULT_EXPIRES,
    ConsumerRecreated,
    EventHandler,
    Signal,
    emit,
    logger,
)

_DEFAULT_INACTIVE = timedelta(minutes=5)
_BACKOFF_FIRST = 0.1
_BACKOFF_MAX = 2.0
_DELETE_TIMEOUT = 2.0


class OrderedConfig(msgspec.Struct, frozen=True):
    filter_subjects: tuple[str, ...]
    deliver_policy: DeliverPolicy | str
    opt_start_seq: int | None
    opt_start_time: datetime | None
    headers_only: bool
    replay_policy: ReplayPolicy | str
    inactive_threshold: timedelta
    metadata: dict[str, str] | None


class OrderedConsumer:
    """Every message of a stream (or filter), exactly once and in order (ADR-17).

    Same `next`, `fetch`, `messages`, `consume` as a `Consumer`, with no acknowledgements (the
    messages need none). Fault handling is transparent: the underlying consumer is recreated from
    the last delivered sequence; with ``messages()`` / ``consume()`` each replacement is a
    `ConsumerRecreated` event. One ``messages()`` / ``consume()`` may run at a time
    (`errors.OrderedConsumerBusyError`). `aclose()` deletes the server consumer (best effort).
    """

    def __init__(self, js: ConsumerAPI, stream: str, config: OrderedConfig) -> None:
        self._js = js
        self._stream = stream
        self._cfg = config
        self._prefix = next_id()
        self._serial = 0
        self._stream_seq = 0
        # Where the first server consumer of a "new" policy started: a consumer recreated before
        # anything was handed out resumes there, or it would skip what was published in between.
        self._new_floor: int | None = None
        self._consumer_seq = 0
        self._current: Consumer | None = None
        self._active: OrderedMessageStream | None = None  # the running messages()/consume()
        self._creating = asyncio.Lock()

    def __repr__(self) -> str:
        return f"OrderedConsumer(stream={self._stream!r}, consumer={self.name!r})"

    @property
    def stream(self) -> str:
        """The name of the stream it reads."""
        return self._stream

    @property
    def name(self) -> str | None:
        """The name of the server consumer in use now (it changes on each recreation)."""
        return None if self._current is None else self._current.name

    @property
    def cached_info(self) -> ConsumerInfo | None:
        """The info the server consumer in use was created with; None before the first one. No
        request is sent."""
        return None if self._current is None else self._current.cached_info

    @property
    def last_stream_seq(self) -> int:
        """The stream sequence of the last message handed out (0: none yet)."""
        return self._stream_seq

    async def info(self, *, timeout: Timeout = DEFAULT) -> ConsumerInfo:
        """Info of the server consumer in use now (creating one if there is none)."""
        consumer = await self._ensure(None, "start")
        return await consumer.info(timeout=timeout)

    # --- the server consumer

    def _config(self) -> ConsumerConfig:
        cfg = self._cfg
        filters = list(cfg.filter_subjects)
        config = ConsumerConfig(
            name=f"{self._prefix}_{self._serial}",
            ack_policy="none",
            max_deliver=1,
            mem_storage=True,
            num_replicas=1,
            inactive_threshold=cfg.inactive_threshold,
            headers_only=True if cfg.headers_only else None,
            replay_policy=cfg.replay_policy,
            metadata=cfg.metadata,
            filter_subject=filters[0] if len(filters) == 1 else None,
            filter_subjects=filters if len(filters) > 1 else None,
        )
        if self._stream_seq:
            config.deliver_policy = "by_start_sequence"
            config.opt_start_seq = self._stream_seq + 1
        elif self._new_floor is not None:
            config.deliver_policy = "by_start_sequence"
            config.opt_start_seq = self._new_floor + 1
        else:
            config.deliver_policy = cfg.deliver_policy
            config.opt_start_seq = cfg.opt_start_seq
            config.opt_start_time = cfg.opt_start_time
        return config

    async def _ensure(
        self,
        deadline: float | None,
        reason: str,
        *,
        on_event: EventHandler | None = None,
        interrupt: Signal | None = None,
        stopping: Callable[[], bool] | None = None,
    ) -> Consumer:
        """The consumer in use, or a new one from the last delivered sequence + 1. While the server
        is unreachable it retries with backoff, until ``deadline`` (None: until ``stopping()``)."""
        if self._current is not None:
            return self._current
        async with self._creating:
            if self._current is not None:
                return self._current
            return await self._create(deadline, reason, on_event, interrupt, stopping)

    async def _create(
        self,
        deadline: float | None,
        reason: str,
        on_event: EventHandler | None,
        interrupt: Signal | None,
        stopping: Callable[[], bool] | None,
    ) -> Consumer:
        loop = asyncio.get_running_loop()
        core = self._js._core
        delay = _BACKOFF_FIRST
        self._serial += 1
        config = self._config()
        while True:
            now = loop.time()
            attempt = core.default_timeout if deadline is None else min(core.default_timeout, deadline - now)
            try:
                if attempt <= 0:
                    raise TimeoutError(core.subject(f"CONSUMER.CREATE.{self._stream}"), 0.0)
                info = await self._js.consumer_create(self._stream, config, timeout=attempt)
                break
            except (TimeoutError, NoRespondersError, APIError) as exc:
                if isinstance(exc, APIError) and exc.code != 503:
                    raise
                if deadline is not None and loop.time() + delay >= deadline:
                    raise
                if stopping is not None and stopping():
                    raise
                logger.debug("ordered consumer: recreate failed (%s), retrying", exc)
            if interrupt is not None:
                await interrupt.wait(delay)
            else:
                await asyncio.sleep(delay)
            delay = min(delay * 2, _BACKOFF_MAX)
        consumer = Consumer(self._js, info)
        self._current = consumer
        self._consumer_seq = 0
        if self._new_floor is None and self._cfg.deliver_policy == "new":
            self._new_floor = info.delivered.stream_seq
        if reason != "start":
            emit(on_event, ConsumerRecreated(consumer.name, config.opt_start_seq or 1, reason))
        return consumer

    async def _drop(self, consumer: Consumer | None) -> None:
        """Forget a consumer (if still the current one) and delete it on the server, best effort."""
        if consumer is None:
            return
        if self._current is consumer:
            self._current = None
        try:
            if consumer._conn.connected:
                await self._js.consumer_delete(self._stream, consumer.name, timeout=_DELETE_TIMEOUT)
        except JetStreamError:
            pass

    def _accept(self, msg: Message, consumer: Consumer) -> bool:
        """Whether to hand `msg` out (False: a replaced consumer's straggler). Raises `ResetNeeded`
        on a consumer-sequence gap."""
        meta = msg.metadata
        if meta.consumer != consumer.name or self._current is not consumer:
            return False
        if meta.sequence.consumer != self._consumer_seq + 1:
            raise ResetNeeded("gap")
        self._consumer_seq = meta.sequence.consumer
        self._stream_seq = meta.sequence.stream
        return True

    def _check_idle(self) -> None:
        if self._active is not None:
            raise OrderedConsumerBusyError("this ordered consumer is serving a messages()/consume()")

    # --- one-shot pulls

    async def next(self, timeout: float | timedelta | None = DEFAULT_EXPIRES) -> Message:
        """The next message in order, waiting up to ``timeout`` seconds (None: until one comes);
        raises `errors.TimeoutError` when none came. Cancelling loses nothing."""
        self._check_idle()
        wait = None if timeout is None else seconds(timeout, "timeout")
        loop = asyncio.get_running_loop()
        deadline = None if wait is None else loop.time() + wait
        reason = "start"
        while True:
            consumer = await self._ensure(deadline, reason)
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                raise TimeoutError(consumer._next_subject, wait)
            try:
                msg = await consumer.next(remaining)
            except RECREATE_ON as exc:
                reason = reason_of(exc)
                await self._drop(consumer)
                continue
            try:
                if self._accept(msg, consumer):
                    return msg
            except ResetNeeded as reset:
                reason = reset.reason
                await self._drop(consumer)

    def fetch(
        self,
        n: int,
        *,
        max_bytes: int | None = None,
        expires: float | timedelta = DEFAULT_EXPIRES,
        no_wait: bool = False,
        heartbeat: float | timedelta | None = None,
    ) -> OrderedFetchResult:
        """Up to ``n`` messages in order, as an async iterator that ends when the pull is over
        (an empty iteration near ``expires`` when there is nothing)."""
        self._check_idle()
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise InvalidArgumentError(f"n must be a positive integer, got {n!r}")
        return OrderedFetchResult(
            self,
            n,
            max_bytes=max_bytes,
            expires=seconds(expires, "expires"),
            no_wait=no_wait,
            heartbeat=heartbeat,
        )

    # --- continuous pulls

    def messages(
        self,
        *,
        max_messages: int | None = None,
        max_bytes: int | None = None,
        expires: float | timedelta = DEFAULT_EXPIRES,
        heartbeat: float | timedelta | None = None,
        threshold_messages: int | None = None,
        threshold_bytes: int | None = None,
        on_event: EventHandler | None = None,
    ) -> OrderedMessageStream:
        """Every message in order for as long as you iterate (see `Consumer.messages`). Faults
        never end it: the consumer is recreated (a `ConsumerRecreated` event)."""
        self._check_idle()
        opts = ConsumeOptions.build(
            max_messages=max_messages,
            max_bytes=max_bytes,
            expires=expires,
            heartbeat=heartbeat,
            threshold_messages=threshold_messages,
            threshold_bytes=threshold_bytes,
        )
        return OrderedMessageStream(self, opts, on_event)

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
        on_event: EventHandler | None = None,
        on_error: Callable[[BaseException], object] | None = None,
    ) -> ConsumeContext:
        """Call ``handler(msg)`` for every message, in order, in one background task (see
        `Consumer.consume`)."""
        stream = self.messages(
            max_messages=max_messages,
            max_bytes=max_bytes,
            expires=expires,
            heartbeat=heartbeat,
            threshold_messages=threshold_messages,
            threshold_bytes=threshold_bytes,
            on_event=on_event,
        )
        await stream._start()
        return ConsumeContext(stream, handler, on_error)

    async def aclose(self) -> None:
        """Stop a running messages()/consume() and delete the server consumer (best effort);
        ``async with`` calls it on exit. Unlike other closed objects, an ordered consumer may be
        used again: a later call creates a new server consumer where this one left off."""
        active = self._active
        if active is not None:
            await active.aclose()
        await self._drop(self._current)

    async def __aenter__(self) -> OrderedConsumer:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


# `_ordered_streams` names `OrderedConsumer` in annotations but cannot import it (this module
# imports it).
provide(_ordered_streams, OrderedConsumer)

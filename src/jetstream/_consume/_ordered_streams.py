"""The machinery of an ordered consumer (ADR-17), shared by `OrderedConsumer` and by the Key/Value
and Object Store watches and reads: `OrderedCursor`, which owns the server consumer, and the
iterators over it, `OrderedFetchResult` (``fetch``) and `OrderedMessageStream` (``messages`` /
``consume``).

The server consumer is ephemeral, R1, memory-stored, with ``ack_policy: none``. A message is handed
out only if it continues the consumer sequence. A gap, missed heartbeats, a reconnect or a lost
consumer replace the server consumer by one starting at the last stream sequence handed out + 1,
retried with jittered exponential backoff. The replaced consumer is deleted first, and one whose
deletion or creation could not be confirmed is deleted before the next is created (and on close),
so a reconnect storm leaves one consumer, not one per reconnect. Messages of a replaced consumer
still in flight carry its name and are skipped.
"""

from __future__ import annotations

import asyncio
import random
import weakref
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Final

import msgspec

from .._exceptions import (
    APIError,
    ConnectionClosedError,
    ConsumerDeletedError,
    JetStreamError,
    MissedHeartbeatError,
    NoRespondersError,
    OrderedConsumerBusyError,
    OrderedConsumerResetError,
    PermissionDeniedError,
    TimeoutError,
)
from .._generated.errors import StreamNotFoundError
from .._generated.models import ConsumerConfig, ConsumerInfo, DeliverPolicy, ReplayPolicy
from .._time import seconds
from .._transport import next_id
from .._typing import AsyncResource
from ._api import ConsumerAPI
from ._consume import StreamBase
from ._fetch import FetchResult, message_size
from ._message import Message
from ._messages import ResetNeeded
from ._options import ConsumeOptions, FetchOptions
from ._pull import Consumer, MessageStream
from ._status import DEFAULT_EXPIRES, ConsumerRecreated, EventHandler, Signal, emit, logger, spawn_cleanup

INACTIVE_THRESHOLD: Final = timedelta(minutes=5)
"""How long the server keeps an abandoned consumer (its client crashed): nats.go's value."""
# Recreation is tried only while connected, so the backoff spaces out refusals of a server that is
# up (stream not loaded yet, no leader ...); the cap bounds how long delivery lags behind its recovery.
_BACKOFF_FIRST = 0.1
_BACKOFF_MAX = 2.0
_DISCONNECTED_POLL = 0.05  # nothing can be created before the client has reconnected
_DELETE_TIMEOUT = 2.0  # bound on each best-effort delete
# "Stream not found" this many times in a row ends a recreation: a server recovering its streams
# may not know one for a moment, a deleted stream stays gone.
_NOT_FOUND_LIMIT = 3
_GONE = (10014, 10059)  # consumer not found, stream not found: nothing left to delete

# Errors after which the consumer is replaced (the server may be back, the consumer is not).
RECREATE_ON = (ConsumerDeletedError, NoRespondersError, MissedHeartbeatError)


def reason_of(exc: BaseException) -> str:
    if isinstance(exc, ConsumerDeletedError):
        return "deleted"
    if isinstance(exc, MissedHeartbeatError):
        return "heartbeat"
    return "unavailable"


class OrderedConfig(msgspec.Struct, frozen=True):
    filter_subjects: tuple[str, ...]
    deliver_policy: DeliverPolicy | str = "all"
    opt_start_seq: int | None = None
    opt_start_time: datetime | None = None
    headers_only: bool = False
    replay_policy: ReplayPolicy | str = "instant"
    inactive_threshold: timedelta = INACTIVE_THRESHOLD
    metadata: dict[str, str] | None = None
    name_prefix: str | None = None  # consumers are named <prefix>_<serial>; default: a unique id
    max_reset_attempts: int | None = None  # failed creations in one recreation before giving up


def _retry(exc: JetStreamError, *, first: bool, not_found: int) -> bool:
    """Whether creating a consumer is tried again after ``exc``: the first creation only through
    what is transient, a recreation through whatever the server goes through, except a stream
    that stays gone."""
    if isinstance(exc, (TimeoutError, NoRespondersError)) or (isinstance(exc, APIError) and exc.code == 503):
        return True
    if first or isinstance(exc, (ConnectionClosedError, PermissionDeniedError)):
        return False
    return not_found < _NOT_FOUND_LIMIT


class Interrupted(Exception):
    """Internal: `OrderedMessageStream.__anext__` returns control after a recreation because its
    ``on_recreated`` hook asked for it (never reaches users)."""


class OrderedCursor:
    """The server consumer of an ordered consumer and where delivery stands (the last stream and
    consumer sequence handed out); creates, replaces and deletes the server consumer."""

    def __init__(self, js: ConsumerAPI, stream: str, config: OrderedConfig) -> None:
        self._js = js
        self._stream = stream
        self._cfg = config
        self._prefix = config.name_prefix or next_id()
        self._serial = 0
        self._stream_seq = 0
        # Where the first server consumer of a "new" policy started: a consumer recreated before
        # anything was handed out resumes there, or it would skip what was published in between.
        self._new_floor: int | None = None
        self._consumer_seq = 0
        self._current: Consumer | None = None
        self._orphans: set[str] = set()  # consumers that may exist on the server and are not used
        self._resets = 0  # replacements begun (also those still trying)
        # The running messages()/consume(), weakly: one dropped without aclose() frees the consumer.
        self._active: weakref.ref[OrderedMessageStream] | None = None
        self._busy: object | None = None  # the running fetch/next
        self._creating = asyncio.Lock()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(stream={self._stream!r}, consumer={self.name!r})"

    @property
    def stream(self) -> str:
        """The name of the stream it reads."""
        return self._stream

    @property
    def name(self) -> str | None:
        """The name of the server consumer in use now (it changes on each recreation)."""
        return None if self._current is None else self._current.name

    @property
    def last_stream_seq(self) -> int:
        """The stream sequence of the last message handed out (0: none yet)."""
        return self._stream_seq

    def _config(self) -> ConsumerConfig:
        cfg = self._cfg
        filters = list(cfg.filter_subjects)
        if not filters and cfg.deliver_policy == "last_per_subject":
            filters = [">"]  # the server refuses last_per_subject without a filter (10094)
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

    async def _start_within(self, wait: float | None) -> None:
        """Create the first server consumer within ``wait`` seconds (None: no limit); raises what
        creating it raises (`errors.StreamNotFoundError` ...)."""
        deadline = None if wait is None else asyncio.get_running_loop().time() + wait
        try:
            await self._ensure(deadline, "start")
        except BaseException:
            spawn_cleanup(self._close)  # a creation that timed out may still take place
            raise

    async def _ensure(
        self,
        deadline: float | None,
        reason: str,
        *,
        on_event: EventHandler | None = None,
        interrupt: Signal | None = None,
        stopping: Callable[[], bool] | None = None,
    ) -> Consumer:
        """The consumer in use, or a new one from the last delivered sequence + 1 (``reason``
        "start" for the first). It retries with backoff until ``deadline`` (None: until
        ``stopping()``)."""
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
        hub = core.transport.hub
        subject = core.subject(f"CONSUMER.CREATE.{self._stream}")
        self._serial += 1
        if reason != "start":
            self._resets += 1
        config = self._config()
        name = config.name or ""
        attempt = not_found = 0
        failure: JetStreamError | None = None
        timed_out = in_flight = False  # then the server may create it after all
        try:
            while True:
                if hub.closed:
                    raise ConnectionClosedError("the NATS connection was closed under an ordered consumer")
                delay = _DISCONNECTED_POLL  # nothing can be created before nats-py has reconnected
                if hub.connected:
                    await self._delete_orphans()
                    wait = core.default_timeout
                    if deadline is not None:
                        wait = min(wait, deadline - loop.time())
                    if wait <= 0:
                        raise failure or TimeoutError(subject, 0.0)
                    in_flight = True
                    try:
                        info = await self._js.consumer_create(self._stream, config, timeout=wait)
                        break
                    except JetStreamError as exc:
                        in_flight = False
                        timed_out = timed_out or isinstance(exc, TimeoutError)
                        not_found = not_found + 1 if isinstance(exc, StreamNotFoundError) else 0
                        failure = exc
                        if not _retry(exc, first=reason == "start", not_found=not_found):
                            raise
                        limit = self._cfg.max_reset_attempts
                        if reason != "start" and limit is not None and attempt + 1 >= limit:
                            raise OrderedConsumerResetError(self._stream, attempt + 1) from exc
                    logger.debug("ordered consumer: creating %s failed (%s), retrying", name, failure)
                    delay = min(_BACKOFF_MAX, _BACKOFF_FIRST * 2**attempt) * random.uniform(0.5, 1.0)
                    attempt += 1
                if deadline is not None and loop.time() + delay >= deadline:
                    raise failure or TimeoutError(subject, deadline - loop.time())
                if stopping is not None and stopping():
                    raise failure or TimeoutError(subject, 0.0)
                if interrupt is not None:
                    await interrupt.wait(delay)
                else:
                    await asyncio.sleep(delay)
        except BaseException:
            if timed_out or in_flight:
                self._orphans.add(name)
            raise
        consumer = Consumer(self._js, info)
        self._current = consumer
        self._consumer_seq = 0
        if self._new_floor is None and self._cfg.deliver_policy == "new":
            self._new_floor = info.delivered.stream_seq
        if reason != "start":
            emit(on_event, ConsumerRecreated(consumer.name, config.opt_start_seq or 1, reason))
        return consumer

    def _forget_current(self) -> None:
        """A reader left with a pull outstanding: what the server still sends it goes nowhere, so
        the consumer's delivered sequence may run ahead of what was handed out (and a read that
        found nothing more would end empty). The next read replaces the consumer, starting after
        the last message handed out; this one is deleted then. Synchronous: finalizers call it."""
        if self._current is not None:
            self._orphans.add(self._current.name)
            self._current = None

    async def _drop(self, consumer: Consumer | None) -> None:
        """Forget a consumer (if still the current one) and delete it, with those left over, on the
        server (best effort); one that cannot be deleted now is deleted before the next is created."""
        if consumer is not None:
            if self._current is consumer:
                self._current = None
            self._orphans.add(consumer.name)
        await self._delete_orphans()

    async def _delete_orphans(self) -> None:
        if not self._orphans or not self._js._core.transport.hub.connected:
            return
        names = sorted(self._orphans)
        deleted = await asyncio.gather(*(self._delete(name) for name in names))
        self._orphans.difference_update(name for name, done in zip(names, deleted, strict=True) if done)

    async def _delete(self, name: str) -> bool:
        try:
            await self._js.consumer_delete(self._stream, name, timeout=_DELETE_TIMEOUT)
        except JetStreamError as exc:
            return getattr(exc, "err_code", 0) in _GONE
        return True

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

    def _running(self) -> OrderedMessageStream | None:
        return None if self._active is None else self._active()

    def _check_idle(self) -> None:
        if self._running() is not None:
            raise OrderedConsumerBusyError("this ordered consumer is serving a messages()/consume()")
        if self._busy is not None:
            raise OrderedConsumerBusyError(
                "this ordered consumer is serving a fetch()/next() (end or aclose() a fetch first)"
            )

    async def _close(self) -> None:
        """Stop a running messages()/consume() and delete the server consumer (best effort)."""
        active = self._running()
        if active is not None:
            await active.aclose()
        await self._drop(self._current)


class OrderedFetchResult(AsyncResource):
    """The messages of one `OrderedConsumer.fetch`, in order; see `FetchResult`."""

    def __init__(self, oc: OrderedCursor, n: int, options: FetchOptions) -> None:
        self._oc = oc
        self._n = n
        self._options = options  # checked, but for the expiry
        self._max_bytes = options.get("max_bytes")
        self._expires = seconds(options.get("expires", DEFAULT_EXPIRES), "expires")
        self._inner: FetchResult | None = None
        self._consumer: Consumer | None = None
        self._got = 0
        self._got_bytes = 0
        self._deadline: float | None = None
        self._finished = False
        self._reason = "start"
        self._finalizer: weakref.finalize[..., OrderedFetchResult] | None = None
        self._token = object()  # what holds the ordered consumer (not self: it may be collected)

    def __repr__(self) -> str:
        return f"OrderedFetchResult(consumer={self._oc!r}, n={self._n}, finished={self._finished})"

    def __aiter__(self) -> OrderedFetchResult:
        return self

    async def __anext__(self) -> Message:
        oc = self._oc
        loop = asyncio.get_running_loop()
        if self._deadline is None and not self._finished:
            # From the first iteration until it ends, this fetch holds the ordered consumer.
            oc._check_idle()
            oc._busy = self._token
            self._finalizer = weakref.finalize(self, _abandon_fetch, oc, self._token)
            self._deadline = loop.time() + self._expires
        while not self._finished:
            inner = self._inner
            consumer = self._consumer
            if inner is None or consumer is None:
                assert self._deadline is not None
                remaining = self._deadline - loop.time()
                budget = None if self._max_bytes is None else self._max_bytes - self._got_bytes
                if self._got >= self._n or remaining <= 0.001 or (budget is not None and budget <= 0):
                    break
                consumer = self._consumer = await oc._ensure(self._deadline, self._reason)
                options = self._options.copy()
                options["max_bytes"] = budget
                options["expires"] = remaining
                inner = self._inner = consumer.fetch(self._n - self._got, **options)
            try:
                msg = await inner.__anext__()
            except StopAsyncIteration:
                self._inner = None  # its pull is complete: nothing more comes for it
                break
            except RECREATE_ON as exc:
                await self._replace(reason_of(exc))
                continue
            try:
                if oc._accept(msg, consumer):
                    self._got += 1
                    if self._max_bytes is not None:
                        self._got_bytes += message_size(msg)
                    return msg
            except ResetNeeded as reset:
                await self._replace(reset.reason)
        await self.aclose()
        raise StopAsyncIteration

    async def _replace(self, reason: str) -> None:
        inner, consumer = self._inner, self._consumer
        self._inner = self._consumer = None
        self._reason = reason
        if inner is not None:
            await inner.aclose()
        await self._oc._drop(consumer)

    async def aclose(self) -> None:
        """Stop iterating; what the pull still brings is dropped (an ordered consumer redelivers
        from the last message handed out)."""
        self._finished = True
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None
        _release_fetch(self._oc, self._token)
        inner, self._inner = self._inner, None
        if inner is not None:
            self._oc._forget_current()  # left before its pull completed
            await inner.aclose()


class OrderedMessageStream(StreamBase):
    """`OrderedConsumer.messages()`: like `MessageStream`, but never ends on faults; each
    replacement of the consumer is a `ConsumerRecreated` event."""

    def __init__(
        self,
        oc: OrderedCursor,
        opts: ConsumeOptions,
        *,
        on_recreated: Callable[[ConsumerInfo], bool] | None = None,
    ) -> None:
        self._oc = oc
        self._opts = opts
        self._on_event = opts.on_event
        self._delivered = 0  # handed out, for stop_after (over every server consumer)
        # Told of each replacement consumer; True makes `__anext__` raise `Interrupted` (a watch
        # may have an item of its own to hand out then).
        self._on_recreated = on_recreated
        self._inner: MessageStream | None = None
        self._started = False
        self._closed = False
        self._stop_requested = False
        self._drain_requested = False
        self._signal = Signal()
        self._reason = "start"
        self._reset: str | None = None  # a gap `_take_ready` found, for `__anext__` to act on
        self._finalizer: weakref.finalize[..., OrderedMessageStream] | None = None

    def __repr__(self) -> str:
        return f"OrderedMessageStream(consumer={self._oc!r}, closed={self._closed})"

    @property
    def closed(self) -> bool:
        """Whether the stream has ended (stopped, drained, or ended by an error)."""
        return self._closed

    async def _start(self) -> None:
        if self._started:
            return
        self._oc._check_idle()
        self._oc._active = weakref.ref(self)
        self._started = True
        self._finalizer = weakref.finalize(self, _release, self._oc)
        if self._oc._current is not None:
            # The first pull goes out now, on the consumer in use (recreating one waits for
            # the first iteration).
            await self._open(self._oc._current)

    async def _open(self, consumer: Consumer) -> MessageStream:
        """Pull from ``consumer``: a `MessageStream` asking for no more than ``stop_after`` leaves."""
        opts = self._opts
        if opts.stop_after is not None:
            opts = msgspec.structs.replace(opts, stop_after=opts.stop_after - self._delivered)
        inner = self._inner = MessageStream(consumer, opts, ordered=True)
        await inner._start()
        return inner

    def _take_ready(self) -> Message | None:
        """The next message in order if it is buffered and nothing else needs doing first (see
        `ContinuousPull._take_ready`); None otherwise."""
        inner = self._inner
        if inner is None or self._reset is not None or self._stop_requested or self._closed:
            return None
        consumer = inner.consumer
        while True:
            msg = inner._take_ready()
            if msg is None:
                return None
            try:
                if self._oc._accept(msg, consumer):
                    self._delivered += 1
                    return msg
            except ResetNeeded as reset:
                self._reset = reset.reason
                return None

    async def __anext__(self) -> Message:
        msg = self._take_ready()
        if msg is not None:
            return msg
        if not self._started:
            await self._start()
        oc = self._oc
        while True:
            if self._closed:
                raise StopAsyncIteration
            stop_after = self._opts.stop_after
            if self._stop_requested or (stop_after is not None and self._delivered >= stop_after):
                await self._close()
                raise StopAsyncIteration
            if self._reset is not None:
                reason, self._reset = self._reset, None
                await self._replace(reason)
            inner = self._inner
            if inner is None:
                if self._drain_requested:
                    await self._close()
                    raise StopAsyncIteration
                try:
                    consumer = await oc._ensure(
                        None,
                        self._reason,
                        on_event=self._on_event,
                        interrupt=self._signal,
                        stopping=lambda: self._stop_requested,
                    )
                except JetStreamError:
                    await self._close()
                    if self._stop_requested:
                        raise StopAsyncIteration from None
                    raise
                recreated, self._reason = self._reason != "start", "start"
                inner = await self._open(consumer)
                if recreated and self._on_recreated is not None and self._on_recreated(consumer.cached_info):
                    raise Interrupted
            try:
                msg = await inner.__anext__()
            except ResetNeeded as reset:
                await self._replace(reset.reason)
                continue
            except JetStreamError:
                await self._close()
                raise
            except StopAsyncIteration:
                self._inner = None
                if self._stop_requested or self._drain_requested:
                    await self._close()
                    raise
                await self._replace("unavailable")
                continue
            try:
                if oc._accept(msg, inner.consumer):
                    self._delivered += 1
                    return msg
            except ResetNeeded as reset:
                await self._replace(reset.reason)

    async def _replace(self, reason: str) -> None:
        inner, self._inner = self._inner, None
        self._reason = reason
        if inner is not None:
            await inner.aclose()
            await self._oc._drop(inner.consumer)

    async def _close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._finalizer is not None:
            self._finalizer.detach()
        inner, self._inner = self._inner, None
        try:
            if inner is not None:
                await inner.aclose()
            await self._oc._drop(self._oc._current)
        finally:
            if self._oc._running() is self:
                self._oc._active = None

    def _request_stop(self) -> None:
        self._stop_requested = True
        self._signal.wake()
        if self._inner is not None:
            self._inner._request_stop()

    def _request_drain(self) -> None:
        self._drain_requested = True
        self._signal.wake()
        if self._inner is not None:
            self._inner._request_drain()

    async def aclose(self) -> None:
        """End now and delete the server consumer (best effort). Idempotent; ``async with`` calls
        it on exit."""
        self._request_stop()
        await self._close()

    async def drain(self) -> None:
        """Stop pulling; the iteration hands out what is buffered, then ends."""
        self._request_drain()
        if self._inner is not None:
            await self._inner.drain()


def _release(oc: OrderedCursor) -> None:
    """A messages() stream was collected without aclose(): the ordered consumer is free, and the
    next read starts after the last message handed out (the stream's pulls went with it)."""
    if oc._running() is None:
        oc._active = None
        oc._forget_current()


def _release_fetch(oc: OrderedCursor, token: object) -> None:
    """A fetch ended: the ordered consumer is free."""
    if oc._busy is token:
        oc._busy = None


def _abandon_fetch(oc: OrderedCursor, token: object) -> None:
    """A fetch was collected mid-iteration without aclose(): the ordered consumer is free, and the
    next read starts after the last message handed out (the fetch's pull went with it)."""
    if oc._busy is token:
        oc._busy = None
        oc._forget_current()

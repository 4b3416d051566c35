"""Watching a Key/Value bucket: `KeyWatcher`, an endless async iterator over entries.

A watcher reads its bucket through an ordered consumer (ADR-17): an ephemeral, unacknowledged,
in-memory pull consumer that it recreates from the revision after the last one delivered whenever
the order breaks (a consumer sequence gap), the server stops showing life (two missed idle
heartbeats), the connection was re-established, or the consumer disappeared. Recreation backs off
with jitter and deletes the previous consumer, so a reconnect storm leaves one consumer per
watcher, not one per reconnect (user-issues P9).

The consumer here is private to Key/Value; `keys()` and `history()` use the same machinery for
their one-shot reads.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Generator
from dataclasses import dataclass
from datetime import timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, TypeAlias

import msgspec

from .._consume._message import MsgMetadata
from .._core import DEFAULT, Timeout
from .._core._codec import encode
from .._exceptions import (
    BadPullRequestError,
    BucketNotFoundError,
    ConnectionClosedError,
    InvalidArgumentError,
    InvalidReplyError,
    JetStreamError,
)
from .._exceptions import (
    TimeoutError as RequestTimeoutError,
)
from .._generated.errors import StreamNotFoundError
from .._generated.models import ConsumerConfig, ConsumerGetnextRequest, ConsumerInfo
from .._numbers import parse_status
from .._time import Duration, nanos
from .._transport import Connection, Msg, Subscription, description_of, next_id, status_of
from .._transport._headers import Headers

if TYPE_CHECKING:
    from ._bucket import KeyValue, KeyValueEntry  # an import cycle: provided at runtime by `_kv`

__all__ = ["InitialValuesDone", "KeyWatcher"]

DEFAULT_IDLE_HEARTBEAT: Final = 5.0
_EXPIRES = 30.0  # seconds a pull request waits on the server (ADR-37 default)
_BATCH = 256  # messages asked for per pull; a new pull goes out at half of it
_QUEUE = 256  # entries buffered ahead of a slow reader; the consumer pauses beyond that
_POLL = 0.25  # how often the pump looks at the connection when nothing arrives
_INACTIVE = timedelta(seconds=30)  # an abandoned consumer (crashed client) goes away after this
_CLEANUP_TIMEOUT = 1.0  # bound on each best-effort consumer delete
_BACKOFF_FIRST = 0.1
_BACKOFF_MAX = 5.0
_NOT_FOUND_LIMIT = 3  # "stream not found" this many times in a row ends the watch


class InitialValuesDone(msgspec.Struct, frozen=True):
    """Yielded once by a watcher (`KeyWatcher`, `ObjectWatcher`) when the initial values are
    through: everything that matched when the watch started was yielded before it (``count`` of
    them; 0 for an empty bucket or ``updates_only``). Everything after it is a live change."""

    count: int


@dataclass(frozen=True, slots=True)
class _Failure:
    error: BaseException


class _Stop:
    pass


class _Tick:
    pass


_STOP: Final = _Stop()
_TICK: Final = _Tick()
_Item: TypeAlias = "KeyValueEntry | InitialValuesDone | _Failure | _Stop"


class _Reset(Exception):
    """The consumer must be recreated (gap, silence, reconnect, consumer gone)."""


class KeyWatcher:
    """An endless async iterator over a bucket's changes (see `KeyValue.watch`).

    Start it with ``async with``, ``await``, or simply by iterating; `aclose` (idempotent) ends the
    iteration at once, also from another task. Items are `KeyValueEntry` objects and, once, an
    `InitialValuesDone` marker.
    """

    def __init__(
        self,
        kv: KeyValue,
        filters: list[str],
        *,
        include_history: bool,
        ignore_deletes: bool,
        meta_only: bool,
        updates_only: bool,
        resume_from_revision: int | None,
        idle_heartbeat: timedelta | float = DEFAULT_IDLE_HEARTBEAT,
    ) -> None:
        heartbeat_ns = nanos(idle_heartbeat)
        if heartbeat_ns < 100_000_000 or heartbeat_ns * 2 >= nanos(_EXPIRES):
            raise InvalidArgumentError(
                f"idle_heartbeat must be between 0.1 and 15 seconds, got {idle_heartbeat!r}"
            )
        self._kv = kv
        self._filters = filters
        self._ignore_deletes = ignore_deletes
        self._meta_only = meta_only
        self._updates_only = updates_only
        self._resume = resume_from_revision
        if resume_from_revision is not None:
            self._policy = "by_start_sequence"
        elif updates_only:
            self._policy = "new"
        elif include_history:
            self._policy = "all"
        else:
            self._policy = "last_per_subject"
        self._heartbeat = heartbeat_ns / 1e9
        self._name_prefix = f"kvw_{next_id()}"
        self._serial = 0
        self._consumer: str | None = None
        self._orphans: list[str] = []
        self._sub: Subscription | None = None
        self._raw: asyncio.Queue[Msg | _Tick] = asyncio.Queue()
        self._out: asyncio.Queue[_Item] = asyncio.Queue()
        self._space = asyncio.Semaphore(_QUEUE)
        self._pump_task: asyncio.Task[None] | None = None
        self._start_lock = asyncio.Lock()
        self._closed = False
        # Cursor of the ordered consumer.
        self._stream_seq = 0  # last stream sequence delivered (the revision)
        self._consumer_seq = 0  # last consumer sequence of the current consumer
        self._start_floor = 0  # stream sequence the first consumer started after (policy "new")
        # Initial values.
        self._init_done = False
        self._init_pending = 0
        self._init_received = 0
        self._yielded = 0
        self._pending = 0  # messages asked for and not yet received
        self._inbox = ""
        self._reconnects = 0
        self._resets = 0

    def __repr__(self) -> str:
        keys = [f.removeprefix(self._kv._read_pre) for f in self._filters]
        return (
            f"KeyWatcher(bucket={self._kv.bucket!r}, keys={keys!r}, "
            f"revision={self._stream_seq}, closed={self._closed})"
        )

    # ------------------------------------------------------------------------- public surface

    @property
    def revision(self) -> int:
        """The last revision (stream sequence) delivered; 0 before the first."""
        return self._stream_seq

    @property
    def resets(self) -> int:
        """How many times the consumer was recreated (reconnects, gaps, missed heartbeats)."""
        return self._resets

    @property
    def consumer_name(self) -> str | None:
        """The name of the current consumer (changes on every recreation)."""
        return self._consumer

    async def start(self, *, timeout: Timeout = DEFAULT) -> KeyWatcher:
        """Create the consumer now (iterating does it too). Raises what creating it raises, e.g.
        `errors.BucketNotFoundError`. Idempotent."""
        async with self._start_lock:
            if self._pump_task is not None or self._closed:
                return self
            info = await self._create(first=True, timeout=timeout)
            self._begin(info)
            self._pump_task = asyncio.get_running_loop().create_task(self._pump())
        return self

    def __await__(self) -> Generator[Any, None, KeyWatcher]:
        return self.start().__await__()

    async def __aenter__(self) -> KeyWatcher:
        return await self.start()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    def __aiter__(self) -> KeyWatcher:
        return self

    async def __anext__(self) -> KeyValueEntry | InitialValuesDone:
        if self._closed:
            raise StopAsyncIteration  # what was still buffered is dropped: aclose() means now
        if self._pump_task is None:
            await self.start()
        item = await self._out.get()
        if isinstance(item, _Stop):
            self._out.put_nowait(item)  # later calls end too
            raise StopAsyncIteration
        if not isinstance(item, InitialValuesDone):
            self._space.release()  # the marker never took room
        if isinstance(item, _Failure):
            await self.aclose()
            raise item.error
        return item

    async def _next(self, timeout: float | None) -> KeyValueEntry | InitialValuesDone:
        """`__anext__` that waits at most ``timeout`` seconds (`errors.TimeoutError`)."""
        if timeout is None or not self._out.empty() or self._pump_task is None:
            return await self.__anext__()
        try:
            return await asyncio.wait_for(self.__anext__(), timeout)
        except asyncio.TimeoutError:
            raise RequestTimeoutError(self._filters[0], timeout) from None

    async def aclose(self) -> None:
        """End the watch: iteration stops (a waiting ``async for`` ends at once), the consumer is
        deleted (best effort, bounded). Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._out.put_nowait(_STOP)
        task = self._pump_task
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            self._space.release()  # a pump waiting for room must not outlive the watch
            # Bounded: the pump also ends by itself on its next wake-up, now that we are closed.
            await asyncio.wait({task}, timeout=_CLEANUP_TIMEOUT)
        await self._unsubscribe()
        names = [*self._orphans, *([self._consumer] if self._consumer else [])]
        self._orphans = []
        self._consumer = None
        if names:
            await asyncio.gather(*(self._delete(n) for n in names))

    # ---------------------------------------------------------------------------- the consumer

    @property
    def _conn(self) -> Connection:
        return self._kv._js.connection

    def _config(self, first: bool) -> ConsumerConfig:
        self._serial += 1
        cfg = ConsumerConfig(
            name=f"{self._name_prefix}_{self._serial}",
            ack_policy="none",
            max_deliver=1,
            mem_storage=True,
            num_replicas=1,
            inactive_threshold=_INACTIVE,
            headers_only=True if self._meta_only else None,
            replay_policy="instant",
        )
        if len(self._filters) == 1:
            cfg.filter_subject = self._filters[0]
        else:
            cfg.filter_subjects = list(self._filters)
        if self._stream_seq:
            cfg.deliver_policy = "by_start_sequence"
            cfg.opt_start_seq = self._stream_seq + 1
        elif not first and self._policy == "new":
            # Nothing arrived yet: continue right after where the first consumer started.
            cfg.deliver_policy = "by_start_sequence"
            cfg.opt_start_seq = self._start_floor + 1
        else:
            cfg.deliver_policy = self._policy
            if self._resume is not None:
                cfg.opt_start_seq = self._resume
        return cfg

    async def _create(self, *, first: bool, timeout: Timeout = DEFAULT) -> ConsumerInfo:
        conn = self._conn
        self._reconnects = conn.hub.generation
        cfg = self._config(first)
        name = cfg.name
        assert name is not None
        self._raw = asyncio.Queue()
        raw = self._raw
        inbox = conn.new_inbox()

        async def deliver(msg: Msg) -> None:
            raw.put_nowait(msg)

        self._sub = await conn.subscribe(inbox, deliver)
        try:
            info = await self._kv._js.consumer_create(self._kv.stream_name, cfg, timeout=timeout)
        except StreamNotFoundError as exc:
            await self._unsubscribe()
            raise BucketNotFoundError(self._kv.bucket) from exc
        except BaseException as exc:
            await self._unsubscribe()
            if isinstance(exc, RequestTimeoutError):
                # The server may still act on the request once it is reachable again.
                self._orphans.append(name)
            raise
        self._consumer = name
        self._consumer_seq = 0
        self._pending = 0
        self._inbox = inbox
        await self._pull()
        return info

    def _begin(self, info: ConsumerInfo) -> None:
        """Initial-values bookkeeping for the first consumer."""
        self._start_floor = info.delivered.stream_seq
        if self._updates_only or info.num_pending == 0:
            self._finish_initial()
        else:
            self._init_pending = info.num_pending

    def _finish_initial(self) -> None:
        self._init_done = True
        self._out.put_nowait(InitialValuesDone(self._yielded))

    async def _pull(self) -> None:
        want = _BATCH - self._pending
        if want <= 0 or self._consumer is None:
            return
        body = encode(
            ConsumerGetnextRequest(
                batch=want, expires=Duration(nanos(_EXPIRES)), idle_heartbeat=Duration(nanos(self._heartbeat))
            )
        )
        core = self._kv._js._core
        subject = core.subject(f"CONSUMER.MSG.NEXT.{self._kv.stream_name}.{self._consumer}")
        await core.transport.publish(subject, body, reply=self._inbox)
        self._pending += want

    async def _unsubscribe(self) -> None:
        sub, self._sub = self._sub, None
        if sub is not None:
            await sub.unsubscribe()

    async def _delete(self, name: str) -> bool:
        try:
            await self._kv._js.consumer_delete(self._kv.stream_name, name, timeout=_CLEANUP_TIMEOUT)
        except JetStreamError as exc:
            # Already gone is fine; anything else is retried later.
            return getattr(exc, "err_code", 0) in (10014, 10059)
        return True

    async def _recreate(self) -> None:
        """Replace the consumer, from the revision after the last delivered, until it works."""
        self._resets += 1
        await self._unsubscribe()
        if self._consumer is not None:
            self._orphans.append(self._consumer)
            self._consumer = None
        attempt = 0
        not_found = 0
        while not self._closed:
            hub = self._conn.hub
            if hub.closed:
                raise ConnectionClosedError("the NATS connection was closed under a key/value watch")
            if not hub.connected:
                await asyncio.sleep(0.05)  # nothing can work before nats-py has reconnected
                continue
            # Delete the consumers left behind before adding one (P9: no leak).
            if self._orphans:
                self._orphans = [name for name in self._orphans if not await self._delete(name)]
            try:
                info = await self._create(first=False)
            except BucketNotFoundError:
                not_found += 1
                if not_found >= _NOT_FOUND_LIMIT:
                    raise
            except JetStreamError:
                not_found = 0
            else:
                if not self._init_done:
                    if info.num_pending == 0:
                        self._finish_initial()
                    else:
                        self._init_pending = self._init_received + info.num_pending
                if self._orphans:
                    self._orphans = [name for name in self._orphans if not await self._delete(name)]
                return
            await asyncio.sleep(min(_BACKOFF_MAX, _BACKOFF_FIRST * 2**attempt) * random.uniform(0.5, 1.0))
            attempt += 1

    async def _pump(self) -> None:
        try:
            while not self._closed:
                try:
                    await self._run()
                except _Reset:
                    await self._recreate()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            await self._space.acquire()
            self._out.put_nowait(_Failure(exc))

    async def _run(self) -> None:
        """Deliver until the consumer has to be recreated (raises `_Reset`) or the watch stops."""
        loop = asyncio.get_running_loop()
        last_seen = loop.time()
        hub = self._conn.hub
        raw = self._raw
        while not self._closed:
            try:
                msg = raw.get_nowait()
            except asyncio.QueueEmpty:
                # A timer wakes the wait instead of asyncio.wait_for, whose cancellation handling
                # has races on Python < 3.12 (a stop() could be lost).
                tick = loop.call_later(_POLL, raw.put_nowait, _TICK)
                try:
                    msg = await raw.get()
                finally:
                    tick.cancel()
            if isinstance(msg, _Tick):
                if hub.closed:
                    raise ConnectionClosedError("the NATS connection was closed under a key/value watch")
                if hub.generation != self._reconnects and hub.connected:
                    raise _Reset
                if not hub.connected:
                    last_seen = loop.time()  # no heartbeats are due while disconnected
                elif loop.time() - last_seen > 2 * self._heartbeat:
                    raise _Reset
                continue
            last_seen = loop.time()
            if await self._handle(msg):
                last_seen = loop.time()  # the reader held us up; that is not server silence
            if self._pending <= _BATCH // 2:
                await self._pull()

    async def _handle(self, msg: Msg) -> bool:
        """Process one message from the inbox; True if it waited for room in the queue."""
        # Only the server's own status messages count: a stored entry is data whatever its headers.
        status = status_of(msg)
        if status:
            headers = msg.headers or {}
            if status == "100":
                return False  # idle heartbeat (pull consumers get no flow control)
            if status in ("404", "408", "409"):
                left = headers.get("Nats-Pending-Messages")
                if left is not None and left.isascii() and left.isdigit():
                    self._pending = max(0, self._pending - int(left))
                else:
                    self._pending = 0
                description = description_of(headers).lower()
                if status == "409" and ("deleted" in description or "push based" in description):
                    raise _Reset
                return False
            if status == "400":
                raise BadPullRequestError(parse_status(status) or 400, description_of(headers))
            raise _Reset  # 503: the consumer is gone
        try:
            meta = MsgMetadata.parse(msg.reply)
        except ValueError as exc:
            raise InvalidReplyError(msg.subject, msg.data, str(exc)) from exc
        if meta.consumer != self._consumer:
            return False  # a straggler of a consumer we already replaced
        self._pending = max(0, self._pending - 1)
        if meta.sequence.consumer != self._consumer_seq + 1:
            raise _Reset  # ADR-17: a gap; restart after the last stream sequence we hold
        self._consumer_seq = meta.sequence.consumer
        self._stream_seq = meta.sequence.stream
        waited = False
        entry = self._kv._entry_of(msg.subject, msg.data, Headers.of(msg.headers), meta)
        if not (self._ignore_deletes and entry.operation.value != "PUT"):  # a DEL or PURGE marker
            waited = self._space.locked()
            await self._space.acquire()
            self._yielded += 1
            self._out.put_nowait(entry)
        if not self._init_done:
            self._init_received += 1
            if meta.num_pending == 0 or self._init_received >= self._init_pending:
                self._finish_initial()
        return waited

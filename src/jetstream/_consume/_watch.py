"""Watches: endless async iterators over what an ordered consumer delivers, with one
`InitialValuesDone` marker after the initial values. `KeyWatcher` (Key/Value) and `ObjectWatcher`
(Object Store) are `Watch`es that only say what their items are.

The initial values are over when the stream says nothing more is pending (a message's
``num_pending`` of 0) or when as many messages arrived as the consumer had pending when it was
created; a consumer recreated before that recounts from its own pending count.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Callable, Generator
from typing import Any, Final, Generic, TypeVar

import msgspec

from .._core import DEFAULT, Timeout
from .._exceptions import InvalidArgumentError, JetStreamError
from .._exceptions import TimeoutError as RequestTimeoutError
from .._generated.errors import StreamNotFoundError
from .._generated.models import ConsumerInfo
from .._typing import AsyncResource
from ._api import ConsumerAPI
from ._message import Message
from ._options import ConsumeOptions, Priority
from ._ordered import OrderedConfig, OrderedConsumer, start_ordered
from ._ordered_streams import Interrupted, OrderedMessageStream

__all__ = ["DEFAULT_IDLE_HEARTBEAT", "InitialValuesDone", "Watch", "deliver_policy"]

DEFAULT_IDLE_HEARTBEAT: Final = 5.0
"""Seconds between idle heartbeats of a watch (nats.go's ordered consumer heartbeat)."""
_EXPIRES = 30.0  # seconds a pull waits on the server (ADR-37 default)
_BATCH = 256  # messages asked for per pull, and buffered at most ahead of a slow reader
_MIN_HEARTBEAT = 0.1

T = TypeVar("T")
W = TypeVar("W", bound="Watch[Any]")


class InitialValuesDone(msgspec.Struct, frozen=True):
    """Yielded once by a watcher (`KeyWatcher`, `ObjectWatcher`) when the initial values are
    through: everything that matched when the watch started was yielded before it (``count`` of
    them; 0 for an empty bucket or ``updates_only``). Everything after it is a live change."""

    count: int


def deliver_policy(*, include_history: bool, updates_only: bool) -> str:
    """The deliver policy of a watch: every kept revision, none, or the latest of each subject."""
    if include_history and updates_only:
        raise InvalidArgumentError("include_history and updates_only exclude each other")
    return "new" if updates_only else "all" if include_history else "last_per_subject"


class Watch(AsyncResource, Generic[T]):
    """An endless async iterator over the items ``decode`` makes of a stream's messages, and once
    an `InitialValuesDone` marker.

    Start it with ``async with``, ``await``, or simply by iterating; `stop` (idempotent) ends the
    iteration at once, also from another task. It survives reconnects, server restarts and lost
    consumers: the consumer is recreated after the last message delivered, so nothing is missed
    or repeated.
    """

    def __init__(
        self,
        js: ConsumerAPI,
        stream: str,
        config: OrderedConfig,
        *,
        updates_only: bool,
        not_found: Callable[[], JetStreamError],
        heartbeat: float = DEFAULT_IDLE_HEARTBEAT,
    ) -> None:
        if not _MIN_HEARTBEAT <= heartbeat < _EXPIRES / 2:
            raise InvalidArgumentError(
                f"idle_heartbeat must be between {_MIN_HEARTBEAT:g} and {_EXPIRES / 2:g} seconds, "
                f"got {heartbeat!r}"
            )
        self._js = js
        self._stream = stream
        self._config = config
        self._updates_only = updates_only
        self._not_found = not_found
        self._options = ConsumeOptions(
            max_messages=_BATCH,
            max_bytes=None,
            expires=_EXPIRES,
            heartbeat=heartbeat,
            threshold_messages=_BATCH // 2,
            threshold_bytes=0,
            priority=Priority(),
        )
        self._oc: OrderedConsumer | None = None
        self._messages: OrderedMessageStream | None = None
        self._start_lock = asyncio.Lock()
        self._closed = False
        # Initial values: how many messages to expect, how many came, how many were handed out.
        self._initial = 0
        self._received = 0
        self._count = 0
        self._init_done = False
        self._marker_due = False
        # Seconds each item may take at most, while `_initial_values` runs (None: no limit).
        self._item_bound: float | None = None

    def _decode(self, msg: Message) -> T | None:
        """The item of a message; None to skip it."""
        raise NotImplementedError

    async def start(self: W, *, timeout: Timeout = DEFAULT) -> W:
        """Create the consumer now (iterating does it too); raises what creating it raises, e.g.
        `errors.BucketNotFoundError` or `errors.ObjectStoreNotFoundError`. Idempotent."""
        async with self._start_lock:
            if self._oc is not None or self._closed:
                return self
            try:
                oc = await start_ordered(
                    self._js, self._stream, self._config, self._js._core.timeout(timeout)
                )
            except StreamNotFoundError as exc:
                raise self._not_found() from exc
            if self._closed:  # stopped meanwhile
                await oc.aclose()
                return self
            info = oc.cached_info
            if self._updates_only or info is None or info.num_pending == 0:
                self._init_done = self._marker_due = True
            else:
                self._initial = info.num_pending
            self._oc = oc
            self._messages = OrderedMessageStream(oc, self._options, on_recreated=self._recreated)
        return self

    @property
    def _resets(self) -> int:
        return 0 if self._oc is None else self._oc._resets

    def _recreated(self, info: ConsumerInfo) -> bool:
        """A replacement consumer: recount the initial values still to come. True when there are
        none left, so that the marker is handed out now."""
        if self._init_done:
            return False
        if info.num_pending == 0:
            self._init_done = self._marker_due = True
            return True
        self._initial = self._received + info.num_pending
        return False

    def __await__(self: W) -> Generator[Any, None, W]:
        return self.start().__await__()

    async def __aenter__(self: W) -> W:
        return await self.start()

    def __aiter__(self: W) -> W:
        return self

    async def __anext__(self) -> T | InitialValuesDone:
        if self._closed:
            raise StopAsyncIteration
        if self._messages is None:
            await self.start()
        # The bound of `_initial_values` is armed only when a wait begins: most items are at hand.
        deadline = None if self._item_bound is None else asyncio.get_running_loop().time() + self._item_bound
        while True:
            messages = self._messages
            if messages is None:  # stopped while starting
                raise StopAsyncIteration
            if self._marker_due:
                self._marker_due = False
                return InitialValuesDone(self._count)
            try:
                msg = messages._take_ready()
                if msg is None:
                    msg = await (messages.__anext__() if deadline is None else _until(messages, deadline))
                item = self._decode(msg)
            except Interrupted:
                continue
            except StreamNotFoundError as exc:
                await self.aclose()
                raise self._not_found() from exc
            except JetStreamError:
                await self.aclose()
                raise
            if not self._init_done:
                self._received += 1
                if item is not None:
                    self._count += 1
                if msg.metadata.num_pending == 0 or self._received >= self._initial:
                    self._init_done = True
                    if item is None:
                        return InitialValuesDone(self._count)
                    self._marker_due = True
            if item is not None:
                return item

    async def _initial_values(self, timeout: float | None) -> AsyncIterator[T]:
        """The items before the `InitialValuesDone` marker, then stop (for one-shot reads);
        ``timeout`` bounds the wait for each (`errors.TimeoutError`)."""
        subject = self._config.filter_subjects[0]
        self._item_bound = timeout
        try:
            while True:
                try:
                    item = await self.__anext__()
                except asyncio.TimeoutError as exc:
                    if timeout is None or isinstance(exc, JetStreamError):
                        raise  # the watch's own error, not the bound's
                    raise RequestTimeoutError(subject, timeout) from None
                if isinstance(item, InitialValuesDone):
                    return
                yield item
        finally:
            self._item_bound = None

    async def aclose(self) -> None:
        """End the watch: iteration stops (a waiting ``async for`` ends at once) and the consumer is
        deleted (best effort, bounded). Idempotent."""
        if self._closed:
            return
        self._closed = True
        messages, self._messages = self._messages, None
        oc = self._oc
        if messages is not None:
            await messages.aclose()
        if oc is not None:
            await oc.aclose()


async def _until(messages: OrderedMessageStream, deadline: float) -> Message:
    """The next message, or `asyncio.TimeoutError` at loop time ``deadline``."""
    if sys.version_info >= (3, 11):
        async with asyncio.timeout_at(deadline):
            return await messages.__anext__()
    return await asyncio.wait_for(messages.__anext__(), deadline - asyncio.get_running_loop().time())

"""Watching an object store: `ObjectWatcher`, an endless async iterator over object infos.

It reads the meta subjects (``$O.<bucket>.M.>``) through an ordered consumer, which recreates its
server consumer from the next sequence after faults (reconnects, missed heartbeats, a lost
consumer), so no change is missed or repeated. The end of the initial infos is one
`InitialValuesDone` marker, as for a Key/Value watch.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Generator
from types import TracebackType
from typing import TYPE_CHECKING, Any

from .._consume._ordered import OrderedConsumer
from .._consume._ordered_streams import OrderedMessageStream
from .._core import DEFAULT, Timeout
from .._exceptions import BadObjectMetaError
from .._kv._watch import InitialValuesDone
from ._io import start_ordered
from ._types import ObjectInfo, info_of

if TYPE_CHECKING:
    from ._store import ObjectStore  # an import cycle: provided at runtime by `_obj`

__all__ = ["ObjectWatcher"]

logger = logging.getLogger("jetstream.object_store")


class ObjectWatcher:
    """An endless async iterator over a store's objects (see `ObjectStore.watch`).

    Start it with ``async with``, ``await``, or by iterating; `aclose` (idempotent) ends the iteration
    at once, also from another task. Items are `ObjectInfo` objects and, once, `InitialValuesDone`.
    """

    def __init__(
        self, store: ObjectStore, *, include_history: bool, ignore_deletes: bool, updates_only: bool
    ) -> None:
        self._store = store
        self._ignore_deletes = ignore_deletes
        self._updates_only = updates_only
        if updates_only:
            self._policy = "new"
        elif include_history:
            self._policy = "all"
        else:
            self._policy = "last_per_subject"
        self._oc: OrderedConsumer | None = None
        self._messages: OrderedMessageStream | None = None
        self._start_lock = asyncio.Lock()
        self._initial = 0  # meta messages pending when the watch started
        self._received = 0
        self._count = 0  # initial infos yielded
        self._init_done = False
        self._marker_due = False
        self._closed = False

    def __repr__(self) -> str:
        return f"ObjectWatcher(bucket={self._store.bucket!r}, closed={self._closed})"

    async def start(self, *, timeout: Timeout = DEFAULT) -> ObjectWatcher:
        """Create the consumer now (iterating does it too); raises `errors.ObjectStoreNotFoundError`
        when the store is gone. Idempotent."""
        async with self._start_lock:
            if self._oc is not None or self._closed:
                return self
            store = self._store
            oc = await start_ordered(
                store._js,
                store.stream_name,
                store.bucket,
                store._read_pre + "M.>",
                self._policy,
                store._js._core.timeout(timeout),
            )
            info = oc.cached_info
            self._initial = 0 if self._updates_only or info is None else info.num_pending
            if self._initial == 0:
                self._init_done = self._marker_due = True
            self._oc = oc
            self._messages = oc.messages()
        return self

    def __await__(self) -> Generator[Any, None, ObjectWatcher]:
        return self.start().__await__()

    async def __aenter__(self) -> ObjectWatcher:
        return await self.start()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    def __aiter__(self) -> ObjectWatcher:
        return self

    async def __anext__(self) -> ObjectInfo | InitialValuesDone:
        if self._closed:
            raise StopAsyncIteration
        if self._messages is None:
            await self.start()
        if self._marker_due:
            self._marker_due = False
            return InitialValuesDone(self._count)
        messages = self._messages
        if messages is None:  # stopped while starting
            raise StopAsyncIteration
        store = self._store
        while True:
            msg = await messages.__anext__()
            self._received += 1
            done_now = not self._init_done and (
                msg.metadata.num_pending == 0 or self._received >= self._initial
            )
            if done_now:
                self._init_done = True
            try:
                info: ObjectInfo | None = info_of(store.bucket, msg.subject, msg.data, msg.metadata.timestamp)
            except BadObjectMetaError as exc:
                logger.warning("object store watch: skipping a bad meta message: %s", exc)
                info = None
            if info is not None and not (self._ignore_deletes and info.deleted):
                if not self._init_done or done_now:
                    self._count += 1
                self._marker_due = done_now
                return info
            if done_now:
                return InitialValuesDone(self._count)

    async def aclose(self) -> None:
        """End the watch: iteration stops (a waiting ``async for`` ends at once) and the consumer is
        deleted (best effort, bounded). Idempotent."""
        if self._closed:
            return
        self._closed = True
        messages, self._messages = self._messages, None
        oc, self._oc = self._oc, None
        if messages is not None:
            await messages.aclose()
        if oc is not None:
            await oc.aclose()

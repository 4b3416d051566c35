"""Watching an object store: `ObjectWatcher`, an endless async iterator over object infos.

It reads the meta subjects (``$O.<bucket>.M.>``) on the shared ordered consumer
(`_consume._watch.Watch`), which recreates its server consumer after faults (reconnects, missed
heartbeats, a lost consumer), so no change is missed or repeated. The end of the initial infos is
one `InitialValuesDone` marker, as for a Key/Value watch.
"""

from __future__ import annotations

import logging

from .._consume._api import ConsumerAPI
from .._consume._message import Message
from .._consume._ordered import OrderedConfig
from .._consume._watch import Watch, deliver_policy
from .._exceptions import BadObjectMetaError, ObjectStoreNotFoundError
from ._types import ObjectInfo, info_of

__all__ = ["ObjectWatcher"]

logger = logging.getLogger("jetstream.object_store")


class ObjectWatcher(Watch[ObjectInfo]):
    """An endless async iterator over a store's objects (see `ObjectStore.watch`).

    Start it with ``async with``, ``await``, or by iterating; `stop` (idempotent) ends the iteration
    at once, also from another task. Items are `ObjectInfo` objects and, once, `InitialValuesDone`.
    """

    def __init__(
        self,
        js: ConsumerAPI,
        stream: str,
        bucket: str,
        subject: str,
        *,
        include_history: bool,
        ignore_deletes: bool,
        updates_only: bool,
    ) -> None:
        policy = deliver_policy(include_history=include_history, updates_only=updates_only)
        super().__init__(
            js,
            stream,
            OrderedConfig(filter_subjects=(subject,), deliver_policy=policy),
            updates_only=updates_only,
            not_found=lambda: ObjectStoreNotFoundError(bucket),
        )
        self._bucket = bucket
        self._ignore_deletes = ignore_deletes

    def __repr__(self) -> str:
        return f"ObjectWatcher(bucket={self._bucket!r}, closed={self._closed})"

    def _decode(self, msg: Message) -> ObjectInfo | None:
        try:
            info = info_of(self._bucket, msg.subject, msg.data, msg.metadata.timestamp)
        except BadObjectMetaError as exc:
            logger.warning("object store watch: skipping a bad meta message: %s", exc)
            return None
        return None if self._ignore_deletes and info.deleted else info

"""Watching a Key/Value bucket: `KeyWatcher`, an endless async iterator over entries.

It runs on the shared ordered consumer (`_consume._watch.Watch`), which recreates its server
consumer after faults; what is Key/Value here is the options (which revisions, values or not) and
the entries made of the messages. `KeyValue.keys` and `history` use it for their one-shot reads.
"""

from __future__ import annotations

from datetime import timedelta

from .._consume._api import ConsumerAPI
from .._consume._message import Message
from .._consume._ordered import OrderedConfig
from .._consume._ordered_streams import INACTIVE_THRESHOLD
from .._consume._watch import DEFAULT_IDLE_HEARTBEAT, InitialValuesDone, Watch, deliver_policy
from .._exceptions import BucketNotFoundError
from .._time import as_timedelta, nanos
from ._entry import KeyValueEntry, KeyValueOp, operation_of

__all__ = ["DEFAULT_IDLE_HEARTBEAT", "INACTIVE_THRESHOLD", "InitialValuesDone", "KeyWatcher"]


class KeyWatcher(Watch[KeyValueEntry]):
    """An endless async iterator over a bucket's changes (see `KeyValue.watch`).

    Start it with ``async with``, ``await``, or simply by iterating; `stop` (idempotent) ends the
    iteration at once, also from another task. Items are `KeyValueEntry` objects and, once, an
    `InitialValuesDone` marker.
    """

    def __init__(
        self,
        js: ConsumerAPI,
        stream: str,
        bucket: str,
        prefix: str,
        filters: list[str],
        *,
        include_history: bool,
        ignore_deletes: bool,
        meta_only: bool,
        updates_only: bool,
        resume_from_revision: int | None,
        idle_heartbeat: timedelta | float = DEFAULT_IDLE_HEARTBEAT,
        inactive_threshold: timedelta | float = INACTIVE_THRESHOLD,
    ) -> None:
        policy = deliver_policy(include_history=include_history, updates_only=updates_only)
        config = OrderedConfig(
            filter_subjects=tuple(filters),
            deliver_policy=policy if resume_from_revision is None else "by_start_sequence",
            opt_start_seq=resume_from_revision,
            headers_only=meta_only,
            inactive_threshold=as_timedelta(inactive_threshold, "inactive_threshold"),
        )
        super().__init__(
            js,
            stream,
            config,
            updates_only=updates_only,
            not_found=lambda: BucketNotFoundError(bucket),
            heartbeat=nanos(idle_heartbeat) / 1e9,
        )
        self._bucket = bucket
        self._prefix = prefix
        self._ignore_deletes = ignore_deletes

    def __repr__(self) -> str:
        keys = [f.removeprefix(self._prefix) for f in self._config.filter_subjects]
        return (
            f"KeyWatcher(bucket={self._bucket!r}, keys={keys!r}, "
            f"revision={self.revision}, closed={self._closed})"
        )

    @property
    def revision(self) -> int:
        """The last revision (stream sequence) delivered; 0 before the first."""
        return 0 if self._oc is None else self._oc.last_stream_seq

    @property
    def resets(self) -> int:
        """How many times the consumer was recreated (reconnects, gaps, missed heartbeats)."""
        return self._resets

    @property
    def consumer_name(self) -> str | None:
        """The name of the current consumer (changes on every recreation)."""
        return None if self._oc is None else self._oc.name

    def _decode(self, msg: Message) -> KeyValueEntry | None:
        operation = operation_of(msg.headers)
        if self._ignore_deletes and operation is not KeyValueOp.PUT:
            return None
        meta = msg.metadata
        subject = msg.subject
        return KeyValueEntry(
            bucket=self._bucket,
            key=subject.removeprefix(self._prefix),
            value=msg.data,
            revision=meta.sequence.stream,
            created=meta.timestamp,
            delta=meta.num_pending,
            operation=operation,
        )

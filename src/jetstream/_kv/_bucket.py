"""Key/Value buckets (ADR-8, ADR-48, ADR-57): the `KeyValue` handle, its entries and configuration.

A bucket is the stream ``KV_<bucket>`` capturing ``$KV.<bucket>.>``; a key is the rest of the
subject. Writes are JetStream publishes (CAS through ``Nats-Expected-Last-Subject-Sequence``),
reads are direct gets, and everything that lists (watch, keys, history) runs an ordered consumer.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Final

import msgspec

from .._consume._status import spawn_cleanup
from .._core import DEFAULT, Timeout
from .._exceptions import (
    InvalidArgumentError,
    InvalidKeyError,
    KeyExistsError,
    KeyNotFoundError,
    WrongLastRevisionError,
)
from .._generated.errors import (
    NoMessageFoundError,
    StreamWrongLastSequenceConstantError,
    StreamWrongLastSequenceError,
)
from .._generated.models import (
    Placement,
    PubAck,
    Republish,
    StorageType,
    StreamInfo,
    StreamSource,
)
from .._numbers import parse_uint
from .._stream import BucketStatus, StreamMessage
from .._time import Duration, Timestamp, nanos
from .._typing import Payload
from ._api import KeyValueAPI
from ._bulk import BatchNotSupported, TooManyMatches, entries_by_key, latest_entries
from ._entry import KV_OPERATION, KeyDeletedError, KeyValueEntry, KeyValueOp, operation_of
from ._watch import DEFAULT_IDLE_HEARTBEAT, INACTIVE_THRESHOLD, InitialValuesDone, KeyWatcher

__all__ = [
    "InitialValuesDone",
    "KeyValue",
    "KeyValueConfig",
    "KeyValueEntry",
    "KeyValueOp",
    "KeyValueStatus",
    "KeyWatcher",
]

STREAM_PREFIX: Final = "KV_"
MAX_HISTORY: Final = 64
DEFAULT_PURGE_DELETES_OLDER_THAN: Final = timedelta(minutes=30)

ROLLUP = "Nats-Rollup"

# ADR-6: a key is limited-terms joined by '.'; a filter may also use '*' tokens and a final '>'.
_KEY_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_/=")
_RESERVED_KEY_PREFIX = "_kv"
_WRONG_LAST = (StreamWrongLastSequenceError, StreamWrongLastSequenceConstantError)
# Keys read at once when `get_many` falls back to one get per key.
_GETS_IN_FLIGHT = 64


class KeyValueConfig(msgspec.Struct, kw_only=True):
    """A bucket's configuration, as `JetStream.create_key_value` turns it into a stream (ADR-8).

    ``history`` is the number of values kept per key (1-64); ``ttl`` expires values (the stream's
    ``max_age``); ``limit_marker_ttl`` (ADR-48, nats-server 2.11+) keeps markers for keys removed by
    ``ttl`` or by a per-key TTL for that long, and enables per-key TTLs on `KeyValue.create` and
    `KeyValue.purge`. ``max_value_size`` and ``max_bytes`` of -1 mean unlimited. ``mirror`` and
    ``sources`` name other buckets (``KV_`` is added when missing) and get the ADR-57 subject
    transforms; a source with its own ``subject_transforms`` is used as given.
    """

    bucket: str
    description: str | None = None
    max_value_size: int = -1
    history: int = 1
    ttl: timedelta | None = None
    max_bytes: int = -1
    storage: StorageType | str = "file"
    replicas: int = 1
    placement: Placement | None = None
    republish: Republish | None = None
    mirror: StreamSource | None = None
    sources: list[StreamSource] | None = None
    compression: bool = False
    limit_marker_ttl: timedelta | None = None
    metadata: dict[str, str] | None = None


class KeyValueStatus(BucketStatus):
    """A bucket's state and configuration, read from its stream's info (``stream_info``)."""

    # A dataclass through `BucketStatus` (its fields, __init__ and __eq__).
    __slots__ = ()

    @property
    def values(self) -> int:
        """Messages in the bucket, historical values and markers included."""
        return self.stream_info.state.messages

    @property
    def history(self) -> int:
        """How many values are kept per key."""
        return self.stream_info.config.max_msgs_per_subject or 0

    @property
    def limit_marker_ttl(self) -> timedelta:
        """How long markers of removed keys are kept; 0 when limit markers are off."""
        return self.stream_info.config.subject_delete_marker_ttl or Duration(0)

    @property
    def bytes(self) -> int:
        """The size of the bucket's stream in bytes (values, headers and markers)."""
        return self.stream_info.state.bytes

    @property
    def config(self) -> KeyValueConfig:
        """The bucket's configuration as a `KeyValueConfig` (round-trips to `update_key_value`)."""
        cfg = self.stream_info.config
        marker = cfg.subject_delete_marker_ttl
        return KeyValueConfig(
            bucket=self.bucket,
            description=cfg.description,
            max_value_size=-1 if cfg.max_msg_size is None else cfg.max_msg_size,
            history=cfg.max_msgs_per_subject or 1,
            ttl=cfg.max_age if cfg.max_age else None,
            max_bytes=-1 if cfg.max_bytes is None else cfg.max_bytes,
            storage=cfg.storage or "file",
            replicas=cfg.num_replicas or 1,
            placement=cfg.placement,
            republish=cfg.republish,
            mirror=cfg.mirror,
            sources=cfg.sources,
            compression=self.is_compressed,
            limit_marker_ttl=marker if marker else None,
            metadata=cfg.metadata,
        )


def check_key(key: object, *, write: bool = False) -> str:
    """ADR-6 ``kv-key-name``; keys starting with ``_kv`` are reserved and cannot be written."""
    if not isinstance(key, str) or not key:
        raise InvalidKeyError(key, "a key must be a non-empty str")
    for token in key.split("."):
        if not token:
            raise InvalidKeyError(key, "empty token (leading, trailing or double '.')")
        if not _KEY_CHARS.issuperset(token):
            raise InvalidKeyError(key, "only letters, digits, '-', '_', '/', '=' and '.' between tokens")
    if write and key.startswith(_RESERVED_KEY_PREFIX):
        raise InvalidKeyError(key, f"keys starting with {_RESERVED_KEY_PREFIX!r} are reserved")
    return key


def check_key_filter(pattern: object) -> str:
    """A key, or a pattern of keys with ``*`` tokens and a final ``>``."""
    if not isinstance(pattern, str) or not pattern:
        raise InvalidKeyError(pattern, "a key filter must be a non-empty str")
    tokens = pattern.split(".")
    for i, token in enumerate(tokens):
        if token == "*" or (token == ">" and i == len(tokens) - 1):
            continue
        if not token:
            raise InvalidKeyError(pattern, "empty token (leading, trailing or double '.')")
        if not _KEY_CHARS.issuperset(token):
            raise InvalidKeyError(
                pattern, "tokens are letters, digits, '-', '_', '/', '=', or a wildcard '*' / final '>'"
            )
    return pattern


def prefixes(bucket: str, info: StreamInfo, api_prefix: str) -> tuple[str, str]:
    """(read prefix, write prefix) of a bucket's keys (ADR-19, and nats.go's mirror handling).

    A mirror stores its origin's subjects, so it is read under ``$KV.<origin>.`` and written to
    the origin (through the mirror's external API prefix when it has one). With a domain or custom
    API prefix, writes carry that prefix in front of ``$KV`` and the server maps them back.
    """
    read = f"$KV.{bucket}."
    js_prefix = "" if api_prefix == "$JS.API." else api_prefix
    write = js_prefix + read
    mirror = info.config.mirror
    if mirror is not None:
        origin = mirror.name.removeprefix(STREAM_PREFIX)
        if not mirror.subject_transforms:
            read = f"$KV.{origin}."
        external = mirror.external
        if external is not None and external.api:
            write = f"{external.api.rstrip('.')}.$KV.{origin}."
        else:
            write = f"{js_prefix}$KV.{origin}."
    return read, write


class KeyValue:
    """A Key/Value bucket. Obtain one with `JetStream.key_value`, `create_key_value` ...

    Every method takes ``timeout`` (seconds, a timedelta, None for none; the client's default when
    omitted). Keys are checked before anything is sent (`errors.InvalidKeyError`).
    """

    def __init__(self, js: KeyValueAPI, info: StreamInfo) -> None:
        self._js = js
        self.cached_info: StreamInfo = info
        """The bucket's stream info this handle was made with, or got by the last `status()`."""
        self.stream_name: str = info.config.name
        """The name of the bucket's stream (``KV_<bucket>``)."""
        self.bucket: str = self.stream_name.removeprefix(STREAM_PREFIX)
        """The bucket's name."""
        self._read_pre, self._write_pre = prefixes(self.bucket, info, js._core.prefix)
        self._direct = bool(info.config.allow_direct)
        # False once the server showed it has no batched direct gets (before 2.11).
        self._batch = self._direct

    def __repr__(self) -> str:
        return f"KeyValue(bucket={self.bucket!r})"

    # ------------------------------------------------------------------------------------ reads

    async def get(
        self, key: str, *, revision: int | None = None, timeout: Timeout = DEFAULT
    ) -> KeyValueEntry:
        """The latest entry of ``key``, or the one at ``revision``.

        Raises `errors.KeyNotFoundError` when there is none, and its subclass
        `errors.KeyDeletedError` (with the marker as ``.entry``) when it is a delete or purge marker.
        """
        check_key(key)
        if revision is not None and (
            isinstance(revision, bool) or not isinstance(revision, int) or revision < 1
        ):
            raise InvalidArgumentError(f"a revision is a stream sequence >= 1, got {revision!r}")
        if revision is None and self._direct:
            entry = await self._get_latest(key, timeout)
            if entry is not None:
                if entry.operation is not KeyValueOp.PUT:
                    raise KeyDeletedError(entry)
                return entry
        msg = await self._load(key, revision, timeout)
        entry = KeyValueEntry(
            bucket=self.bucket,
            key=key,
            value=msg.data,
            revision=msg.seq,
            created=msg.time,
            operation=operation_of(msg.headers),
        )
        if entry.operation is not KeyValueOp.PUT:
            raise KeyDeletedError(entry)
        return entry

    async def _get_latest(self, key: str, timeout: Timeout) -> KeyValueEntry | None:
        """The hot path of `get`: a direct get read straight off the server's Nats-* headers (exact
        names, as the server writes them). None when they are not there as expected: `_load` then
        reads the reply the general way, and reports what is wrong with it."""
        subject = self._read_pre + key
        try:
            raw = await self._js.direct_get_last_for_subject(self.stream_name, subject, timeout=timeout)
        except NoMessageFoundError as exc:
            raise KeyNotFoundError(self.bucket, key, None) from exc
        headers = raw.headers
        try:
            if headers.get("Nats-Subject") != subject:
                return None
            revision = parse_uint(headers["Nats-Sequence"])
            created = Timestamp.parse(headers["Nats-Time-Stamp"])
        except (KeyError, ValueError):
            return None
        if revision is None:
            return None
        return KeyValueEntry(self.bucket, key, raw.data, revision, created, 0, operation_of(headers))

    async def _load(self, key: str, revision: int | None, timeout: Timeout) -> StreamMessage:
        js, stream = self._js, self.stream_name
        subject = self._read_pre + key
        try:
            if self._direct:
                if revision is None:
                    raw = await js.direct_get_last_for_subject(stream, subject, timeout=timeout)
                else:
                    raw = await js.direct_get(stream, seq=revision, timeout=timeout)
                msg = StreamMessage.from_direct(
                    js._core.subject(f"DIRECT.GET.{stream}"), raw.data, raw.headers
                )
            else:
                # Buckets made before direct gets existed (ADR-8 keeps them readable).
                stored = await js.stream_msg_get(
                    stream, seq=revision, last_by_subj=subject if revision is None else None, timeout=timeout
                )
                msg = StreamMessage.from_stored(stream, stored)
        except NoMessageFoundError as exc:
            raise KeyNotFoundError(self.bucket, key, revision) from exc
        if msg.subject != subject:
            # A revision of another key.
            raise KeyNotFoundError(self.bucket, key, revision)
        return msg

    async def get_many(
        self,
        keys: Iterable[str] | None = None,
        *,
        filters: str | Sequence[str] | None = None,
        up_to_revision: int | None = None,
        up_to_time: datetime | None = None,
        timeout: Timeout = DEFAULT,
    ) -> dict[str, KeyValueEntry]:
        """The latest entries of many keys in one batched direct get (ADR-31): ``{key: entry}``.

        Give ``keys`` (exact keys; the dict follows their order, a repeated key counts once) or
        ``filters`` (a pattern such as ``"orders.*"``, or several; the dict is sorted by key).
        Keys without a value - never written, deleted, purged - are absent, never an error.
        ``up_to_revision`` / ``up_to_time`` read the bucket as it was at that revision (included)
        or just before that time: what was written later is ignored, the value before it is read.

        Every entry comes from one point in the bucket, also when the keys need several requests
        (more than 1024 keys, or a request beyond the server's ``max_payload``, or replies beyond
        its byte limit): later requests read at the first one's revision. Filters matching more
        than 1024 keys (the server's limit for one request, markers of deleted keys included)
        are read with an ordered consumer instead, as `watch` does; with ``up_to_*`` they raise
        `errors.InvalidArgumentError`.

        Needs nats-server 2.11+ and a bucket with direct gets (``allow_direct``, the default
        since 2.9): otherwise each key is read with its own `get` (filters: the ordered
        consumer), and ``up_to_*`` raise `errors.InvalidArgumentError`. ``timeout`` bounds the
        wait for each reply.
        """
        if (keys is None) == (filters is None):
            raise InvalidArgumentError("give keys or filters (one of them)")
        if isinstance(keys, str):
            raise InvalidArgumentError("keys is a list of keys, not one str (a pattern goes to filters=)")
        if up_to_revision is not None and (
            isinstance(up_to_revision, bool) or not isinstance(up_to_revision, int) or up_to_revision < 1
        ):
            raise InvalidArgumentError(f"up_to_revision is a revision >= 1, got {up_to_revision!r}")
        if up_to_revision is not None and up_to_time is not None:
            raise InvalidArgumentError("give up_to_revision or up_to_time, not both")
        if up_to_time is not None and (not isinstance(up_to_time, datetime) or up_to_time.tzinfo is None):
            raise InvalidArgumentError(f"up_to_time is a timezone-aware datetime, got {up_to_time!r}")
        snapshot = up_to_revision is not None or up_to_time is not None
        if keys is not None:
            wanted = list(dict.fromkeys(check_key(key) for key in keys))
            patterns = wanted
        else:
            wanted = None
            patterns = [filters] if isinstance(filters, str) else list(filters or ())
            if not patterns:
                raise InvalidArgumentError("filters is empty")
            for pattern in patterns:
                check_key_filter(pattern)
        if not patterns:
            return {}
        if self._batch:
            found: dict[str, KeyValueEntry] = {}
            try:
                async for entry in latest_entries(
                    self._js._core,
                    *self._read_scope(patterns),
                    up_to_seq=up_to_revision,
                    up_to_time=up_to_time,
                    timeout=timeout,
                ):
                    found[entry.key] = entry
                return entries_by_key(found, wanted)
            except BatchNotSupported:
                self._batch = False
            except TooManyMatches as exc:
                if snapshot:
                    raise InvalidArgumentError(
                        "more than 1024 keys match: up_to_revision/up_to_time need narrower filters"
                    ) from exc
        if snapshot:
            raise InvalidArgumentError(
                "up_to_revision/up_to_time need batched direct gets (nats-server 2.11+, allow_direct)"
            )
        if wanted is None:
            watcher = self.watch(patterns, ignore_deletes=True)
            return entries_by_key({e.key: e async for e in self._initial(watcher, timeout)}, None)
        return await self._get_each(wanted, timeout)

    async def _get_each(self, keys: list[str], timeout: Timeout) -> dict[str, KeyValueEntry]:
        """`get_many` without batched direct gets: one `get` per key, a few at a time."""

        async def one(key: str) -> KeyValueEntry | None:
            try:
                return await self.get(key, timeout=timeout)
            except KeyNotFoundError:
                return None

        out: dict[str, KeyValueEntry] = {}
        for i in range(0, len(keys), _GETS_IN_FLIGHT):
            part = keys[i : i + _GETS_IN_FLIGHT]
            for key, entry in zip(part, await asyncio.gather(*(one(k) for k in part)), strict=True):
                if entry is not None:
                    out[key] = entry
        return out

    def watch(
        self,
        keys: str | Sequence[str] = ">",
        *,
        include_history: bool = False,
        ignore_deletes: bool = False,
        meta_only: bool = False,
        updates_only: bool = False,
        resume_from_revision: int | None = None,
        idle_heartbeat: timedelta | float = DEFAULT_IDLE_HEARTBEAT,
        inactive_threshold: timedelta | float = INACTIVE_THRESHOLD,
    ) -> KeyWatcher:
        """Watch keys (a key, a pattern with ``*`` / ``>``, or several): an endless async iterator.

        It yields the latest entry of every matching key (all kept revisions with
        ``include_history``; none with ``updates_only``; from ``resume_from_revision`` on, when
        given), then exactly one `InitialValuesDone` - also when nothing matched - and then every
        change as it happens. ``ignore_deletes`` skips delete/purge markers, ``meta_only`` leaves
        values empty (they are not even sent). Use ``async with`` or call ``await watcher.aclose()``,
        which ends the iteration at once; ``await kv.watch(...)`` starts it before iterating.

        The watcher survives reconnects, server restarts and lost consumers: it recreates its
        consumer from the revision after the last one delivered (with jittered backoff), so no
        change is missed or repeated; two missed idle heartbeats count as a lost consumer.
        It raises `errors.BucketNotFoundError` if the bucket is deleted.

        ``inactive_threshold`` (seconds or a timedelta, default 5 minutes) is how long the server
        keeps the watch's consumer once nobody reads from it (the client went away without deleting
        it); a watcher that is closed deletes its consumer at once.
        """
        if include_history and updates_only:
            raise InvalidArgumentError("include_history and updates_only exclude each other")
        if resume_from_revision is not None and (
            isinstance(resume_from_revision, bool)
            or not isinstance(resume_from_revision, int)
            or resume_from_revision < 1
        ):
            raise InvalidArgumentError(
                f"resume_from_revision must be an int >= 1, got {resume_from_revision!r}"
            )
        patterns = [keys] if isinstance(keys, str) else list(keys)
        if not patterns:
            patterns = [">"]
        for pattern in patterns:
            check_key_filter(pattern)
        return KeyWatcher(
            self._js,
            *self._read_scope(patterns),
            include_history=include_history,
            ignore_deletes=ignore_deletes,
            meta_only=meta_only,
            updates_only=updates_only,
            resume_from_revision=resume_from_revision,
            idle_heartbeat=idle_heartbeat,
            inactive_threshold=inactive_threshold,
        )

    def _read_scope(self, patterns: list[str]) -> tuple[str, str, str, list[str]]:
        """What a bulk read or a watcher of the key ``patterns`` reads: the stream, the bucket, the
        read prefix and the subjects that the patterns stand for."""
        return self.stream_name, self.bucket, self._read_pre, [self._read_pre + p for p in patterns]

    async def _initial(self, watcher: KeyWatcher, timeout: Timeout) -> AsyncIterator[KeyValueEntry]:
        """The initial values of ``watcher`` (not started yet), then stop. ``timeout`` bounds the
        wait for each item."""
        wait = self._js._core.timeout(timeout)
        await watcher.start(timeout=timeout)
        try:
            async for item in watcher._initial_values(wait):
                yield item
        except BaseException:
            # A read that failed (a silent server, a caller leaving) returns now: deleting its
            # consumer, bounded but slow on such a server, goes on in the background.
            spawn_cleanup(watcher.aclose)
            raise
        await watcher.aclose()

    async def list_keys(
        self, filters: str | Sequence[str] = ">", *, timeout: Timeout = DEFAULT
    ) -> AsyncIterator[str]:
        """The keys holding a value (not deleted or purged), as they arrive, filtered by the server
        (``filters``: a key pattern or several); values are never transferred. A key written
        while listing may appear twice. ``timeout`` bounds the wait for each key
        (`errors.TimeoutError`)."""
        async for entry in self._initial(self.watch(filters, ignore_deletes=True, meta_only=True), timeout):
            yield entry.key

    async def keys(self, filters: str | Sequence[str] = ">", *, timeout: Timeout = DEFAULT) -> list[str]:
        """The sorted keys holding a value, filtered by the server (a pattern or several, e.g.
        ``"orders.*"``); values are never transferred. An empty bucket gives ``[]``."""
        return sorted({key async for key in self.list_keys(filters, timeout=timeout)})

    async def history(self, key: str, *, timeout: Timeout = DEFAULT) -> list[KeyValueEntry]:
        """Every kept revision of ``key`` (oldest first, markers included). Raises
        `errors.KeyNotFoundError` when the key has none."""
        check_key(key)
        entries = [entry async for entry in self._initial(self.watch(key, include_history=True), timeout)]
        if not entries:
            raise KeyNotFoundError(self.bucket, key)
        return entries

    async def status(self, *, timeout: Timeout = DEFAULT) -> KeyValueStatus:
        """The bucket's state and configuration (fresh from the server)."""
        info = await self._js.stream_info(self.stream_name, timeout=timeout)
        self.cached_info = info
        return KeyValueStatus(self.bucket, info)

    async def info(self, *, timeout: Timeout = DEFAULT) -> KeyValueConfig:
        """The bucket's configuration (ADR-8 ``Info()``)."""
        return (await self.status(timeout=timeout)).config

    # ----------------------------------------------------------------------------------- writes

    async def _publish(
        self,
        key: str,
        value: Payload,
        *,
        headers: Mapping[str, str] | None = None,
        last: int | None = None,
        ttl: timedelta | float | None = None,
        timeout: Timeout,
    ) -> PubAck:
        try:
            return await self._js.publish(
                self._write_pre + key,
                value,
                headers=headers,
                expected_last_subject_seq=last,
                ttl=ttl,
                timeout=timeout,
            )
        except _WRONG_LAST as exc:
            assert last is not None
            raise WrongLastRevisionError(self.bucket, key, last, exc.err_code, exc.description) from exc

    async def put(self, key: str, value: Payload, *, timeout: Timeout = DEFAULT) -> int:
        """Store ``value`` under ``key``; returns its revision."""
        check_key(key, write=True)
        return (await self._publish(key, value, timeout=timeout)).seq

    async def create(
        self, key: str, value: Payload, *, ttl: timedelta | float | None = None, timeout: Timeout = DEFAULT
    ) -> int:
        """Store ``value`` only if ``key`` has none (never written, deleted or purged); returns the
        revision. Raises `errors.KeyExistsError` otherwise. ``ttl`` (whole seconds, ADR-48) removes
        the key after that time; the bucket needs ``limit_marker_ttl``."""
        check_key(key, write=True)
        try:
            return (await self._publish(key, value, last=0, ttl=ttl, timeout=timeout)).seq
        except WrongLastRevisionError as exc:
            first = exc
        # Not the first message on the subject: if the latest is a marker, the key may be created
        # again, expecting exactly that marker's revision (ADR-8).
        try:
            await self.get(key, timeout=timeout)
        except KeyDeletedError as deleted:
            try:
                return (
                    await self._publish(key, value, last=deleted.entry.revision, ttl=ttl, timeout=timeout)
                ).seq
            except WrongLastRevisionError as exc:
                raise KeyExistsError(self.bucket, key, exc.err_code, exc.description) from exc.__cause__
        except KeyNotFoundError:
            pass
        raise KeyExistsError(self.bucket, key, first.err_code, first.description) from first.__cause__

    async def update(self, key: str, value: Payload, last: int, *, timeout: Timeout = DEFAULT) -> int:
        """Store ``value`` only if the latest revision of ``key`` is ``last``; returns the new
        revision. Raises `errors.WrongLastRevisionError` otherwise (both server codes for it)."""
        check_key(key, write=True)
        _check_revision(key, last)
        return (await self._publish(key, value, last=last, timeout=timeout)).seq

    async def delete(self, key: str, *, last: int | None = None, timeout: Timeout = DEFAULT) -> int:
        """Write a delete marker (history is kept); with ``last``, only if that is the key's latest
        revision (else `errors.WrongLastRevisionError`). Returns the marker's revision."""
        check_key(key, write=True)
        if last is not None:
            _check_revision(key, last)
        ack = await self._publish(key, b"", headers={KV_OPERATION: "DEL"}, last=last, timeout=timeout)
        return ack.seq

    async def purge(
        self,
        key: str,
        *,
        last: int | None = None,
        ttl: timedelta | float | None = None,
        timeout: Timeout = DEFAULT,
    ) -> int:
        """Write a purge marker and drop the key's history; with ``last``, only if that is the
        key's latest revision. ``ttl`` (ADR-48) removes the marker itself after that time (the
        bucket needs ``limit_marker_ttl``). Returns the marker's revision."""
        check_key(key, write=True)
        if last is not None:
            _check_revision(key, last)
        headers = {KV_OPERATION: "PURGE", ROLLUP: "sub"}
        ack = await self._publish(key, b"", headers=headers, last=last, ttl=ttl, timeout=timeout)
        return ack.seq

    async def purge_deletes(
        self,
        *,
        older_than: timedelta | float | None = DEFAULT_PURGE_DELETES_OLDER_THAN,
        timeout: Timeout = DEFAULT,
    ) -> int:
        """Remove delete and purge markers with everything behind them. Markers younger than
        ``older_than`` (default 30 minutes) are kept, their history is removed; ``None`` or 0
        removes every marker. Returns the number of markers found."""
        markers = [
            e async for e in self._initial(self.watch(">"), timeout) if e.operation is not KeyValueOp.PUT
        ]
        limit = None
        if older_than is not None and nanos(older_than) > 0:
            limit = datetime.now(timezone.utc) - timedelta(microseconds=nanos(older_than) // 1000)
        for entry in markers:
            keep = 1 if limit is not None and entry.created > limit else None
            await self._js.stream_purge(
                self.stream_name, filter=self._read_pre + entry.key, keep=keep, timeout=timeout
            )
        return len(markers)


def _check_revision(key: str, revision: object) -> None:
    if isinstance(revision, bool) or not isinstance(revision, int) or revision < 0:
        raise InvalidArgumentError(f"key {key!r}: a revision is an int >= 0, got {revision!r}")

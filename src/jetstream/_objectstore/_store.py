"""Object stores (ADR-20): the `ObjectStore` handle.

A store is the stream ``OBJ_<bucket>`` capturing ``$O.<bucket>.C.>`` (chunks) and ``$O.<bucket>.M.>``
(meta). An object is its chunks on ``$O.<bucket>.C.<nuid>`` - a new nuid for every put - plus one meta
message, its info as JSON, on ``$O.<bucket>.M.<base64url(name)>``, published with a subject rollup so
only the latest stays. The chunks of the version a put replaces are purged once the new meta is
written. Reads of meta are direct gets; chunks and listings come through ordered consumers.

With a custom API prefix, writes go to ``<prefix>.$O...`` (ADR-19; the other account imports them
so). With a JetStream domain they go to plain ``$O...``: the server maps ``$JS.<domain>.API.$OBJ.>``,
not ``$O``, and plain subjects reach the domain's stream across the leafnode connection.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import hashlib
import logging
import os
from collections import deque
from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from typing import Final, Protocol

import msgspec

from .._core import DEFAULT, Timeout
from .._exceptions import (
    APIError,
    BadObjectMetaError,
    JetStreamError,
    ObjectExistsError,
    ObjectLinkError,
    ObjectNotFoundError,
    ObjectStoreError,
    ObjectStoreNotFoundError,
    ObjectStoreSealedError,
    TimeoutError,
)
from .._generated.errors import NoMessageFoundError, StreamNotFoundError, StreamSealedError
from .._generated.models import PubAck, StreamConfig, StreamInfo
from .._stream import BucketAPI, StreamMessage
from .._transport import next_id
from .._validate import check_bucket
from ._io import (
    WINDOW_BYTES,
    ObjectData,
    ObjectReader,
    check_chunk_size,
    chunks_of,
    start_store_consumer,
)
from ._types import (
    DEFAULT_CHUNK_SIZE,
    ROLLUP,
    STREAM_PREFIX,
    HeadersArg,
    ObjectInfo,
    ObjectLink,
    ObjectMeta,
    ObjectMetaOptions,
    ObjectStoreStatus,
    check_object_name,
    digest_text,
    encode_info,
    encode_name,
    info_of,
    normal_headers,
)
from ._watch import ObjectWatcher

__all__ = ["ObjectStore"]

logger = logging.getLogger("jetstream.object_store")

_MAX_LINK_HOPS: Final = 8  # links never point at links; this only stops a hand-made cycle
_CLEANUP_TIMEOUT: Final = 5.0  # bound on purging the chunks of a failed put
_LIST_BATCH: Final = 256
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=timezone.utc)  # until the server's time is known


@contextlib.contextmanager
def _writes(bucket: str) -> Iterator[None]:
    """A sealed store's refusal (err_code 10109) as `errors.ObjectStoreSealedError`."""
    try:
        yield
    except StreamSealedError as exc:
        raise ObjectStoreSealedError(bucket) from exc


def _ignore_outcome(future: asyncio.Future[PubAck]) -> None:
    if not future.cancelled():
        future.exception()


class ObjectStoreAPI(BucketAPI, Protocol):
    """What an `ObjectStore` needs of the client: what every bucket handle needs (`BucketAPI`: a
    `Stream`'s endpoints, last-for-subject direct gets, the connection, publishing), stream updates
    (sealing), async publishing, and binding the store a link points to."""

    async def stream_update(
        self, config: str | StreamConfig, /, *, timeout: Timeout = DEFAULT
    ) -> StreamInfo: ...

    async def publish_async(
        self,
        subject: str,
        data: bytes = b"",
        *,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = DEFAULT,
    ) -> asyncio.Future[PubAck]: ...

    async def object_store(self, bucket: str, /, *, timeout: Timeout = DEFAULT) -> ObjectStore: ...


class ObjectStore:
    """An object store. Obtain one with `JetStream.object_store`, `create_object_store` ...

    Every method takes ``timeout`` (seconds, a timedelta, None for none; the client's default when
    omitted), which bounds each request it makes - not the whole transfer of a large object.
    Object names are any non-empty str (`errors.InvalidObjectNameError` otherwise).
    """

    def __init__(self, js: ObjectStoreAPI, info: StreamInfo) -> None:
        self._js = js
        self.cached_info: StreamInfo = info
        """The store's stream info this handle was made with, or got by the last `status()` / `seal()`."""
        self.stream_name: str = info.config.name
        """The name of the store's stream (``OBJ_<bucket>``)."""
        self.bucket: str = self.stream_name.removeprefix(STREAM_PREFIX)
        """The store's name."""
        self._direct = bool(info.config.allow_direct)
        prefix = js._core.prefix
        self._read_pre = f"$O.{self.bucket}."
        # `$JS.<domain>.API.` (given as a domain or spelled out as a prefix) has no `$O` mapping.
        domain_form = prefix.startswith("$JS.") and prefix.endswith(".API.")
        self._write_pre = ("" if domain_form else prefix) + self._read_pre

    def __repr__(self) -> str:
        return f"ObjectStore(bucket={self.bucket!r})"

    # ------------------------------------------------------------------------------------ reads

    async def info(self, name: str, *, show_deleted: bool = False, timeout: Timeout = DEFAULT) -> ObjectInfo:
        """The info of object (or link) ``name``; ``mtime`` is the server's time of its meta message.

        Raises `errors.ObjectNotFoundError` when there is none, or when it is deleted (unless
        ``show_deleted``); `errors.BadObjectMetaError` when its meta message is not ADR-20 JSON.
        """
        check_object_name(name)
        subject = self._read_pre + "M." + encode_name(name)
        js, stream = self._js, self.stream_name
        try:
            if self._direct:
                raw = await js.direct_get_last_for_subject(stream, subject, timeout=timeout)
                msg = StreamMessage.from_direct(
                    js._core.subject(f"DIRECT.GET.{stream}"), raw.data, raw.headers
                )
            else:
                stored = await js.stream_msg_get(stream, last_by_subj=subject, timeout=timeout)
                msg = StreamMessage.from_stored(stream, stored)
        except NoMessageFoundError as exc:
            raise ObjectNotFoundError(self.bucket, name) from exc
        except StreamNotFoundError as exc:
            raise ObjectStoreNotFoundError(self.bucket) from exc
        info = info_of(self.bucket, msg.subject, msg.data, msg.time)
        if info.deleted and not show_deleted:
            raise ObjectNotFoundError(self.bucket, name, deleted=True)
        return info

    async def _find(self, name: str, timeout: Timeout) -> ObjectInfo | None:
        """The info of ``name``, deleted or not; None when there is none."""
        try:
            return await self.info(name, show_deleted=True, timeout=timeout)
        except ObjectNotFoundError:
            return None

    async def get(self, name: str, *, show_deleted: bool = False, timeout: Timeout = DEFAULT) -> ObjectReader:
        """The data of object ``name`` as an `ObjectReader`: an async iterator of chunks with
        ``.info``, checked against the object's digest as it ends::

            async with await store.get("report.pdf") as obj:
                async for chunk in obj:
                    out.write(chunk)

        A link to an object (in this store or another) is followed; the reader's ``info`` is the
        target's. Raises `errors.ObjectNotFoundError` (also for a deleted object), and
        `errors.ObjectLinkError` for a link to a whole store. While reading: see `ObjectReader`.

        With ``show_deleted`` a deleted object (or link) is not an error: the reader's ``info`` is
        its delete marker (``deleted`` true) and it yields no data. A link that is not deleted is
        still followed, and a deleted object it leads to raises as above.
        """
        info = await self.info(name, show_deleted=show_deleted, timeout=timeout)
        if info.deleted:
            # A delete marker has no chunks (they were purged): the reader ends at once.
            chunks = f"{self._read_pre}C.{info.nuid}"
            return ObjectReader(self._js, self.stream_name, chunks, info, self._js._core.timeout(timeout))
        store: ObjectStore = self
        hops = 0
        while info.is_link:
            link = info.link
            assert link is not None
            if link.is_bucket_link or not link.name:
                raise ObjectLinkError(
                    f"{info.name!r} in object store {store.bucket!r} links to the whole store "
                    f"{link.bucket!r}, not to an object",
                    bucket=store.bucket,
                )
            hops += 1
            if hops > _MAX_LINK_HOPS:
                raise ObjectLinkError(f"more than {_MAX_LINK_HOPS} links from {name!r}", bucket=self.bucket)
            if link.bucket != store.bucket:
                store = await self._js.object_store(link.bucket, timeout=timeout)
            info = await store.info(link.name, timeout=timeout)
        if not info.nuid:
            raise BadObjectMetaError(
                store.bucket, store._read_pre + "M." + encode_name(info.name), b"", "no nuid"
            )
        return ObjectReader(
            store._js,
            store.stream_name,
            f"{store._read_pre}C.{info.nuid}",
            info,
            self._js._core.timeout(timeout),
        )

    async def get_bytes(self, name: str, *, show_deleted: bool = False, timeout: Timeout = DEFAULT) -> bytes:
        """The whole data of object ``name`` (links followed), after checking its digest. With
        ``show_deleted`` a deleted object gives ``b""`` instead of `errors.ObjectNotFoundError`."""
        reader = await self.get(name, show_deleted=show_deleted, timeout=timeout)
        async with reader:
            return await reader.read()

    async def get_file(
        self, name: str, file: str | os.PathLike[str], *, timeout: Timeout = DEFAULT
    ) -> ObjectInfo:
        """Write object ``name`` to the file at path ``file`` (created or truncated), chunk by
        chunk; returns its info. The file is removed again if the read fails (a missing chunk, a
        digest mismatch ...)."""
        reader = await self.get(name, timeout=timeout)
        loop = asyncio.get_running_loop()
        try:
            async with reader:
                with open(file, "wb") as out:  # noqa: ASYNC230 - writes go to a thread
                    async for chunk in reader:
                        await loop.run_in_executor(None, out.write, chunk)
        except BaseException:
            with contextlib.suppress(OSError):
                os.remove(file)
            raise
        return reader.info

    async def list(
        self, *, show_deleted: bool = False, timeout: Timeout = DEFAULT
    ) -> builtins.list[ObjectInfo]:
        """The info of every object and link (the latest meta message of each name, in stream
        order); deleted objects only with ``show_deleted``. An empty store gives ``[]``. A meta
        message that is not ADR-20 JSON is skipped (logged)."""
        infos: builtins.list[ObjectInfo] = []
        wait = self._js._core.timeout(timeout)
        oc = await start_store_consumer(
            self._js, self.stream_name, self.bucket, self._read_pre + "M.>", "last_per_subject", wait
        )
        try:
            left = oc.cached_info.num_pending if oc.cached_info is not None else 0
            while left > 0:
                batch = oc.fetch(min(left, _LIST_BATCH), expires=30.0 if wait is None else wait)
                got = 0
                try:
                    async for msg in batch:
                        got += 1
                        left -= 1
                        try:
                            info = info_of(self.bucket, msg.subject, msg.data, msg.metadata.timestamp)
                        except BadObjectMetaError as exc:
                            logger.warning("object store list: skipping a bad meta message: %s", exc)
                        else:
                            if show_deleted or not info.deleted:
                                infos.append(info)
                        if msg.metadata.num_pending == 0:
                            left = 0
                            break
                finally:
                    await batch.aclose()
                if got == 0 and wait is not None:
                    raise TimeoutError(self._read_pre + "M.>", wait)
        finally:
            await oc.aclose()
        return infos

    def watch(
        self, *, include_history: bool = False, ignore_deletes: bool = False, updates_only: bool = False
    ) -> ObjectWatcher:
        """Watch the store's objects: an endless async iterator of `ObjectInfo`.

        It yields the latest info of every object (every kept version with ``include_history``;
        none with ``updates_only``), then exactly one `InitialValuesDone` - also for an empty store -
        then every change as it happens (puts, deletes, meta updates, links). ``ignore_deletes``
        skips delete markers. Use ``async with`` or call ``await watcher.aclose()``. Faults
        (reconnects, a lost consumer) are repaired by recreating the consumer where it left off.
        """
        return ObjectWatcher(
            self._js,
            self.stream_name,
            self.bucket,
            self._read_pre + "M.>",
            include_history=include_history,
            ignore_deletes=ignore_deletes,
            updates_only=updates_only,
        )

    async def status(self, *, timeout: Timeout = DEFAULT) -> ObjectStoreStatus:
        """The store's state and configuration (fresh from the server)."""
        try:
            info = await self._js.stream_info(self.stream_name, timeout=timeout)
        except StreamNotFoundError as exc:
            raise ObjectStoreNotFoundError(self.bucket) from exc
        self.cached_info = info
        return ObjectStoreStatus(self.bucket, info)

    # ----------------------------------------------------------------------------------- writes

    async def put(
        self,
        name: str | ObjectMeta,
        data: ObjectData,
        *,
        description: str | None = None,
        headers: HeadersArg | None = None,
        metadata: dict[str, str] | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        timeout: Timeout = DEFAULT,
    ) -> ObjectInfo:
        """Store ``data`` as object ``name``, replacing any object of that name; returns its info.

        ``data`` is bytes, a file path, a binary file object, or an (async) iterable of byte chunks
        of any size. It is read as it is sent, in chunks of ``chunk_size`` bytes (128 KiB), with at
        most about 8 MiB unacknowledged: memory stays bounded whatever the object's size. The SHA-256
        digest is computed on the way. ``name`` may be an `ObjectMeta` (its description, headers
        and metadata are used unless given here).

        Chunks go to a new subject, then the meta message is written; only then are the chunks of
        the object it replaces purged, so readers always see a complete object. If anything fails
        (or the put is cancelled), the chunks sent are purged and the error is raised:
        `errors.ObjectStoreSealedError` for a sealed store, the server's `APIError` (e.g. the
        store's ``max_bytes`` reached), `errors.TimeoutError` for an ack that did not come.
        """
        if isinstance(name, ObjectMeta):
            meta = name
            name = meta.name
            description = description if description is not None else meta.description
            headers = headers if headers is not None else meta.headers
            metadata = metadata if metadata is not None else meta.metadata
        check_object_name(name)
        chunk_size = check_chunk_size(chunk_size, self._js.connection.max_payload)
        with _writes(self.bucket):
            existing = await self._find(name, timeout)
            nuid = next_id()
            size, chunks, digest = await self._send_chunks(nuid, data, chunk_size, timeout)
            info = ObjectInfo(
                name=name,
                bucket=self.bucket,
                nuid=nuid,
                size=size,
                chunks=chunks,
                mtime=_EPOCH,
                digest=digest,
                description=description,
                headers=normal_headers(headers),
                metadata=metadata or None,
                options=ObjectMetaOptions(max_chunk_size=chunk_size),
            )
            try:
                ack = await self._write_meta(info, timeout)
            except APIError:
                await self._purge_quietly(nuid)  # refused: the meta is not stored
                raise
            except BaseException as exc:
                # No ack (timeout, connection lost, cancelled): the meta may be stored all the same,
                # and then its chunks must stay.
                stored = await self._stored_meta(name)
                if stored is None or stored.nuid != nuid:
                    await self._purge_quietly(nuid)
                    raise
                if not isinstance(exc, Exception):
                    raise
                info = stored
            else:
                info = msgspec.structs.replace(info, mtime=await self._time_of(ack.seq, timeout))
        if (
            existing is not None
            and existing.nuid
            and existing.nuid != nuid
            and not existing.is_link
            and not existing.deleted
        ):
            try:
                await self._purge_chunks(existing.nuid, timeout)
            except JetStreamError as exc:
                logger.warning("object %r: the chunks of the replaced version stay: %s", name, exc)
        return info

    async def _send_chunks(
        self, nuid: str, data: ObjectData, chunk_size: int, timeout: Timeout
    ) -> tuple[int, int, str]:
        """Publish the chunks (pipelined, a bounded window of acks); (size, chunks, digest)."""
        js = self._js
        subject = f"{self._write_pre}C.{nuid}"
        depth = max(1, WINDOW_BYTES // chunk_size)
        window: deque[asyncio.Future[PubAck]] = deque()
        sha = hashlib.sha256()
        size = chunks = last_seq = 0
        sending = False
        try:
            async for chunk in chunks_of(data, chunk_size):
                sha.update(chunk)
                sending = True
                window.append(await js.publish_async(subject, chunk, timeout=timeout))
                size += len(chunk)
                chunks += 1
                if len(window) >= depth:
                    last_seq = self._in_order(await window.popleft(), last_seq)
            while window:
                last_seq = self._in_order(await window.popleft(), last_seq)
        except BaseException as exc:
            for future in window:
                future.add_done_callback(_ignore_outcome)
            if sending and not isinstance(exc, StreamSealedError):  # a sealed store cannot be purged
                if window:
                    # Chunks still in flight would be stored after a purge that overtook them.
                    await asyncio.wait(window, timeout=_CLEANUP_TIMEOUT)
                await self._purge_quietly(nuid)
            raise
        return size, chunks, digest_text(sha.digest())

    def _in_order(self, ack: PubAck, last: int) -> int:
        # A publish retried after "no responders" (ADR-22) can land behind later chunks.
        if ack.seq <= last:
            raise ObjectStoreError(
                f"chunks were stored out of order in object store {self.bucket!r} "
                "(a publish was retried); put the object again",
                bucket=self.bucket,
            )
        return ack.seq

    async def _write_meta(self, info: ObjectInfo, timeout: Timeout) -> PubAck:
        """Write ``info`` as the object's meta message, rolling up the previous one."""
        subject = f"{self._write_pre}M.{encode_name(info.name)}"
        with _writes(self.bucket):
            return await self._js.publish(
                subject, encode_info(info), headers={ROLLUP: "sub"}, timeout=timeout
            )

    async def _publish_meta(self, info: ObjectInfo, timeout: Timeout) -> ObjectInfo:
        """`_write_meta`, then ``info`` with the server's time of the message written."""
        ack = await self._write_meta(info, timeout)
        return msgspec.structs.replace(info, mtime=await self._time_of(ack.seq, timeout))

    async def _time_of(self, seq: int, timeout: Timeout) -> datetime:
        js = self._js
        stamp: datetime | None = None
        try:
            if self._direct:
                stamp = (await js.direct_get(self.stream_name, seq=seq, timeout=timeout)).time
            else:
                stamp = (await js.stream_msg_get(self.stream_name, seq=seq, timeout=timeout)).time
        except NoMessageFoundError:
            pass  # already rolled up by a newer write of the same name
        return stamp if stamp is not None else datetime.now(timezone.utc)

    async def _purge_chunks(self, nuid: str, timeout: Timeout) -> None:
        await self._js.stream_purge(self.stream_name, filter=f"{self._read_pre}C.{nuid}", timeout=timeout)

    async def _stored_meta(self, name: str) -> ObjectInfo | None:
        """The stored info of ``name`` (None if none or unknown), bounded, for cleanup decisions."""
        try:
            return await asyncio.wait_for(self._find(name, _CLEANUP_TIMEOUT), _CLEANUP_TIMEOUT)
        except (JetStreamError, asyncio.TimeoutError):
            return None

    async def _purge_quietly(self, nuid: str) -> None:
        """Best effort, bounded: a failed put leaves no chunks behind when the server is reachable."""
        try:
            await asyncio.wait_for(self._purge_chunks(nuid, _CLEANUP_TIMEOUT), _CLEANUP_TIMEOUT)
        except (JetStreamError, asyncio.TimeoutError) as exc:
            logger.warning("object store %r: chunks of a failed put stay: %s", self.bucket, exc)

    async def delete(self, name: str, *, timeout: Timeout = DEFAULT) -> None:
        """Delete object (or link) ``name``: its meta becomes a delete marker (``deleted``, no size
        or digest) and its chunks are purged. Deleting a deleted object only purges again. Raises
        `errors.ObjectNotFoundError` when there is no such object, `errors.ObjectStoreSealedError`."""
        info = await self.info(name, show_deleted=True, timeout=timeout)
        with _writes(self.bucket):
            if not info.deleted:
                marker = msgspec.structs.replace(info, deleted=True, size=0, chunks=0, digest=None)
                await self._publish_meta(marker, timeout)
            if info.nuid and not info.is_link:
                await self._purge_chunks(info.nuid, timeout)

    async def update_meta(self, name: str, meta: ObjectMeta, *, timeout: Timeout = DEFAULT) -> ObjectInfo:
        """Replace the name, description, headers and metadata of object (or link) ``name`` with
        those of ``meta``; a different ``meta.name`` renames it. Data, links and chunk size stay.
        Returns the new info.

        Raises `errors.ObjectNotFoundError` for a missing or deleted object, and
        `errors.ObjectExistsError` when renaming onto an object that is not deleted.
        """
        check_object_name(meta.name)
        info = await self.info(name, timeout=timeout)
        if meta.name != name:
            taken = await self._find(meta.name, timeout)
            if taken is not None and not taken.deleted:
                raise ObjectExistsError(self.bucket, meta.name)
        updated = msgspec.structs.replace(
            info,
            name=meta.name,
            description=meta.description,
            headers=normal_headers(meta.headers),
            metadata=meta.metadata or None,
        )
        updated = await self._publish_meta(updated, timeout)
        if meta.name != name:
            with _writes(self.bucket):
                await self._js.stream_purge(
                    self.stream_name, filter=f"{self._read_pre}M.{encode_name(name)}", timeout=timeout
                )
        return updated

    async def add_link(self, name: str, target: ObjectInfo, *, timeout: Timeout = DEFAULT) -> ObjectInfo:
        """Add link ``name`` to the object ``target`` (its info, from this store or another);
        `get` on the link reads the target. Replaces a link or deleted object of that name.

        Raises `errors.ObjectLinkError` when ``target`` is deleted or is itself a link,
        `errors.ObjectExistsError` when ``name`` is an object that is not deleted.
        """
        check_object_name(name)
        if target.deleted:
            raise ObjectLinkError(f"cannot link to the deleted object {target.name!r}", bucket=self.bucket)
        if target.is_link:
            raise ObjectLinkError(f"cannot link to the link {target.name!r}", bucket=self.bucket)
        return await self._add_link(name, ObjectLink(bucket=target.bucket, name=target.name), timeout)

    async def add_bucket_link(
        self, name: str, bucket: ObjectStore | str, *, timeout: Timeout = DEFAULT
    ) -> ObjectInfo:
        """Add link ``name`` to a whole object store (a handle or a store name), like a directory.
        Raises `errors.ObjectExistsError` when ``name`` is an object that is not deleted."""
        check_object_name(name)
        target = check_bucket(bucket.bucket if isinstance(bucket, ObjectStore) else bucket, "object store")
        return await self._add_link(name, ObjectLink(bucket=target), timeout)

    async def _add_link(self, name: str, link: ObjectLink, timeout: Timeout) -> ObjectInfo:
        existing = await self._find(name, timeout)
        if existing is not None and not existing.is_link and not existing.deleted:
            raise ObjectExistsError(self.bucket, name)
        info = ObjectInfo(
            name=name,
            bucket=self.bucket,
            nuid=next_id(),
            size=0,
            chunks=0,
            mtime=_EPOCH,
            options=ObjectMetaOptions(link=link),
        )
        return await self._publish_meta(info, timeout)

    async def seal(self, *, timeout: Timeout = DEFAULT) -> ObjectStoreStatus:
        """Seal the store: from now on nothing can be put, changed or deleted (writes raise
        `errors.ObjectStoreSealedError`). Returns the new status."""
        try:
            current = await self._js.stream_info(self.stream_name, timeout=timeout)
            config = msgspec.structs.replace(current.config, sealed=True)
            info = await self._js.stream_update(config, timeout=timeout)
        except StreamNotFoundError as exc:
            raise ObjectStoreNotFoundError(self.bucket) from exc
        self.cached_info = info
        return ObjectStoreStatus(self.bucket, info)

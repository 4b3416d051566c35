"""Moving object data: cutting what `ObjectStore.put` is given into chunks, and `ObjectReader`, which
streams an object's chunks back through an ordered pull consumer.

Reading pulls chunks in batches (about 8 MiB a pull, one request per batch, no task per chunk),
hashes them as they pass and checks count, size and SHA-256 digest at the end. A missing chunk is
seen from the consumer's pending count - the last stored chunk says nothing is left - so it raises
`errors.IncompleteObjectError` at once instead of waiting for data that will never come.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from typing import Final, Protocol, TypeAlias, runtime_checkable

from .._consume._api import ConsumerAPI
from .._consume._ordered import OrderedConfig, OrderedConsumer, start_ordered
from .._consume._ordered_streams import OrderedFetchResult
from .._exceptions import (
    BadObjectMetaError,
    DigestMismatchError,
    IncompleteObjectError,
    InvalidArgumentError,
    JetStreamError,
    ObjectStoreNotFoundError,
    TimeoutError,
)
from .._generated.errors import StreamNotFoundError
from .._typing import AsyncResource
from ._types import DEFAULT_CHUNK_SIZE, ObjectInfo, digest_bytes, digest_text

__all__ = ["ObjectData", "ObjectReader"]


class BinaryReadable(Protocol):
    """A binary file open for reading (anything with ``read(size) -> bytes``)."""

    def read(self, size: int = ..., /) -> bytes: ...


@runtime_checkable
class _Readable(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


ObjectData: TypeAlias = (
    bytes
    | bytearray
    | memoryview
    | str
    | os.PathLike[str]
    | BinaryReadable
    | AsyncIterable[bytes]
    | Iterable[bytes]
)
"""What `ObjectStore.put` stores: bytes, a file path (``str`` or path-like), a binary file object, or
an (async) iterable of byte chunks of any size."""

# Bytes asked for per pull when reading, and kept unacknowledged per put: the memory bound.
WINDOW_BYTES: Final = 8 * 1024 * 1024
_MAX_BATCH = 256
# Pull expiry when the caller asked for no timeout: a pull is repeated, never an error.
_UNBOUNDED_EXPIRES = 30.0


def check_chunk_size(chunk_size: object, max_payload: int | None) -> int:
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise InvalidArgumentError(f"chunk_size must be a positive int, got {chunk_size!r}")
    if max_payload is not None and chunk_size > max_payload:
        raise InvalidArgumentError(
            f"chunk_size {chunk_size} is larger than the server's max_payload ({max_payload})"
        )
    return chunk_size


async def chunks_of(data: ObjectData, chunk_size: int = DEFAULT_CHUNK_SIZE) -> AsyncIterator[bytes]:
    """``data`` in chunks of exactly ``chunk_size`` bytes (the last one shorter), read as needed:
    never more than a chunk or so of the input is held."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        view = memoryview(data).cast("B")
        for start in range(0, len(view), chunk_size):
            yield bytes(view[start : start + chunk_size])
        return
    if isinstance(data, (str, os.PathLike)):
        with open(data, "rb") as file:  # noqa: ASYNC230 - opening is quick; reads go to a thread
            async for chunk in _rechunk(_read_file(file, chunk_size), chunk_size):
                yield chunk
        return
    if isinstance(data, _Readable):
        async for chunk in _rechunk(_read_file(data, chunk_size), chunk_size):
            yield chunk
        return
    if isinstance(data, AsyncIterable):
        async for chunk in _rechunk(data, chunk_size):
            yield chunk
        return
    if isinstance(data, Iterable):
        async for chunk in _rechunk(_aiter(data), chunk_size):
            yield chunk
        return
    raise InvalidArgumentError(
        "object data must be bytes, a file path, a binary file, or an (async) iterable of bytes; "
        f"got {type(data).__name__}"
    )


async def _read_file(file: BinaryReadable, size: int) -> AsyncIterator[bytes]:
    # A file may sit on a slow disk or network share: its reads must not stall the event loop.
    loop = asyncio.get_running_loop()
    while True:
        block = await loop.run_in_executor(None, file.read, size)
        if not block:
            return
        if isinstance(block, str):
            raise InvalidArgumentError("object data files must be opened in binary mode ('rb')")
        yield block


async def _aiter(items: Iterable[bytes]) -> AsyncIterator[bytes]:
    for item in items:
        yield item


async def _rechunk(pieces: AsyncIterable[bytes], size: int) -> AsyncIterator[bytes]:
    """Pieces of any size regrouped into chunks of ``size`` bytes; a big piece is cut without
    copying it whole, small ones are gathered in one buffer of at most ``size`` bytes."""
    pending = bytearray()
    async for piece in pieces:
        if not isinstance(piece, (bytes, bytearray, memoryview)):
            raise InvalidArgumentError(f"object data chunks must be bytes, got {type(piece).__name__}")
        view = memoryview(piece).cast("B")
        if pending:
            take = size - len(pending)
            pending += view[:take]
            view = view[take:]
            if len(pending) < size:
                continue
            yield bytes(pending)
            pending = bytearray()
        while len(view) >= size:
            yield bytes(view[:size])
            view = view[size:]
        pending += view
    if pending:
        yield bytes(pending)


async def start_store_consumer(
    js: ConsumerAPI, stream: str, bucket: str, subject: str, policy: str, wait: float | None
) -> OrderedConsumer:
    """An ordered consumer on ``subject`` of a store's stream, its first server consumer created
    within ``wait`` seconds; `errors.ObjectStoreNotFoundError` when the stream is gone."""
    config = OrderedConfig(filter_subjects=(subject,), deliver_policy=policy)
    try:
        return await start_ordered(js, stream, config, wait)
    except StreamNotFoundError as exc:
        raise ObjectStoreNotFoundError(bucket) from exc


class ObjectReader(AsyncResource):
    """The data of one object, chunk by chunk: an async iterator of `bytes` (from `ObjectStore.get`).

    ``info`` is the object's `ObjectInfo` (the linked-to object's, when `get` followed a link).
    Chunks are pulled in batches through an ordered consumer; at the end the chunk count, the size
    and the SHA-256 digest are checked - a mismatch raises `errors.IncompleteObjectError` or
    `errors.DigestMismatchError` in place of the last chunk. A missing chunk raises
    `errors.IncompleteObjectError` as soon as the stream shows nothing more to come; no pull waits
    longer than the ``timeout`` of `get` (`errors.TimeoutError` when nothing at all arrives).

    The consumer is deleted when the iteration ends, fails, or on `aclose` (``async with``).
    """

    def __init__(self, js: ConsumerAPI, stream: str, subject: str, info: ObjectInfo, wait: float | None):
        self._js = js
        self._stream = stream
        self._subject = subject
        self.info = info
        self._wait = wait
        self._expires = _UNBOUNDED_EXPIRES if wait is None else wait
        hint = (info.options.max_chunk_size if info.options else None) or (
            -(-info.size // info.chunks) if info.chunks else DEFAULT_CHUNK_SIZE
        )
        self._per_batch = max(1, min(_MAX_BATCH, WINDOW_BYTES // max(1, hint)))
        self._sha = hashlib.sha256()
        self._received = 0
        self._size = 0
        self._oc: OrderedConsumer | None = None
        self._batch: OrderedFetchResult | None = None
        self._batch_got = 0
        self._verified = False
        self._failed: IncompleteObjectError | None = None
        self._closed = False

    def __repr__(self) -> str:
        return f"ObjectReader(bucket={self.info.bucket!r}, name={self.info.name!r})"

    @property
    def bytes_read(self) -> int:
        """Bytes read so far."""
        return self._size

    def __aiter__(self) -> ObjectReader:
        return self

    async def __anext__(self) -> bytes:
        if self._closed:
            raise StopAsyncIteration
        try:
            chunk = await self._next_chunk()
        except BaseException:
            await self.aclose()
            raise
        if chunk is None:
            await self.aclose()
            raise StopAsyncIteration
        return chunk

    async def read(self) -> bytes:
        """Everything not read yet, in one `bytes` (checked like the iteration)."""
        return b"".join([chunk async for chunk in self])

    async def aclose(self) -> None:
        """Stop reading and delete the consumer (best effort, bounded). Idempotent."""
        if self._closed:
            return
        self._closed = True
        batch, self._batch = self._batch, None
        oc, self._oc = self._oc, None
        try:
            if batch is not None:
                await batch.aclose()
        finally:
            if oc is not None:
                await oc.aclose()

    # -------------------------------------------------------------------------------- internals

    async def _next_chunk(self) -> bytes | None:
        info = self._info_checked()
        if self._received >= info.chunks:
            self._verify()  # an empty object; others are checked with their last chunk
            return None
        oc = self._oc if self._oc is not None else await self._start()
        while True:
            batch = self._batch
            if batch is None:
                want = min(self._per_batch, info.chunks - self._received)
                batch = self._batch = oc.fetch(want, expires=self._expires)
                self._batch_got = 0
            try:
                msg = await batch.__anext__()
            except StopAsyncIteration:
                self._batch = None
                if self._batch_got == 0:
                    await self._stalled(oc)
                continue
            self._batch_got += 1
            data = msg.data
            self._received += 1
            self._size += len(data)
            self._sha.update(data)
            if self._received == info.chunks:
                self._verify()
                return data
            if msg.metadata.num_pending == 0:
                self._failed = self._incomplete()  # raised by the next call, after this chunk
            return data

    def _info_checked(self) -> ObjectInfo:
        if self._failed is not None:
            raise self._failed
        return self.info

    async def _start(self) -> OrderedConsumer:
        oc = self._oc = await start_store_consumer(
            self._js, self._stream, self.info.bucket, self._subject, "all", self._wait
        )
        stored = oc.cached_info.num_pending if oc.cached_info is not None else None
        if stored is not None and stored < self.info.chunks:
            raise IncompleteObjectError(
                self.info.bucket,
                self.info.name,
                expected_chunks=self.info.chunks,
                received_chunks=stored,
                expected_size=self.info.size,
                received_size=0,
            )
        return oc

    async def _stalled(self, oc: OrderedConsumer) -> None:
        """A whole pull brought nothing: chunks are missing, or the server is not delivering."""
        try:
            info = await oc.info(timeout=self._expires)
        except JetStreamError:
            info = None
        if info is not None and info.num_pending == 0:
            raise self._incomplete()
        if self._wait is not None:
            raise TimeoutError(self._subject, self._wait)

    def _incomplete(self) -> IncompleteObjectError:
        return IncompleteObjectError(
            self.info.bucket,
            self.info.name,
            expected_chunks=self.info.chunks,
            received_chunks=self._received,
            expected_size=self.info.size,
            received_size=self._size,
        )

    def _verify(self) -> None:
        if self._verified:
            return
        self._verified = True
        info = self.info
        if self._received != info.chunks or self._size != info.size:
            raise self._incomplete()
        if not info.digest:
            return  # nothing recorded to check against
        expected = digest_bytes(info.digest)
        if expected is None:
            raise BadObjectMetaError(
                info.bucket, self._subject, b"", f"object {info.name!r}: unsupported digest {info.digest!r}"
            )
        actual = self._sha.digest()
        if actual != expected:
            raise DigestMismatchError(info.bucket, info.name, info.digest, digest_text(actual))

"""`restore_stream`: a backup uploaded to a server, chunk by chunk, as a new stream.

The protocol (``$JS.API.STREAM.RESTORE.<stream>``): the request carries the stream's configuration
and state and names no stream that exists; the reply names the subject to upload to. Each chunk is
a request there, answered with an empty message once the server has taken it in (or with an API
error), so one chunk is in memory at a time. An empty message ends the upload; its reply is the
outcome: the `StreamInfo` of the restored stream, or the error that stopped the restore (damaged or
truncated data: `StreamRestoreError`).

A restore that fails after the server accepted it leaves a stream behind (the server creates it
before it reads the data); it is deleted here, since the request guaranteed it did not exist.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, Final

import msgspec

from .._core import Timeout
from .._core._codec import decode, encode, error_of
from .._exceptions import InvalidArgumentError, InvalidBackupError, JetStreamError, UnexpectedReplyError
from .._generated.errors import StreamNameExistRestoreFailedError
from .._generated.models import StreamConfig, StreamCreateResponse, StreamInfo, StreamRestoreResponse
from .._validate import check_name
from ._api import BackupAPI
from ._format import HEADER_PREFIX, decode_meta, meta_length
from ._io import BackupProgress, BackupSource, ProgressCallback, Source, report

__all__ = ["DEFAULT_CHUNK_SIZE", "restore_stream"]

DEFAULT_CHUNK_SIZE: Final = 128 * 1024
# After the last chunk the server finishes the restore (a large stream takes a while).
_FINISH_WAIT: Final = 300.0
# Bound on the clean-up after a failure (ending the upload, deleting the stream).
_CLEANUP_WAIT: Final = 10.0


class _RestoreRequest(msgspec.Struct):
    config: msgspec.Raw
    state: msgspec.Raw


async def restore_stream(
    js: BackupAPI,
    stream: str,
    source: BackupSource,
    *,
    config: StreamConfig | None,
    chunk_size: int,
    progress: ProgressCallback | None,
    timeout: Timeout,
) -> StreamInfo:
    """`JetStream.restore_stream`, which documents it and holds the defaults."""
    check_name("stream", stream)
    core = js._core
    max_payload = core.transport.max_payload
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise InvalidArgumentError(f"chunk_size must be a positive int, got {chunk_size!r}")
    if max_payload is not None and chunk_size > max_payload:
        raise InvalidArgumentError(
            f"chunk_size {chunk_size} is larger than the server's max_payload ({max_payload})"
        )
    if config is not None and config.name != stream:
        raise InvalidArgumentError(f"config names stream {config.name!r}, the restore stream {stream!r}")
    reader = Source(source)
    try:
        request, data, used = await _read_header(reader, stream, config)
        started = await core.request(f"STREAM.RESTORE.{stream}", request, StreamRestoreResponse, timeout)
        total = None if reader.size is None else reader.size - used
        return await _upload(
            js, stream, started.deliver_subject, reader, data, chunk_size, total, progress, timeout
        )
    finally:
        reader.close()


async def _read_header(
    reader: Source, stream: str, config: StreamConfig | None
) -> tuple[_RestoreRequest, bytes, int]:
    """The restore request, the data already read that belongs to the snapshot, and how many bytes
    of the source the header took."""
    prefix = await reader.read(HEADER_PREFIX)
    length = meta_length(prefix, stream)
    if length is None:
        # A bare snapshot (the nats CLI's stream.tar.s2): everything is data; the config is the caller's.
        if config is None:
            raise InvalidBackupError(
                f"cannot restore stream {stream!r}: the data has no backup header, pass the stream's config=",
                stream=stream,
            )
        return _RestoreRequest(_config(config), msgspec.Raw(b"{}")), prefix, 0
    body = await reader.read(length)
    if len(body) < length:
        raise InvalidBackupError(
            f"cannot restore stream {stream!r}: the backup header is cut short", stream=stream
        )
    meta = decode_meta(body, stream)
    raw = _config(config) if config is not None else _renamed(meta.config, meta.stream, stream)
    return _RestoreRequest(raw, meta.state), b"", HEADER_PREFIX + length


def _config(config: StreamConfig) -> msgspec.Raw:
    return msgspec.Raw(encode(config))


def _renamed(config: msgspec.Raw, was: str, stream: str) -> msgspec.Raw:
    """The backup's configuration, under the name it is restored as."""
    if was == stream:
        return config
    try:
        fields = msgspec.json.decode(config, type=dict[str, Any])
    except (msgspec.DecodeError, RecursionError) as exc:
        raise InvalidBackupError(
            f"cannot restore stream {stream!r}: the backup header is damaged", stream=stream
        ) from exc
    fields["name"] = stream
    return msgspec.Raw(msgspec.json.encode(fields))


async def _upload(
    js: BackupAPI,
    stream: str,
    deliver: str,
    reader: Source,
    first: bytes,
    chunk_size: int,
    total: int | None,
    progress: ProgressCallback | None,
    timeout: Timeout,
) -> StreamInfo:
    conn = js._core.transport
    wait = js._core.timeout(timeout)
    size = chunks = 0
    ended = False
    try:
        data = first + await reader.read(max(0, chunk_size - len(first)))
        while data:
            reply = await conn.request(deliver, data, wait)
            if reply.data:
                raise error_of(deliver, reply.data) or UnexpectedReplyError(
                    deliver,
                    reply.data,
                    "a restore chunk was answered with something other than an empty message",
                )
            size += len(data)
            chunks += 1
            await report(progress, BackupProgress(bytes=size, chunks=chunks, total=total))
            data = await reader.read(chunk_size)
        ended = True
        finish = None if wait is None else max(wait, _FINISH_WAIT)
        outcome = await conn.request(deliver, b"", finish)
        info: StreamInfo = decode(deliver, outcome.data, StreamCreateResponse)
    except BaseException as exc:
        await _abandon(js, stream, deliver, ended, exc)
        raise
    await report(progress, BackupProgress(bytes=size, chunks=chunks, total=total, done=True))
    return info


async def _abandon(js: BackupAPI, stream: str, deliver: str, ended: bool, exc: BaseException) -> None:
    """Undo a restore that failed after the server accepted it, within a bounded time."""

    async def undo() -> None:
        if not ended:
            # Ending the upload now makes the server fail the restore at once (the data is cut
            # short) instead of after its stall timeout.
            with contextlib.suppress(JetStreamError):
                await js._core.transport.request(deliver, b"", _CLEANUP_WAIT)
        if isinstance(exc, StreamNameExistRestoreFailedError):
            return  # someone else's stream, created meanwhile
        with contextlib.suppress(JetStreamError):
            await js.stream_delete(stream, timeout=_CLEANUP_WAIT)

    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(undo(), 2 * _CLEANUP_WAIT)

"""`backup_stream`: a stream snapshot, streamed from the server to a sink chunk by chunk.

The protocol (``$JS.API.STREAM.SNAPSHOT.<stream>``): the request names a deliver subject; the reply
carries the stream's configuration and state; then the server sends the snapshot to the deliver
subject in chunks. Each full chunk has a reply subject ending in ``.<size>.<index>``, and answering
it gives the server room for one more chunk: at most a window of chunks (8 MiB by default) is ever
in flight, which is the memory bound here. A last, shorter chunk comes without a reply subject, and
an empty message ends the snapshot: status 204, or an error status (500 with the server's reason,
408 when the acknowledgements stopped coming).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Final

import msgspec

from .._core import Timeout
from .._exceptions import BackupError, ConnectionClosedError, JetStreamError
from .._generated.models import StreamSnapshotRequest
from .._numbers import parse_uint
from .._transport import ConnectionEvent, LinkClosed, LinkDisconnected, Msg, description_of, status_of
from .._validate import check_name
from ._api import BackupAPI
from ._format import BackupMeta, encode_header
from ._io import BackupProgress, BackupSink, ProgressCallback, Sink, report

__all__ = ["backup_stream"]

_END: Final = "204"


class _SnapshotStarted(msgspec.Struct):
    # Kept as the server's JSON: a backup must not drop configuration fields this SDK does not know.
    config: msgspec.Raw
    state: msgspec.Raw


async def backup_stream(
    js: BackupAPI,
    stream: str,
    dest: BackupSink,
    *,
    consumers: bool,
    check_msgs: bool,
    chunk_size: int | None,
    window_size: int | None,
    progress: ProgressCallback | None,
    timeout: Timeout,
) -> BackupProgress:
    """`JetStream.backup_stream`, which documents it and holds the defaults."""
    check_name("stream", stream)
    sink = Sink(dest)
    core = js._core
    conn = core.transport
    wait = core.timeout(timeout)
    inbox = conn.new_inbox()
    queue: asyncio.Queue[Msg | JetStreamError] = asyncio.Queue()

    async def deliver(msg: Msg) -> None:
        queue.put_nowait(msg)

    def on_event(event: ConnectionEvent) -> None:
        # A chunk lost in a reconnect cannot be asked for again: the snapshot is over.
        if isinstance(event, LinkClosed):
            queue.put_nowait(ConnectionClosedError(f"the connection closed during the backup of {stream!r}"))
        elif isinstance(event, LinkDisconnected):
            queue.put_nowait(
                BackupError(f"the connection dropped during the backup of {stream!r}", stream=stream)
            )

    stop_events = conn.hub.on_event(on_event)
    sub = None
    size = chunks = 0
    try:
        # Subscribed before asking: the server starts sending as soon as it has answered.
        sub = await conn.subscribe(inbox, deliver)
        request = StreamSnapshotRequest(
            deliver_subject=inbox,
            no_consumers=not consumers or None,
            chunk_size=chunk_size,
            window_size=window_size,
            jsck=check_msgs or None,
        )
        started = await core.request(f"STREAM.SNAPSHOT.{stream}", request, _SnapshotStarted, timeout)
        await sink.write(
            encode_header(
                BackupMeta(stream=stream, config=started.config, state=started.state, consumers=consumers)
            )
        )
        while True:
            try:
                msg = await asyncio.wait_for(queue.get(), wait)
            except asyncio.TimeoutError:
                raise BackupError(
                    f"the backup of stream {stream!r} stalled: no data from the server for {wait}s",
                    stream=stream,
                ) from None
            if isinstance(msg, JetStreamError):
                raise msg
            if not msg.data:
                _check_end(stream, msg)
                break
            chunks += 1
            if msg.reply:
                _check_index(stream, msg.reply, chunks)
            await sink.write(msg.data)
            size += len(msg.data)
            if msg.reply:
                # Acknowledged once written: the server's window then bounds what waits in memory.
                await conn.publish(msg.reply, b"")
            await report(progress, BackupProgress(bytes=size, chunks=chunks))
        await sink.commit()
    except BaseException:
        with contextlib.suppress(OSError):
            await sink.discard()
        raise
    finally:
        stop_events()
        if sub is not None:
            await sub.unsubscribe()
    final = BackupProgress(bytes=size, chunks=chunks, done=True)
    await report(progress, final)
    return final


def _check_end(stream: str, msg: Msg) -> None:
    """An empty message ends the snapshot: 204 is success, any other status the server's failure."""
    status = status_of(msg)
    if status == _END or (not status and not msg.headers):
        return
    reason = description_of(msg.headers) or "no reason given"
    raise BackupError(
        f"the server ended the snapshot of stream {stream!r} with status {status or 'none'}: {reason}",
        stream=stream,
    )


def _check_index(stream: str, reply: str, expected: int) -> None:
    """A full chunk's reply subject ends in its index: a gap means a chunk was lost (a slow
    consumer, a reconnect) and the backup would be silently incomplete."""
    index = parse_uint(reply.rpartition(".")[2])
    if index is not None and index != expected:
        raise BackupError(
            f"the backup of stream {stream!r} lost data: chunk {index} arrived where {expected} was due",
            stream=stream,
        )

"""Where backups go and come from: a file path, a file object, or an async byte sink or source;
and the progress reports.

Files are read and written in a worker thread (a slow disk must not stall the event loop), one
chunk at a time: nothing here holds more than a chunk of the backup.
"""

from __future__ import annotations

import asyncio
import inspect
import os
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from typing import IO, Protocol, TypeAlias

import msgspec

from .._exceptions import InvalidArgumentError

__all__ = [
    "BackupProgress",
    "BackupSink",
    "BackupSource",
    "ByteReader",
    "ByteWriter",
    "ProgressCallback",
    "Sink",
    "Source",
    "report",
]


class ByteWriter(Protocol):
    """Anything with ``write(data)``: an ``async def`` write is awaited (an async sink such as an
    aiofiles file); any other runs in a worker thread (a binary file opened with ``"wb"``)."""

    def write(self, data: bytes, /) -> object:
        """Take the next piece of the backup."""
        ...


class ByteReader(Protocol):
    """Anything with ``read(size)`` returning at most ``size`` bytes, ``b""`` at the end: an
    ``async def`` read is awaited; any other runs in a worker thread (a file opened with ``"rb"``)."""

    def read(self, size: int, /) -> object:
        """At most ``size`` more bytes of the backup; ``b""`` at its end."""
        ...


BackupSink: TypeAlias = str | os.PathLike[str] | ByteWriter
"""Where `JetStream.backup_stream` writes: a file path (written to ``<path>.partial`` first, renamed
when the backup is complete, removed when it fails), or an object with ``write``."""

BackupSource: TypeAlias = str | os.PathLike[str] | ByteReader | AsyncIterable[bytes]
"""What `JetStream.restore_stream` reads: a file path, an object with ``read``, or an async
iterable of byte chunks of any size."""


class BackupProgress(msgspec.Struct, frozen=True, kw_only=True):
    """How far a backup or restore is: snapshot ``bytes`` and ``chunks`` moved so far, ``total``
    bytes when known in advance (a restore from a file; never for a backup, whose compressed size
    the server does not announce), and ``done`` on the last report."""

    bytes: int
    chunks: int
    total: int | None = None
    done: bool = False


ProgressCallback: TypeAlias = Callable[[BackupProgress], object]
"""Called after every chunk and once more at the end (``done``); a coroutine it returns is awaited,
which holds the transfer back while it runs."""


async def report(progress: ProgressCallback | None, value: BackupProgress) -> None:
    if progress is not None:
        result = progress(value)
        if inspect.isawaitable(result):
            await result


async def _in_thread(call: Callable[..., object], *args: object) -> object:
    result = await asyncio.get_running_loop().run_in_executor(None, call, *args)
    # A write or read that is not `async def` but still returns an awaitable (a partial of one).
    if inspect.isawaitable(result):
        result = await result
    return result


class Sink:
    """Writes a backup to a path or a writer; `commit` when complete, `discard` when not."""

    def __init__(self, dest: BackupSink) -> None:
        self._path: str | None = None
        self._file: IO[bytes] | None = None
        if isinstance(dest, (str, os.PathLike)):
            self._path = os.fspath(dest)
            self._write: Callable[[bytes], Awaitable[object]] = self._write_file
            return
        write = getattr(dest, "write", None)
        if not callable(write):
            raise InvalidArgumentError(
                f"a backup goes to a file path or an object with write(data), not {type(dest).__name__}"
            )
        if inspect.iscoroutinefunction(write):
            self._write = write
        else:
            self._write = lambda data: _in_thread(write, data)

    @property
    def _partial(self) -> str:
        return f"{self._path}.partial"

    async def _write_file(self, data: bytes) -> object:
        if self._file is None:
            # Opened on the first write: a backup the server refuses leaves no file behind.
            self._file = open(self._partial, "wb")  # noqa: ASYNC230, SIM115 - quick; writes go to a thread
        return await _in_thread(self._file.write, data)

    async def write(self, data: bytes) -> None:
        await self._write(data)

    async def commit(self) -> None:
        if self._path is None:
            return
        if self._file is None:
            await self._write_file(b"")
        assert self._file is not None
        file, self._file = self._file, None
        await _in_thread(file.close)
        os.replace(self._partial, self._path)

    async def discard(self) -> None:
        if self._file is None:
            return
        file, self._file = self._file, None
        file.close()
        # A half-written backup must not pass for a backup.
        os.unlink(self._partial)


class Source:
    """Reads what a backup is restored from, in pieces of at most a chunk."""

    def __init__(self, source: BackupSource) -> None:
        self.size: int | None = None
        self._file: IO[bytes] | None = None
        self._pending = memoryview(b"")
        self._pieces: AsyncIterator[bytes] | None = None
        self._read: Callable[[int], Awaitable[object]] | None = None
        if isinstance(source, (str, os.PathLike)):
            self._file = file = open(source, "rb")  # noqa: SIM115 - quick; reads go to a thread
            self.size = os.fstat(file.fileno()).st_size
            self._read = lambda n: _in_thread(file.read, n)
        elif callable(read := getattr(source, "read", None)):
            if inspect.iscoroutinefunction(read):
                self._read = read
            else:
                self._read = lambda n: _in_thread(read, n)
        elif isinstance(source, AsyncIterable):
            self._pieces = aiter(source)
        else:
            raise InvalidArgumentError(
                "a backup is restored from a file path, an object with read(size) or an async iterable"
                f" of bytes, not {type(source).__name__}"
            )

    async def _piece(self, n: int) -> bytes:
        if self._read is not None:
            data = await self._read(n)
            if not isinstance(data, (bytes, bytearray, memoryview)) or len(data) > n:
                raise InvalidArgumentError(
                    f"read({n}) must return at most {n} bytes, got {type(data).__name__}"
                )
            return bytes(data)
        assert self._pieces is not None
        while not self._pending:
            try:
                piece = await anext(self._pieces)
            except StopAsyncIteration:
                return b""
            if not isinstance(piece, (bytes, bytearray, memoryview)):
                raise InvalidArgumentError(f"backup data chunks must be bytes, got {type(piece).__name__}")
            self._pending = memoryview(piece).cast("B")
        out = bytes(self._pending[:n])
        self._pending = self._pending[n:]
        return out

    async def read(self, n: int) -> bytes:
        """``n`` bytes, or fewer at the end of the data."""
        piece = await self._piece(n)
        if len(piece) == n or not piece:
            return piece
        out = bytearray(piece)
        while len(out) < n and (piece := await self._piece(n - len(out))):
            out += piece
        return bytes(out)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

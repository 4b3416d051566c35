"""The backup file's header (an S2 skippable chunk carrying the stream's configuration) and the
byte sources and sinks of backup and restore: pure code, no server."""

from __future__ import annotations

import io
import os
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest

from jetstream import BackupSource, errors
from jetstream._backup._format import HEADER_PREFIX, BackupMeta, decode_meta, encode_header, meta_length
from jetstream._backup._io import Sink, Source

_S2_IDENTIFIER = b"\xff\x06\x00\x00S2sTwO"


def _meta() -> BackupMeta:
    return BackupMeta(
        stream="ORDERS",
        config=msgspec.Raw(b'{"name":"ORDERS","subjects":["orders.>"],"future_field":{"x":1}}'),
        state=msgspec.Raw(b'{"messages":3,"first_seq":1,"last_seq":3}'),
    )


def test_the_header_is_an_s2_identifier_and_one_skippable_chunk_that_round_trips() -> None:
    header = encode_header(_meta())
    assert header.startswith(_S2_IDENTIFIER)
    chunk_type = header[len(_S2_IDENTIFIER)]
    assert 0x80 <= chunk_type <= 0xFD  # "reserved skippable": every S2 reader passes over it
    length = meta_length(header[:HEADER_PREFIX], "ORDERS")
    assert length == len(header) - HEADER_PREFIX
    meta = decode_meta(header[HEADER_PREFIX:], "ORDERS")
    assert meta.stream == "ORDERS" and meta.consumers
    # The server's JSON is kept as it was, fields this SDK does not know included.
    assert bytes(meta.config) == bytes(_meta().config)


def test_a_bare_snapshot_has_no_header() -> None:
    bare = _S2_IDENTIFIER + b"\x00\x10\x00\x00" + b"compressed..."
    assert meta_length(bare[:HEADER_PREFIX], "S") is None


@pytest.mark.parametrize(
    "prefix",
    [b"", b"\xff\x06\x00\x00S2sT", b"not an s2 stream at all", b"\xff\x06\x00\x00XXXXXX\x8a\x01\x00\x00"],
)
def test_data_without_an_s2_identifier_is_no_backup(prefix: bytes) -> None:
    with pytest.raises(errors.InvalidBackupError) as caught:
        meta_length(prefix, "S")
    assert caught.value.stream == "S"


@pytest.mark.parametrize(
    "body",
    [b"other tag\n{}", b"jetstream-py stream backup 1\n{not json", b"jetstream-py stream backup 1\n[1]"],
)
def test_a_damaged_header_is_an_invalid_backup(body: bytes) -> None:
    with pytest.raises(errors.InvalidBackupError):
        decode_meta(body, "S")


async def _pieces(*pieces: bytes) -> AsyncIterator[bytes]:
    for piece in pieces:
        yield piece


class _AsyncReader:
    def __init__(self, data: bytes) -> None:
        self._file = io.BytesIO(data)

    async def read(self, size: int) -> bytes:
        return self._file.read(size)


@pytest.mark.parametrize("kind", ["iterable", "file", "async read", "path"])
async def test_sources_read_exact_pieces_whatever_their_input_is_cut_into(kind: str, tmp_path: Path) -> None:
    data = bytes(range(256)) * 40
    path = tmp_path / "data"
    path.write_bytes(data)
    sources: dict[str, BackupSource] = {
        "iterable": _pieces(data[:5], b"", data[5:3000], data[3000:]),
        "file": io.BytesIO(data),
        "async read": _AsyncReader(data),
        "path": path,
    }
    source = Source(sources[kind])
    assert source.size == (len(data) if kind == "path" else None)
    got = [await source.read(HEADER_PREFIX)]
    while piece := await source.read(1000):
        assert len(piece) == 1000 or len(b"".join(got)) + len(piece) == len(data)
        got.append(piece)
    source.close()
    assert b"".join(got) == data


async def test_sources_refuse_what_is_not_bytes() -> None:
    with pytest.raises(errors.InvalidArgumentError):
        Source(42)  # type: ignore[arg-type]
    with pytest.raises(errors.InvalidArgumentError):
        await Source(_pieces("text")).read(10)  # type: ignore[arg-type]


async def test_a_path_sink_appears_only_when_complete(tmp_path: Path) -> None:
    path = tmp_path / "b.s2"
    sink = Sink(path)
    await sink.write(b"abc")
    assert not path.exists() and (tmp_path / "b.s2.partial").exists()
    await sink.write(b"def")
    await sink.commit()
    assert path.read_bytes() == b"abcdef" and not (tmp_path / "b.s2.partial").exists()

    failed = Sink(path)
    await failed.write(b"half")
    await failed.discard()
    assert path.read_bytes() == b"abcdef" and os.listdir(tmp_path) == ["b.s2"]


async def test_writer_sinks_sync_and_async() -> None:
    out = io.BytesIO()
    sink = Sink(out)
    await sink.write(b"x")
    await sink.commit()
    assert out.getvalue() == b"x"

    class Async:
        got = b""

        async def write(self, data: bytes) -> None:
            self.got += data

    target = Async()
    await Sink(target).write(b"y")
    assert target.got == b"y"
    with pytest.raises(errors.InvalidArgumentError):
        Sink(3.5)  # type: ignore[arg-type]

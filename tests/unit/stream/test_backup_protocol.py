"""The snapshot and restore chunk protocols against an in-memory connection: what a real server
will not do on demand (end a snapshot with an error, lose a chunk, answer a chunk with an error)
must end in typed errors, with acknowledgements and clean-up sent as the protocol wants."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Mapping
from pathlib import Path

import pytest

from jetstream import FakeConnection, JetStream, errors
from jetstream._transport import FakeMsg, Msg, status_msg

_STARTED = json.dumps({"config": {"name": "S", "subjects": ["s.>"]}, "state": {"messages": 3}}).encode()
_ACK = "$JS.SNAPSHOT.ACK.S.abc"


class _Sink:
    def __init__(self) -> None:
        self.data = b""

    async def write(self, data: bytes) -> None:
        self.data += data


def _snapshot_server(*deliveries: Msg | str) -> FakeConnection:
    """A connection whose "server" answers the snapshot request, then sends ``deliveries`` to the
    deliver subject (``"drop"`` disconnects instead)."""
    conn: FakeConnection

    def handler(subject: str, payload: bytes, headers: Mapping[str, str] | None) -> bytes:
        assert subject == "$JS.API.STREAM.SNAPSHOT.S"
        inbox = json.loads(payload)["deliver_subject"]

        def send() -> None:
            for item in deliveries:
                if item == "drop":
                    conn.disconnect()
                else:
                    assert not isinstance(item, str)
                    conn.deliver(FakeMsg(inbox, item.data, item.reply, item.headers))

        asyncio.get_running_loop().call_soon(send)
        return _STARTED

    conn = FakeConnection(handler)
    return conn


def _chunk(data: bytes, index: int | None) -> FakeMsg:
    return FakeMsg("", data, "" if index is None else f"{_ACK}.{len(data)}.{index}")


async def test_chunks_are_written_in_order_and_each_full_one_acknowledged() -> None:
    conn = _snapshot_server(_chunk(b"aaa", 1), _chunk(b"bbb", 2), _chunk(b"c", None), status_msg("", 204))
    sink = _Sink()
    done = await JetStream(transport=conn).backup_stream("S", sink)
    assert sink.data.endswith(b"aaabbbc") and b'{"name": "S", "subjects": ["s.>"]}' in sink.data  # verbatim
    assert (done.bytes, done.chunks, done.done) == (7, 3, True)
    assert [p[0] for p in conn.published if p[0].startswith(_ACK)] == [f"{_ACK}.3.1", f"{_ACK}.3.2"]


@pytest.mark.parametrize(
    ("deliveries", "text"),
    [
        ((_chunk(b"aaa", 1), status_msg("", 500, "disk on fire")), "disk on fire"),
        ((_chunk(b"aaa", 1), status_msg("", 408, "No Flow Response")), "408"),
        ((_chunk(b"aaa", 1), _chunk(b"ccc", 3), status_msg("", 204)), "lost data"),
        # An empty message with headers but no status line is no end of snapshot.
        ((_chunk(b"aaa", 1), FakeMsg("", b"", "", {"Status": "204"})), "status none"),
        ((_chunk(b"aaa", 1), "drop"), "dropped"),
    ],
)
async def test_a_snapshot_that_ends_badly_raises_and_leaves_no_file(
    deliveries: tuple[Msg | str, ...], text: str, tmp_path: Path
) -> None:
    conn = _snapshot_server(*deliveries)
    with pytest.raises(errors.BackupError, match=text) as caught:
        await JetStream(transport=conn).backup_stream("S", tmp_path / "b.s2")
    assert caught.value.stream == "S"
    assert os.listdir(tmp_path) == []


async def test_a_silent_server_is_a_stall_after_the_timeout() -> None:
    conn = _snapshot_server(_chunk(b"aaa", 1))
    with pytest.raises(errors.BackupError, match="stalled"):
        await JetStream(transport=conn).backup_stream("S", _Sink(), timeout=0.05)


def _restore_server(chunk_answer: bytes, calls: list[str]) -> FakeConnection:
    def handler(subject: str, payload: bytes, headers: Mapping[str, str] | None) -> bytes:
        calls.append(subject if payload or not subject.startswith("up.") else "up.end")
        if subject == "$JS.API.STREAM.RESTORE.S":
            return b'{"deliver_subject": "up.S"}'
        if subject == "$JS.API.STREAM.DELETE.S":
            return b'{"success": true}'
        return (
            chunk_answer if payload else b'{"error": {"code": 500, "err_code": 10062, "description": "cut"}}'
        )

    return FakeConnection(handler)


async def _backup() -> bytes:
    conn = _snapshot_server(_chunk(b"x" * 100, 1), status_msg("", 204))
    sink = _Sink()
    await JetStream(transport=conn).backup_stream("S", sink)
    return sink.data


async def test_a_chunk_answered_with_an_error_raises_it_and_removes_the_stream(tmp_path: Path) -> None:
    path = tmp_path / "b.s2"
    path.write_bytes(await _backup())
    calls: list[str] = []
    error = b'{"type": "io.nats.jetstream.api.v1.stream_create_response", "error": {"code": 500, "err_code": 10062, "description": "bad data"}}'
    with pytest.raises(errors.StreamRestoreError, match="bad data"):
        await JetStream(transport=_restore_server(error, calls)).restore_stream("S", path)
    # The upload is ended at once (the server fails the restore), then the stream is deleted.
    assert calls == ["$JS.API.STREAM.RESTORE.S", "up.S", "up.end", "$JS.API.STREAM.DELETE.S"]


async def test_a_chunk_answered_with_anything_else_is_an_unexpected_reply(tmp_path: Path) -> None:
    path = tmp_path / "b.s2"
    path.write_bytes(await _backup())
    calls: list[str] = []
    with pytest.raises(errors.UnexpectedReplyError):
        await JetStream(transport=_restore_server(b"ok", calls)).restore_stream("S", path)
    assert calls[-1] == "$JS.API.STREAM.DELETE.S"


async def test_an_existing_stream_is_never_deleted(tmp_path: Path) -> None:
    path = tmp_path / "b.s2"
    path.write_bytes(await _backup())
    calls: list[str] = []

    def handler(subject: str, payload: bytes, headers: Mapping[str, str] | None) -> bytes:
        calls.append(subject)
        return b'{"error": {"code": 400, "err_code": 10130, "description": "stream name already in use"}}'

    with pytest.raises(errors.StreamNameExistRestoreFailedError):
        await JetStream(transport=FakeConnection(handler)).restore_stream("S", path)
    assert calls == ["$JS.API.STREAM.RESTORE.S"]

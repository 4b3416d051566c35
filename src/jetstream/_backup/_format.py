"""The backup file: the server's snapshot bytes behind a header that carries the stream's
configuration.

A snapshot alone cannot be restored: the restore request must name the stream's configuration, and
the snapshot the server streams holds the messages and consumers but (since the v2 snapshot format)
not the configuration. The ``nats`` CLI writes it to a second file (``backup.json``); a backup here
is one file, or one byte stream, so the configuration travels in front of the data.

The snapshot is an S2 stream (the framing format of Snappy with S2 blocks). That format lets a
writer add chunks a reader must skip ("reserved skippable", types 0x80-0xfd) and restart with a
stream identifier anywhere. The header is such a stream identifier followed by one skippable chunk
holding the metadata as JSON, so the whole file stays a valid S2 stream: any S2 reader (the
server's, the ``s2`` tools) sees exactly the snapshot's contents.
"""

from __future__ import annotations

from typing import Final

import msgspec

from .._exceptions import InvalidBackupError

__all__ = ["HEADER_PREFIX", "BackupMeta", "decode_meta", "encode_header", "meta_length"]

# Section 4.1 of the framing format: chunk type 0xff, length 6, the body names the flavour.
_S2_IDENTIFIER: Final = b"\xff\x06\x00\x00S2sTwO"
_SNAPPY_IDENTIFIER: Final = b"\xff\x06\x00\x00sNaPpY"
# A reserved skippable chunk type that the S2 library does not use itself (it uses 0x99).
_META_CHUNK: Final = 0x8A
_META_TAG: Final = b"jetstream-py stream backup 1\n"
# A chunk's length is 24 bits.
_MAX_CHUNK: Final = (1 << 24) - 1

HEADER_PREFIX: Final = len(_S2_IDENTIFIER) + 4
"""How many bytes `meta_length` needs to tell a backup from a bare snapshot."""


class BackupMeta(msgspec.Struct, kw_only=True, omit_defaults=True):
    """What a backup records beside the data: the stream's name, and its configuration and state
    as the server sent them (kept verbatim, so fields newer than this SDK survive the round trip)."""

    stream: str
    config: msgspec.Raw
    state: msgspec.Raw
    consumers: bool = True


_meta_decoder: Final = msgspec.json.Decoder(BackupMeta)


def encode_header(meta: BackupMeta) -> bytes:
    """The bytes a backup starts with."""
    body = _META_TAG + msgspec.json.encode(meta)
    if len(body) > _MAX_CHUNK:
        raise InvalidBackupError(
            f"the configuration of stream {meta.stream!r} is too large for a backup header",
            stream=meta.stream,
        )
    return _S2_IDENTIFIER + bytes([_META_CHUNK]) + len(body).to_bytes(3, "little") + body


def meta_length(prefix: bytes, stream: str) -> int | None:
    """From the first `HEADER_PREFIX` bytes of the data: the length of the metadata chunk that
    follows them, or None when the data is a bare snapshot (an S2 stream without our header)."""
    if (
        prefix[: len(_S2_IDENTIFIER)] not in (_S2_IDENTIFIER, _SNAPPY_IDENTIFIER)
        or len(prefix) < HEADER_PREFIX
    ):
        raise InvalidBackupError(
            f"cannot restore stream {stream!r}: the data is not a stream backup (no S2 stream identifier)",
            stream=stream,
        )
    if prefix[len(_S2_IDENTIFIER)] != _META_CHUNK:
        return None
    return int.from_bytes(prefix[len(_S2_IDENTIFIER) + 1 : HEADER_PREFIX], "little")


def decode_meta(body: bytes, stream: str) -> BackupMeta:
    """The metadata chunk's body, checked."""
    if not body.startswith(_META_TAG):
        raise InvalidBackupError(
            f"cannot restore stream {stream!r}: the backup header is damaged", stream=stream
        )
    try:
        return _meta_decoder.decode(body[len(_META_TAG) :])
    except (msgspec.DecodeError, RecursionError) as exc:  # DecodeError covers ValidationError
        raise InvalidBackupError(
            f"cannot restore stream {stream!r}: the backup header is damaged ({exc})", stream=stream
        ) from exc

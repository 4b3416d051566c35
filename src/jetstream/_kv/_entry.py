"""A Key/Value entry: `KeyValueEntry`, the operation it records (`KeyValueOp`, read from its
headers), and `errors.KeyDeletedError`, which carries a delete or purge marker."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime

import msgspec

from .._exceptions import KeyNotFoundError
from .._reprs import struct_repr

__all__ = ["KV_OPERATION", "MARKER_REASON", "KeyDeletedError", "KeyValueEntry", "KeyValueOp", "operation_of"]

KV_OPERATION = "KV-Operation"
MARKER_REASON = "Nats-Marker-Reason"  # ADR-43 server markers (limit markers of ADR-48)


class KeyValueOp(enum.Enum):
    """What an entry records: a value, a delete marker, or a purge marker."""

    PUT = "PUT"
    DEL = "DEL"
    PURGE = "PURGE"


class KeyValueEntry(msgspec.Struct, frozen=True):
    """One revision of a key: its value (empty for markers) and where it sits in the bucket.

    ``revision`` is the stream sequence, ``created`` the server's store time (a `Timestamp`, exact
    to the nanosecond), ``delta`` the distance from the newest entry a watcher or history had in
    view when it was delivered (0 for the latest; always 0 from `KeyValue.get`).
    """

    bucket: str
    key: str
    value: bytes
    revision: int
    created: datetime
    delta: int = 0
    operation: KeyValueOp = KeyValueOp.PUT

    def __repr__(self) -> str:
        return struct_repr(self, "value")


def operation_of(headers: Mapping[str, str]) -> KeyValueOp:
    """The operation an entry records: ``KV-Operation``, else a server limit marker's reason
    (ADR-48: MaxAge and Purge are purges, Remove is a delete)."""
    op = headers.get(KV_OPERATION)
    if op:
        return KeyValueOp.DEL if op == "DEL" else KeyValueOp.PURGE if op == "PURGE" else KeyValueOp.PUT
    reason = headers.get(MARKER_REASON)
    if reason:
        return KeyValueOp.DEL if reason == "Remove" else KeyValueOp.PURGE
    return KeyValueOp.PUT


class KeyDeletedError(KeyNotFoundError):
    """The key's entry is a delete or purge marker; ``entry`` is that marker (its revision,
    operation and time)."""

    def __init__(self, entry: KeyValueEntry) -> None:
        self.entry = entry
        super().__init__(
            entry.bucket, entry.key, None, reason=f"{entry.operation.value} at revision {entry.revision}"
        )

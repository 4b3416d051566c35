"""`KeyValueAPI`: what a `KeyValue` handle and its watches need of the client."""

from __future__ import annotations

from typing import Protocol

from .._stream import BucketAPI

__all__ = ["KeyValueAPI"]


class KeyValueAPI(BucketAPI, Protocol):
    """A `Stream`'s endpoints (reads, purges, consumers), last-for-subject direct gets, the
    connection, and publishing (writes are publishes with expectations): `BucketAPI`."""

"""`KeyValueAPI`: what a `KeyValue` handle and its watches need of the client."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from .._core import DEFAULT, RawMessage, Timeout
from .._generated.models import PubAck
from .._publish._options import MessageTTL
from .._stream import StreamAPI
from .._transport import Connection
from .._typing import Payload

__all__ = ["KeyValueAPI"]


class KeyValueAPI(StreamAPI, Protocol):
    """A `Stream`'s endpoints (reads, purges, consumers), last-for-subject direct gets, the
    connection, and publishing (writes are publishes with expectations)."""

    @property
    def connection(self) -> Connection: ...

    async def direct_get_last_for_subject(
        self, stream: str, subject: str, /, *, timeout: Timeout = DEFAULT
    ) -> RawMessage: ...

    async def publish(
        self,
        subject: str,
        data: Payload = b"",
        *,
        headers: Mapping[str, str] | None = None,
        expected_last_subject_seq: int | None = None,
        ttl: MessageTTL | None = None,
        timeout: Timeout = DEFAULT,
    ) -> PubAck: ...

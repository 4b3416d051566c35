"""`BackupAPI`: what backup and restore need of the client."""

from __future__ import annotations

from typing import Protocol

from .._core import DEFAULT, Core, Timeout

__all__ = ["BackupAPI"]


class BackupAPI(Protocol):
    """The core (subjects, timeouts, the connection) and the stream delete endpoint (a failed
    restore removes what it created)."""

    _core: Core

    async def stream_delete(self, stream: str, /, *, timeout: Timeout = DEFAULT) -> object: ...

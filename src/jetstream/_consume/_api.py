"""`ConsumerAPI`: what consumer handles need of the client.

`Consumer` and `OrderedConsumer` (and every feature that runs them) take any object with the core
and these generated endpoints - `JetStream` in practice - not the client class itself.
"""

from __future__ import annotations

from typing import Protocol

from .._core import DEFAULT, Core, Timeout
from .._generated.models import ConsumerConfig, ConsumerInfo

__all__ = ["ConsumerAPI"]


class ConsumerAPI(Protocol):
    """The core (subjects, timeouts, the connection) and the consumer endpoints."""

    _core: Core

    async def consumer_info(
        self, stream: str, consumer: str, /, *, timeout: Timeout = DEFAULT
    ) -> ConsumerInfo: ...

    async def consumer_create(
        self,
        stream: str,
        config: str | ConsumerConfig | None = None,
        /,
        *,
        action: str | None = None,
        timeout: Timeout = DEFAULT,
    ) -> ConsumerInfo: ...

    async def consumer_delete(
        self, stream: str, consumer: str, /, *, timeout: Timeout = DEFAULT
    ) -> object: ...

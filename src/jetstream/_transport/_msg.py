"""The values a connection passes to the SDK: messages, subscriptions, replies.

A leaf of the transport: the `Connection` protocol (`_types`), the reply router and both connection
implementations use these, and it uses none of them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol

import msgspec

from .._reprs import struct_repr


class Msg(Protocol):
    """One message as delivered to a subscription callback (nats-py's `Msg` is one)."""

    @property
    def subject(self) -> str: ...
    @property
    def reply(self) -> str: ...
    @property
    def data(self) -> bytes: ...
    @property
    def headers(self) -> dict[str, str] | None: ...


MsgHandler = Callable[[Msg], Awaitable[None]]
"""A subscription callback; runs on the connection's delivery task, one message at a time."""


class Subscription(Protocol):
    @property
    def subject(self) -> str: ...

    async def unsubscribe(self) -> None:
        """Stop delivery; a no-op when the subscription or its connection is already gone."""
        ...

    async def drain(self) -> None:
        """Deliver what has arrived, then unsubscribe; a no-op when already gone."""
        ...


class Reply(msgspec.Struct, frozen=True):
    """One reply message. ``status`` is the code of a server status message ("404", "503" ...):
    only a reply whose header block began with a status line, never a header a publisher set."""

    subject: str
    data: bytes
    headers: Mapping[str, str] | None = None
    reply: str = ""
    status: str = ""

    def __repr__(self) -> str:
        return struct_repr(self, "data")

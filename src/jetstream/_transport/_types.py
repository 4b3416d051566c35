"""What the SDK needs from a NATS connection: the `Connection` protocol and the values it passes.

Every feature talks to NATS through a `Connection`; `NatsConnection` is the nats-py implementation,
`FakeConnection` an in-memory one for unit tests. A faster implementation (its own protocol parser,
say) can sit behind the same protocol without any feature changing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

from .._typing import Payload
from ._checks import as_bytes, check_message
from ._hub import ConnectionHub
from ._msg import Reply
from ._router import ReplyRouter, RouterLink


class Connection(RouterLink, Protocol):
    """Everything the SDK needs from one NATS connection: what its `ReplyRouter` needs (the hub,
    inboxes, sending, subscribing: `RouterLink`) and these.

    Send-side errors are already typed: `errors.InvalidArgumentError` (a subject, header or payload
    that cannot be sent), `errors.PayloadTooLargeError` (headers plus payload over
    ``max_payload``), `errors.ConnectionClosedError`, `errors.PermissionDeniedError`.
    """

    @property
    def router(self) -> ReplyRouter:
        """The one wildcard reply inbox shared by API requests and publish acks."""
        ...

    @property
    def max_payload(self) -> int | None:
        """The server's limit for headers plus payload, in bytes (None: not known yet)."""
        ...

    async def request(
        self, subject: str, payload: Payload, timeout: float | None, headers: Mapping[str, str] | None = None
    ) -> Reply:
        """Send on the shared reply inbox and return the first reply: `errors.TimeoutError` after
        ``timeout`` (None: no limit), `errors.NoRespondersError` when nobody listens,
        `errors.PermissionDeniedError` when the server refuses the subject or the inbox."""
        ...

    async def request_many(
        self, subject: str, payload: bytes, timeout: float | None, max_replies: int | None = None
    ) -> list[Reply]:
        """Send once on a private inbox and collect the replies that arrive within `timeout`, up to
        `max_replies` (broadcast endpoints; replies that keep their own subject, like pulled messages)."""
        ...

    async def flush(self, timeout: float) -> None:
        """Wait until the server has seen everything sent so far (`errors.TimeoutError` after
        ``timeout``)."""
        ...

    async def drain(self) -> None:
        """Let subscriptions finish what has arrived, send what is queued, then close."""
        ...

    async def close(self) -> None:
        """Close now; idempotent."""
        ...


class ConnectionBase:
    """What the implementations of `Connection` share: the checks against the server's
    ``max_payload``, and `publish` over their `_send`. Each sets ``hub`` and ``router``."""

    hub: ConnectionHub
    """Connection-state events and the current state."""
    router: ReplyRouter
    """The one wildcard reply inbox shared by API requests and publish acks."""

    @property
    def max_payload(self) -> int | None:
        """The server's limit for headers plus payload, in bytes (None: not known)."""
        raise NotImplementedError

    def check(
        self, subject: str, payload: Payload, headers: Mapping[str, str] | None = None, reply: str = ""
    ) -> None:
        """Refuse, with a typed error and before anything is queued, what `publish` would fail on."""
        check_message(subject, payload, headers, reply, self.max_payload)

    async def publish(
        self,
        subject: str,
        payload: Payload,
        reply: str = "",
        headers: Mapping[str, str] | None = None,
        *,
        checked: bool = False,
    ) -> None:
        """Send one message (checked first unless ``checked``)."""
        if not checked:
            self.check(subject, payload, headers, reply)
        await self._send(subject, as_bytes(payload), reply, headers)

    async def _send(self, subject: str, data: bytes, reply: str, headers: Mapping[str, str] | None) -> None:
        """Send one checked message."""
        raise NotImplementedError


OnClose = Callable[[], object]

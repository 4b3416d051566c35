"""What the SDK needs from a NATS connection: the `Connection` protocol and the values it passes.

Every feature talks to NATS through a `Connection`; `NatsConnection` is the nats-py implementation,
`FakeConnection` an in-memory one for unit tests. A faster implementation (its own protocol parser,
say) can sit behind the same protocol without any feature changing.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Mapping
from typing import Protocol

from .._typing import Payload
from ._hub import ConnectionHub
from ._msg import MsgHandler, Reply, Subscription
from ._router import ReplyRouter


class Connection(Protocol):
    """Everything the SDK needs from one NATS connection.

    Send-side errors are already typed: `errors.InvalidArgumentError` (a subject, header or payload
    that cannot be sent), `errors.PayloadTooLargeError` (headers plus payload over
    ``max_payload``), `errors.ConnectionClosedError`, `errors.PermissionDeniedError`.
    """

    @property
    def hub(self) -> ConnectionHub:
        """Connection-state events (disconnected, reconnected, closed, lame duck, server errors,
        permission violations) and the current state."""
        ...

    @property
    def router(self) -> ReplyRouter:
        """The one wildcard reply inbox shared by API requests and publish acks."""
        ...

    @property
    def max_payload(self) -> int | None:
        """The server's limit for headers plus payload, in bytes (None: not known yet)."""
        ...

    def new_inbox(self) -> str:
        """A fresh inbox subject (under the connection's inbox prefix)."""
        ...

    def check(
        self, subject: str, payload: Payload, headers: Mapping[str, str] | None = None, reply: str = ""
    ) -> None:
        """Refuse, with a typed error and before anything is queued, what `publish` would fail on."""
        ...

    async def publish(
        self,
        subject: str,
        payload: Payload,
        reply: str = "",
        headers: Mapping[str, str] | None = None,
        *,
        checked: bool = False,
    ) -> None:
        """Send one message. ``checked``: `check` passed for it already (it is not checked again)."""
        ...

    def send_nowait(
        self, subject: str, payload: Payload, reply: str = "", *, checked: bool = False, direct: bool = False
    ) -> bool:
        """Queue one message without headers at once; False when it cannot be done this way now (then
        `publish` must be used). ``checked``: `check` passed for it already. ``direct``: write to the
        socket now if nothing is queued before it (a lone request)."""
        ...

    async def subscribe(self, subject: str, cb: MsgHandler) -> Subscription:
        """Deliver every message on ``subject`` (wildcards allowed) to ``cb``, in order."""
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

    def stream(self, subject: str, payload: bytes, timeout: float | None) -> AsyncGenerator[Reply, None]:
        """Send once on a private inbox and yield replies as they arrive, until the caller stops
        iterating; `timeout` bounds the wait for each reply (then `TimeoutError`)."""
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


OnClose = Callable[[], object]

"""`JetStream`: the client object users hold, and `connect()`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from types import TracebackType
from typing import Any

import nats
from nats.aio.client import Client as NATS

from ._core import DEFAULT, Core, Timeout, resolve_prefix, seconds
from ._generated.api import GeneratedAPI
from ._stream import StreamsMixin
from ._generated.models import PubAck
from ._publish import publish
from ._transport import NatsTransport, Transport


class JetStream(StreamsMixin, GeneratedAPI):
    """A JetStream context over one NATS connection.

    Every API endpoint is a method (generated, see `GeneratedAPI`); publishing and the data plane
    are built on the same request path. ``domain`` targets ``$JS.<domain>.API``; ``api_prefix`` a
    custom import prefix (ADR-19). ``timeout`` is the default for every call (seconds or timedelta);
    each call can override it with ``timeout=`` (``None`` waits forever).

    Use as an async context manager, or call `close()`. The connection is closed only if this
    object opened it (`jetstream.connect`).
    """

    def __init__(
        self,
        nc: NATS | None = None,
        *,
        domain: str | None = None,
        api_prefix: str | None = None,
        timeout: float | timedelta = 5.0,
        transport: Transport | None = None,
    ) -> None:
        if (nc is None) == (transport is None):
            raise ValueError("give a nats-py connection or a transport")
        self._nc = nc
        self._owns_connection = False
        self._closed = False
        if transport is None:
            assert nc is not None
            transport = NatsTransport(nc)
        self._core = Core(transport, domain=domain, api_prefix=api_prefix, timeout=timeout)

    @property
    def nc(self) -> NATS | None:
        """The nats-py connection, if this client runs over one."""
        return self._nc

    @property
    def api_prefix(self) -> str:
        """The subject prefix every API request uses, e.g. ``$JS.API.``."""
        return self._core.prefix

    @property
    def domain(self) -> str | None:
        return self._core.domain

    async def publish(
        self,
        subject: str,
        data: bytes = b"",
        *,
        headers: Mapping[str, str] | None = None,
        msg_id: str | None = None,
        expected_stream: str | None = None,
        expected_last_seq: int | None = None,
        expected_last_subject_seq: int | None = None,
        expected_last_msg_id: str | None = None,
        ttl: timedelta | float | None = None,
        timeout: Timeout = DEFAULT,
    ) -> PubAck:
        """Publish to a stream subject and wait for the stream's acknowledgement.

        The ``expected_*`` options make the server refuse the message (typed `APIError`
        subclasses such as `StreamWrongLastSequenceError`) when the stream is not in that state;
        ``msg_id`` enables de-duplication; ``ttl`` sets a per-message TTL (ADR-43).

        When nobody answers (a leader election, a stream just created elsewhere in the cluster) the
        publish is retried twice, 250 ms apart, within ``timeout`` (ADR-22); after that it raises
        `errors.NoStreamResponseError`.
        """
        return await publish(
            self._core,
            subject,
            data,
            headers=headers,
            msg_id=msg_id,
            expected_stream=expected_stream,
            expected_last_seq=expected_last_seq,
            expected_last_subject_seq=expected_last_subject_seq,
            expected_last_msg_id=expected_last_msg_id,
            ttl=ttl,
            timeout=timeout,
        )

    async def close(self) -> None:
        """Idempotent. Drains and closes the connection if `jetstream.connect` opened it."""
        if self._closed:
            return
        self._closed = True
        if self._owns_connection and self._nc is not None and not self._nc.is_closed:
            await self._nc.drain()

    async def __aenter__(self) -> JetStream:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()


async def connect(
    servers: str | list[str] = "nats://127.0.0.1:4222",
    *,
    domain: str | None = None,
    api_prefix: str | None = None,
    timeout: float | timedelta = 5.0,
    **options: Any,
) -> JetStream:
    """Connect to NATS and return a `JetStream` that owns the connection.

    ``options`` pass through to `nats.connect` (auth, TLS, reconnect ...). JetStream is not probed:
    a server without it fails on the first call with `errors.JetStreamNotEnabledError`.
    """
    resolve_prefix(domain, api_prefix)  # refuse bad options before opening a connection
    seconds(timeout)
    nc = await nats.connect(servers, **options)
    js = JetStream(nc, domain=domain, api_prefix=api_prefix, timeout=timeout)
    js._owns_connection = True
    return js

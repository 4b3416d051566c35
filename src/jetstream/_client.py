"""`JetStream`: the client object users hold, and `connect()`."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from datetime import timedelta
from types import TracebackType
from typing import Any

from ._consume._manage import ConsumersMixin
from ._core import DEFAULT, Core, Timeout, resolve_prefix
from ._exceptions import InvalidArgumentError
from ._generated.api import GeneratedAPI
from ._generated.models import PubAck
from ._kv._manager import KeyValueMixin
from ._objectstore._manager import ObjectStoreMixin
from ._publish._awaited import RETRY_ATTEMPTS, RETRY_WAIT, check_retries, counter_add, publish_request
from ._publish._batch import Batch, BatchMessage, publish_batch
from ._publish._options import MessageTTL, PublishOptions, Schedule
from ._publish._window import DEFAULT_MAX_PENDING, AsyncPublisher, check_max_pending
from ._stream import StreamsMixin
from ._time import seconds
from ._transport import Connection, NatsConnection, for_client, open_connection
from ._validate import check_publish_subject


class JetStream(ConsumersMixin, StreamsMixin, KeyValueMixin, ObjectStoreMixin, GeneratedAPI):
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
        nc: Any = None,
        *,
        domain: str | None = None,
        api_prefix: str | None = None,
        timeout: float | timedelta = 5.0,
        transport: Connection | None = None,
        publish_async_max_pending: int = DEFAULT_MAX_PENDING,
    ) -> None:
        if (nc is None) == (transport is None):
            raise InvalidArgumentError("give a nats-py connection or a transport (a Connection)")
        self._publish_async_max_pending = check_max_pending(publish_async_max_pending)
        self._async_publisher: AsyncPublisher | None = None
        self._owns_connection = False
        self._closed = False
        if transport is None:
            # A nats-py client (typed Any: its types stay on the other side of the seam).
            transport = for_client(nc)
        self._conn: Connection = transport
        self._core = Core(transport, domain=domain, api_prefix=api_prefix, timeout=timeout)

    def __repr__(self) -> str:
        return f"JetStream(prefix={self._core.prefix!r}, connection={self._conn!r})"

    @property
    def nc(self) -> Any:
        """The nats-py client, if this JetStream runs over one (else None)."""
        conn = self._conn
        return conn.nc if isinstance(conn, NatsConnection) else None

    @property
    def connection(self) -> Connection:
        """The connection this JetStream talks through (see `jetstream.Connection`)."""
        return self._conn

    @property
    def api_prefix(self) -> str:
        """The subject prefix every API request uses, e.g. ``$JS.API.``."""
        return self._core.prefix

    @property
    def domain(self) -> str | None:
        """The JetStream domain this client targets (``domain=``), or None."""
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
        expected_last_subject_seq_subject: str | None = None,
        expected_last_msg_id: str | None = None,
        ttl: MessageTTL | None = None,
        incr: int | None = None,
        schedule: Schedule | None = None,
        retry_attempts: int = RETRY_ATTEMPTS,
        retry_wait: float | timedelta = RETRY_WAIT,
        timeout: Timeout = DEFAULT,
    ) -> PubAck:
        """Publish to a stream subject and wait for the stream's acknowledgement.

        The ``expected_*`` options make the server refuse the message (typed `APIError`
        subclasses such as `StreamWrongLastSequenceError`) when the stream is not in that state;
        ``expected_last_subject_seq`` checks the last message of ``subject``, or of
        ``expected_last_subject_seq_subject`` (wildcards allowed) when given. ``msg_id`` enables
        de-duplication; ``ttl`` sets a per-message TTL (whole seconds or ``"never"``, ADR-43);
        ``incr`` adds to a counter (ADR-49, see `counter_add`); ``schedule`` makes the message a
        schedule (ADR-51, see `Schedule`). Headers of ``headers`` are sent as given, overridden by
        the options.

        When nobody answers (a leader election, a stream just created elsewhere in the cluster) the
        publish is retried ``retry_attempts`` times, ``retry_wait`` apart, within ``timeout``
        (ADR-22); after that it raises `errors.NoStreamResponseError`. A reply that is not a PubAck
        (a core NATS subscriber answered) raises an `errors.InvalidReplyError`; no ack within
        ``timeout``, `errors.TimeoutError`.
        """
        options = PublishOptions(
            msg_id=msg_id,
            expected_stream=expected_stream,
            expected_last_seq=expected_last_seq,
            expected_last_subject_seq=expected_last_subject_seq,
            expected_last_subject_seq_subject=expected_last_subject_seq_subject,
            expected_last_msg_id=expected_last_msg_id,
            ttl=ttl,
            incr=incr,
            schedule=schedule,
        )
        wait = check_retries(retry_attempts, retry_wait)
        hdrs = options.headers(headers)
        if not self._uses_window:
            return await publish_request(
                self._core,
                subject,
                data,
                hdrs,
                timeout=timeout,
                retry_attempts=retry_attempts,
                retry_wait=wait,
            )
        # An awaited publish is an async one whose ack is awaited: the shared reply inbox and
        # deadline sweep cost less client CPU than a request each, and it shares the window with
        # `publish_async`.
        check_publish_subject(subject)
        future = await self._publisher().send(
            subject, data, hdrs, self._core.timeout(timeout), retry_attempts=retry_attempts, retry_wait=wait
        )
        return await future

    async def publish_async(
        self,
        subject: str,
        data: bytes = b"",
        *,
        headers: Mapping[str, str] | None = None,
        msg_id: str | None = None,
        expected_stream: str | None = None,
        expected_last_seq: int | None = None,
        expected_last_subject_seq: int | None = None,
        expected_last_subject_seq_subject: str | None = None,
        expected_last_msg_id: str | None = None,
        ttl: MessageTTL | None = None,
        incr: int | None = None,
        schedule: Schedule | None = None,
        timeout: Timeout = DEFAULT,
    ) -> asyncio.Future[PubAck]:
        """Publish without waiting for the acknowledgement: returns a future of the `PubAck`.

        At most ``publish_async_max_pending`` acks (see `JetStream`, default 4000) are awaited at
        once: when the window is full this call waits for room, up to ``timeout``, then raises
        `errors.TimeoutError`. Once sent, the future fails with `errors.TimeoutError` if no ack
        arrives within ``timeout``, with the `APIError` the server answered, with
        `errors.NoStreamResponseError` when no stream captures the subject (after the ADR-22
        retries), and with `errors.ConnectionClosedError` when the connection drops or closes
        before the ack arrives (the message may or may not be stored: publish with ``msg_id`` to
        resend safely). Options as in `publish`. Needs a nats-py connection.

        Each in-flight message keeps its payload until acked (for the ADR-22 resend), so memory is
        bounded by window x message size: lower ``publish_async_max_pending`` for large messages.
        A resend after "no responders" may land behind later messages on the same subject.

        Wait for every pending ack with `publish_async_complete`.
        """
        options = PublishOptions(
            msg_id=msg_id,
            expected_stream=expected_stream,
            expected_last_seq=expected_last_seq,
            expected_last_subject_seq=expected_last_subject_seq,
            expected_last_subject_seq_subject=expected_last_subject_seq_subject,
            expected_last_msg_id=expected_last_msg_id,
            ttl=ttl,
            incr=incr,
            schedule=schedule,
        )
        hdrs = options.headers(headers)
        check_publish_subject(subject)
        return await self._publisher().send(subject, data, hdrs, self._core.timeout(timeout))

    async def publish_async_complete(self, *, timeout: Timeout = DEFAULT) -> None:
        """Wait until every `publish_async` ack has arrived or failed; `errors.TimeoutError` if
        some are still pending after ``timeout``."""
        if self._async_publisher is not None:
            await self._async_publisher.complete(self._core.timeout(timeout))

    def publish_async_pending(self) -> int:
        """How many `publish_async` acks are awaited now."""
        return 0 if self._async_publisher is None else self._async_publisher.pending

    def batch(self, batch_id: str | None = None, *, timeout: Timeout = DEFAULT) -> Batch:
        """Start an atomic batch (ADR-50) for a stream with ``allow_atomic``: the messages added
        are stored together on commit, or not at all. ``batch_id`` (at most 64 characters) is
        random unless given; ``timeout`` applies to each confirmation awaited. See `Batch`::

            async with js.batch() as b:
                await b.add("orders.1", b"...")
                await b.add("orders.2", b"...")
            b.ack  # the PubAck of the batch: ack.batch, ack.count
        """
        return Batch(self._core, batch_id, timeout=timeout)

    async def publish_batch(
        self, messages: Iterable[BatchMessage], *, batch_id: str | None = None, timeout: Timeout = DEFAULT
    ) -> PubAck:
        """Publish ``messages`` as one atomic batch (ADR-50) and return its PubAck (``batch``,
        ``count``, and ``seq`` of the last message). Either all are stored or none: the server's
        refusal is raised as its `APIError` (`errors.AtomicPublishDisabledError`,
        `errors.AtomicPublishTooLargeBatchError` past 1000 messages, an unmet expectation ...)."""
        return await publish_batch(self._core, messages, batch_id=batch_id, timeout=timeout)

    async def counter_add(
        self,
        subject: str,
        delta: int,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = DEFAULT,
    ) -> int:
        """Add ``delta`` (any size, negative to subtract) to the counter on ``subject`` and return
        its new total (ADR-49; the stream needs ``allow_msg_counter``, otherwise
        `errors.MessageIncrDisabledError`)."""
        return await counter_add(self._core, subject, delta, headers, timeout)

    @property
    def _uses_window(self) -> bool:
        # The in-memory connection of unit tests answers requests directly; its publishes are
        # requests so that tests see one request per publish.
        return isinstance(self._conn, NatsConnection)

    def _publisher(self) -> AsyncPublisher:
        if self._async_publisher is None:
            self._async_publisher = AsyncPublisher(self._conn, max_pending=self._publish_async_max_pending)
        return self._async_publisher

    async def close(self) -> None:
        """Idempotent. Drains and closes the connection if `jetstream.connect` opened it."""
        if self._closed:
            return
        self._closed = True
        if self._async_publisher is not None:
            await self._async_publisher.close()
        if self._owns_connection:
            await self._conn.drain()

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
    publish_async_max_pending: int = DEFAULT_MAX_PENDING,
    retry_on_failed_connect: bool = False,
    **options: Any,
) -> JetStream:
    """Connect to NATS and return a `JetStream` that owns the connection.

    ``options`` pass through to nats-py's ``connect`` (``user``/``password``, ``token``,
    ``nkeys_seed``, ``user_credentials``, ``tls``, ``inbox_prefix``, reconnect options, callbacks
    ...). JetStream is not probed: a server without it fails on the first call with
    `errors.JetStreamNotEnabledError`.

    The first connect fails fast: each server is tried once, and a failure raises a
    `errors.ConnectError` - `errors.AuthorizationError`, `errors.TLSError`,
    `errors.ServerUnreachableError`, or `errors.NoServersError` when the servers failed in
    different ways. With ``retry_on_failed_connect=True`` the first connect retries as reconnects do
    (``max_reconnect_attempts``, ``reconnect_time_wait``). Reconnects after a successful connect
    follow the options as usual.
    """
    resolve_prefix(domain, api_prefix)  # refuse bad options before opening a connection
    seconds(timeout)
    check_max_pending(publish_async_max_pending)
    conn = await open_connection(servers, retry_on_failed_connect=retry_on_failed_connect, **options)
    js = JetStream(
        transport=conn,
        domain=domain,
        api_prefix=api_prefix,
        timeout=timeout,
        publish_async_max_pending=publish_async_max_pending,
    )
    js._owns_connection = True
    return js

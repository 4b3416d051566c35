"""`JetStream`: the client object users hold, and `connect()`."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from . import _stream as _streams
from ._advisories._stream import DEFAULT_MAX_BUFFERED, Advisories, open_advisories
from ._advisories._subjects import DEFAULT_EVENT_PREFIX, Kind
from ._backup import _restore, _snapshot
from ._backup._io import BackupProgress, BackupSink, BackupSource, ProgressCallback
from ._consume import _manage as _consumers
from ._consume import _push as _push
from ._consume._ordered import OrderedConsumer
from ._consume._pull import Consumer
from ._consume._push import OrderedPushConsumer, PushConsumer
from ._core import DEFAULT, ClientTrace, Core, Timeout, check_trace, resolve_prefix
from ._core._request import _Default
from ._exceptions import InvalidArgumentError
from ._generated.api import GeneratedAPI
from ._generated.models import ConsumerConfig, DeliverPolicy, PubAck, ReplayPolicy, StreamConfig, StreamInfo
from ._kv import _manager as _kv
from ._kv._bucket import KeyValue, KeyValueConfig, KeyValueStatus
from ._kv._manager import KeyValueOptions
from ._objectstore import _manager as _obj
from ._objectstore._manager import ObjectStoreOptions
from ._objectstore._store import ObjectStore
from ._objectstore._types import ObjectStoreConfig, ObjectStoreStatus
from ._publish._awaited import RETRY_ATTEMPTS, RETRY_WAIT, check_retries, counter_add, publish_request
from ._publish._batch import Batch, BatchMessage, publish_batch
from ._publish._options import MessageTTL, PublishOptions, Schedule
from ._publish._window import DEFAULT_MAX_PENDING, AsyncPublisher, check_max_pending
from ._stream import Stream
from ._time import seconds
from ._transport import Connection, NatsConnection, for_client, open_connection
from ._typing import AsyncResource, Payload, Unpack
from ._validate import check_publish_subject


class JetStream(GeneratedAPI, AsyncResource):
    """A JetStream context over one NATS connection.

    Every API endpoint is a method named ``<resource>_<action>`` after its subject (generated, see
    `GeneratedAPI`): it sends the request and returns the API's reply (`stream_create` returns the
    `StreamInfo` reply). The hand-written methods are the data plane and the handles: publishing,
    `stream` / `create_stream` ... (a `Stream` handle), `consumer` / `create_consumer` ... (a
    `Consumer`), `ordered_consumer`, Key/Value and Object Store. ``domain`` targets
    ``$JS.<domain>.API``; ``api_prefix`` a custom import prefix (ADR-19). ``timeout`` is the default
    for every call (seconds or timedelta); each call can override it with ``timeout=`` (``None``
    waits forever). ``trace``, a `ClientTrace`, observes every API request and its outcome.

    Use as an async context manager, or call `aclose()` (`close()` is the same). The connection is
    closed only if this object opened it (`jetstream.connect`).
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
        trace: ClientTrace | None = None,
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
        self._core = Core(transport, domain=domain, api_prefix=api_prefix, timeout=timeout, trace=trace)

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
        data: Payload = b"",
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
        data: Payload = b"",
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

    # ------------------------------------------------------------------------- stream handles

    async def stream(self, name: str, *, timeout: Timeout = DEFAULT) -> Stream:
        """A `Stream` handle on an existing stream (one STREAM.INFO request; changes nothing).
        Raises `errors.StreamNotFoundError`. `stream_info` returns the `StreamInfo` reply instead."""
        return await _streams.get_stream(self, name, timeout=timeout)

    async def create_stream(self, config: StreamConfig, *, timeout: Timeout = DEFAULT) -> Stream:
        """Create a stream and return a `Stream` handle on it; an existing stream with another
        configuration raises `errors.StreamNameExistError`. The generated `stream_create` sends the
        same request and returns the `StreamInfo` reply (and takes the config as keywords too)."""
        return await _streams.create_stream(self, config, timeout=timeout)

    async def update_stream(self, config: StreamConfig, *, timeout: Timeout = DEFAULT) -> Stream:
        """Update an existing stream (`errors.StreamNotFoundError` if there is none) and return a
        `Stream` handle on it. The generated `stream_update` returns the `StreamInfo` reply."""
        return await _streams.update_stream(self, config, timeout=timeout)

    async def create_or_update_stream(self, config: StreamConfig, *, timeout: Timeout = DEFAULT) -> Stream:
        """Update the stream if it exists, else create it; a `Stream` handle on it."""
        return await _streams.create_or_update_stream(self, config, timeout=timeout)

    # ----------------------------------------------------------------------- consumer handles

    async def consumer(self, stream: str, name: str, *, timeout: Timeout = DEFAULT) -> Consumer:
        """A `Consumer` handle on an existing consumer (one CONSUMER.INFO request; never creates or
        changes it). Raises `errors.ConsumerNotFoundError`, `errors.StreamNotFoundError`,
        `errors.TimeoutError` ... `consumer_info` returns the `ConsumerInfo` reply instead."""
        return await _consumers.get_consumer(self, stream, name, timeout=timeout)

    async def create_consumer(
        self, stream: str, config: ConsumerConfig | str, *, timeout: Timeout = DEFAULT
    ) -> Consumer:
        """Create a consumer and return a `Consumer` handle on it (a name alone: a durable pull
        consumer with explicit acks; a config without a name: an ephemeral one, named by the SDK).
        The same config again is fine; an existing consumer configured otherwise raises
        `errors.ConsumerConfigMismatchError` naming the differing fields. The generated
        `consumer_create` returns the `ConsumerInfo` reply and refuses any existing consumer."""
        return await _consumers.put_consumer(self, stream, config, "create", timeout=timeout)

    async def update_consumer(
        self, stream: str, config: ConsumerConfig | str, *, timeout: Timeout = DEFAULT
    ) -> Consumer:
        """Update an existing consumer and return a `Consumer` handle on it
        (`errors.ConsumerDoesNotExistError` if there is none; `errors.ConsumerCreateError` for a
        change the server cannot apply)."""
        return await _consumers.put_consumer(self, stream, config, "update", timeout=timeout)

    async def create_or_update_consumer(
        self, stream: str, config: ConsumerConfig | str, *, timeout: Timeout = DEFAULT
    ) -> Consumer:
        """Create the consumer, or update it to this config if it exists; a `Consumer` handle."""
        return await _consumers.put_consumer(self, stream, config, None, timeout=timeout)

    async def ordered_consumer(
        self,
        stream: str,
        *,
        filter_subjects: Sequence[str] | str | None = None,
        deliver_policy: DeliverPolicy | str = "all",
        opt_start_seq: int | None = None,
        opt_start_time: datetime | None = None,
        headers_only: bool = False,
        replay_policy: ReplayPolicy | str = "instant",
        inactive_threshold: timedelta | float = _consumers.DEFAULT_INACTIVE,
        metadata: dict[str, str] | None = None,
        name_prefix: str | None = None,
        max_reset_attempts: int | None = None,
        timeout: Timeout = DEFAULT,
    ) -> OrderedConsumer:
        """An `OrderedConsumer` on ``stream`` (ADR-17): every message exactly once, in order.

        The first server consumer is created now (so a missing stream raises
        `errors.StreamNotFoundError` here). ``opt_start_seq`` / ``opt_start_time`` imply
        ``deliver_policy`` "by_start_sequence" / "by_start_time". Server consumers are named
        ``<name_prefix>_<n>`` (default prefix: a unique id). ``max_reset_attempts``: failed
        creations in one recreation after which it raises `errors.OrderedConsumerResetError`
        (default: it keeps trying).
        """
        config = _consumers.ordered_config(
            stream,
            filter_subjects=filter_subjects,
            deliver_policy=deliver_policy,
            opt_start_seq=opt_start_seq,
            opt_start_time=opt_start_time,
            headers_only=headers_only,
            replay_policy=replay_policy,
            inactive_threshold=inactive_threshold,
            metadata=metadata,
            name_prefix=name_prefix,
            max_reset_attempts=max_reset_attempts,
        )
        return await _consumers.ordered_consumer(self, stream, config, timeout)

    async def push_consumer(self, stream: str, name: str, *, timeout: Timeout = DEFAULT) -> PushConsumer:
        """A `PushConsumer` handle on an existing push consumer (one CONSUMER.INFO request; never
        creates or changes it). Raises `errors.NotPushConsumerError` for a pull consumer,
        `errors.ConsumerNotFoundError`, `errors.StreamNotFoundError` ..."""
        return await _push.get_push_consumer(self, stream, name, timeout=timeout)

    async def create_push_consumer(
        self, stream: str, config: ConsumerConfig, *, timeout: Timeout = DEFAULT
    ) -> PushConsumer:
        """Create a push consumer (``config.deliver_subject`` is required; ``deliver_group`` makes
        its subscribers a queue group) and return a `PushConsumer` handle. Without a name it is
        ephemeral. As `create_consumer`: the same config again is fine, another one raises
        `errors.ConsumerConfigMismatchError`."""
        return await _push.put_push_consumer(self, stream, config, "create", timeout=timeout)

    async def update_push_consumer(
        self, stream: str, config: ConsumerConfig, *, timeout: Timeout = DEFAULT
    ) -> PushConsumer:
        """Update an existing push consumer; a `PushConsumer` handle (see `update_consumer`)."""
        return await _push.put_push_consumer(self, stream, config, "update", timeout=timeout)

    async def create_or_update_push_consumer(
        self, stream: str, config: ConsumerConfig, *, timeout: Timeout = DEFAULT
    ) -> PushConsumer:
        """Create the push consumer, or update it to this config; a `PushConsumer` handle."""
        return await _push.put_push_consumer(self, stream, config, None, timeout=timeout)

    async def ordered_push_consumer(
        self,
        stream: str,
        *,
        filter_subjects: Sequence[str] | str | None = None,
        deliver_policy: DeliverPolicy | str = "all",
        opt_start_seq: int | None = None,
        opt_start_time: datetime | None = None,
        headers_only: bool = False,
        replay_policy: ReplayPolicy | str = "instant",
        inactive_threshold: timedelta | float = _consumers.DEFAULT_INACTIVE,
        metadata: dict[str, str] | None = None,
        name_prefix: str | None = None,
        max_reset_attempts: int | None = None,
        heartbeat: timedelta | float = _push.DEFAULT_ORDERED_HEARTBEAT,
        timeout: Timeout = DEFAULT,
    ) -> OrderedPushConsumer:
        """An `OrderedPushConsumer` on ``stream``: the push flavour of `ordered_consumer` (same
        options), its server consumers sending to an inbox with flow control and idle heartbeats
        every ``heartbeat`` seconds. The first server consumer is created now."""
        config = _consumers.ordered_config(
            stream,
            filter_subjects=filter_subjects,
            deliver_policy=deliver_policy,
            opt_start_seq=opt_start_seq,
            opt_start_time=opt_start_time,
            headers_only=headers_only,
            replay_policy=replay_policy,
            inactive_threshold=inactive_threshold,
            metadata=metadata,
            name_prefix=name_prefix,
            max_reset_attempts=max_reset_attempts,
        )
        return await _push.ordered_push_consumer(self, stream, config, heartbeat, timeout)

    # ------------------------------------------------------------------------------ Key/Value

    async def create_key_value(
        self,
        config: KeyValueConfig | str,
        /,
        *,
        timeout: Timeout = DEFAULT,
        **options: Unpack[KeyValueOptions],
    ) -> KeyValue:
        """Create a bucket (a `KeyValueConfig`, or a bucket name with the keyword options of
        `KeyValueOptions`: ``history``, ``ttl``, ``max_bytes`` ...) and return its handle. Creating
        it again with the same configuration is fine; with another one it raises
        `errors.BucketExistsError`. Raises `errors.HistoryTooLargeError`,
        `errors.LimitMarkersNotSupportedError`, `errors.InvalidNameError` before sending."""
        return await _kv.put_key_value(self, config, options, "create", timeout=timeout)

    async def update_key_value(
        self,
        config: KeyValueConfig | str,
        /,
        *,
        timeout: Timeout = DEFAULT,
        **options: Unpack[KeyValueOptions],
    ) -> KeyValue:
        """Update an existing bucket to this configuration (options not given take their
        defaults, as on create); raises `errors.BucketNotFoundError` when there is none."""
        return await _kv.put_key_value(self, config, options, "update", timeout=timeout)

    async def create_or_update_key_value(
        self,
        config: KeyValueConfig | str,
        /,
        *,
        timeout: Timeout = DEFAULT,
        **options: Unpack[KeyValueOptions],
    ) -> KeyValue:
        """Update the bucket if it exists, else create it (options as in `create_key_value`)."""
        return await _kv.put_key_value(self, config, options, None, timeout=timeout)

    async def key_value(self, bucket: str, /, *, timeout: Timeout = DEFAULT) -> KeyValue:
        """A handle on an existing bucket; raises `errors.BucketNotFoundError` when there is none
        (or the stream of that name is not a bucket)."""
        return await _kv.key_value(self, bucket, timeout=timeout)

    async def delete_key_value(self, bucket: str, /, *, timeout: Timeout = DEFAULT) -> None:
        """Delete a bucket with all its keys; raises `errors.BucketNotFoundError` when there is none."""
        await _kv.delete_key_value(self, bucket, timeout=timeout)

    async def key_value_bucket_names(self, *, timeout: Timeout = DEFAULT) -> list[str]:
        """The names of every bucket (every page)."""
        return await _kv.BUCKETS.names(self, timeout=timeout)

    async def key_value_buckets(self, *, timeout: Timeout = DEFAULT) -> list[KeyValueStatus]:
        """The status of every bucket (every page)."""
        return await _kv.key_value_buckets(self, timeout=timeout)

    # ---------------------------------------------------------------------------- Object Store

    async def create_object_store(
        self,
        config: ObjectStoreConfig | str,
        /,
        *,
        timeout: Timeout = DEFAULT,
        **options: Unpack[ObjectStoreOptions],
    ) -> ObjectStore:
        """Create an object store (an `ObjectStoreConfig`, or a name with the keyword options of
        `ObjectStoreOptions`: ``description``, ``ttl``, ``max_bytes`` ...) and return its handle.
        Creating it again with the same configuration is fine; with another one it raises
        `errors.ObjectStoreExistsError`. Raises `errors.InvalidNameError` before sending for a name
        that is not letters, digits, '-' and '_'."""
        return await _obj.put_object_store(self, config, options, "create", timeout=timeout)

    async def update_object_store(
        self,
        config: ObjectStoreConfig | str,
        /,
        *,
        timeout: Timeout = DEFAULT,
        **options: Unpack[ObjectStoreOptions],
    ) -> ObjectStore:
        """Update an existing store to this configuration (options not given take their defaults,
        as on create); raises `errors.ObjectStoreNotFoundError` when there is none."""
        return await _obj.put_object_store(self, config, options, "update", timeout=timeout)

    async def create_or_update_object_store(
        self,
        config: ObjectStoreConfig | str,
        /,
        *,
        timeout: Timeout = DEFAULT,
        **options: Unpack[ObjectStoreOptions],
    ) -> ObjectStore:
        """Update the store if it exists, else create it (options as in `create_object_store`)."""
        return await _obj.put_object_store(self, config, options, None, timeout=timeout)

    async def object_store(self, bucket: str, /, *, timeout: Timeout = DEFAULT) -> ObjectStore:
        """A handle on an existing store; raises `errors.ObjectStoreNotFoundError` when there is
        none (or the stream of that name is not an object store)."""
        return await _obj.object_store(self, bucket, timeout=timeout)

    async def delete_object_store(self, bucket: str, /, *, timeout: Timeout = DEFAULT) -> None:
        """Delete a store with all its objects; raises `errors.ObjectStoreNotFoundError` when
        there is none."""
        await _obj.delete_object_store(self, bucket, timeout=timeout)

    async def object_store_names(self, *, timeout: Timeout = DEFAULT) -> list[str]:
        """The names of every object store (every page)."""
        return await _obj.STORES.names(self, timeout=timeout)

    async def object_stores(self, *, timeout: Timeout = DEFAULT) -> list[ObjectStoreStatus]:
        """The status of every object store (every page)."""
        return await _obj.object_stores(self, timeout=timeout)

    # ------------------------------------------------------------------------------- advisories

    def advisories(
        self,
        kinds: Iterable[Kind] | Kind | None = None,
        *,
        stream: str | None = None,
        consumer: str | None = None,
        event_prefix: str = DEFAULT_EVENT_PREFIX,
        domain: str | _Default | None = DEFAULT,
        max_buffered: int = DEFAULT_MAX_BUFFERED,
    ) -> Advisories:
        """Typed JetStream advisories as they happen (``$JS.EVENT.ADVISORY.>``), narrowed by subject.

        ``kinds``: event classes (`jetstream.advisories.ConsumerActionAdvisory` ...) or their names
        (``"consumer_action"``); None for every advisory, new kinds included (as `UnknownAdvisory`).
        ``stream`` / ``consumer``: only the events whose subject names them. A metric kind
        (`ConsumerAckMetric`) subscribes to ``$JS.EVENT.METRIC``. Events come from this connection's
        account whatever the client's ``domain`` or ``api_prefix`` say (those move only ``$JS.API``);
        ``event_prefix`` replaces ``$JS.EVENT`` for events imported from another account under another
        prefix. ``domain`` (default: the client's) passes over the events that servers of another
        JetStream domain send into the account (leaf nodes share it); None keeps every domain.

        Raises `errors.InvalidArgumentError` for an unknown kind, a bad name, or a kind whose subject
        cannot name the stream or consumer asked for. See `Advisories`.
        """
        return open_advisories(
            self.connection,
            kinds,
            stream=stream,
            consumer=consumer,
            event_prefix=event_prefix,
            domain=self.domain if isinstance(domain, _Default) else domain,
            max_buffered=max_buffered,
        )

    # ------------------------------------------------------------------------- backup / restore

    async def backup_stream(
        self,
        stream: str,
        dest: BackupSink,
        *,
        consumers: bool = True,
        check_msgs: bool = False,
        chunk_size: int | None = None,
        window_size: int | None = None,
        progress: ProgressCallback | None = None,
        timeout: Timeout = DEFAULT,
    ) -> BackupProgress:
        """Back up ``stream`` (messages, and with ``consumers`` its consumers' configurations and
        states) to ``dest``: a file path, or an object with ``write(data)`` (see `BackupSink`).

        The server streams a snapshot in chunks, each written before the next is asked for, so
        memory stays within the server's window (``window_size`` bytes, 8 MiB by default, in
        ``chunk_size`` chunks, 128 KiB by default) whatever the stream's size. The backup is one
        S2-compressed stream that starts with the stream's configuration (see `restore_stream`).
        ``check_msgs`` asks the server to verify every message's checksum first. ``progress`` is
        called with a `BackupProgress` after each chunk and at the end; the end's is returned.
        ``timeout`` bounds the request and each wait for a chunk.

        Raises `errors.StreamNotFoundError`, `errors.StreamSnapshotError` (the server cannot
        snapshot), `errors.BackupError` (the server ended the snapshot with an error, a chunk was
        lost, the transfer stalled), `errors.TimeoutError`. A path is written only once the backup
        is complete (``<path>.partial`` until then, removed on failure).
        """
        return await _snapshot.backup_stream(
            self,
            stream,
            dest,
            consumers=consumers,
            check_msgs=check_msgs,
            chunk_size=chunk_size,
            window_size=window_size,
            progress=progress,
            timeout=timeout,
        )

    async def restore_stream(
        self,
        stream: str,
        source: BackupSource,
        *,
        config: StreamConfig | None = None,
        chunk_size: int = _restore.DEFAULT_CHUNK_SIZE,
        progress: ProgressCallback | None = None,
        timeout: Timeout = DEFAULT,
    ) -> StreamInfo:
        """Restore a `backup_stream` backup from ``source`` (a file path, an object with
        ``read(size)``, or an async iterable of bytes; see `BackupSource`) as the new stream
        ``stream``, on this server or another, and return its `StreamInfo`.

        The stream is created with the configuration the backup recorded, or ``config`` when
        given (needed for a bare server snapshot, such as the ``nats`` CLI's ``stream.tar.s2``,
        whose configuration is in a separate ``backup.json``). The data is uploaded in
        ``chunk_size`` chunks, one at a time; ``progress`` is called with a `BackupProgress` after
        each (``total`` is known for a file). ``timeout`` bounds each request; the server's final
        answer is awaited at least five minutes.

        Raises `errors.StreamNameExistRestoreFailedError` when the stream exists (it is left as
        it is), `errors.StreamRestoreError` when the server finds the data damaged or truncated,
        `errors.InvalidBackupError` when the data is not a backup (nothing is sent). A restore
        that fails once under way deletes the stream it was creating.
        """
        return await _restore.restore_stream(
            self, stream, source, config=config, chunk_size=chunk_size, progress=progress, timeout=timeout
        )

    # ---------------------------------------------------------------------------------- closing

    async def aclose(self) -> None:
        """Close this client: pending `publish_async` acks fail with `errors.ConnectionClosedError`,
        and the connection is drained and closed if `jetstream.connect` opened it (one passed in
        stays open: it is yours). Idempotent; ``async with`` calls it on exit."""
        if self._closed:
            return
        self._closed = True
        if self._async_publisher is not None:
            await self._async_publisher.aclose()
        if self._owns_connection:
            await self._conn.drain()

    async def close(self) -> None:
        """The same as `aclose`."""
        await self.aclose()


async def connect(
    servers: str | list[str] = "nats://127.0.0.1:4222",
    *,
    domain: str | None = None,
    api_prefix: str | None = None,
    timeout: float | timedelta = 5.0,
    publish_async_max_pending: int = DEFAULT_MAX_PENDING,
    retry_on_failed_connect: bool = False,
    trace: ClientTrace | None = None,
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
    follow the options as usual. ``trace``: see `JetStream`.
    """
    resolve_prefix(domain, api_prefix)  # refuse bad options before opening a connection
    seconds(timeout)
    check_max_pending(publish_async_max_pending)
    check_trace(trace)
    conn = await open_connection(servers, retry_on_failed_connect=retry_on_failed_connect, **options)
    js = JetStream(
        transport=conn,
        domain=domain,
        api_prefix=api_prefix,
        timeout=timeout,
        publish_async_max_pending=publish_async_max_pending,
        trace=trace,
    )
    js._owns_connection = True
    return js

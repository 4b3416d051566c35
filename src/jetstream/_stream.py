"""`Stream`: a handle on one stream, with cached info, message reads and consumer management; and
what Key/Value buckets and object stores share as streams (`BucketAPI`, `BucketStatus`,
`BucketStreams`), kept here because the two features may not import each other."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol

import msgspec

from ._consume._api import ConsumerAPI
from ._consume._manage import get_consumer, put_consumer
from ._consume._pull import Consumer
from ._core import DEFAULT, RawMessage, Timeout
from ._exceptions import InvalidArgumentError, InvalidReplyError, NoRespondersError
from ._generated.errors import NoMessageFoundError, StreamNameExistError, StreamNotFoundError, api_error
from ._generated.models import (
    ConsumerConfig,
    DirectGetRequest,
    PubAck,
    StoredMessage,
    StreamConfig,
    StreamInfo,
    StreamPurgeResponse,
)
from ._numbers import parse_status, parse_uint
from ._publish._options import MessageTTL
from ._reprs import struct_repr
from ._time import Duration, Timestamp
from ._transport import Connection
from ._transport._headers import Headers
from ._typing import Payload
from ._validate import check_name, check_subject

# Status of the message that ends a batched direct get (ADR-31).
_EOB = "204"


class StreamMessage(msgspec.Struct, frozen=True):
    """A message read from a stream (not through a consumer): no acks, exact headers."""

    stream: str
    subject: str
    seq: int
    data: bytes
    headers: Headers
    time: datetime  # exact to the nanosecond (a `Timestamp`)

    @classmethod
    def from_stored(cls, stream: str, stored: StoredMessage) -> StreamMessage:
        """A MSG.GET reply's message (``stored``) of ``stream``, its headers parsed."""
        return cls(
            stream=stream,
            subject=stored.subject,
            seq=stored.seq,
            data=stored.data or b"",
            headers=Headers.parse(stored.hdrs or b""),
            time=stored.time,
        )

    def __repr__(self) -> str:
        return struct_repr(self, "data")

    @classmethod
    def from_direct(
        cls, request_subject: str, data: bytes, raw_headers: Mapping[str, str] | None
    ) -> StreamMessage:
        """A DIRECT.GET reply: the payload as-is, the stream's facts in Nats-* headers."""
        headers = Headers.of(raw_headers)
        try:
            seq = parse_uint(headers["Nats-Sequence"])
            if seq is None:
                raise ValueError(f"Nats-Sequence is not a number: {headers['Nats-Sequence'][:40]!r}")
            return cls(
                stream=headers["Nats-Stream"],
                subject=headers["Nats-Subject"],
                seq=seq,
                data=data,
                headers=headers,
                time=Timestamp.parse(headers["Nats-Time-Stamp"]),
            )
        except (KeyError, ValueError) as exc:
            raise InvalidReplyError(request_subject, data, f"bad direct get headers: {exc!r}") from exc


class DirectGetEnd(msgspec.Struct, frozen=True):
    """How a batched direct get (`Stream.get_msgs`) ended, from the server's ``204 EOB`` status:
    what is left after it."""

    num_pending: int | None
    last_sequence: int | None


class StreamAPI(ConsumerAPI, Protocol):
    """What a `Stream` handle needs of the client: the consumer endpoints and these."""

    async def stream_info(
        self,
        stream: str,
        /,
        *,
        deleted_details: bool | None = None,
        subjects_filter: str | None = None,
        timeout: Timeout = DEFAULT,
    ) -> StreamInfo: ...

    async def stream_purge(
        self,
        stream: str,
        /,
        *,
        filter: str | None = None,
        seq: int | None = None,
        keep: int | None = None,
        timeout: Timeout = DEFAULT,
    ) -> StreamPurgeResponse: ...

    async def stream_msg_delete(
        self, stream: str, /, *, seq: int, no_erase: bool | None = None, timeout: Timeout = DEFAULT
    ) -> object: ...

    async def stream_msg_get(
        self,
        stream: str,
        /,
        *,
        seq: int | None = None,
        last_by_subj: str | None = None,
        next_by_subj: str | None = None,
        timeout: Timeout = DEFAULT,
    ) -> StoredMessage: ...

    async def direct_get(
        self,
        stream: str,
        /,
        *,
        seq: int | None = None,
        last_by_subj: str | None = None,
        next_by_subj: str | None = None,
        timeout: Timeout = DEFAULT,
    ) -> RawMessage: ...


class BucketAPI(StreamAPI, Protocol):
    """What the handles of Key/Value buckets and object stores need of the client: a `Stream`'s
    endpoints (reads, purges, consumers), last-for-subject direct gets, the connection, and
    publishing (writes are publishes; Key/Value's carry expectations and TTLs)."""

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


class StreamsAPI(StreamAPI, Protocol):
    """A `Stream`'s endpoints and those that manage streams: what the stream functions below and
    the Key/Value and Object Store managers need."""

    async def stream_create(
        self, config: str | StreamConfig, /, *, timeout: Timeout = DEFAULT
    ) -> StreamInfo: ...

    async def stream_update(
        self, config: str | StreamConfig, /, *, timeout: Timeout = DEFAULT
    ) -> StreamInfo: ...

    async def stream_delete(self, stream: str, /, *, timeout: Timeout = DEFAULT) -> object: ...

    async def stream_names(self, *, subject: str | None = None, timeout: Timeout = DEFAULT) -> list[str]: ...

    async def stream_list(
        self, *, subject: str | None = None, timeout: Timeout = DEFAULT
    ) -> list[StreamInfo]: ...


class Stream:
    """A handle on a stream: its name, the `StreamInfo` it was fetched with (`cached_info`),
    message reads and consumer management.

    Obtain one with `JetStream.stream(name)` (or `create_stream` ...); reading never changes the
    stream. The generated `JetStream.stream_info` / `stream_create` ... return the API's replies
    instead.
    """

    def __init__(self, js: StreamAPI, info: StreamInfo) -> None:
        self._js = js
        self.cached_info: StreamInfo = info
        """The info this handle was made with, or got by the last `info()`; no request is sent."""
        self.name: str = info.config.name
        """The stream's name."""

    def __repr__(self) -> str:
        return f"Stream(name={self.name!r})"

    async def info(
        self,
        *,
        subjects_filter: str | None = None,
        deleted_details: bool | None = None,
        timeout: Timeout = DEFAULT,
    ) -> StreamInfo:
        """Fetch fresh info (and keep it as `cached_info`)."""
        info = await self._js.stream_info(
            self.name, subjects_filter=subjects_filter, deleted_details=deleted_details, timeout=timeout
        )
        self.cached_info = info
        return info

    async def purge(
        self,
        *,
        filter: str | None = None,
        seq: int | None = None,
        keep: int | None = None,
        timeout: Timeout = DEFAULT,
    ) -> int:
        """Delete messages (all, on `filter`, below `seq`, or all but the last `keep`); the count purged."""
        reply = await self._js.stream_purge(self.name, filter=filter, seq=seq, keep=keep, timeout=timeout)
        return reply.purged

    async def delete_msg(self, seq: int, *, erase: bool = True, timeout: Timeout = DEFAULT) -> None:
        """Delete one message; `erase` overwrites its storage too."""
        await self._js.stream_msg_delete(
            self.name, seq=seq, no_erase=None if erase else True, timeout=timeout
        )

    async def get_msg(
        self,
        seq: int | None = None,
        *,
        last_by_subj: str | None = None,
        next_by_subj: str | None = None,
        direct: bool | None = None,
        timeout: Timeout = DEFAULT,
    ) -> StreamMessage:
        """One message by sequence, the last on a subject, or the next on a subject from `seq`.

        Uses DIRECT.GET (any replica answers) when the stream allows it, else the leader's MSG.GET;
        `direct` forces either. Raises `errors.NoMessageFoundError` when there is none.
        """
        if seq is None and last_by_subj is None:
            raise InvalidArgumentError("give seq, last_by_subj, or next_by_subj with seq")
        use_direct = self.cached_info.config.allow_direct if direct is None else direct
        if use_direct:
            raw = await self._js.direct_get(
                self.name, seq=seq, last_by_subj=last_by_subj, next_by_subj=next_by_subj, timeout=timeout
            )
            return StreamMessage.from_direct(
                self._js._core.subject(f"DIRECT.GET.{self.name}"), raw.data, raw.headers
            )
        stored = await self._js.stream_msg_get(
            self.name, seq=seq, last_by_subj=last_by_subj, next_by_subj=next_by_subj, timeout=timeout
        )
        return StreamMessage.from_stored(self.name, stored)

    async def consumer(self, name: str, *, timeout: Timeout = DEFAULT) -> Consumer:
        """A handle on an existing consumer of this stream. Never creates or changes it."""
        return await get_consumer(self._js, self.name, name, timeout=timeout)

    async def create_consumer(self, config: ConsumerConfig | str, *, timeout: Timeout = DEFAULT) -> Consumer:
        """Create a consumer on this stream (see `JetStream.create_consumer`)."""
        return await put_consumer(self._js, self.name, config, "create", timeout=timeout)

    async def update_consumer(self, config: ConsumerConfig | str, *, timeout: Timeout = DEFAULT) -> Consumer:
        """Update a consumer of this stream (see `JetStream.update_consumer`)."""
        return await put_consumer(self._js, self.name, config, "update", timeout=timeout)

    async def create_or_update_consumer(
        self, config: ConsumerConfig | str, *, timeout: Timeout = DEFAULT
    ) -> Consumer:
        """Create or update a consumer of this stream (see `JetStream.create_or_update_consumer`)."""
        return await put_consumer(self._js, self.name, config, None, timeout=timeout)

    async def delete_consumer(self, name: str, *, timeout: Timeout = DEFAULT) -> None:
        """Delete a consumer of this stream (raises `errors.ConsumerNotFoundError` when there is none)."""
        await self._js.consumer_delete(self.name, name, timeout=timeout)

    async def get_msgs(
        self,
        *,
        batch: int | None = None,
        seq: int | None = None,
        next_by_subj: str | None = None,
        start_time: datetime | None = None,
        max_bytes: int | None = None,
        multi_last: Sequence[str] | None = None,
        up_to_seq: int | None = None,
        up_to_time: datetime | None = None,
        no_headers: bool | None = None,
        timeout: Timeout = DEFAULT,
        end: list[DirectGetEnd] | None = None,
    ) -> AsyncIterator[StreamMessage]:
        """Many messages in one direct-get request (ADR-31), as they arrive: a `batch` from `seq` /
        `start_time` (optionally only `next_by_subj`), or the last message of each `multi_last`
        subject (optionally as of `up_to_seq` / `up_to_time`). Ends at the server's end-of-batch
        status; `end`, if given, receives a `DirectGetEnd`. Needs `allow_direct` on the stream.
        `timeout` bounds the wait for each message."""
        check_name("stream", self.name)
        if next_by_subj is not None:
            check_subject("next_by_subj", next_by_subj)
        if batch is None and not multi_last:
            raise InvalidArgumentError("give batch or multi_last")
        # The server takes batch 0 for "no batch" (one message, no end-of-batch status: the call
        # would wait out its timeout) and answers a negative one with nothing at all.
        if batch is not None and (isinstance(batch, bool) or not isinstance(batch, int) or batch < 1):
            raise InvalidArgumentError(f"batch must be a positive int, got {batch!r}")
        if max_bytes is not None and (
            isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1
        ):
            raise InvalidArgumentError(f"max_bytes must be a positive int, got {max_bytes!r}")
        body = DirectGetRequest(
            batch=batch,
            # A batch starts at `seq`, `start_time`, or the start of the stream.
            seq=1 if seq is None and start_time is None and not multi_last else seq,
            next_by_subj=next_by_subj,
            start_time=start_time,
            max_bytes=max_bytes,
            multi_last=list(multi_last) if multi_last else None,
            up_to_seq=up_to_seq,
            up_to_time=up_to_time,
            no_hdr=no_headers,
        )
        core = self._js._core
        subject = core.subject(f"DIRECT.GET.{self.name}")
        replies = core.stream(f"DIRECT.GET.{self.name}", body, timeout)
        try:
            async for reply in replies:
                status = reply.status
                if not status:
                    yield StreamMessage.from_direct(subject, reply.data, reply.headers)
                    continue
                headers = Headers.of(reply.headers)
                if status == _EOB:
                    if end is not None:
                        end.append(
                            DirectGetEnd(
                                _optional_count(subject, reply.data, headers, "Nats-Num-Pending"),
                                _optional_count(subject, reply.data, headers, "Nats-Last-Sequence"),
                            )
                        )
                    return
                description = headers.get("Description", "")
                if status == "404":
                    raise NoMessageFoundError(404, 10037, description or "no message found")
                code = parse_status(status)
                if code is None:
                    raise InvalidReplyError(subject, reply.data, f"unknown status {status!r}")
                raise api_error(code, 0, description or f"status {status}")
        except NoRespondersError as exc:
            raise NoRespondersError(subject, "no such stream, or it has no allow_direct") from exc
        finally:
            await replies.aclose()


def _optional_count(subject: str, data: bytes, headers: Headers, name: str) -> int | None:
    """A count header of the end-of-batch status: None when absent (older servers); a value that
    is not ASCII digits is a bad reply, not a silent None."""
    value = headers.get(name)
    if not value:
        return None
    count = parse_uint(value)
    if count is None:
        raise InvalidReplyError(subject, data, f"bad {name} header {value[:40]!r} at the end of a batch")
    return count


async def get_stream(api: StreamAPI, name: str, *, timeout: Timeout = DEFAULT) -> Stream:
    """A handle on the existing stream ``name`` (one STREAM.INFO request)."""
    return Stream(api, await api.stream_info(name, timeout=timeout))


async def put_stream(
    api: StreamsAPI, config: StreamConfig, mode: Literal["create", "update"] | None, *, timeout: Timeout
) -> StreamInfo:
    """STREAM.CREATE, STREAM.UPDATE, or (``mode`` None) STREAM.UPDATE falling back to STREAM.CREATE
    when there is no such stream."""
    if mode == "create":
        return await api.stream_create(config, timeout=timeout)
    if mode == "update":
        return await api.stream_update(config, timeout=timeout)
    try:
        return await api.stream_update(config, timeout=timeout)
    except StreamNotFoundError:
        return await api.stream_create(config, timeout=timeout)


async def create_stream(api: StreamsAPI, config: StreamConfig, *, timeout: Timeout = DEFAULT) -> Stream:
    """STREAM.CREATE, as a handle."""
    return Stream(api, await put_stream(api, config, "create", timeout=timeout))


async def update_stream(api: StreamsAPI, config: StreamConfig, *, timeout: Timeout = DEFAULT) -> Stream:
    """STREAM.UPDATE, as a handle."""
    return Stream(api, await put_stream(api, config, "update", timeout=timeout))


async def create_or_update_stream(
    api: StreamsAPI, config: StreamConfig, *, timeout: Timeout = DEFAULT
) -> Stream:
    """STREAM.UPDATE, or STREAM.CREATE when there is no such stream; as a handle."""
    return Stream(api, await put_stream(api, config, None, timeout=timeout))


@dataclass(frozen=True, slots=True)
class BucketStatus:
    """What the status of a Key/Value bucket and of an object store share: the bucket's name and
    its stream's info (``stream_info``)."""

    bucket: str
    stream_info: StreamInfo

    @property
    def ttl(self) -> timedelta:
        """How long a value or object is kept (the stream's ``max_age``); 0 for ever."""
        return self.stream_info.config.max_age or Duration(0)

    @property
    def is_compressed(self) -> bool:
        """Whether the stream compresses its data (S2)."""
        return self.stream_info.config.compression not in (None, "none")

    @property
    def backing_store(self) -> str:
        """Always ``"JetStream"`` (the name other clients report)."""
        return "JetStream"

    @property
    def metadata(self) -> dict[str, str]:
        """The bucket's metadata (a copy; empty when it has none)."""
        return dict(self.stream_info.config.metadata or {})


class BucketStreams:
    """How one kind of bucket (Key/Value buckets, object stores) lives in streams: the stream of
    bucket ``b`` is ``prefix + b``, a stream capturing ``subjects`` is a bucket of the kind, and the
    kind's own errors replace the stream errors. What the two managers share."""

    def __init__(
        self,
        prefix: str,
        subjects: str,
        exists: Callable[[str], Exception],
        missing: Callable[[str], Exception],
    ) -> None:
        self.prefix = prefix
        self._subjects = subjects
        self._exists = exists
        self._missing = missing

    async def put(
        self,
        api: StreamsAPI,
        bucket: str,
        config: StreamConfig,
        mode: Literal["create", "update"] | None,
        *,
        timeout: Timeout,
    ) -> StreamInfo:
        """`put_stream`, with the bucket's errors: on a create, there is one of another
        configuration (maybe created meanwhile by another client); on an update, there is none."""
        try:
            return await put_stream(api, config, mode, timeout=timeout)
        except StreamNameExistError as exc:
            if mode == "update":
                raise
            raise self._exists(bucket) from exc
        except StreamNotFoundError as exc:
            if mode != "update":
                raise
            raise self._missing(bucket) from exc

    async def info(self, api: StreamAPI, bucket: str, *, timeout: Timeout) -> StreamInfo:
        """The info of the bucket's stream (not yet checked to be a bucket)."""
        try:
            return await api.stream_info(self.prefix + bucket, timeout=timeout)
        except StreamNotFoundError as exc:
            raise self._missing(bucket) from exc

    async def delete(self, api: StreamsAPI, bucket: str, *, timeout: Timeout) -> None:
        try:
            await api.stream_delete(self.prefix + bucket, timeout=timeout)
        except StreamNotFoundError as exc:
            raise self._missing(bucket) from exc

    async def names(self, api: StreamsAPI, *, timeout: Timeout) -> list[str]:
        """The names of every bucket of the kind (every page)."""
        names = await api.stream_names(subject=self._subjects, timeout=timeout)
        return [n.removeprefix(self.prefix) for n in names if n.startswith(self.prefix)]

    async def infos(self, api: StreamsAPI, *, timeout: Timeout) -> list[tuple[str, StreamInfo]]:
        """Every bucket of the kind with its stream's info (every page)."""
        infos = await api.stream_list(subject=self._subjects, timeout=timeout)
        return [
            (i.config.name.removeprefix(self.prefix), i)
            for i in infos
            if i.config.name.startswith(self.prefix)
        ]

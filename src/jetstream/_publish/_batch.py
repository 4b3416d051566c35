"""Atomic batch publish (ADR-50): messages a stream stores all together, or not at all.

Every message carries ``Nats-Batch-Id`` and ``Nats-Batch-Sequence`` (1, 2, ...); the last one also
``Nats-Batch-Commit`` (``1``: store it too; ``eob``: only close the batch) and is answered with the
PubAck of the whole batch. The first message is a request (the server answers an empty message, or
an error such as "atomic publish is disabled"), and so is every `ACK_EVERY`-th one, which bounds
how much the server has to take in before it says a word; the others are sent without a reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Literal

from .._core import Core, Timeout
from .._core._codec import error_of
from .._exceptions import (
    APIError,
    InvalidArgumentError,
    JetStreamError,
    NoRespondersError,
    NoStreamResponseError,
    UnexpectedReplyError,
)
from .._generated.models import PubAck
from .._validate import check_publish_subject
from ._awaited import parse_ack
from ._options import NO_OPTIONS, MessageTTL, PublishOptions

BATCH_ID = "Nats-Batch-Id"
BATCH_SEQUENCE = "Nats-Batch-Sequence"
BATCH_COMMIT = "Nats-Batch-Commit"

MAX_BATCH_ID = 64
"""The server refuses longer batch ids."""

ACK_EVERY = 100
"""Every this many messages, one waits for the server's confirmation (flow control)."""

# Bounds the best-effort abandon sent when a batch is given up.
_ABANDON_TIMEOUT = 1.0


# What a sent message is answered with: nothing (no reply asked), an empty confirmation, the PubAck.
_Expect = Literal["nothing", "empty", "ack"]


@dataclass(frozen=True, slots=True)
class BatchMessage:
    """One message of `JetStream.publish_batch`; the options are those of `JetStream.publish`
    (``expected_last_seq`` only on the first message; ``Nats-Expected-Last-Msg-Id`` is not
    supported in a batch)."""

    subject: str
    data: bytes = b""
    headers: Mapping[str, str] | None = None
    msg_id: str | None = None
    expected_stream: str | None = None
    expected_last_seq: int | None = None
    expected_last_subject_seq: int | None = None
    expected_last_subject_seq_subject: str | None = None
    ttl: MessageTTL | None = None

    def _options(self) -> PublishOptions:
        return PublishOptions(
            msg_id=self.msg_id,
            expected_stream=self.expected_stream,
            expected_last_seq=self.expected_last_seq,
            expected_last_subject_seq=self.expected_last_subject_seq,
            expected_last_subject_seq_subject=self.expected_last_subject_seq_subject,
            ttl=self.ttl,
        )


def check_batch_id(batch_id: str) -> str:
    if not isinstance(batch_id, str) or not batch_id or len(batch_id) > MAX_BATCH_ID:
        raise InvalidArgumentError(f"a batch id must be 1 to {MAX_BATCH_ID} characters, got {batch_id!r}")
    if not batch_id.isprintable() or any(c.isspace() for c in batch_id):
        raise InvalidArgumentError(f"a batch id must be printable without whitespace, got {batch_id!r}")
    return batch_id


class Batch:
    """An atomic batch being published (ADR-50); made by `JetStream.batch`.

    ``await add(...)`` stages a message (the first one checks that the stream takes atomic
    batches: `errors.AtomicPublishDisabledError` otherwise); ``await commit(...)`` publishes the
    last message and returns the PubAck of the batch (``batch``, ``count``, and ``seq`` of its last
    message); ``commit()`` without a message closes the batch with an end-of-batch marker that is
    not stored (nats-server 2.14+). Nothing is stored before the commit, and if the commit fails
    (an expectation not met, a gap, too many messages: `errors.AtomicPublishTooLargeBatchError`,
    ...) nothing is stored at all.

    As an async context manager the batch commits on a clean exit (end-of-batch marker) unless
    already committed, and is abandoned on an exception. `abandon()` tells the server to drop it
    at once, which frees its slot (a stream holds at most 50 open batches); otherwise the server
    drops an idle batch after 10 seconds. A batch cannot be reused after its commit or a failure.
    """

    def __init__(self, core: Core, batch_id: str | None = None, *, timeout: Timeout) -> None:
        self._core = core
        self.id: str = check_batch_id(batch_id) if batch_id is not None else secrets.token_urlsafe(16)
        """The batch id (``Nats-Batch-Id``)."""
        self._timeout = timeout
        self._sent = 0
        self._last_subject = ""
        self._lock = asyncio.Lock()
        self._finished = False  # no more add/commit
        self._server_open = False  # the server may hold staged messages of this batch
        self.ack: PubAck | None = None
        """The PubAck of the batch, once committed."""

    def __repr__(self) -> str:
        return f"Batch(id={self.id!r}, count={self._sent}, finished={self._finished})"

    @property
    def count(self) -> int:
        """Messages of the batch sent so far (an end-of-batch marker does not count)."""
        return self._sent

    async def add(
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
        ttl: MessageTTL | None = None,
    ) -> None:
        """Stage one message. Raises the server's `APIError` when the first message is refused
        (and every `ACK_EVERY`-th one), `errors.NoStreamResponseError` when no stream captures
        ``subject``."""
        options = PublishOptions(
            msg_id=msg_id,
            expected_stream=expected_stream,
            expected_last_seq=expected_last_seq,
            expected_last_subject_seq=expected_last_subject_seq,
            expected_last_subject_seq_subject=expected_last_subject_seq_subject,
            ttl=ttl,
        )
        await self._stage(subject, data, self._headers(subject, headers, options, first=not self._sent))

    async def _stage(self, subject: str, data: bytes, hdrs: dict[str, str]) -> None:
        async with self._lock:
            self._check_open()
            seq = self._sent + 1
            hdrs[BATCH_SEQUENCE] = str(seq)
            await self._send(subject, data, hdrs, "empty" if seq == 1 or seq % ACK_EVERY == 0 else "nothing")
            self._sent = seq

    async def commit(
        self,
        subject: str | None = None,
        data: bytes = b"",
        *,
        headers: Mapping[str, str] | None = None,
        msg_id: str | None = None,
        expected_stream: str | None = None,
        expected_last_seq: int | None = None,
        expected_last_subject_seq: int | None = None,
        expected_last_subject_seq_subject: str | None = None,
        ttl: MessageTTL | None = None,
    ) -> PubAck:
        """Publish the last message and commit; the PubAck of the batch. Without ``subject``, close
        the batch with an end-of-batch marker that is not stored (needs one `add` before)."""
        options = PublishOptions(
            msg_id=msg_id,
            expected_stream=expected_stream,
            expected_last_seq=expected_last_seq,
            expected_last_subject_seq=expected_last_subject_seq,
            expected_last_subject_seq_subject=expected_last_subject_seq_subject,
            ttl=ttl,
        )
        if subject is None:
            if data or headers or options != NO_OPTIONS:
                raise InvalidArgumentError("an end-of-batch commit carries no message: give a subject")
            return await self._commit(None, b"", {BATCH_ID: self.id, BATCH_COMMIT: "eob"})
        hdrs = self._headers(subject, headers, options, first=not self._sent)
        hdrs[BATCH_COMMIT] = "1"
        return await self._commit(subject, data, hdrs)

    async def _commit(self, subject: str | None, data: bytes, hdrs: dict[str, str]) -> PubAck:
        async with self._lock:
            self._check_open()
            if subject is None:
                if not self._sent:
                    raise InvalidArgumentError(
                        "an end-of-batch commit needs at least one message added before"
                    )
                subject, data = self._last_subject, b""
            seq = self._sent + 1
            hdrs[BATCH_SEQUENCE] = str(seq)
            ack = await self._send(subject, data, hdrs, "ack")
            assert ack is not None
            self._finished = True
            self._server_open = False
            if hdrs[BATCH_COMMIT] == "1":
                self._sent = seq
            self.ack = ack
            return ack

    async def abandon(self) -> None:
        """Give the batch up: nothing of it is stored. Best effort and bounded: the server is told
        (with a sequence gap, which makes it drop the batch) if it may hold staged messages."""
        async with self._lock:
            self._finished = True
            if not self._server_open:
                return
            self._server_open = False
            hdrs = {BATCH_ID: self.id, BATCH_SEQUENCE: str(self._sent + 2)}
            with contextlib.suppress(JetStreamError):
                await self._core.transport.request(self._last_subject, b"", _ABANDON_TIMEOUT, hdrs)

    async def __aenter__(self) -> Batch:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            if not self._finished:
                await self.commit()
            return
        await self.abandon()

    # -- internals --------------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._finished:
            state = "committed" if self.ack is not None else "failed or abandoned"
            raise InvalidArgumentError(f"batch {self.id!r} is already {state}")

    def _headers(
        self, subject: str, headers: Mapping[str, str] | None, options: PublishOptions, *, first: bool
    ) -> dict[str, str]:
        """The headers of one message of the batch; a bad message is refused here, before it is sent."""
        check_publish_subject(subject)
        if options.expected_last_seq is not None and not first:
            raise InvalidArgumentError("only the first message of a batch may carry expected_last_seq")
        hdrs = options.headers(headers)
        out = dict(hdrs) if hdrs else {}
        out[BATCH_ID] = self.id
        return out

    async def _send(
        self, subject: str, data: bytes, headers: dict[str, str], expect: _Expect
    ) -> PubAck | None:
        transport = self._core.transport
        self._server_open = True
        self._last_subject = subject
        try:
            if expect == "nothing":
                await transport.publish(subject, data, "", headers)
                return None
            try:
                reply = await transport.request(subject, data, self._core.timeout(self._timeout), headers)
            except NoRespondersError as exc:
                self._server_open = False  # no stream took it
                raise NoStreamResponseError(subject) from exc
            if expect == "ack":
                ack = parse_ack(subject, reply.data, reply.status)
                if ack.batch != self.id:
                    raise UnexpectedReplyError(
                        subject, reply.data, f"the commit ack is not for batch {self.id!r}"
                    )
                return ack
            if reply.data or reply.status:
                err = error_of(subject, reply.data)
                if err is not None:
                    raise err
                raise UnexpectedReplyError(
                    subject, reply.data, "expected an empty confirmation of a staged message"
                )
            return None
        except APIError:
            # The server answered with an error: it dropped the batch.
            self._finished = True
            self._server_open = False
            raise
        except BaseException:
            self._finished = True
            raise


async def publish_batch(
    core: Core, messages: Iterable[BatchMessage], *, batch_id: str | None, timeout: Timeout
) -> PubAck:
    items = list(messages)
    if not items:
        raise InvalidArgumentError("a batch needs at least one message")
    for item in items:
        if not isinstance(item, BatchMessage):
            raise InvalidArgumentError(f"batch messages must be BatchMessage, got {item!r}")
    batch = Batch(core, batch_id, timeout=timeout)
    # Every message is checked before the first one is sent.
    staged = [
        (m.subject, m.data, batch._headers(m.subject, m.headers, m._options(), first=i == 0))
        for i, m in enumerate(items)
    ]
    try:
        for subject, data, hdrs in staged[:-1]:
            await batch._stage(subject, data, hdrs)
        subject, data, hdrs = staged[-1]
        hdrs[BATCH_COMMIT] = "1"
        return await batch._commit(subject, data, hdrs)
    except BaseException:
        await batch.abandon()
        raise

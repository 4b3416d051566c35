"""Messages delivered by a consumer: payload, headers, lazily parsed metadata, acknowledgements."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

import msgspec

from .._core import DEFAULT, Core, Timeout
from .._exceptions import (
    InvalidArgumentError,
    InvalidReplyError,
    JetStreamError,
    MessageAlreadyAckedError,
    NotJetStreamMessageError,
)
from .._numbers import parse_uints
from .._reprs import preview
from .._time import Timestamp, nanos
from .._transport._headers import Headers
from .._validate import encodable

_ACK = b"+ACK"
_NAK = b"-NAK"
_WPI = b"+WPI"
_TERM = b"+TERM"

# Positions in a v2 ack subject:
# $JS.ACK.<domain>.<account hash>.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<time>.<pending>[.<token>]
# v1 subjects ($JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<time>.<pending>) lack domain and hash.
_V1_TOKENS = 9
_V2_MIN_TOKENS = 11


class MsgSequence(msgspec.Struct, frozen=True):
    """The sequences of a delivered message: in the stream, and in the consumer's deliveries."""

    stream: int
    consumer: int


class MsgMetadata(msgspec.Struct, frozen=True):
    """What the ack subject says about a delivered message."""

    stream: str
    consumer: str
    sequence: MsgSequence
    num_delivered: int
    num_pending: int
    timestamp: Timestamp
    domain: str | None
    account_hash: str | None

    @classmethod
    def parse(cls, reply: str) -> MsgMetadata:
        """Parse a v1 or v2 ack subject; raises ValueError when it is neither, or when a counter is
        not a number (`Message.metadata` turns that into `errors.InvalidReplyError`)."""
        tokens = reply.split(".")
        n = len(tokens)
        if n < _V1_TOKENS or tokens[0] != "$JS" or tokens[1] != "ACK" or _V1_TOKENS < n < _V2_MIN_TOKENS:
            raise ValueError(f"not a JetStream ack subject: {reply!r}")
        if n == _V1_TOKENS:
            domain = account_hash = None
            rest = tokens[2:]
        else:
            domain = None if tokens[2] in ("", "_") else tokens[2]
            account_hash = tokens[3] or None
            rest = tokens[4:11]
        stream, consumer, *numbers = rest
        if not stream or not consumer:
            raise ValueError(f"no stream or consumer in the ack subject {reply!r}")
        # The counters are ASCII digits in the uint64 range; int() would take "١٢", "1_2", "+1".
        counters = parse_uints(numbers)
        if counters is None:
            raise ValueError(f"a counter of the ack subject {reply!r} is not a number")
        delivered, sseq, cseq, ts, pending = counters
        return cls(
            stream=stream,
            consumer=consumer,
            sequence=MsgSequence(sseq, cseq),
            num_delivered=delivered,
            num_pending=pending,
            timestamp=Timestamp.from_nanos(ts),
            domain=domain,
            account_hash=account_hash,
        )


class Message:
    """A message delivered by a JetStream consumer.

    ``metadata`` is parsed from the reply subject on first use. Acknowledge once with `ack`,
    `ack_sync`, `nak` or `term` (a second one raises `errors.MessageAlreadyAckedError`);
    `in_progress` may be sent any number of times before that.
    """

    __slots__ = ("_acked", "_core", "_headers", "_metadata", "_raw_headers", "data", "reply", "subject")

    subject: str
    """The subject the message was published to."""
    reply: str
    """The JetStream ack subject (empty for a message that did not come from a consumer)."""
    data: bytes
    """The payload."""

    def __init__(
        self,
        core: Core,
        subject: str,
        reply: str,
        data: bytes,
        headers: Mapping[str, str] | Headers | None = None,
    ) -> None:
        self._core = core
        self.subject = subject
        self.reply = reply
        self.data = data
        self._raw_headers = headers
        self._headers: Headers | None = None
        self._metadata: MsgMetadata | None = None
        self._acked = False

    @property
    def headers(self) -> Headers:
        """The message's headers (parsed on first use; empty when it has none)."""
        h = self._headers
        if h is None:
            raw = self._raw_headers
            h = self._headers = raw if isinstance(raw, Headers) else Headers.of(raw)
        return h

    @property
    def metadata(self) -> MsgMetadata:
        """Stream, consumer, sequences, delivery count, pending count, time, domain."""
        meta = self._metadata
        if meta is None:
            if not self.reply:
                raise NotJetStreamMessageError(f"message on {self.subject!r} has no JetStream reply subject")
            try:
                meta = self._metadata = MsgMetadata.parse(self.reply)
            except ValueError as exc:
                raise InvalidReplyError(self.subject, self.data, str(exc)) from exc
        return meta

    @property
    def acked(self) -> bool:
        """Whether a terminal acknowledgement (ack, nak, term) was sent."""
        return self._acked

    def _claim(self) -> str:
        if not self.reply:
            raise NotJetStreamMessageError(f"message on {self.subject!r} has no JetStream reply subject")
        if self._acked:
            raise MessageAlreadyAckedError(f"message {self.reply!r} was already acknowledged")
        self._acked = True
        return self.reply

    async def _send(self, body: bytes) -> None:
        reply = self._claim()
        transport = self._core.transport
        if transport.send_nowait(reply, body, checked=True):
            return
        try:
            await transport.publish(reply, body, checked=True)
        except BaseException:
            self._acked = False
            raise

    async def ack(self) -> None:
        """Acknowledge: the message will not be delivered again."""
        await self._send(_ACK)

    async def ack_sync(self, *, timeout: Timeout = DEFAULT) -> None:
        """Acknowledge and wait until the server confirms it (raises `errors.TimeoutError`)."""
        reply = self._claim()
        try:
            await self._core.transport.request(reply, _ACK, self._core.timeout(timeout))
        except BaseException:
            self._acked = False
            raise

    async def nak(self, *, delay: timedelta | float | None = None) -> None:
        """Negative acknowledgement: redeliver, after ``delay`` if given."""
        body = _NAK if delay is None else b'%s {"delay": %d}' % (_NAK, nanos(delay))
        await self._send(body)

    async def in_progress(self) -> None:
        """Tell the server work is still going on: resets the ack wait. May be repeated."""
        if not self.reply:
            raise NotJetStreamMessageError(f"message on {self.subject!r} has no JetStream reply subject")
        if self._acked:
            raise MessageAlreadyAckedError(f"message {self.reply!r} was already acknowledged")
        await self._core.transport.publish(self.reply, _WPI, checked=True)

    async def term(self, *, reason: str | None = None) -> None:
        """Terminate: never redeliver this message (the reason appears in the advisory)."""
        if reason is not None and not (isinstance(reason, str) and encodable(reason)):
            raise InvalidArgumentError(f"a term reason must be a str (valid UTF-8), got {reason!r}")
        await self._send(_TERM if not reason else _TERM + b" " + reason.encode())

    def __repr__(self) -> str:
        where = ""
        if self.reply:
            try:
                meta = self.metadata
            except JetStreamError:  # a repr never raises; the reply subject says what is wrong
                where = f", reply={self.reply!r}"
            else:
                where = (
                    f", stream={meta.stream!r}, consumer={meta.consumer!r}, seq={meta.sequence.stream}"
                    f", num_delivered={meta.num_delivered}"
                )
        return f"Message(subject={self.subject!r}{where}, data={preview(self.data)})"

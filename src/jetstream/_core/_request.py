"""The request path shared by every generated method: prefix, encode, send, decode."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping, Sequence
from datetime import timedelta
from typing import Final, Protocol, TypeVar

import msgspec

from .._exceptions import (
    APIError,
    InvalidArgumentError,
    InvalidNameError,
    InvalidReplyError,
    JetStreamNotEnabledError,
    NoRespondersError,
    TimeoutError,
    UnexpectedReplyError,
)
from .._generated.errors import NoMessageFoundError, api_error
from .._generated.models import CONSTRAINED_REQUESTS, IterableResponse
from .._numbers import parse_status, parse_uint
from .._reprs import struct_repr
from .._time import Timestamp, seconds
from .._transport import Reply, Transport
from .._validate import check_name, check_subject
from ._codec import decode, decoder, encode, error_of
from ._replies import replies
from ._trace import ClientTrace, Span, check_trace

T = TypeVar("T")
P = TypeVar("P", bound=IterableResponse)


class _PagedReply(Protocol):
    total: int


R = TypeVar("R", bound=_PagedReply)


class _Default:
    """The type of `DEFAULT`: "use the client's default timeout"."""

    _instance: _Default | None = None

    def __new__(cls) -> _Default:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "DEFAULT"


DEFAULT: Final = _Default()
Timeout = float | timedelta | None | _Default
"""A per-call timeout: seconds, a timedelta, None for no timeout, or DEFAULT for the client's."""

# err_codes of the statuses a raw (non-JSON) reply can carry
_NO_MESSAGE_FOUND = 10037

MAX_PAGES = 10_000
"""A paged listing stops with an error after this many pages (the server sends 256 to 1024 items
per page: millions of streams or consumers)."""


def resolve_prefix(domain: str | None, prefix: str | None) -> str:
    """`$JS.API.`, `$JS.<domain>.API.` or a custom prefix (ADR-19), always ending in '.'."""
    if domain is not None and prefix is not None:
        raise InvalidArgumentError("give either domain or api_prefix, not both")
    if domain is not None:
        check_name("domain", domain)
        return f"$JS.{domain}.API."
    if prefix is not None:
        bare = prefix[:-1] if prefix.endswith(".") else prefix
        try:
            check_subject("API prefix", bare, wildcards=False)
        except InvalidNameError as exc:
            raise InvalidArgumentError(str(exc)) from exc
        return bare + "."
    return "$JS.API."


def _payload(body: msgspec.Struct | None) -> bytes:
    """The encoded request body. A body whose type has constraints (`msgspec.Meta`) is decoded
    once more, which is where msgspec checks them: `errors.InvalidArgumentError`, nothing sent."""
    if body is None:
        return b""
    payload = encode(body)
    tp = type(body)
    if tp in CONSTRAINED_REQUESTS:
        try:
            decoder(tp).decode(payload)
        except msgspec.ValidationError as exc:
            raise InvalidArgumentError(f"{tp.__name__}: {exc}") from exc
    return payload


def _size(replies: Sequence[Reply]) -> int:
    return sum(len(reply.data) for reply in replies)


def _sequence(value: str) -> int:
    seq = parse_uint(value)
    if seq is None:
        raise ValueError(value)
    return seq


class RawMessage(msgspec.Struct, frozen=True):
    """A message answered as-is rather than as JSON (DIRECT.GET, CONSUMER.MSG.NEXT)."""

    subject: str
    data: bytes
    headers: Mapping[str, str]
    reply: str = ""

    def __repr__(self) -> str:
        return struct_repr(self, "data")

    @property
    def stream(self) -> str | None:
        """The stream the message was read from (``Nats-Stream``), if the reply names it."""
        return self.headers.get("Nats-Stream")

    @property
    def seq(self) -> int | None:
        """The stream sequence (``Nats-Sequence``), if the reply names it; a value that is not a
        number raises `errors.InvalidReplyError`."""
        return self._header("Nats-Sequence", _sequence)

    @property
    def time(self) -> Timestamp | None:
        """The time the message was stored (``Nats-Time-Stamp``), if the reply names it; a bad
        value raises `errors.InvalidReplyError`."""
        return self._header("Nats-Time-Stamp", Timestamp.parse)

    def _header(self, name: str, parse: Callable[[str], T]) -> T | None:
        """Header ``name`` parsed, None when absent; a value ``parse`` refuses (ValueError) is a bad reply."""
        value = self.headers.get(name)
        if value is None:
            return None
        try:
            return parse(value)
        except ValueError as exc:
            raise InvalidReplyError(self.subject, self.data, f"bad {name} header {value!r}") from exc

    @property
    def original_subject(self) -> str:
        """The subject the message was stored under (DIRECT.GET replies name it in a header)."""
        return self.headers.get("Nats-Subject", self.subject)


class Core:
    """Prefixes subjects (the only place that does), sends through the transport, decodes replies."""

    def __init__(
        self,
        transport: Transport,
        *,
        domain: str | None = None,
        api_prefix: str | None = None,
        timeout: float | timedelta = 5.0,
        trace: ClientTrace | None = None,
    ) -> None:
        self.transport = transport
        self.prefix: str = resolve_prefix(domain, api_prefix)
        self.domain = domain
        self.default_timeout: float = seconds(timeout)
        self.trace: ClientTrace | None = check_trace(trace)

    def subject(self, suffix: str) -> str:
        return self.prefix + suffix

    def timeout(self, timeout: Timeout) -> float | None:
        if isinstance(timeout, _Default):
            return self.default_timeout
        return None if timeout is None else seconds(timeout)

    def _span(self, subject: str, payload: bytes) -> Span | None:
        trace = self.trace
        return None if trace is None else Span(trace, subject, len(payload))

    async def _exchange(
        self, suffix: str, body: msgspec.Struct | None, tp: type[T], timeout: Timeout
    ) -> tuple[str, bytes, T]:
        """One JSON request and its decoded reply (the subject and reply bytes too), traced."""
        subject = self.subject(suffix)
        payload = _payload(body)
        span = self._span(subject, payload)
        reply: Reply | None = None
        try:
            try:
                reply = await self.transport.request(subject, payload, self.timeout(timeout))
            except NoRespondersError as exc:
                if isinstance(exc, JetStreamNotEnabledError):
                    raise
                raise JetStreamNotEnabledError(subject) from exc
            if reply.status and not reply.data:
                raise UnexpectedReplyError(
                    subject, reply.data, f"status {reply.status} instead of a JSON reply"
                )
            value = decode(subject, reply.data, tp)
        except BaseException as exc:
            if span is not None:
                span.done(0 if reply is None else len(reply.data), exc, 0 if reply is None else 1)
            raise
        if span is not None:
            span.done(len(reply.data))
        return subject, reply.data, value

    async def request(self, suffix: str, body: msgspec.Struct | None, tp: type[T], timeout: Timeout) -> T:
        return (await self._exchange(suffix, body, tp, timeout))[2]

    async def request_multi(
        self, suffix: str, body: msgspec.Struct | None, tp: type[T], timeout: Timeout
    ) -> list[T | APIError]:
        """Broadcast endpoints: one outcome per server that answered within the timeout - its reply,
        or the `APIError` it answered with (one server may refuse while another complies). No
        answer at all is a `TimeoutError`."""
        subject = self.subject(suffix)
        payload = _payload(body)
        wait = self.timeout(timeout)
        return await self._traced(
            subject, payload, lambda replies: self._multi(subject, payload, wait, tp, replies)
        )

    async def _multi(
        self, subject: str, payload: bytes, wait: float | None, tp: type[T], replies: list[Reply]
    ) -> list[T | APIError]:
        """`request_multi` without its trace; the replies are appended to ``replies``."""
        try:
            replies.extend(await self.transport.request_many(subject, payload, wait))
        except NoRespondersError as exc:
            if isinstance(exc, JetStreamNotEnabledError):
                raise
            raise JetStreamNotEnabledError(subject) from exc
        if not replies:
            raise TimeoutError(subject, wait)
        outcomes: list[T | APIError] = []
        for reply in replies:
            err = error_of(subject, reply.data)
            outcomes.append(err if err is not None else decode(subject, reply.data, tp))
        return outcomes

    async def request_raw(
        self, suffix: str, body: msgspec.Struct | None, timeout: Timeout, *, private_inbox: bool = False
    ) -> RawMessage:
        """One message answered as-is.

        A direct get is answered on the reply subject itself, so it goes through the shared request
        inbox like any API call. A pulled message keeps its stream subject, which that inbox cannot
        match: such endpoints (``inbox = "private"`` in the manifest) get a private inbox (a
        subscription per call, three times the cost).
        """
        subject = self.subject(suffix)
        payload = _payload(body)
        wait = self.timeout(timeout)
        return await self._traced(
            subject, payload, lambda replies: self._raw(subject, payload, wait, private_inbox, replies)
        )

    async def _traced(self, subject: str, payload: bytes, call: Callable[[list[Reply]], Awaitable[T]]) -> T:
        """``await call(replies)``, traced: what it appends to ``replies`` is the reply size and
        count reported, whether it returns or raises. (One server refusing while another complies
        is not the call's error: `request_multi` returns it among the outcomes.)"""
        span = self._span(subject, payload)
        replies: list[Reply] = []
        try:
            result = await call(replies)
        except BaseException as exc:
            if span is not None:
                span.done(_size(replies), exc, len(replies))
            raise
        if span is not None:
            span.done(_size(replies), None, len(replies))
        return result

    async def _raw(
        self, subject: str, payload: bytes, wait: float | None, private_inbox: bool, replies: list[Reply]
    ) -> RawMessage:
        """`request_raw` without its trace; the reply, if any, is appended to ``replies``."""
        try:
            if private_inbox:
                replies.extend(await self.transport.request_many(subject, payload, wait, max_replies=1))
            else:
                replies.append(await self.transport.request(subject, payload, wait))
        except NoRespondersError as exc:
            raise NoRespondersError(
                subject,
                "the stream or consumer does not exist (or has no direct get), or JetStream is not reachable",
            ) from exc
        if not replies:
            raise TimeoutError(subject, wait)
        reply = replies[0]
        headers = reply.headers or {}
        status = reply.status
        if status:
            # nats-py folds following header lines into Description when a status has no text.
            description = headers.get("Description", "").split("\r\n", 1)[0]
            if status == "404":
                raise NoMessageFoundError(404, _NO_MESSAGE_FOUND, description or "no message found")
            code = parse_status(status)
            if code is not None:
                raise api_error(code, 0, description or f"status {status}")
            raise InvalidReplyError(subject, reply.data, f"unknown status {status!r}")
        return RawMessage(reply.subject, reply.data, headers, reply.reply)

    def stream(self, suffix: str, body: msgspec.Struct, timeout: Timeout) -> AsyncGenerator[Reply, None]:
        """The replies to one request as they arrive (a batched direct get), until the caller stops
        iterating; ``timeout`` bounds the wait for each. Traced as one request that ends with the
        iteration: its status replies (end of batch, 404 ...) are replies the caller interprets,
        but a first reply 503 is `errors.NoRespondersError`."""
        return replies(
            self.transport, self.trace, self.subject(suffix), _payload(body), self.timeout(timeout)
        )

    async def pages(
        self,
        suffix: str,
        make_body: Callable[[int], msgspec.Struct],
        tp: type[P],
        count: Callable[[P], int],
        timeout: Timeout,
    ) -> AsyncIterator[P]:
        """Every page of a paged list, requested one after the other, until `total` items came.

        The server computes each page and its `total` from one snapshot, so a reply that cannot
        advance the listing is an `UnexpectedReplyError` rather than a request repeated forever:
        a page at another offset than the one asked for, an empty page while `total` says more
        remain, or more than `MAX_PAGES` pages. A list that shrank while it was read ends at once
        (the server answers an offset past the end with an empty page and the new, smaller total).
        """
        offset = 0
        for _ in range(MAX_PAGES):
            subject, data, page = await self._exchange(suffix, make_body(offset), tp, timeout)
            # In a cluster, entries whose server did not answer in time are named in `missing`
            # instead: they still take their places in the listing.
            n = count(page) + len(getattr(page, "missing", None) or ())
            if n == 0 and offset >= page.total:
                yield page
                return
            if page.offset != offset:
                raise UnexpectedReplyError(
                    subject, data, f"asked for the page at offset {offset}, got offset {page.offset}"
                )
            if n == 0:
                raise UnexpectedReplyError(
                    subject, data, f"an empty page at offset {offset}, but the total is {page.total}"
                )
            yield page
            offset += n
            if offset >= page.total:
                return
        raise UnexpectedReplyError(
            self.subject(suffix), b"", f"more than {MAX_PAGES} pages, and the total is still not reached"
        )

    async def request_pages(
        self,
        suffix: str,
        make_body: Callable[[int], msgspec.Struct],
        tp: type[P],
        items: Callable[[P], Sequence[T] | None],
        timeout: Timeout,
    ) -> list[T]:
        """The items (`items` of each page) of every page of a paged list, in order (see `pages`)."""
        out: list[T] = []
        async for page in self.pages(suffix, make_body, tp, lambda page: len(items(page) or ()), timeout):
            out.extend(items(page) or ())
        return out

    async def request_merged(
        self,
        suffix: str,
        make_body: Callable[[int | None], msgspec.Struct],
        tp: type[R],
        part: Callable[[R], dict[str, T] | None],
        offset: int | None,
        timeout: Timeout,
        what: str,
    ) -> R:
        """One reply whose map `part(reply)` (named `what`) the server pages, as STREAM.INFO pages
        `state.subjects`: unless the caller asked for the page at `offset`, the later pages are
        requested and merged into the first reply's map."""
        reply = await self.request(suffix, make_body(offset), tp, timeout)
        merged = part(reply)
        for _ in range(MAX_PAGES):
            if offset is not None or not reply.total or merged is None:
                return reply
            have = len(merged)
            if have >= reply.total:
                return reply
            page = part(await self.request(suffix, make_body(have), tp, timeout))
            if not page:
                return reply
            merged.update(page)
            if len(merged) == have:
                # A page of names already held: asking again would never end.
                raise UnexpectedReplyError(self.subject(suffix), b"", f"a page of `{what}` added nothing new")
        raise UnexpectedReplyError(self.subject(suffix), b"", f"more than {MAX_PAGES} pages of `{what}`")

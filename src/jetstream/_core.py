"""The request path shared by every generated method: prefix, encode, send, decode."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Final, TypeVar

import msgspec

from ._codec import decode, encode
from ._exceptions import InvalidReplyError, UnexpectedReplyError
from ._generated.errors import NoMessageFoundError, api_error
from ._generated.models import IterableResponse
from ._time import Timestamp
from ._transport import Reply, Transport
from ._validate import check_name

T = TypeVar("T")
P = TypeVar("P", bound=IterableResponse)


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


def resolve_prefix(domain: str | None, prefix: str | None) -> str:
    """`$JS.API.`, `$JS.<domain>.API.` or a custom prefix (ADR-19), always ending in '.'."""
    if domain is not None and prefix is not None:
        raise ValueError("give either domain or api_prefix, not both")
    if domain is not None:
        check_name("domain", domain)
        return f"$JS.{domain}.API."
    if prefix is not None:
        if not prefix or any(c in prefix for c in " \t\r\n*>"):
            raise ValueError(f"invalid API prefix {prefix!r}")
        return prefix if prefix.endswith(".") else prefix + "."
    return "$JS.API."


def seconds(timeout: float | timedelta | None) -> float | None:
    if isinstance(timeout, timedelta):
        return timeout.total_seconds()
    return timeout


@dataclass(frozen=True, slots=True)
class RawMessage:
    """A message answered as-is rather than as JSON (DIRECT.GET, CONSUMER.MSG.NEXT)."""

    subject: str
    data: bytes
    headers: Mapping[str, str]
    reply: str = ""

    @property
    def stream(self) -> str | None:
        return self.headers.get("Nats-Stream")

    @property
    def seq(self) -> int | None:
        value = self.headers.get("Nats-Sequence")
        return int(value) if value is not None else None

    @property
    def time(self) -> Timestamp | None:
        value = self.headers.get("Nats-Time-Stamp")
        return Timestamp.parse(value) if value is not None else None

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
    ) -> None:
        self.transport = transport
        self.prefix = resolve_prefix(domain, api_prefix)
        self.domain = domain
        default = seconds(timeout)
        if default is None or default <= 0:
            raise ValueError("the default timeout must be a positive number of seconds")
        self.default_timeout: float = default

    def subject(self, suffix: str) -> str:
        return self.prefix + suffix

    def timeout(self, timeout: Timeout) -> float | None:
        return self.default_timeout if isinstance(timeout, _Default) else seconds(timeout)

    async def _send(self, suffix: str, body: msgspec.Struct | None, timeout: Timeout) -> tuple[str, Reply]:
        subject = self.subject(suffix)
        payload = b"" if body is None else encode(body)
        return subject, await self.transport.request(subject, payload, self.timeout(timeout))

    async def request(self, suffix: str, body: msgspec.Struct | None, tp: type[T], timeout: Timeout) -> T:
        subject, reply = await self._send(suffix, body, timeout)
        if reply.status and not reply.data:
            raise UnexpectedReplyError(subject, reply.data, f"status {reply.status} instead of a JSON reply")
        return decode(subject, reply.data, tp)

    async def request_multi(
        self, suffix: str, body: msgspec.Struct | None, tp: type[T], timeout: Timeout
    ) -> list[T]:
        """Broadcast endpoints: every reply within the timeout. The first error reply is raised."""
        subject = self.subject(suffix)
        payload = b"" if body is None else encode(body)
        replies = await self.transport.request_many(subject, payload, self.timeout(timeout))
        return [decode(subject, r.data, tp) for r in replies]

    async def request_raw(self, suffix: str, body: msgspec.Struct | None, timeout: Timeout) -> RawMessage:
        subject, reply = await self._send(suffix, body, timeout)
        headers = reply.headers or {}
        status = reply.status
        if status:
            description = headers.get("Description", "")
            if status == "404":
                raise NoMessageFoundError(404, _NO_MESSAGE_FOUND, description or "no message found")
            if status.isdigit():
                raise api_error(int(status), 0, description or f"status {status}")
            raise InvalidReplyError(subject, reply.data, f"unknown status {status!r}")
        return RawMessage(reply.subject, reply.data, headers, reply.reply)

    async def pages(
        self,
        suffix: str,
        make_body: Callable[[int], msgspec.Struct],
        tp: type[P],
        count: Callable[[P], int],
        timeout: Timeout,
    ) -> AsyncIterator[P]:
        """Every page of a paged list, requested one after the other."""
        offset = 0
        while True:
            page = await self.request(suffix, make_body(offset), tp, timeout)
            yield page
            n = count(page)
            offset += n
            if n == 0 or offset >= page.total:
                return

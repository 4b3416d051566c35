"""The transport seam: send request bytes, get reply bytes.

`NatsTransport` is the only place that talks to nats-py and translates its errors. `MockTransport`
answers from a Python function, so client logic can be unit-tested without a server.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from typing import Protocol

import msgspec
import nats.errors
from nats.aio.client import Client as NATS

from ._exceptions import (
    ConnectionClosedError,
    InvalidArgumentError,
    NoRespondersError,
    PayloadTooLargeError,
    TimeoutError,
)
from ._headers import install_multi_value_headers
from ._request_mux import RequestMux

_BLANKS = frozenset(" \t\r\n")
# Subjects seen free of blanks (API subjects repeat): a bounded set, cleared when full.
_CLEAN: set[str] = set()
_CLEAN_MAX = 4096

# nats-py needs a number; "no timeout" is a very long one.
_FOREVER = 365 * 24 * 3600.0


class Reply(msgspec.Struct, frozen=True):
    """One reply message."""

    subject: str
    data: bytes
    headers: Mapping[str, str] | None = None
    reply: str = ""

    @property
    def status(self) -> str:
        """The NATS status code of a status message ("404", "408" ...), or "" for data."""
        return (self.headers or {}).get("Status", "")


def _as_dict(headers: Mapping[str, str] | None) -> dict[str, str] | None:
    """nats-py wants a dict; a MultiValueDict (repeated names) must reach it unchanged."""
    if not headers:
        return None
    return headers if isinstance(headers, dict) else dict(headers)


def translate(exc: nats.errors.Error, subject: str) -> Exception:
    """The typed error for a nats-py failure to send; the caller chains it with ``from``."""
    if isinstance(exc, nats.errors.MaxPayloadError):
        return PayloadTooLargeError(f"message to {subject!r} exceeds the server's max_payload: {exc}")
    if isinstance(exc, (nats.errors.BadSubjectError, nats.errors.BadHeaderError)):
        return InvalidArgumentError(f"cannot send to {subject!r}: {exc}")
    if isinstance(exc, (nats.errors.ConnectionClosedError, nats.errors.ConnectionDrainingError)):
        return ConnectionClosedError(f"connection closed while sending to {subject!r}")
    if isinstance(exc, nats.errors.OutboundBufferLimitError):
        return ConnectionClosedError(f"disconnected and the reconnect buffer is full: {subject!r} not sent")
    return ConnectionClosedError(f"cannot send to {subject!r}: {exc!r}")


class Transport(Protocol):
    async def publish(
        self,
        subject: str,
        payload: bytes,
        reply: str = "",
        headers: Mapping[str, str] | None = None,
        *,
        checked: bool = False,
    ) -> None:
        """Send one message. ``checked``: the caller vouches that both subjects are valid (checked
        before, or given by the server), so they need not be checked again per message."""
        ...

    def send_nowait(self, subject: str, payload: bytes, reply: str = "", *, checked: bool = False) -> bool:
        """Queue one message without headers at once; False when it cannot be done this way now
        (then `publish` must be used). ``checked``: both subjects are known to be valid (checked
        before, or ours, or the server's); else the subject is checked (``reply`` must be ours)."""
        ...

    async def request(
        self, subject: str, payload: bytes, timeout: float | None, headers: Mapping[str, str] | None = None
    ) -> Reply: ...

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


class NatsTransport:
    """Requests over a nats-py connection."""

    def __init__(self, nc: NATS) -> None:
        self.nc = nc
        install_multi_value_headers(nc)
        # nats-py's publish checks both subjects with two regular expressions on every call, a good
        # share of an ack's cost; for subjects known to be valid, its sending half is called directly
        # after the same state checks. Absent in some nats-py version, publish is used as is.
        send = getattr(nc, "_send_publish", None)
        self._send_publish = send if callable(send) and hasattr(nc, "_max_payload") else None
        # Acks and async publishes are queued straight into nats-py's outgoing buffer and its flusher
        # is woken once per batch: four coroutine calls per message less (see `send_nowait`).
        self._mux: RequestMux | None = None
        self._buffer_ok = all(
            hasattr(nc, name)
            for name in (
                "_pending",
                "_pending_data_size",
                "_flush_queue",
                "_max_pending_size",
                "_transport",
                "stats",
            )
        )

    async def publish(
        self,
        subject: str,
        payload: bytes,
        reply: str = "",
        headers: Mapping[str, str] | None = None,
        *,
        checked: bool = False,
    ) -> None:
        nc = self.nc
        send = self._send_publish
        try:
            if (
                checked
                and send is not None
                and nc.is_connected
                and not nc.is_draining_pubs
                and len(payload) <= nc._max_payload
            ):
                await send(subject, reply, payload, len(payload), _as_dict(headers))
            else:
                await nc.publish(subject, payload, reply=reply, headers=_as_dict(headers))
        except nats.errors.Error as exc:
            raise translate(exc, subject) from exc

    async def request(
        self, subject: str, payload: bytes, timeout: float | None, headers: Mapping[str, str] | None = None
    ) -> Reply:
        mux = self._mux
        if mux is None:
            mux = self._mux = RequestMux(self)
        try:
            msg = await mux.request(subject, payload, timeout, _as_dict(headers))
        except nats.errors.Error as exc:
            raise translate(exc, subject) from exc
        headers = msg.headers
        if headers and not msg.data and headers.get("Status") == "503":
            raise NoRespondersError(subject)
        return Reply(msg.subject, msg.data, headers, msg.reply)

    def stream(self, subject: str, payload: bytes, timeout: float | None) -> AsyncGenerator[Reply, None]:
        return _stream_replies(self.nc, subject, payload, timeout)

    def send_nowait(
        self, subject: str, payload: bytes, reply: str = "", *, checked: bool = False, direct: bool = False
    ) -> bool:
        nc = self.nc
        if not self._buffer_ok or not nc.is_connected or nc.is_draining_pubs:
            return False
        if not checked and subject not in _CLEAN:
            if not subject or _BLANKS.intersection(subject):
                return False  # publish refuses it with nats-py's error
            if len(_CLEAN) >= _CLEAN_MAX:
                _CLEAN.clear()
            _CLEAN.add(subject)
        size = len(payload)
        if size > nc._max_payload:
            return False
        if reply:
            cmd = b"PUB %b %b %d\r\n%b\r\n" % (subject.encode(), reply.encode(), size, payload)
        else:
            cmd = b"PUB %b %d\r\n%b\r\n" % (subject.encode(), size, payload)
        limit = nc._max_pending_size
        if limit > 0 and nc._pending_data_size + len(cmd) > limit:
            return False  # nats-py's publish flushes first
        if direct and not nc._pending and (write := getattr(nc._transport, "write", None)) is not None:
            # A lone request goes to the socket now rather than on the flusher's next turn: a loop
            # iteration less of latency. Only with nothing queued before it, to keep the order.
            write(cmd)
        else:
            nc._pending.append(cmd)
            nc._pending_data_size += len(cmd)
        stats = nc.stats
        stats["out_msgs"] += 1
        stats["out_bytes"] += size
        queue = nc._flush_queue
        if nc._pending and queue is not None and queue.empty():
            # The flusher writes everything pending when it wakes: one wake-up per burst.
            queue.put_nowait(asyncio.get_running_loop().create_future())
        return True

    async def request_many(
        self, subject: str, payload: bytes, timeout: float | None, max_replies: int | None = None
    ) -> list[Reply]:
        # A private inbox: nats-py's shared request inbox matches replies by their subject, and a
        # pulled message arrives under its stream subject, so it would never be matched.
        inbox = self.nc.new_inbox()
        replies: list[Reply] = []
        sub = await self.nc.subscribe(inbox)
        try:
            await self.nc.publish(subject, payload, reply=inbox)
            deadline = asyncio.get_running_loop().time() + (_FOREVER if timeout is None else timeout)
            while True:
                left = deadline - asyncio.get_running_loop().time()
                if left <= 0:
                    break
                try:
                    msg = await sub.next_msg(timeout=left)
                except nats.errors.TimeoutError:
                    break
                if msg.headers and msg.headers.get("Status") == "503":
                    if not replies:
                        raise NoRespondersError(subject)
                    continue
                replies.append(Reply(msg.subject, msg.data, msg.headers, msg.reply))
                if max_replies is not None and len(replies) >= max_replies:
                    break
        except nats.errors.ConnectionClosedError as exc:
            raise ConnectionClosedError(f"connection closed while requesting {subject!r}") from exc
        finally:
            await sub.unsubscribe()
        return replies


async def _stream_replies(
    nc: NATS, subject: str, payload: bytes, timeout: float | None
) -> AsyncGenerator[Reply, None]:
    inbox = nc.new_inbox()
    try:
        sub = await nc.subscribe(inbox)
    except nats.errors.ConnectionClosedError as exc:
        raise ConnectionClosedError(f"connection closed while requesting {subject!r}") from exc
    try:
        await nc.publish(subject, payload, reply=inbox)
        first = True
        while True:
            try:
                msg = await sub.next_msg(timeout=_FOREVER if timeout is None else timeout)
            except nats.errors.TimeoutError as exc:
                raise TimeoutError(subject, timeout) from exc
            except nats.errors.ConnectionClosedError as exc:
                raise ConnectionClosedError(f"connection closed while requesting {subject!r}") from exc
            if first and msg.headers and msg.headers.get("Status") == "503":
                raise NoRespondersError(subject)
            first = False
            yield Reply(msg.subject, msg.data, msg.headers, msg.reply)
    finally:
        with contextlib.suppress(Exception):
            await sub.unsubscribe()


Answer = Reply | bytes | list[Reply | bytes]
Handler = Callable[[str, bytes, "Mapping[str, str] | None"], "Awaitable[Answer] | Answer"]


class MockTransport:
    """A transport that answers from `handler(subject, payload, headers)`.

    The handler returns reply bytes or a `Reply`, or raises (for instance `TimeoutError`). Every
    request is recorded in `requests` as (subject, payload, headers), its timeout in `timeouts`;
    plain publishes (acks) in `published` as (subject, payload, reply, headers).
    """

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[tuple[str, bytes, Mapping[str, str] | None]] = []
        self.timeouts: list[float | None] = []
        self.published: list[tuple[str, bytes, str, Mapping[str, str] | None]] = []

    async def publish(
        self,
        subject: str,
        payload: bytes,
        reply: str = "",
        headers: Mapping[str, str] | None = None,
        *,
        checked: bool = False,
    ) -> None:
        self.published.append((subject, payload, reply, headers))

    def send_nowait(self, subject: str, payload: bytes, reply: str = "", *, checked: bool = False) -> bool:
        return False

    async def request(
        self, subject: str, payload: bytes, timeout: float | None, headers: Mapping[str, str] | None = None
    ) -> Reply:
        self.requests.append((subject, payload, headers))
        self.timeouts.append(timeout)
        result = self.handler(subject, payload, headers)
        if isinstance(result, Awaitable):
            result = await result
        if isinstance(result, list):
            raise TypeError("a list of replies answers only stream()")
        return result if isinstance(result, Reply) else Reply(subject, result)

    async def request_many(
        self, subject: str, payload: bytes, timeout: float | None, max_replies: int | None = None
    ) -> list[Reply]:
        return [await self.request(subject, payload, timeout)]

    async def stream(
        self, subject: str, payload: bytes, timeout: float | None
    ) -> AsyncGenerator[Reply, None]:
        """Yields what the handler returns; a list is yielded item by item."""
        self.requests.append((subject, payload, None))
        self.timeouts.append(timeout)
        result = self.handler(subject, payload, None)
        if isinstance(result, Awaitable):
            result = await result
        for item in result if isinstance(result, list) else [result]:
            yield item if isinstance(item, Reply) else Reply(subject, item)

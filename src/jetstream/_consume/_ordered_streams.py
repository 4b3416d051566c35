"""The iterators of an `OrderedConsumer`: `OrderedFetchResult` (``fetch``) and `OrderedMessageStream`
(``messages`` / ``consume``). Both hand out a message only if it continues the consumer sequence,
and replace the server consumer (from the last stream sequence handed out + 1) when it does not or
when the consumer is lost.
"""

from __future__ import annotations

import asyncio
import weakref
from datetime import timedelta
from types import TracebackType
from typing import TYPE_CHECKING

from .._exceptions import ConsumerDeletedError, JetStreamError, MissedHeartbeatError, NoRespondersError
from ._fetch import FetchResult
from ._message import Message
from ._messages import MessageStream, ResetNeeded
from ._options import ConsumeOptions
from ._pull import Consumer
from ._status import EventHandler, Signal

if TYPE_CHECKING:
    from ._ordered import OrderedConsumer  # an import cycle: provided at runtime by `_ordered`

# Errors after which the consumer is replaced (the server may be back, the consumer is not).
RECREATE_ON = (ConsumerDeletedError, NoRespondersError, MissedHeartbeatError)


def reason_of(exc: BaseException) -> str:
    if isinstance(exc, ConsumerDeletedError):
        return "deleted"
    if isinstance(exc, MissedHeartbeatError):
        return "heartbeat"
    return "unavailable"


class OrderedFetchResult:
    """The messages of one `OrderedConsumer.fetch`, in order; see `FetchResult`."""

    def __init__(
        self,
        oc: OrderedConsumer,
        n: int,
        *,
        max_bytes: int | None,
        expires: float,
        no_wait: bool,
        heartbeat: float | timedelta | None,
    ) -> None:
        self._oc = oc
        self._n = n
        self._max_bytes = max_bytes
        self._expires = expires
        self._no_wait = no_wait
        self._heartbeat = heartbeat
        self._inner: FetchResult | None = None
        self._consumer: Consumer | None = None
        self._got = 0
        self._deadline: float | None = None
        self._finished = False
        self._reason = "start"

    def __repr__(self) -> str:
        return f"OrderedFetchResult(consumer={self._oc!r}, n={self._n}, finished={self._finished})"

    def __aiter__(self) -> OrderedFetchResult:
        return self

    async def __anext__(self) -> Message:
        oc = self._oc
        loop = asyncio.get_running_loop()
        if self._deadline is None:
            self._deadline = loop.time() + self._expires
        while not self._finished:
            inner = self._inner
            consumer = self._consumer
            if inner is None or consumer is None:
                remaining = self._deadline - loop.time()
                if self._got >= self._n or remaining <= 0.001:
                    break
                consumer = self._consumer = await oc._ensure(self._deadline, self._reason)
                inner = self._inner = consumer.fetch(
                    self._n - self._got,
                    max_bytes=self._max_bytes,
                    expires=remaining,
                    no_wait=self._no_wait,
                    heartbeat=self._heartbeat,
                )
            try:
                msg = await inner.__anext__()
            except StopAsyncIteration:
                break
            except RECREATE_ON as exc:
                await self._replace(reason_of(exc))
                continue
            try:
                if oc._accept(msg, consumer):
                    self._got += 1
                    return msg
            except ResetNeeded as reset:
                await self._replace(reset.reason)
        await self.aclose()
        raise StopAsyncIteration

    async def _replace(self, reason: str) -> None:
        inner, consumer = self._inner, self._consumer
        self._inner = self._consumer = None
        self._reason = reason
        if inner is not None:
            await inner.aclose()
        await self._oc._drop(consumer)

    async def aclose(self) -> None:
        """Stop iterating; what the pull still brings is dropped (an ordered consumer redelivers
        from the last message handed out)."""
        self._finished = True
        inner, self._inner = self._inner, None
        if inner is not None:
            await inner.aclose()

    async def __aenter__(self) -> OrderedFetchResult:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


class OrderedMessageStream:
    """`OrderedConsumer.messages()`: like `MessageStream`, but never ends on faults; each
    replacement of the consumer is a `ConsumerRecreated` event."""

    def __init__(self, oc: OrderedConsumer, opts: ConsumeOptions, on_event: EventHandler | None) -> None:
        self._oc = oc
        self._opts = opts
        self._on_event = on_event
        self._inner: MessageStream | None = None
        self._started = False
        self._closed = False
        self._stop_requested = False
        self._drain_requested = False
        self._signal = Signal()
        self._reason = "start"
        self._finalizer: weakref.finalize[..., OrderedMessageStream] | None = None

    def __repr__(self) -> str:
        return f"OrderedMessageStream(consumer={self._oc!r}, closed={self._closed})"

    @property
    def closed(self) -> bool:
        """Whether the stream has ended (stopped, drained, or ended by an error)."""
        return self._closed

    async def _start(self) -> None:
        if self._started:
            return
        self._oc._check_idle()
        self._oc._active = self
        self._started = True
        self._finalizer = weakref.finalize(self, _release, self._oc)

    def __aiter__(self) -> OrderedMessageStream:
        return self

    async def __anext__(self) -> Message:
        if not self._started:
            await self._start()
        oc = self._oc
        while True:
            if self._closed:
                raise StopAsyncIteration
            if self._stop_requested:
                await self._close()
                raise StopAsyncIteration
            inner = self._inner
            if inner is None:
                if self._drain_requested:
                    await self._close()
                    raise StopAsyncIteration
                try:
                    consumer = await oc._ensure(
                        None,
                        self._reason,
                        on_event=self._on_event,
                        interrupt=self._signal,
                        stopping=lambda: self._stop_requested,
                    )
                except JetStreamError:
                    await self._close()
                    if self._stop_requested:
                        raise StopAsyncIteration from None
                    raise
                inner = self._inner = MessageStream(consumer, self._opts, self._on_event, ordered=True)
                await inner._start()
            try:
                msg = await inner.__anext__()
            except ResetNeeded as reset:
                await self._replace(reset.reason)
                continue
            except JetStreamError:
                await self._close()
                raise
            except StopAsyncIteration:
                self._inner = None
                if self._stop_requested or self._drain_requested:
                    await self._close()
                    raise
                await self._replace("unavailable")
                continue
            try:
                if oc._accept(msg, inner.consumer):
                    return msg
            except ResetNeeded as reset:
                await self._replace(reset.reason)

    async def _replace(self, reason: str) -> None:
        inner, self._inner = self._inner, None
        self._reason = reason
        if inner is not None:
            await inner.aclose()
            await self._oc._drop(inner.consumer)

    async def _close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._finalizer is not None:
            self._finalizer.detach()
        inner, self._inner = self._inner, None
        try:
            if inner is not None:
                await inner.aclose()
            await self._oc._drop(self._oc._current)
        finally:
            if self._oc._active is self:
                self._oc._active = None

    def _request_stop(self) -> None:
        self._stop_requested = True
        self._signal.wake()
        if self._inner is not None:
            self._inner._request_stop()

    def _request_drain(self) -> None:
        self._drain_requested = True
        self._signal.wake()
        if self._inner is not None:
            self._inner._request_drain()

    async def aclose(self) -> None:
        """End now and delete the server consumer (best effort). Idempotent; ``async with`` calls
        it on exit."""
        self._request_stop()
        await self._close()

    async def drain(self) -> None:
        """Stop pulling; the iteration hands out what is buffered, then ends."""
        self._request_drain()
        if self._inner is not None:
            await self._inner.drain()

    async def __aenter__(self) -> OrderedMessageStream:
        await self._start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


def _release(oc: OrderedConsumer) -> None:
    oc._active = None

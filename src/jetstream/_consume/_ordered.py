"""`OrderedConsumer` (ADR-17): every message of a stream (or of its filters) exactly once, in order,
without a durable consumer. The server consumer and its recovery are `OrderedCursor`'s (shared with
the Key/Value and Object Store watches and reads); this is the user-facing side.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from .._core import DEFAULT, Timeout
from .._exceptions import TimeoutError
from .._generated.models import ConsumerInfo
from .._time import seconds
from .._typing import AsyncResource, Unpack
from ._api import ConsumerAPI
from ._consume import ConsumeContext, ErrorHandler, Handler, consume
from ._message import Message
from ._messages import ResetNeeded
from ._options import (
    ConsumeOptions,
    FetchOptions,
    MessagesOptions,
    check_keys,
    check_positive,
    with_options_signature,
)
from ._ordered_streams import (
    RECREATE_ON,
    OrderedConfig,
    OrderedCursor,
    OrderedFetchResult,
    OrderedMessageStream,
    reason_of,
)
from ._status import DEFAULT_EXPIRES

__all__ = ["OrderedConfig", "OrderedConsumer", "start_ordered"]


async def start_ordered(
    js: ConsumerAPI, stream: str, config: OrderedConfig, wait: float | None
) -> OrderedConsumer:
    """An `OrderedConsumer` whose first server consumer was created within ``wait`` seconds (None:
    no limit); raises what creating it raises (`errors.StreamNotFoundError` ...)."""
    oc = OrderedConsumer(js, stream, config)
    await oc._start_within(wait)
    return oc


class OrderedConsumer(OrderedCursor, AsyncResource):
    """Every message of a stream (or filter), exactly once and in order (ADR-17).

    Same `next`, `fetch`, `messages`, `consume` as a `Consumer`, with no acknowledgements (the
    messages need none). Fault handling is transparent: the underlying consumer is recreated from
    the last delivered sequence; with ``messages()`` / ``consume()`` each replacement is a
    `ConsumerRecreated` event. One ``fetch`` / ``next`` / ``messages()`` / ``consume()`` may run
    at a time (`errors.OrderedConsumerBusyError`). `aclose()` deletes the server consumer (best
    effort).
    """

    @property
    def cached_info(self) -> ConsumerInfo | None:
        """The info the server consumer in use was created with; None before the first one. No
        request is sent."""
        return None if self._current is None else self._current.cached_info

    async def info(self, *, timeout: Timeout = DEFAULT) -> ConsumerInfo:
        """Info of the server consumer in use now (creating one if there is none)."""
        consumer = await self._ensure(None, "start")
        return await consumer.info(timeout=timeout)

    # --- one-shot pulls

    async def next(self, timeout: float | timedelta | None = DEFAULT_EXPIRES) -> Message:
        """The next message in order, waiting up to ``timeout`` seconds (None: until one comes);
        raises `errors.TimeoutError` when none came. Cancelling loses nothing. Raises
        `errors.OrderedConsumerBusyError` while another fetch/next/messages() runs."""
        self._check_idle()
        self._busy = token = object()
        try:
            return await self._next(timeout)
        finally:
            if self._busy is token:
                self._busy = None

    async def _next(self, timeout: float | timedelta | None) -> Message:
        wait = None if timeout is None else seconds(timeout, "timeout")
        loop = asyncio.get_running_loop()
        deadline = None if wait is None else loop.time() + wait
        reason = "start"
        while True:
            consumer = await self._ensure(deadline, reason)
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                raise TimeoutError(consumer._next_subject, wait)
            try:
                msg = await consumer.next(remaining)
            except RECREATE_ON as exc:
                reason = reason_of(exc)
                await self._drop(consumer)
                continue
            try:
                if self._accept(msg, consumer):
                    return msg
            except ResetNeeded as reset:
                reason = reset.reason
                await self._drop(consumer)

    @with_options_signature(FetchOptions)
    def fetch(self, n: int, **options: Unpack[FetchOptions]) -> OrderedFetchResult:
        """Up to ``n`` messages (and up to ``max_bytes``) in order, as an async iterator that ends
        when the pull is over (an empty iteration near ``expires`` when there is nothing). Until it
        ends (or is closed), another fetch/next/messages() raises `errors.OrderedConsumerBusyError`."""
        check_keys(options, FetchOptions)
        self._check_idle()
        check_positive("n", n)
        check_positive("max_bytes", options.get("max_bytes"))
        return OrderedFetchResult(self, n, options)

    # --- continuous pulls

    @with_options_signature(MessagesOptions)
    def messages(self, **options: Unpack[MessagesOptions]) -> OrderedMessageStream:
        """Every message in order for as long as you iterate (see `Consumer.messages`; no priority
        options). Faults never end it: the consumer is recreated (a `ConsumerRecreated` event),
        unless ``max_reset_attempts`` recreations in a row failed
        (`errors.OrderedConsumerResetError`). ``stop_after`` counts across recreations."""
        self._check_idle()
        return OrderedMessageStream(self, ConsumeOptions.build(None, of=MessagesOptions, **options))

    @with_options_signature(MessagesOptions)
    async def consume(
        self,
        handler: Handler,
        *,
        on_error: ErrorHandler | None = None,
        **options: Unpack[MessagesOptions],
    ) -> ConsumeContext:
        """Call ``handler(msg)`` for every message, in order, in one background task (see
        `Consumer.consume`)."""
        return await consume(self.messages(**options), handler, on_error)

    async def aclose(self) -> None:
        """Stop a running messages()/consume() and delete the server consumer (best effort);
        ``async with`` calls it on exit. Unlike other closed objects, an ordered consumer may be
        used again: a later call creates a new server consumer where this one left off."""
        await self._close()

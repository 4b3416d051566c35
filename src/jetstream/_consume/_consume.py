"""`ConsumeContext`: ``consume(handler)`` - one background task that takes messages from a
`MessageStream` (or an ordered consumer's stream) and calls the handler; no task per message.

The handler's exceptions are reported (``on_error``, else logged) and consuming goes on; a terminal
error ends it and is reported too. ``CancelledError`` is never swallowed.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Generator
from typing import Any, Protocol, TypeVar

from .._exceptions import JetStreamError
from .._typing import AsyncResource
from ._message import Message
from ._status import Signal, logger


class MessageSource(Protocol):
    """What `ConsumeContext` runs: a `MessageStream`, or an ordered consumer's stream."""

    def __aiter__(self) -> MessageSource: ...

    async def __anext__(self) -> Message: ...

    def _request_stop(self) -> None: ...

    def _request_drain(self) -> None: ...

    async def aclose(self) -> None: ...


class _Startable(MessageSource, Protocol):
    async def _start(self) -> None: ...


T = TypeVar("T", bound="StreamBase")


class StreamBase(AsyncResource):
    """What the message streams (`MessageStream`, `OrderedMessageStream`, `PushMessageStream`)
    share as async iterators and context managers: entering starts the stream, leaving closes it."""

    def __aiter__(self: T) -> T:
        return self

    async def _start(self) -> None:
        raise NotImplementedError

    def _request_stop(self) -> None:
        raise NotImplementedError

    async def _close(self) -> None:
        raise NotImplementedError

    async def _end_or_wait(
        self, terminal: BaseException | None, is_open: bool, signal: Signal, timeout: float | None
    ) -> None:
        """The rest of an ``__anext__`` round that found no message: a terminal error closes the
        stream and is raised, a stream no longer open closes and ends the iteration, else wait on
        ``signal`` (at most ``timeout``) for the next round."""
        if terminal is not None:
            await self._close()
            raise terminal
        if not is_open:
            await self._close()
            raise StopAsyncIteration
        await signal.wait(timeout)

    async def aclose(self) -> None:
        """End now: unsubscribe; buffered messages are dropped (unacknowledged, so redelivered).
        Idempotent; ``async with`` calls it on exit."""
        self._request_stop()
        await self._close()

    async def __aenter__(self: T) -> T:
        await self._start()
        return self


Handler = Callable[[Message], Awaitable[object] | object]
"""``handler(msg)`` of ``consume()``: sync or async."""
ErrorHandler = Callable[[BaseException], object]
"""``on_error(exc)`` of ``consume()``."""


async def consume(source: _Startable, handler: Handler, on_error: ErrorHandler | None) -> ConsumeContext:
    """What every ``consume()`` does: start ``source`` now, so that what refuses it (a subscription
    that fails, an ordered consumer already busy) is raised by the call, then run it in a
    `ConsumeContext`."""
    await source._start()
    return ConsumeContext(source, handler, on_error)


class ConsumeContext(AsyncResource):
    """A running `consume()`: one background task that takes messages and calls the handler.

    ``aclose()`` ends it after the message being handled (buffered ones are dropped,
    unacknowledged); ``drain()`` stops pulling and ends once the buffered messages are handled.
    Both act when called and return ``closed``, an awaitable done when the task has ended
    (``await ctx.aclose()`` waits for it; a sync handler may call ``ctx.aclose()`` without awaiting).
    ``error`` is the terminal error, if one ended it (it was also passed to ``on_error``).
    Also an async context manager that stops on exit.
    """

    def __init__(self, source: MessageSource, handler: Handler, on_error: ErrorHandler | None) -> None:
        self._source = source
        self._handler = handler
        self._on_error = on_error
        self._error: BaseException | None = None
        loop = asyncio.get_running_loop()
        self._closed: asyncio.Future[None] = loop.create_future()
        self._task = loop.create_task(self._run(), name="jetstream-consume")

    def __repr__(self) -> str:
        return f"ConsumeContext(source={self._source!r}, done={self.done})"

    @property
    def closed(self) -> Awaitable[None]:
        """``await ctx.closed`` returns once consuming has ended, whatever the reason (at once when
        awaited from the handler itself, which would otherwise wait for itself)."""
        return _Closed(self)

    @property
    def done(self) -> bool:
        """Whether consuming has ended."""
        return self._closed.done()

    @property
    def error(self) -> BaseException | None:
        """The terminal error that ended consuming (also passed to ``on_error``); None otherwise."""
        return self._error

    @property
    def source(self) -> MessageSource:
        """What the messages come from: a `MessageStream`, or an `OrderedMessageStream`."""
        return self._source

    def aclose(self) -> Awaitable[None]:
        """Stop after the message being handled; returns `closed` (awaiting it is optional: the
        stop is requested when this is called). Idempotent."""
        self._source._request_stop()
        return _Closed(self)

    def drain(self) -> Awaitable[None]:
        """Stop pulling, handle what is buffered, then stop; returns `closed`."""
        self._source._request_drain()
        return _Closed(self)

    def _report(self, exc: BaseException) -> None:
        if self._on_error is None:
            logger.error("consume: %s", exc, exc_info=exc)
            return
        try:
            self._on_error(exc)
        except Exception:
            logger.exception("on_error raised while handling %r", exc)

    async def _run(self) -> None:
        handler = self._handler
        try:
            async for msg in self._source:
                try:
                    result = handler(msg)
                    if inspect.isawaitable(result):
                        await result
                except Exception as exc:
                    self._report(exc)
        except JetStreamError as exc:
            self._error = exc
            self._report(exc)
        except Exception as exc:  # a bug: report it rather than let the task die silently
            self._error = exc
            self._report(exc)
        finally:
            try:
                await self._source.aclose()
            except Exception:
                logger.debug("consume: stop failed", exc_info=True)
            finally:
                if not self._closed.done():
                    self._closed.set_result(None)


class _Closed:
    """Awaitable end of a `ConsumeContext`. Awaiting it never cancels the shared future, and from
    the consume task itself (a handler calling ``await ctx.aclose()``) it returns at once."""

    __slots__ = ("_ctx",)

    def __init__(self, ctx: ConsumeContext) -> None:
        self._ctx = ctx

    def __await__(self) -> Generator[Any, None, None]:
        ctx = self._ctx
        if asyncio.current_task() is ctx._task or ctx._closed.done():
            return
        yield from asyncio.shield(ctx._closed).__await__()

"""Request/reply trace hooks of the JetStream API (nats.go's ``ClientTrace``).

Every API request the core sends (generated methods, each page of a paged listing, the requests of
handles, ordered consumers, Key/Value and Object Store management) is announced to
`ClientTrace.request_sent` and its outcome to `ClientTrace.request_done`. Publishes, their acks,
message acks and pull requests are the data plane, not API requests: they are not traced.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

import msgspec

from .._exceptions import InvalidArgumentError

logger = logging.getLogger("jetstream")
E = TypeVar("E")

__all__ = ["ClientTrace", "RequestDone", "RequestSent", "Span", "check_trace"]


class RequestSent(msgspec.Struct, frozen=True):
    """An API request is about to be sent: its full ``subject`` (prefix included) and the
    ``size`` of its JSON body in bytes (0 for an empty body)."""

    subject: str
    size: int


class RequestDone(msgspec.Struct, frozen=True):
    """An API request ended, with a reply or without.

    ``reply_size`` is the bytes of the reply's payload (0 when none came; the sum over all replies
    of a broadcast or batched request, whose count is ``replies``). ``duration`` is the seconds from
    sending to the end. ``error`` is what the call raises: an `errors.APIError` subclass for an
    error the server answered (``reply_size`` > 0), `errors.TimeoutError`,
    `errors.NoRespondersError` (`errors.JetStreamNotEnabledError`), `errors.PermissionDeniedError`,
    `errors.InvalidReplyError` ...; `asyncio.CancelledError` when the caller was cancelled; None on
    success. A request answered by several servers (the broadcast endpoints) succeeds once any
    answered: a server's refusal is one of the call's outcomes, not the event's ``error``.
    """

    subject: str
    request_size: int
    reply_size: int
    duration: float
    error: BaseException | None = None
    replies: int = 1


class ClientTrace(msgspec.Struct, frozen=True, kw_only=True):
    """Hooks that observe every JetStream API request (``trace=`` of `jetstream.connect` and
    `JetStream`)::

        trace = jetstream.ClientTrace(
            request_sent=lambda e: log.debug("-> %s (%d bytes)", e.subject, e.size),
            request_done=lambda e: metrics.observe(e.subject, e.duration, e.error),
        )

    Each hook is called synchronously, in the task making the request, with a `RequestSent` /
    `RequestDone` event; it should be quick and must not block. An exception it raises is logged
    (logger ``jetstream``) and the request goes on as if the hook were not there. Publishes and
    their acks, message acks and pull requests are not API requests and are not traced.
    """

    request_sent: Callable[[RequestSent], object] | None = None
    request_done: Callable[[RequestDone], object] | None = None


def check_trace(trace: ClientTrace | None) -> ClientTrace | None:
    """``trace`` if it is a `ClientTrace` or None; `errors.InvalidArgumentError` otherwise (a bare
    function would otherwise fail only on the first request)."""
    if trace is not None and not isinstance(trace, ClientTrace):
        raise InvalidArgumentError(f"trace must be a ClientTrace or None, got {trace!r}")
    return trace


def _call(hook: Callable[[E], object], event: E) -> None:
    try:
        hook(event)
    except Exception:
        logger.exception("a ClientTrace hook raised on %r", event)


class Span:
    """One traced request: announced when made, its end reported by `done`."""

    __slots__ = ("_done", "_size", "_start", "_subject")

    def __init__(self, trace: ClientTrace, subject: str, size: int) -> None:
        self._subject = subject
        self._size = size
        self._done = trace.request_done
        if trace.request_sent is not None:
            _call(trace.request_sent, RequestSent(subject, size))
        self._start = time.perf_counter()

    def done(self, reply_size: int, error: BaseException | None = None, replies: int = 1) -> None:
        if self._done is not None:
            event = RequestDone(
                self._subject, self._size, reply_size, time.perf_counter() - self._start, error, replies
            )
            _call(self._done, event)

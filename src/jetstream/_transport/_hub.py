"""One place where a connection's state changes are told: typed events to listeners.

Publishes, pulls, watchers and the reply router listen here instead of each watching the
connection on its own. The state itself (connected, closed, how many reconnects) is read from the
connection, so a listener that missed an event still sees the truth when it next looks.
"""

from __future__ import annotations

import logging
import re
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from .._exceptions import PermissionDeniedError

logger = logging.getLogger("jetstream")


class ConnectionEvent:
    """Something happened to the connection."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class LinkDisconnected(ConnectionEvent):
    """The connection dropped; the client reconnects if it may."""

    __slots__ = ()


class LinkReconnected(ConnectionEvent):
    """The connection is back (subscriptions restored; replies sent meanwhile are lost)."""

    __slots__ = ()


class LinkClosed(ConnectionEvent):
    """The connection is closed for good."""

    __slots__ = ()


class LameDuck(ConnectionEvent):
    """The server is shutting down soon (lame duck mode); the client will move to another."""

    __slots__ = ()


@dataclass(frozen=True, slots=True, repr=True)
class ServerError(ConnectionEvent):
    """The server or the client library reported an error (text only, no credentials)."""

    message: str


@dataclass(frozen=True, slots=True, repr=True)
class PermissionDenied(ConnectionEvent):
    """The server refused a publish or subscribe of this connection (``error.operation``:
    "publish", "subscribe", or "reply" for a refused reply subject)."""

    error: PermissionDeniedError

    def refuses(self, operation: str, subject: str) -> bool:
        """Whether this is a refusal to ``operation`` on ``subject``. nats-py hands the server's
        text on lower-cased, so the subject is compared without case."""
        error = self.error
        return error.operation == operation and error.subject.lower() == subject.lower()


class Listener(Protocol):
    def connection_event(self, event: ConnectionEvent) -> None: ...


class _ConnectionState(Protocol):
    @property
    def is_connected(self) -> bool: ...
    @property
    def is_closed(self) -> bool: ...
    @property
    def reconnects(self) -> int: ...


_PERMISSION = re.compile(
    r"Permissions Violation for (Publish with Reply of|Publish to|Subscription to) \"([^\"]*)\"",
    re.IGNORECASE,
)


def parse_permission(text: str) -> PermissionDeniedError | None:
    """The permission violation the server reported in ``text`` (an ``-ERR`` line), if any."""
    match = _PERMISSION.search(text)
    if match is None:
        return None
    kind = match.group(1).lower()
    subject = match.group(2)
    if kind.startswith("subscription"):
        return PermissionDeniedError("subscribe", subject)
    if "reply" in kind:
        return PermissionDeniedError("reply", subject)
    return PermissionDeniedError("publish", subject)


class ConnectionHub:
    """The events of one connection, told to every listener (held weakly: a listener that is
    forgotten stops listening) and to every callback (held until removed)."""

    def __init__(self, state: _ConnectionState) -> None:
        self._state = state
        self._listeners: weakref.WeakSet[Listener] = weakref.WeakSet()
        self._callbacks: list[Callable[[ConnectionEvent], object]] = []

    @property
    def connected(self) -> bool:
        return self._state.is_connected

    @property
    def closed(self) -> bool:
        """Closed for good (no more reconnects)."""
        return self._state.is_closed

    @property
    def generation(self) -> int:
        """How many times the connection reconnected."""
        return self._state.reconnects

    def add(self, listener: Listener) -> None:
        self._listeners.add(listener)

    def discard(self, listener: Listener) -> None:
        self._listeners.discard(listener)

    def on_event(self, callback: Callable[[ConnectionEvent], object]) -> Callable[[], None]:
        """Call ``callback`` for every event; returns the function that stops it."""
        self._callbacks.append(callback)

        def remove() -> None:
            if callback in self._callbacks:
                self._callbacks.remove(callback)

        return remove

    def emit(self, event: ConnectionEvent) -> None:
        logger.debug("connection event: %r", event)
        for callback in list(self._callbacks):
            try:
                callback(event)
            except Exception:
                logger.exception("connection event callback failed on %r", event)
        for listener in list(self._listeners):
            try:
                listener.connection_event(event)
            except Exception:
                logger.exception("connection listener failed on %r", event)

    def server_error(self, text: str) -> None:
        """An error the server or nats-py reported: a permission violation becomes its own event."""
        denied = parse_permission(text)
        self.emit(ServerError(text) if denied is None else PermissionDenied(denied))

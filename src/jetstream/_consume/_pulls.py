"""`PullState`: what every pull from one server consumer shares, whoever sends it.

A `Consumer` owns one and hands it to its one-shot pulls (`_fetch`) and continuous pulls
(`_messages`), which need nothing else of the consumer: the connection, the pull subject, the pin
of a priority group (ADR-42), and the *stash* - messages a caller left behind (a cancelled
``next()``, a ``fetch`` left early), which the next pull hands out first - with the pulls still
filling it (*orphans*) and the callers waiting on it.
"""

from __future__ import annotations

from collections import deque
from typing import Protocol

from .._core import Core
from .._core._codec import encode
from .._exceptions import PermissionDeniedError
from .._generated.models import ConsumerGetnextRequest
from .._time import Duration, nanos
from .._transport import Connection, ConnectionEvent, ConnectionHub, Msg, PermissionDenied, Subscription
from ._message import Message
from ._options import Priority
from ._status import PIN_ID, Signal, denial_for

__all__ = ["Orphan", "PullListener", "PullState"]


class Orphan(Protocol):
    """A pull whose caller left before it ended: what it still brings goes to the stash."""

    @property
    def deadline(self) -> float:
        """The loop time by which it is over, whatever the server says."""
        ...


class PullListener:
    """What a pull (`_fetch.Pull`, `_messages._Inbox`) does with connection events: a refusal of
    its pull subject or inbox ends it (`denied`), any other event is a `connection_changed`."""

    pulls: PullState
    inbox: str
    sub: Subscription | None
    unsubscribed: bool

    async def unsubscribe(self) -> None:
        """Stop listening to the connection and unsubscribe the inbox (once)."""
        if self.unsubscribed:
            return
        self.unsubscribed = True
        self.pulls.hub.discard(self)
        sub = self.sub
        if sub is not None:
            await sub.unsubscribe()

    def connection_event(self, event: ConnectionEvent) -> None:
        if isinstance(event, PermissionDenied):
            denied = denial_for(event, self.pulls.next_subject, self.inbox)
            if denied is not None:
                self.denied(denied)
            return
        self.connection_changed()

    def denied(self, error: PermissionDeniedError) -> None:
        raise NotImplementedError

    def connection_changed(self) -> None:
        raise NotImplementedError


class PullState:
    """The shared side of the pulls from one server consumer (see the module's docstring)."""

    __slots__ = ("connection", "core", "hub", "next_subject", "orphans", "pin_id", "stash", "stash_waiters")

    def __init__(self, core: Core, stream: str, consumer: str) -> None:
        self.core: Core = core
        self.connection: Connection = core.transport
        self.hub: ConnectionHub = core.transport.hub
        self.next_subject: str = core.subject(f"CONSUMER.MSG.NEXT.{stream}.{consumer}")
        self.stash: deque[Message] = deque()
        self.stash_waiters: set[Signal] = set()
        self.orphans: set[Orphan] = set()
        self.pin_id: str | None = None

    def wrap(self, msg: Msg) -> Message:
        return Message(self.core, msg.subject, msg.reply, msg.data, msg.headers)

    def receive(self, msg: Msg) -> Message:
        """The `Message` of a message a live pull delivered; the pin it carries, if any, is kept."""
        headers = msg.headers
        if headers:
            pin = headers.get(PIN_ID)
            if pin:
                self.pin_id = pin
        return Message(self.core, msg.subject, msg.reply, msg.data, headers)

    def stash_put(self, msg: Message, *, front: bool = False) -> None:
        if front:
            self.stash.appendleft(msg)
        else:
            self.stash.append(msg)
        self.wake_stash_waiters()

    def wake_stash_waiters(self) -> None:
        for signal in list(self.stash_waiters):
            signal.wake()

    async def pull(
        self,
        inbox: str,
        *,
        batch: int,
        max_bytes: int | None,
        expires: float | None,
        heartbeat: float | None,
        priority: Priority,
        no_wait: bool = False,
    ) -> None:
        """Send a pull request (ADR-13) answered on ``inbox``; the pin, if any, goes along for the
        priority group."""
        request = ConsumerGetnextRequest(
            batch=batch,
            max_bytes=max_bytes,
            expires=None if expires is None else Duration(nanos(expires)),
            no_wait=True if no_wait else None,
            idle_heartbeat=None if heartbeat is None else Duration(nanos(heartbeat)),
            group=priority.group,
            min_pending=priority.min_pending,
            min_ack_pending=priority.min_ack_pending,
            priority=priority.priority,
            id=self.pin_id if priority.group is not None else None,
        )
        await self.connection.publish(self.next_subject, encode(request), reply=inbox)

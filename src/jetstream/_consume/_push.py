"""Push consumers (ADR-15): `PushConsumer`, a handle on a consumer with a deliver subject, and
`OrderedPushConsumer`, the push flavour of the ordered consumer (ADR-17). Both deliver through
`PushMessageStream` (`_push_stream`), with the same `Message` and acks as pulled messages.

The ordered flavour is `OrderedCursor` - the one ordered-consumer machinery, shared with the pull
ordered consumer and the Key/Value and Object Store watches - whose server consumers get a fresh
inbox as deliver subject, flow control and idle heartbeats.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from .._core import DEFAULT, Timeout
from .._exceptions import (
    ConsumerDeletedError,
    InvalidArgumentError,
    JetStreamError,
    NotPushConsumerError,
    OrderedConsumerBusyError,
)
from .._generated.errors import ConsumerNotFoundError, StreamNotFoundError
from .._generated.models import ConsumerConfig, ConsumerInfo
from .._time import seconds
from .._typing import AsyncResource
from ._api import ConsumerAPI
from ._consume import ConsumeContext, consume
from ._manage import put_consumer
from ._message import Message
from ._ordered_streams import OrderedConfig, OrderedCursor
from ._push_stream import PushMessageStream, Target
from ._status import EventHandler, Signal

__all__ = [
    "DEFAULT_ORDERED_HEARTBEAT",
    "OrderedPushConsumer",
    "PushConsumer",
    "get_push_consumer",
    "ordered_push_consumer",
    "put_push_consumer",
]

DEFAULT_ORDERED_HEARTBEAT = 5.0
"""Seconds between idle heartbeats of an ordered push consumer's server consumer (ADR-17)."""


class _PushReader:
    """What both push handles share: `consume` on top of their `messages`."""

    def messages(self, *, on_event: EventHandler | None = None) -> PushMessageStream:
        """The messages, as an async iterator (each handle says how)."""
        raise NotImplementedError

    async def consume(
        self,
        handler: Callable[[Message], Awaitable[object] | object],
        *,
        on_event: EventHandler | None = None,
        on_error: Callable[[BaseException], object] | None = None,
    ) -> ConsumeContext:
        """Call ``handler(msg)`` (sync or async) for each message, in one background task (see
        `messages`). An exception of the handler goes to ``on_error`` (or is logged) and consuming
        goes on; a terminal error (consumer deleted, connection closed) goes there too and ends it.
        Returns a `ConsumeContext`: ``aclose()``, ``drain()``, ``closed`` (awaitable), ``error``.
        """
        return await consume(self.messages(on_event=on_event), handler, on_error)


class PushConsumer(_PushReader):
    """A push consumer of a stream: the server sends its messages to ``deliver_subject``;
    `messages` and `consume` subscribe there (as a member of ``deliver_group``, if it has one).

    Get one with `JetStream.push_consumer` (never creates or changes the consumer) or
    `JetStream.create_push_consumer` / `update_push_consumer` / `create_or_update_push_consumer`.
    ``cached_info`` is the info it was made with (or last refreshed); `info()` asks the server.
    """

    def __init__(self, js: ConsumerAPI, info: ConsumerInfo) -> None:
        if not info.config.deliver_subject:
            raise NotPushConsumerError(
                f"consumer {info.name!r} of stream {info.stream_name!r} has no deliver subject"
                " (a pull consumer: use JetStream.consumer)"
            )
        self._js = js
        self._info = info

    def __repr__(self) -> str:
        return f"PushConsumer(stream={self.stream!r}, name={self.name!r})"

    @property
    def name(self) -> str:
        """The consumer's name."""
        return self._info.name

    @property
    def stream(self) -> str:
        """The name of the consumer's stream."""
        return self._info.stream_name

    @property
    def cached_info(self) -> ConsumerInfo:
        """The info this handle was made with, or got by the last `info()`; no request is sent."""
        return self._info

    @property
    def deliver_subject(self) -> str:
        """Where the server sends the messages."""
        return self._info.config.deliver_subject or ""

    @property
    def deliver_group(self) -> str | None:
        """The queue group the subscribers join (each message goes to one of them), if any."""
        return self._info.config.deliver_group or None

    async def info(self, *, timeout: Timeout = DEFAULT) -> ConsumerInfo:
        """Fresh info from the server (also refreshes `cached_info`)."""
        info = await self._js.consumer_info(self.stream, self.name, timeout=timeout)
        if info.config.deliver_subject:
            self._info = info
        return info

    def messages(self, *, on_event: EventHandler | None = None) -> PushMessageStream:
        """The consumer's messages for as long as you iterate:
        ``async with pc.messages() as msgs: async for msg in msgs: await msg.ack()``.

        Subscribes to the deliver subject (joining the deliver group, if any) on the first
        iteration. Flow-control requests are answered once the messages before them are handed
        out. With ``idle_heartbeat`` configured (and no deliver group), two missed heartbeats are
        a `MissedHeartbeat` event, after which the consumer is looked up: a deleted consumer ends
        the iteration with `errors.ConsumerDeletedError`. Disconnects and reconnects are
        `Disconnected` / `Reconnected` events (nats-py restores the subscription). Events go to
        ``on_event``; see `PushMessageStream`. Without a deliver group, run one ``messages()`` /
        ``consume()`` per consumer: each subscriber gets every message.
        """
        return PushMessageStream(self._js._core, _PushDelivery(self), on_event)


def _watched_heartbeat(config: ConsumerConfig) -> float | None:
    # A deliver group shares the heartbeats out among its members: none can watch them.
    hb = config.idle_heartbeat
    if hb is None or config.deliver_group:
        return None
    return hb.total_seconds() or None


class _PushDelivery:
    """The `Delivery` of one push consumer: a fixed deliver subject, nothing to order."""

    ordered = False

    def __init__(self, consumer: PushConsumer) -> None:
        self._consumer = consumer

    def __repr__(self) -> str:
        return repr(self._consumer)

    async def target(
        self, reason: str, on_event: EventHandler | None, interrupt: Signal, stopping: Callable[[], bool]
    ) -> Target:
        config = self._consumer.cached_info.config
        return Target(config.deliver_subject or "", config.deliver_group or "", _watched_heartbeat(config))

    def accept(self, msg: Message) -> bool:
        return True

    async def lost(self) -> None:
        return None

    async def check_gone(self) -> JetStreamError | None:
        consumer = self._consumer
        try:
            await consumer._js.consumer_info(consumer.stream, consumer.name)
        except (ConsumerNotFoundError, StreamNotFoundError) as exc:
            return ConsumerDeletedError(exc.code, exc.description)
        except JetStreamError:
            return None  # not known now (a timeout, a leader election): the heartbeats will tell
        return None

    async def release(self) -> None:
        return None


async def put_push_consumer(
    js: ConsumerAPI, stream: str, config: ConsumerConfig, action: str | None, *, timeout: Timeout = DEFAULT
) -> PushConsumer:
    """CONSUMER.CREATE of a push consumer with `action` ("create", "update" or None for either)."""
    if not isinstance(config, ConsumerConfig):
        raise InvalidArgumentError(f"config must be a ConsumerConfig, got {type(config).__name__}")
    if not config.deliver_subject:
        raise InvalidArgumentError("a push consumer needs a deliver_subject in its config")
    consumer = await put_consumer(js, stream, config, action, timeout=timeout)
    return PushConsumer(js, consumer.cached_info)


async def get_push_consumer(
    js: ConsumerAPI, stream: str, name: str, *, timeout: Timeout = DEFAULT
) -> PushConsumer:
    """A handle on an existing push consumer (one CONSUMER.INFO request; nothing is changed);
    `errors.NotPushConsumerError` for a pull consumer."""
    return PushConsumer(js, await js.consumer_info(stream, name, timeout=timeout))


class OrderedPushConsumer(OrderedCursor, _PushReader, AsyncResource):
    """Every message of a stream (or filter), exactly once and in order, pushed (ADR-17).

    Same `messages` and `consume` as a `PushConsumer`, with no acknowledgements. Each server
    consumer is ephemeral, in memory, with flow control and idle heartbeats, and delivers to a
    fresh inbox; a gap, two missed heartbeats, a reconnect or a deleted consumer replace it by one
    starting after the last message handed out (a `ConsumerRecreated` event). One ``messages()`` /
    ``consume()`` may run at a time (`errors.OrderedConsumerBusyError`); its end deletes the
    server consumer, and a later one creates a new one where it left off.
    """

    def __init__(self, js: ConsumerAPI, stream: str, config: OrderedConfig, heartbeat: float) -> None:
        super().__init__(js, stream, config)
        self._heartbeat = heartbeat
        self._deliver = ""
        self._push_active: PushMessageStream | None = None

    def _config(self) -> ConsumerConfig:
        config = super()._config()
        config.deliver_subject = self._deliver
        config.flow_control = True
        config.idle_heartbeat = timedelta(seconds=self._heartbeat)
        return config

    def _check_idle(self) -> None:
        super()._check_idle()
        if self._push_active is not None and not self._push_active.closed:
            raise OrderedConsumerBusyError("this ordered push consumer is serving a messages()/consume()")

    # --- delivery

    def messages(self, *, on_event: EventHandler | None = None) -> PushMessageStream:
        """Every message in order for as long as you iterate (see `PushConsumer.messages`).
        Faults never end it: the server consumer is recreated (a `ConsumerRecreated` event)."""
        self._check_idle()
        delivery = _OrderedDelivery(self)
        stream = delivery.stream = PushMessageStream(self._js._core, delivery, on_event)
        return stream

    async def aclose(self) -> None:
        """Stop a running messages()/consume() and delete the server consumer (best effort);
        ``async with`` calls it on exit."""
        active, self._push_active = self._push_active, None
        if active is not None:
            await active.aclose()
        await self._close()


class _OrderedDelivery:
    """The `Delivery` of an `OrderedPushConsumer`: its server consumers, one after the other."""

    ordered = True

    def __init__(self, oc: OrderedPushConsumer) -> None:
        self._oc = oc
        self.stream: PushMessageStream | None = None  # the stream it serves, once made

    def __repr__(self) -> str:
        return repr(self._oc)

    async def target(
        self, reason: str, on_event: EventHandler | None, interrupt: Signal, stopping: Callable[[], bool]
    ) -> Target:
        oc = self._oc
        if oc._push_active is not self.stream:
            # Started now (a stream made and never iterated keeps nobody out).
            oc._check_idle()
            oc._push_active = self.stream
        if oc._current is None:
            oc._deliver = oc._js._core.transport.new_inbox()
        consumer = await oc._ensure(None, reason, on_event=on_event, interrupt=interrupt, stopping=stopping)
        return Target(consumer.cached_info.config.deliver_subject or oc._deliver, "", oc._heartbeat)

    def accept(self, msg: Message) -> bool:
        current = self._oc._current
        return current is not None and self._oc._accept(msg, current)

    async def lost(self) -> None:
        await self._oc._drop(self._oc._current)

    async def check_gone(self) -> JetStreamError | None:
        return None  # an ordered delivery replaces its consumer instead

    async def release(self) -> None:
        await self._oc._drop(self._oc._current)


async def ordered_push_consumer(
    js: ConsumerAPI, stream: str, config: OrderedConfig, heartbeat: float | timedelta, timeout: Timeout
) -> OrderedPushConsumer:
    """An `OrderedPushConsumer` on ``stream``, its first server consumer created (so a missing
    stream raises here)."""
    hb = seconds(heartbeat, "heartbeat")
    if hb < 0.1:
        raise InvalidArgumentError(f"heartbeat must be at least 0.1 s (the server's minimum), got {hb:g}")
    oc = OrderedPushConsumer(js, stream, config, hb)
    oc._deliver = js._core.transport.new_inbox()
    await oc._start_within(js._core.timeout(timeout))
    return oc

"""The options of continuous pulls, defined once: the keywords of ``messages()`` and ``consume()``
(`MessagesOptions`, `PullMessagesOptions`), what they become (`ConsumeOptions`, for a `Consumer` and
an `OrderedConsumer`, ADR-37), and `Priority`, the ADR-42 fields of a pull request. Each is
validated once, when built; everything below takes the value.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import ParamSpec, TypedDict, TypeVar, get_type_hints

import msgspec

from .._exceptions import InvalidArgumentError
from .._generated.models import ConsumerInfo
from .._time import seconds
from .._typing import Unpack
from ._status import BYTES_ONLY_BATCH, DEFAULT_EXPIRES, DEFAULT_MAX_MESSAGES, EventHandler

P = ParamSpec("P")
R = TypeVar("R")

_MIN_EXPIRES = 1.0
_MIN_HEARTBEAT = 0.5
_MAX_HEARTBEAT = 30.0


class Priority(msgspec.Struct, frozen=True):
    """ADR-42 fields of a pull request."""

    group: str | None = None
    min_pending: int | None = None
    min_ack_pending: int | None = None
    priority: int | None = None

    def check(self, info: ConsumerInfo | None) -> None:
        """Refuse what the server would answer with 400, before anything is sent."""
        for name, value in (("min_pending", self.min_pending), ("min_ack_pending", self.min_ack_pending)):
            if value is not None and (isinstance(value, bool) or value < 0):
                raise InvalidArgumentError(f"{name} must be a non-negative integer, got {value!r}")
        if self.priority is not None and not 0 <= self.priority <= 9:
            raise InvalidArgumentError(f"priority must be between 0 and 9, got {self.priority!r}")
        if info is None:
            return
        groups = info.config.priority_groups or []
        if groups and self.group is None:
            raise InvalidArgumentError(
                f"consumer {info.name!r} has priority groups {groups}: pass group= to pull from it"
            )
        if self.group is not None and self.group not in groups:
            raise InvalidArgumentError(
                f"consumer {info.name!r} has no priority group {self.group!r} (it has {groups or 'none'})"
            )


NO_PRIORITY = Priority()


class PriorityOptions(TypedDict, total=False):
    """The priority-group keywords (ADR-42) of a `Consumer`'s pulls."""

    group: str | None
    min_pending: int | None
    min_ack_pending: int | None
    priority: int | None


class FetchOptions(TypedDict, total=False):
    """The keyword options of ``fetch()`` (of a `Consumer` and of an `OrderedConsumer`), defined
    once; see `Consumer.fetch`."""

    max_bytes: int | None
    expires: float | timedelta
    no_wait: bool
    heartbeat: float | timedelta | None


class PullFetchOptions(FetchOptions, PriorityOptions, total=False):
    """`FetchOptions` and the priority-group options of a `Consumer`'s ``fetch()``."""


class MessagesOptions(TypedDict, total=False):
    """The keyword options of ``messages()`` and ``consume()`` (of a `Consumer` and of an
    `OrderedConsumer`), defined once; see `Consumer.messages` for what each does."""

    max_messages: int | None
    max_bytes: int | None
    expires: float | timedelta
    heartbeat: float | timedelta | None
    threshold_messages: int | None
    threshold_bytes: int | None
    stop_after: int | None
    on_event: EventHandler | None


class PullMessagesOptions(MessagesOptions, PriorityOptions, total=False):
    """`MessagesOptions` and the priority-group options (ADR-42) of a `Consumer`'s ``messages()`` /
    ``consume()``."""


# The defaults help() shows; every other option defaults to None.
_DEFAULTS: dict[str, object] = {"expires": DEFAULT_EXPIRES, "no_wait": False}


def check_keys(options: Mapping[str, object], of: type[Mapping[str, object]]) -> None:
    """Refuse a keyword ``of`` (a TypedDict of options) does not have, as Python would."""
    unknown = sorted(options.keys() - of.__annotations__.keys())
    if unknown:
        raise TypeError(f"unexpected keyword argument {unknown[0]!r}")


def priority_of(options: PriorityOptions, info: ConsumerInfo | None) -> Priority:
    """The `Priority` the priority keywords ask for, checked against the consumer's ``info``."""
    priority = Priority(
        options.get("group"),
        options.get("min_pending"),
        options.get("min_ack_pending"),
        options.get("priority"),
    )
    priority.check(info)
    return priority


class ConsumeOptions(msgspec.Struct, frozen=True):
    """The options of ``messages()`` / ``consume()`` (documented on `Consumer.messages`), checked
    and with their defaults filled in: build one with `ConsumeOptions.build`.

    ``track_bytes``: the byte count of what is buffered or owed decides when to pull (``max_bytes``
    alone); with ``max_messages`` too, ``max_bytes`` only caps each pull request (nats.go's
    ``PullMaxMessagesWithBytesLimit``)."""

    max_messages: int
    max_bytes: int | None
    expires: float
    heartbeat: float
    threshold_messages: int
    threshold_bytes: int
    priority: Priority
    track_bytes: bool = False
    stop_after: int | None = None
    on_event: EventHandler | None = None

    @property
    def capped(self) -> bool:
        """``max_messages`` and ``max_bytes`` together: each pull is capped at ``max_bytes``."""
        return self.max_bytes is not None and not self.track_bytes

    @classmethod
    def build(
        cls,
        info: ConsumerInfo | None = None,
        /,
        *,
        of: type[MessagesOptions] = PullMessagesOptions,
        **options: Unpack[PullMessagesOptions],
    ) -> ConsumeOptions:
        """Check ``options``, the keywords of ``of`` (priority options against ``info``, the
        consumer's), and fill in the defaults."""
        check_keys(options, of)
        max_messages = options.get("max_messages")
        max_bytes = options.get("max_bytes")
        threshold_messages = options.get("threshold_messages")
        threshold_bytes = options.get("threshold_bytes")
        stop_after = options.get("stop_after")
        check_positive("max_messages", max_messages)
        check_positive("max_bytes", max_bytes)
        check_positive("stop_after", stop_after)
        exp = seconds(options.get("expires", DEFAULT_EXPIRES), "expires")
        if exp < _MIN_EXPIRES:
            raise InvalidArgumentError(f"expires must be at least {_MIN_EXPIRES:g}s, got {exp:g}s")
        heartbeat = options.get("heartbeat")
        if heartbeat is None:
            hb = min(_MAX_HEARTBEAT, max(_MIN_HEARTBEAT, exp / 2))
        else:
            hb = seconds(heartbeat, "heartbeat")
            if hb < _MIN_HEARTBEAT - 1e-9 or 2 * hb > exp:
                raise InvalidArgumentError(
                    f"heartbeat must be between {_MIN_HEARTBEAT:g}s and half of expires, got {hb:g}s"
                )
        track_bytes = max_bytes is not None and max_messages is None
        if track_bytes:
            assert max_bytes is not None
            msgs = BYTES_ONLY_BATCH
            t_bytes = _threshold(threshold_bytes, max_bytes, "threshold_bytes")
            t_msgs = 0
            if threshold_messages is not None:
                raise InvalidArgumentError("threshold_messages goes with max_messages, not max_bytes alone")
        else:
            msgs = DEFAULT_MAX_MESSAGES if max_messages is None else max_messages
            t_msgs = _threshold(threshold_messages, msgs, "threshold_messages")
            t_bytes = 0
            if threshold_bytes is not None:
                raise InvalidArgumentError("threshold_bytes goes with max_bytes alone, not with max_messages")
        priority = priority_of(options, info)
        return cls(
            msgs,
            max_bytes,
            exp,
            hb,
            t_msgs,
            t_bytes,
            priority,
            track_bytes,
            stop_after,
            options.get("on_event"),
        )


def with_options_signature(
    options: type[Mapping[str, object]],
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Show the keywords of ``options`` in place of ``**options`` in the signature `help()` and
    `inspect.signature` give of the decorated method (type checkers read the `Unpack` already)."""

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        hints = get_type_hints(options)
        signature = inspect.signature(func)
        params = [p for p in signature.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
        params += [
            inspect.Parameter(
                name, inspect.Parameter.KEYWORD_ONLY, default=_DEFAULTS.get(name), annotation=hint
            )
            for name, hint in hints.items()
        ]
        func.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
        return func

    return decorate


def check_positive(name: str, value: int | None) -> int | None:
    """``value`` if it is None or a positive integer; else `InvalidArgumentError` naming ``name``."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise InvalidArgumentError(f"{name} must be a positive integer, got {value!r}")
    return value


def _threshold(value: int | None, limit: int, name: str) -> int:
    if value is None:
        return math.ceil(limit / 2)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= limit:
        raise InvalidArgumentError(f"{name} must be between 1 and {limit}, got {value!r}")
    return value

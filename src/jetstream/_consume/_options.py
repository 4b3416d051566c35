"""The options of continuous pulls, defined once: `ConsumeOptions` for ``messages()`` and
``consume()`` of a `Consumer` and of an `OrderedConsumer` (ADR-37), and `Priority`, the ADR-42
fields of a pull request. Each is validated once, when built; everything below takes the value.
"""

from __future__ import annotations

import math
from datetime import timedelta

import msgspec

from .._exceptions import InvalidArgumentError
from .._generated.models import ConsumerInfo
from .._time import seconds
from ._status import BYTES_ONLY_BATCH, DEFAULT_EXPIRES, DEFAULT_MAX_MESSAGES

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


class ConsumeOptions(msgspec.Struct, frozen=True):
    """The options of ``messages()`` / ``consume()`` (documented on `Consumer.messages`), checked
    and with their defaults filled in: build one with `ConsumeOptions.build`."""

    max_messages: int
    max_bytes: int | None
    expires: float
    heartbeat: float
    threshold_messages: int
    threshold_bytes: int
    priority: Priority

    @classmethod
    def build(
        cls,
        *,
        max_messages: int | None = None,
        max_bytes: int | None = None,
        expires: float | timedelta = DEFAULT_EXPIRES,
        heartbeat: float | timedelta | None = None,
        threshold_messages: int | None = None,
        threshold_bytes: int | None = None,
        priority: Priority = NO_PRIORITY,
    ) -> ConsumeOptions:
        if max_messages is not None and max_bytes is not None:
            raise InvalidArgumentError("give max_messages or max_bytes, not both (ADR-37)")
        for name, value in (("max_messages", max_messages), ("max_bytes", max_bytes)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise InvalidArgumentError(f"{name} must be a positive integer, got {value!r}")
        exp = seconds(expires, "expires")
        if exp < _MIN_EXPIRES:
            raise InvalidArgumentError(f"expires must be at least {_MIN_EXPIRES:g}s, got {exp:g}s")
        if heartbeat is None:
            hb = min(_MAX_HEARTBEAT, max(_MIN_HEARTBEAT, exp / 2))
        else:
            hb = seconds(heartbeat, "heartbeat")
            if hb < _MIN_HEARTBEAT - 1e-9 or 2 * hb > exp:
                raise InvalidArgumentError(
                    f"heartbeat must be between {_MIN_HEARTBEAT:g}s and half of expires, got {hb:g}s"
                )
        if max_bytes is not None:
            msgs = BYTES_ONLY_BATCH
            t_bytes = _threshold(threshold_bytes, max_bytes, "threshold_bytes")
            t_msgs = 0
            if threshold_messages is not None:
                raise InvalidArgumentError("threshold_messages goes with max_messages, not max_bytes")
        else:
            msgs = DEFAULT_MAX_MESSAGES if max_messages is None else max_messages
            t_msgs = _threshold(threshold_messages, msgs, "threshold_messages")
            t_bytes = 0
            if threshold_bytes is not None:
                raise InvalidArgumentError("threshold_bytes goes with max_bytes, not max_messages")
        return cls(msgs, max_bytes, exp, hb, t_msgs, t_bytes, priority)


def _threshold(value: int | None, limit: int, name: str) -> int:
    if value is None:
        return math.ceil(limit / 2)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= limit:
        raise InvalidArgumentError(f"{name} must be between 1 and {limit}, got {value!r}")
    return value

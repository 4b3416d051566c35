"""The options of a published message, defined once: `PublishOptions` (ADR-31 dedupe and
expectations, ADR-43 TTL, ADR-49 counters, ADR-51 schedules) and the headers they become.

The public methods (`JetStream.publish`, `publish_async`, `Batch.add` / `commit`, `BatchMessage`)
keep typed keyword arguments, which is what users type and mypy checks; each turns them into one
`PublishOptions` value, and everything below takes that value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, TypeAlias

import msgspec

from .._exceptions import InvalidArgumentError
from .._time import format_time, nanos
from .._transport._headers import Headers, MultiValueDict
from .._validate import check_header, check_subject

MSG_ID = "Nats-Msg-Id"
EXPECTED_STREAM = "Nats-Expected-Stream"
EXPECTED_LAST_SEQ = "Nats-Expected-Last-Sequence"
EXPECTED_LAST_SUBJECT_SEQ = "Nats-Expected-Last-Subject-Sequence"
EXPECTED_LAST_SUBJECT_SEQ_SUBJECT = "Nats-Expected-Last-Subject-Sequence-Subject"
EXPECTED_LAST_MSG_ID = "Nats-Expected-Last-Msg-Id"
TTL = "Nats-TTL"
INCR = "Nats-Incr"
SCHEDULE = "Nats-Schedule"
SCHEDULE_TARGET = "Nats-Schedule-Target"
SCHEDULE_SOURCE = "Nats-Schedule-Source"
SCHEDULE_TTL = "Nats-Schedule-TTL"
SCHEDULE_TIME_ZONE = "Nats-Schedule-Time-Zone"
SCHEDULE_ROLLUP = "Nats-Schedule-Rollup"

MessageTTL: TypeAlias = timedelta | float | Literal["never"]
"""A per-message TTL: whole seconds (number or timedelta), or ``"never"`` (ADR-43)."""

_NS = 1_000_000_000


def ttl_header(ttl: MessageTTL, what: str = "ttl") -> str:
    """ADR-43 wants whole seconds (or a Go duration), or "never"; refuse what would be silently rounded."""
    if ttl == "never":
        return "never"
    if isinstance(ttl, str):
        raise InvalidArgumentError(f"{what} must be seconds, a timedelta or 'never', got {ttl!r}")
    ns = nanos(ttl)
    if ns <= 0 or ns % _NS:
        raise InvalidArgumentError(f"{what} must be a positive whole number of seconds, got {ttl!r}")
    return f"{ns // _NS}s"


def _go_duration(ns: int) -> str:
    # Go's time.ParseDuration reads these units; pick the largest that is exact.
    for unit, size in (("s", _NS), ("ms", 1_000_000), ("us", 1_000)):
        if ns % size == 0:
            return f"{ns // size}{unit}"
    return f"{ns}ns"


def _sequence_text(name: str, value: int) -> str:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidArgumentError(f"{name} must be a non-negative int, got {value!r}")
    return str(value)


@dataclass(frozen=True, slots=True)
class Schedule:
    """A message schedule (ADR-51): the stream publishes this message's body and headers to
    ``target`` on ``pattern``. Build one with `Schedule.at`, `Schedule.every` or `Schedule.cron` and
    pass it as ``publish(..., schedule=...)`` on a subject of a stream with ``allow_msg_schedules``;
    the schedule subject holds one schedule (publishing again replaces it), and ``target`` must be a
    subject of the same stream.

    ``source``: publish the last message of this subject instead (sampling); ``ttl``: the TTL of the
    produced messages (the stream needs ``allow_msg_ttl``); ``rollup``: produced messages roll up
    their subject; ``time_zone``: an IANA zone for cron patterns (default UTC). The server refuses
    a bad schedule with `errors.MessageSchedulesPatternInvalidError`,
    `errors.MessageSchedulesTargetInvalidError` and friends; a stream without schedules with
    `errors.MessageSchedulesDisabledError`.
    """

    pattern: str
    target: str
    source: str | None = None
    ttl: MessageTTL | None = None
    time_zone: str | None = None
    rollup: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.pattern, str) or not self.pattern.strip():
            raise InvalidArgumentError("a schedule pattern must be a non-empty string")
        check_subject("schedule target", self.target, wildcards=False)
        if self.source is not None:
            check_subject("schedule source", self.source, wildcards=False)
        if self.ttl is not None:
            ttl_header(self.ttl, "schedule ttl")
        if self.time_zone is not None:
            if not isinstance(self.time_zone, str) or not self.time_zone:
                raise InvalidArgumentError("a schedule time zone must be a non-empty string")
            if self.pattern.startswith(("@at ", "@every ")):
                raise InvalidArgumentError("a time zone applies only to cron schedules")

    @classmethod
    def at(
        cls,
        when: datetime,
        target: str,
        *,
        source: str | None = None,
        ttl: MessageTTL | None = None,
        rollup: bool = False,
    ) -> Schedule:
        """Publish once, at ``when`` (timezone-aware; a time in the past fires at once). The
        schedule message is removed once it fired."""
        return cls(f"@at {format_time(when)}", target, source=source, ttl=ttl, rollup=rollup)

    @classmethod
    def every(
        cls,
        interval: timedelta | float,
        target: str,
        *,
        source: str | None = None,
        ttl: MessageTTL | None = None,
        rollup: bool = False,
    ) -> Schedule:
        """Publish every ``interval`` (at least one second; the server refuses shorter)."""
        ns = nanos(interval)
        if ns < _NS:
            raise InvalidArgumentError(f"a schedule interval must be at least 1 second, got {interval!r}")
        return cls(f"@every {_go_duration(ns)}", target, source=source, ttl=ttl, rollup=rollup)

    @classmethod
    def cron(
        cls,
        expression: str,
        target: str,
        *,
        time_zone: str | None = None,
        source: str | None = None,
        ttl: MessageTTL | None = None,
        rollup: bool = False,
    ) -> Schedule:
        """Publish on a 6-field cron expression (``"0 30 * * * *"``: seconds first) or a predefined
        one (``"@hourly"``, ``"@daily"`` ...), in UTC unless ``time_zone`` names an IANA zone."""
        return cls(expression, target, source=source, ttl=ttl, time_zone=time_zone, rollup=rollup)

    def headers(self) -> dict[str, str]:
        """The ``Nats-Schedule*`` headers of this schedule."""
        out = {SCHEDULE: self.pattern, SCHEDULE_TARGET: self.target}
        if self.source is not None:
            out[SCHEDULE_SOURCE] = self.source
        if self.ttl is not None:
            out[SCHEDULE_TTL] = ttl_header(self.ttl, "schedule ttl")
        if self.time_zone is not None:
            out[SCHEDULE_TIME_ZONE] = self.time_zone
        if self.rollup:
            out[SCHEDULE_ROLLUP] = "sub"
        return out


class PublishOptions(msgspec.Struct, frozen=True, kw_only=True):
    """The options of one published message; the meaning of each is documented on
    `JetStream.publish`. Checked when turned into headers (`headers`), before anything is sent."""

    msg_id: str | None = None
    expected_stream: str | None = None
    expected_last_seq: int | None = None
    expected_last_subject_seq: int | None = None
    expected_last_subject_seq_subject: str | None = None
    expected_last_msg_id: str | None = None
    ttl: MessageTTL | None = None
    incr: int | None = None
    schedule: Schedule | None = None

    def headers(self, headers: Mapping[str, str] | Headers | None) -> dict[str, str] | None:
        """The headers of the message: the user's ``headers``, overridden by these options. The
        user's mapping is copied, never changed; None when there are none. A `Headers` with
        repeated names keeps every value. Names and values must be str (names non-empty, without
        ':', CR, LF; values without CR, LF): `errors.InvalidArgumentError` otherwise."""
        if not headers and self == NO_OPTIONS:
            return None  # most publishes: no dicts to build
        if headers and not isinstance(headers, Mapping):
            raise InvalidArgumentError(
                f"headers must be a mapping of str to str, got {type(headers).__name__}"
            )
        hdrs = (headers.to_dict() if isinstance(headers, Headers) else dict(headers)) if headers else {}
        user = dict(hdrs)
        if self.msg_id is not None:
            hdrs[MSG_ID] = self.msg_id
        if self.expected_stream is not None:
            hdrs[EXPECTED_STREAM] = self.expected_stream
        if self.expected_last_seq is not None:
            hdrs[EXPECTED_LAST_SEQ] = _sequence_text("expected_last_seq", self.expected_last_seq)
        if self.expected_last_subject_seq is not None:
            hdrs[EXPECTED_LAST_SUBJECT_SEQ] = _sequence_text(
                "expected_last_subject_seq", self.expected_last_subject_seq
            )
        if self.expected_last_subject_seq_subject is not None:
            if self.expected_last_subject_seq is None:
                raise InvalidArgumentError(
                    "expected_last_subject_seq_subject needs expected_last_subject_seq"
                )
            check_subject("expected_last_subject_seq_subject", self.expected_last_subject_seq_subject)
            hdrs[EXPECTED_LAST_SUBJECT_SEQ_SUBJECT] = self.expected_last_subject_seq_subject
        if self.expected_last_msg_id is not None:
            hdrs[EXPECTED_LAST_MSG_ID] = self.expected_last_msg_id
        if self.ttl is not None:
            hdrs[TTL] = ttl_header(self.ttl)
        if self.incr is not None:
            if isinstance(self.incr, bool) or not isinstance(self.incr, int):
                raise InvalidArgumentError(f"incr must be an int, got {self.incr!r}")
            hdrs[INCR] = f"{self.incr:+d}"
        if self.schedule is not None:
            if not isinstance(self.schedule, Schedule):
                raise InvalidArgumentError(f"schedule must be a Schedule, got {self.schedule!r}")
            hdrs.update(self.schedule.headers())
        if isinstance(hdrs, MultiValueDict):
            # An option replaces every value of its header; the user's other repeats are kept.
            options = {k: v for k, v in dict.items(hdrs) if k not in user or user[k] != v}
            pairs = [(k, v) for k, v in hdrs.pairs if k not in options] + list(options.items())
            for name, value in pairs:
                check_header(name, value)
            return MultiValueDict(dict(dict.items(hdrs)), pairs)
        # Checked here, once, for the user's headers and the options' values alike: nats-py would fail
        # with an AttributeError on a non-str, and CR/LF would corrupt the header block.
        for name, value in hdrs.items():
            check_header(name, value)
        return hdrs or None


NO_OPTIONS = PublishOptions()
"""A publish without options."""

"""The consumer entry points (ADR-37): get, create, update, ordered. `JetStream` and `Stream`
delegate here.

Getting a consumer never creates or changes it; creating refuses an existing consumer configured
otherwise with `errors.ConsumerConfigMismatchError`, which names the fields that differ.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import msgspec

from .._core import DEFAULT, Timeout
from .._exceptions import ConsumerConfigMismatchError, InvalidArgumentError
from .._generated.errors import ConsumerAlreadyExistsError
from .._generated.models import ConsumerConfig, DeliverPolicy, ReplayPolicy
from .._time import seconds
from .._validate import check_name, check_subject
from ._api import ConsumerAPI
from ._options import check_positive
from ._ordered import OrderedConfig, OrderedConsumer, start_ordered
from ._ordered_streams import INACTIVE_THRESHOLD as DEFAULT_INACTIVE
from ._pull import Consumer

# DEFAULT_INACTIVE: the default of `JetStream.ordered_consumer`, the ordered consumer's one constant.
__all__ = [
    "DEFAULT_INACTIVE",
    "config_differences",
    "get_consumer",
    "ordered_config",
    "ordered_consumer",
    "put_consumer",
]

# Fields compared as one: the server may store a single filter in either form.
_FILTER_FIELDS = ("filter_subject", "filter_subjects")
_NAME_FIELDS = ("name", "durable_name")


def _filters(config: ConsumerConfig) -> list[str]:
    if config.filter_subjects:
        return sorted(config.filter_subjects)
    return [config.filter_subject] if config.filter_subject else []


def _same(wanted: Any, actual: Any) -> bool:
    if isinstance(wanted, Mapping) and isinstance(actual, Mapping):
        # The server adds its own metadata (_nats.*); only the caller's keys count.
        return all(actual.get(k) == v for k, v in wanted.items())
    if isinstance(wanted, (list, tuple)) and isinstance(actual, (list, tuple)):
        return len(wanted) == len(actual) and all(_same(w, a) for w, a in zip(wanted, actual, strict=True))
    return bool(wanted == actual)


def config_differences(wanted: ConsumerConfig, actual: ConsumerConfig) -> list[str]:
    """The fields set in `wanted` whose value in `actual` differs (unset fields are server defaults
    and are not compared)."""
    fields: list[str] = []
    for name in wanted.__struct_fields__:
        value = getattr(wanted, name)
        if value is None or name in _NAME_FIELDS:
            continue
        if name in _FILTER_FIELDS:
            if _filters(wanted) != _filters(actual) and name not in fields:
                fields.append(name)
            continue
        if not _same(value, getattr(actual, name)):
            fields.append(name)
    return fields


async def get_consumer(js: ConsumerAPI, stream: str, name: str, *, timeout: Timeout = DEFAULT) -> Consumer:
    """A handle on an existing consumer (one CONSUMER.INFO request; nothing is changed)."""
    return Consumer(js, await js.consumer_info(stream, name, timeout=timeout))


async def put_consumer(
    js: ConsumerAPI,
    stream: str,
    config: ConsumerConfig | str,
    action: str | None,
    *,
    timeout: Timeout = DEFAULT,
) -> Consumer:
    """CONSUMER.CREATE with `action` ("create", "update" or None for either)."""
    if isinstance(config, str):
        config = ConsumerConfig(name=config, durable_name=config)
    if not isinstance(config, ConsumerConfig):
        raise InvalidArgumentError(f"config must be a ConsumerConfig or a name, got {type(config).__name__}")
    try:
        info = await js.consumer_create(stream, config, action=action, timeout=timeout)
    except ConsumerAlreadyExistsError as exc:
        name = config.name or config.durable_name
        if name is None:
            raise
        existing = await js.consumer_info(stream, name, timeout=timeout)
        # The SDK's own default (explicit acks) counts as set by the caller.
        wanted = (
            config
            if config.ack_policy is not None
            else msgspec.structs.replace(config, ack_policy="explicit")
        )
        fields = config_differences(wanted, existing.config)
        if not fields:
            raise
        raise ConsumerConfigMismatchError(stream, name, fields) from exc
    return Consumer(js, info)


def ordered_config(
    stream: str,
    *,
    filter_subjects: Sequence[str] | str | None,
    deliver_policy: DeliverPolicy | str,
    opt_start_seq: int | None,
    opt_start_time: datetime | None,
    headers_only: bool,
    replay_policy: ReplayPolicy | str,
    inactive_threshold: timedelta | float,
    metadata: dict[str, str] | None,
    name_prefix: str | None = None,
    max_reset_attempts: int | None = None,
) -> OrderedConfig:
    """The checked options of an ordered consumer on ``stream`` (see `JetStream.ordered_consumer`;
    the push flavour takes the same)."""
    check_name("stream", stream)
    if isinstance(filter_subjects, str):
        filter_subjects = [filter_subjects]
    filters = tuple(filter_subjects or ())
    for subject in filters:
        check_subject("filter", subject)
    if opt_start_seq is not None:
        if opt_start_seq < 1:
            raise InvalidArgumentError(f"opt_start_seq must be at least 1, got {opt_start_seq}")
        deliver_policy = "by_start_sequence"
    if opt_start_time is not None:
        if opt_start_seq is not None:
            raise InvalidArgumentError("give opt_start_seq or opt_start_time, not both")
        deliver_policy = "by_start_time"
    inactive = (
        inactive_threshold
        if isinstance(inactive_threshold, timedelta)
        else timedelta(seconds=seconds(inactive_threshold, "inactive_threshold"))
    )
    if inactive <= timedelta(0):
        raise InvalidArgumentError(f"inactive_threshold must be positive, got {inactive_threshold!r}")
    if name_prefix is not None:
        check_name("consumer", name_prefix)
    check_positive("max_reset_attempts", max_reset_attempts)
    return OrderedConfig(
        filter_subjects=filters,
        deliver_policy=deliver_policy,
        opt_start_seq=opt_start_seq,
        opt_start_time=opt_start_time,
        headers_only=headers_only,
        replay_policy=replay_policy,
        inactive_threshold=inactive,
        metadata=metadata,
        name_prefix=name_prefix,
        max_reset_attempts=max_reset_attempts,
    )


async def ordered_consumer(
    api: ConsumerAPI, stream: str, config: OrderedConfig, timeout: Timeout
) -> OrderedConsumer:
    """An `OrderedConsumer` on ``stream``, its first server consumer created."""
    return await start_ordered(api, stream, config, api._core.timeout(timeout))

"""Key/Value bucket management (ADR-8 "KV Management"): create, update, bind, delete and list
buckets. `JetStream`'s Key/Value methods delegate here; what is not KV-specific is `BucketStreams`."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal, Protocol, TypedDict

import msgspec

from .._core import DEFAULT, Timeout, merge_config
from .._exceptions import (
    BucketExistsError,
    BucketNotFoundError,
    HistoryTooLargeError,
    InvalidArgumentError,
    LimitMarkersNotSupportedError,
)
from .._generated.models import (
    AccountInfo,
    Placement,
    Republish,
    StorageType,
    StreamConfig,
    StreamSource,
    SubjectTransform,
)
from .._stream import BucketStreams, StreamsAPI
from .._time import Duration, nanos
from .._validate import check_bucket
from ._api import KeyValueAPI
from ._bucket import MAX_HISTORY, STREAM_PREFIX, KeyValue, KeyValueConfig, KeyValueStatus

__all__ = [
    "KeyValueManagerAPI",
    "KeyValueOptions",
    "delete_key_value",
    "key_value",
    "key_value_buckets",
    "key_value_stream_config",
    "put_key_value",
]

# ADR-8: the duplicate window is at most 2 minutes, and never longer than the TTL.
_MAX_DUPLICATE_WINDOW_NS = 120 * 1_000_000_000
_NS_PER_S = 1_000_000_000
# Only listing streams that capture some `$KV.<bucket>.>` finds buckets (as nats.go does).
BUCKETS = BucketStreams(STREAM_PREFIX, "$KV.*.>", BucketExistsError, BucketNotFoundError)


def _positive_ns(name: str, value: timedelta | float | None) -> int:
    if value is None:
        return 0
    ns = nanos(value)
    if ns < 0:
        raise InvalidArgumentError(f"{name} must not be negative, got {value!r}")
    return ns


def key_value_stream_config(config: KeyValueConfig, *, api_level: int | None = None) -> StreamConfig:
    """The stream a bucket is (ADR-8), with ADR-48 limit markers and ADR-57 mirrors/sources.

    ``api_level`` is the server's JetStream API level; it must be given (and >= 1) when
    ``limit_marker_ttl`` is set.
    """
    bucket = check_bucket(config.bucket)
    history = config.history
    if isinstance(history, bool) or not isinstance(history, int) or not 1 <= history <= MAX_HISTORY:
        raise HistoryTooLargeError(history)
    ttl_ns = _positive_ns("ttl", config.ttl)
    marker_ns = _positive_ns("limit_marker_ttl", config.limit_marker_ttl)
    allow_msg_ttl: bool | None = None
    marker_ttl: Duration | None = None
    if marker_ns:
        if marker_ns < _NS_PER_S:
            raise InvalidArgumentError(
                f"limit_marker_ttl must be at least 1 second, got {config.limit_marker_ttl!r}"
            )
        if api_level is None or api_level < 1:
            raise LimitMarkersNotSupportedError(bucket, api_level or 0)
        allow_msg_ttl = True
        marker_ttl = Duration(marker_ns)
    duplicate_window = min(ttl_ns, _MAX_DUPLICATE_WINDOW_NS) if ttl_ns else _MAX_DUPLICATE_WINDOW_NS
    cfg = StreamConfig(
        name=STREAM_PREFIX + bucket,
        description=config.description,
        retention="limits",
        max_consumers=-1,
        max_msgs=-1,
        max_msgs_per_subject=history,
        max_bytes=config.max_bytes,
        max_age=Duration(ttl_ns),
        max_msg_size=config.max_value_size,
        storage=config.storage,
        compression="s2" if config.compression else "none",
        num_replicas=config.replicas,
        discard="new",
        duplicate_window=Duration(duplicate_window),
        placement=config.placement,
        deny_delete=True,
        allow_rollup_hdrs=True,
        allow_direct=True,
        republish=config.republish,
        metadata=dict(config.metadata) if config.metadata is not None else None,
        allow_msg_ttl=allow_msg_ttl,
        subject_delete_marker_ttl=marker_ttl,
    )
    if config.mirror is not None:
        # ADR-57: a mirror names the origin's stream and answers direct gets for it.
        mirror = msgspec.structs.replace(config.mirror)
        if not mirror.name.startswith(STREAM_PREFIX):
            mirror.name = STREAM_PREFIX + mirror.name
        cfg.mirror = mirror
        cfg.mirror_direct = True
        return cfg
    if config.sources:
        sources: list[StreamSource] = []
        for given in config.sources:
            if given.subject_transforms:
                # Custom transforms (e.g. a plain stream as a source) are used exactly as given.
                sources.append(given)
                continue
            source = msgspec.structs.replace(given)
            origin = source.name.removeprefix(STREAM_PREFIX)
            source.name = STREAM_PREFIX + origin
            # The same bucket in another domain keeps its subjects; anything else is mapped.
            if source.external is None or origin != bucket:
                source.subject_transforms = [SubjectTransform(src=f"$KV.{origin}.>", dest=f"$KV.{bucket}.>")]
            sources.append(source)
        cfg.sources = sources
    cfg.subjects = [f"$KV.{bucket}.>"]
    return cfg


class KeyValueOptions(TypedDict, total=False):
    """The keyword options of `JetStream.create_key_value`, `update_key_value` and
    `create_or_update_key_value`. Each sets the `KeyValueConfig` field of its name; one that is not
    given (or None) keeps the value of the config passed, else the field's default."""

    description: str | None
    history: int | None
    ttl: timedelta | None
    max_value_size: int | None
    max_bytes: int | None
    storage: StorageType | str | None
    replicas: int | None
    placement: Placement | None
    republish: Republish | None
    mirror: StreamSource | None
    sources: list[StreamSource] | None
    compression: bool | None
    limit_marker_ttl: timedelta | None
    metadata: dict[str, str] | None


_OPTIONS = frozenset(KeyValueOptions.__annotations__)


class KeyValueManagerAPI(KeyValueAPI, StreamsAPI, Protocol):
    """What managing buckets needs of the client: a bucket's endpoints, stream management, and the
    account's API level (ADR-48)."""

    async def account_info(self, *, timeout: Timeout = DEFAULT) -> AccountInfo: ...


def key_value_config(config: KeyValueConfig | str, options: KeyValueOptions) -> KeyValueConfig:
    """``config`` (or a bucket name) with the options that were given."""
    unknown = sorted(options.keys() - _OPTIONS)
    if unknown:
        raise TypeError(f"unexpected keyword argument {unknown[0]!r}")
    return merge_config(KeyValueConfig, config, ("bucket",), options, {})


async def put_key_value(
    api: KeyValueManagerAPI,
    config: KeyValueConfig | str,
    options: KeyValueOptions,
    mode: Literal["create", "update"] | None,
    *,
    timeout: Timeout,
) -> KeyValue:
    """Create (``mode`` "create"), update ("update"), or update or create (None) the bucket (see
    `JetStream.create_key_value` ...)."""
    cfg = key_value_config(config, options)
    level = None
    if cfg.limit_marker_ttl is not None and nanos(cfg.limit_marker_ttl) > 0:
        # ADR-48: ask the JetStream we manage (not the server we are connected to).
        level = (await api.account_info(timeout=timeout)).api.level
    scfg = key_value_stream_config(cfg, api_level=level)
    return KeyValue(api, await BUCKETS.put(api, cfg.bucket, scfg, mode, timeout=timeout))


async def key_value(api: KeyValueAPI, bucket: str, *, timeout: Timeout) -> KeyValue:
    """A handle on an existing bucket (see `JetStream.key_value`)."""
    info = await BUCKETS.info(api, check_bucket(bucket), timeout=timeout)
    if (info.config.max_msgs_per_subject or 0) < 1:
        raise BucketNotFoundError(bucket, f"stream {info.config.name!r} is not a key/value bucket")
    return KeyValue(api, info)


async def delete_key_value(api: StreamsAPI, bucket: str, *, timeout: Timeout) -> None:
    """Delete a bucket (see `JetStream.delete_key_value`)."""
    await BUCKETS.delete(api, check_bucket(bucket), timeout=timeout)


async def key_value_buckets(api: StreamsAPI, *, timeout: Timeout) -> list[KeyValueStatus]:
    """The status of every bucket (every page)."""
    return [KeyValueStatus(bucket, info) for bucket, info in await BUCKETS.infos(api, timeout=timeout)]

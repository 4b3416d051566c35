"""Object store management (ADR-20 ``ObjectStoreManager``): create, update, bind, delete and list
stores. `JetStream`'s Object Store methods delegate here; what is not specific to stores is
`BucketStreams`."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal, Protocol, TypedDict

from .._core import Timeout, merge_config
from .._exceptions import InvalidArgumentError, ObjectStoreExistsError, ObjectStoreNotFoundError
from .._generated.models import Placement, StorageType, StreamConfig, StreamInfo
from .._stream import BucketStreams, StreamsAPI
from .._time import Duration, nanos
from .._validate import check_bucket
from ._store import ObjectStore, ObjectStoreAPI
from ._types import STREAM_PREFIX, ObjectStoreConfig, ObjectStoreStatus

__all__ = [
    "ObjectStoreManagerAPI",
    "ObjectStoreOptions",
    "delete_object_store",
    "object_store",
    "object_store_stream_config",
    "object_stores",
    "put_object_store",
]

# Only streams capturing some `$O.<bucket>.C.>` are listed as stores (as nats.go does).
STORES = BucketStreams(STREAM_PREFIX, "$O.*.C.>", ObjectStoreExistsError, ObjectStoreNotFoundError)


def object_store_stream_config(config: ObjectStoreConfig) -> StreamConfig:
    """The stream an object store is (ADR-20 "Stream Configuration and Subject Templates")."""
    bucket = check_bucket(config.bucket, "object store")
    ttl_ns = 0 if config.ttl is None else nanos(config.ttl)
    if ttl_ns < 0:
        raise InvalidArgumentError(f"ttl must not be negative, got {config.ttl!r}")
    return StreamConfig(
        name=STREAM_PREFIX + bucket,
        description=config.description,
        subjects=[f"$O.{bucket}.C.>", f"$O.{bucket}.M.>"],
        max_age=Duration(ttl_ns),
        max_bytes=config.max_bytes,
        storage=config.storage,
        num_replicas=config.replicas,
        placement=config.placement,
        discard="new",
        allow_rollup_hdrs=True,
        allow_direct=True,
        compression="s2" if config.compression else "none",
        metadata=dict(config.metadata) if config.metadata is not None else None,
    )


def _is_store(info: StreamInfo) -> bool:
    bucket = info.config.name.removeprefix(STREAM_PREFIX)
    return f"$O.{bucket}.C.>" in (info.config.subjects or ())


class ObjectStoreOptions(TypedDict, total=False):
    """The keyword options of `JetStream.create_object_store`, `update_object_store` and
    `create_or_update_object_store`. Each sets the `ObjectStoreConfig` field of its name; one that is
    not given (or None) keeps the value of the config passed, else the field's default."""

    description: str | None
    ttl: timedelta | None
    max_bytes: int | None
    storage: StorageType | str | None
    replicas: int | None
    placement: Placement | None
    compression: bool | None
    metadata: dict[str, str] | None


_OPTIONS = frozenset(ObjectStoreOptions.__annotations__)


class ObjectStoreManagerAPI(ObjectStoreAPI, StreamsAPI, Protocol):
    """What managing object stores needs of the client: a store's endpoints and stream management."""


def object_store_config(config: ObjectStoreConfig | str, options: ObjectStoreOptions) -> ObjectStoreConfig:
    """``config`` (or a store name) with the options that were given."""
    unknown = sorted(options.keys() - _OPTIONS)
    if unknown:
        raise TypeError(f"unexpected keyword argument {unknown[0]!r}")
    return merge_config(ObjectStoreConfig, config, ("bucket",), options, {})


async def put_object_store(
    api: ObjectStoreManagerAPI,
    config: ObjectStoreConfig | str,
    options: ObjectStoreOptions,
    mode: Literal["create", "update"] | None,
    *,
    timeout: Timeout,
) -> ObjectStore:
    """Create (``mode`` "create"), update ("update"), or update or create (None) the store (see
    `JetStream.create_object_store` ...)."""
    cfg = object_store_config(config, options)
    scfg = object_store_stream_config(cfg)
    return ObjectStore(api, await STORES.put(api, cfg.bucket, scfg, mode, timeout=timeout))


async def object_store(api: ObjectStoreAPI, bucket: str, *, timeout: Timeout) -> ObjectStore:
    """A handle on an existing store (see `JetStream.object_store`)."""
    info = await STORES.info(api, check_bucket(bucket, "object store"), timeout=timeout)
    if not _is_store(info):
        raise ObjectStoreNotFoundError(bucket, f"stream {info.config.name!r} is not an object store")
    return ObjectStore(api, info)


async def delete_object_store(api: StreamsAPI, bucket: str, *, timeout: Timeout) -> None:
    """Delete a store (see `JetStream.delete_object_store`)."""
    await STORES.delete(api, check_bucket(bucket, "object store"), timeout=timeout)


async def object_stores(api: StreamsAPI, *, timeout: Timeout) -> list[ObjectStoreStatus]:
    """The status of every object store (every page)."""
    return [ObjectStoreStatus(bucket, info) for bucket, info in await STORES.infos(api, timeout=timeout)]

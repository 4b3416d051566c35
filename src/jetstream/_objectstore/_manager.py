"""Object store management (ADR-20 ``ObjectStoreManager``): create, update, bind, delete and list
stores. `JetStream`'s methods of the same names delegate here."""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol, TypedDict

from .._core import Timeout, merge_config
from .._exceptions import InvalidArgumentError, ObjectStoreExistsError, ObjectStoreNotFoundError
from .._generated.errors import StreamNameExistError, StreamNotFoundError
from .._generated.models import Placement, StorageType, StreamConfig, StreamInfo
from .._stream import StreamsAPI
from .._time import Duration, nanos
from ._store import ObjectStore, ObjectStoreAPI
from ._types import STREAM_PREFIX, ObjectStoreConfig, ObjectStoreStatus, check_bucket

__all__ = [
    "ObjectStoreManagerAPI",
    "ObjectStoreOptions",
    "create_object_store",
    "create_or_update_object_store",
    "delete_object_store",
    "object_store",
    "object_store_names",
    "object_stores",
    "stream_config",
    "update_object_store",
]

# Only streams capturing some `$O.<bucket>.C.>` are listed as stores (as nats.go does).
_STORE_SUBJECTS = "$O.*.C.>"


def stream_config(config: ObjectStoreConfig) -> StreamConfig:
    """The stream an object store is (ADR-20 "Stream Configuration and Subject Templates")."""
    bucket = check_bucket(config.bucket)
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


async def create_object_store(
    api: ObjectStoreManagerAPI,
    config: ObjectStoreConfig | str,
    options: ObjectStoreOptions,
    *,
    timeout: Timeout,
) -> ObjectStore:
    """Create the store (see `JetStream.create_object_store`)."""
    scfg = stream_config(object_store_config(config, options))
    try:
        info = await api.stream_create(scfg, timeout=timeout)
    except StreamNameExistError as exc:
        raise ObjectStoreExistsError(scfg.name.removeprefix(STREAM_PREFIX)) from exc
    return ObjectStore(api, info)


async def update_object_store(
    api: ObjectStoreManagerAPI,
    config: ObjectStoreConfig | str,
    options: ObjectStoreOptions,
    *,
    timeout: Timeout,
) -> ObjectStore:
    """Update the store (see `JetStream.update_object_store`)."""
    scfg = stream_config(object_store_config(config, options))
    try:
        info = await api.stream_update(scfg, timeout=timeout)
    except StreamNotFoundError as exc:
        raise ObjectStoreNotFoundError(scfg.name.removeprefix(STREAM_PREFIX)) from exc
    return ObjectStore(api, info)


async def create_or_update_object_store(
    api: ObjectStoreManagerAPI,
    config: ObjectStoreConfig | str,
    options: ObjectStoreOptions,
    *,
    timeout: Timeout,
) -> ObjectStore:
    """Update the store, or create it (see `JetStream.create_or_update_object_store`)."""
    scfg = stream_config(object_store_config(config, options))
    info: StreamInfo
    try:
        info = await api.stream_update(scfg, timeout=timeout)
    except StreamNotFoundError:
        try:
            info = await api.stream_create(scfg, timeout=timeout)
        except StreamNameExistError as exc:  # created meanwhile, differently
            raise ObjectStoreExistsError(scfg.name.removeprefix(STREAM_PREFIX)) from exc
    return ObjectStore(api, info)


async def object_store(api: ObjectStoreAPI, bucket: str, *, timeout: Timeout) -> ObjectStore:
    """A handle on an existing store (see `JetStream.object_store`)."""
    check_bucket(bucket)
    try:
        info = await api.stream_info(STREAM_PREFIX + bucket, timeout=timeout)
    except StreamNotFoundError as exc:
        raise ObjectStoreNotFoundError(bucket) from exc
    if not _is_store(info):
        raise ObjectStoreNotFoundError(bucket, f"stream {info.config.name!r} is not an object store")
    return ObjectStore(api, info)


async def delete_object_store(api: StreamsAPI, bucket: str, *, timeout: Timeout) -> None:
    """Delete a store (see `JetStream.delete_object_store`)."""
    check_bucket(bucket)
    try:
        await api.stream_delete(STREAM_PREFIX + bucket, timeout=timeout)
    except StreamNotFoundError as exc:
        raise ObjectStoreNotFoundError(bucket) from exc


async def object_store_names(api: StreamsAPI, *, timeout: Timeout) -> list[str]:
    """The names of every object store (every page)."""
    names = await api.stream_names(subject=_STORE_SUBJECTS, timeout=timeout)
    return [n.removeprefix(STREAM_PREFIX) for n in names if n.startswith(STREAM_PREFIX)]


async def object_stores(api: StreamsAPI, *, timeout: Timeout) -> list[ObjectStoreStatus]:
    """The status of every object store (every page)."""
    infos = await api.stream_list(subject=_STORE_SUBJECTS, timeout=timeout)
    return [
        ObjectStoreStatus(i.config.name.removeprefix(STREAM_PREFIX), i)
        for i in infos
        if i.config.name.startswith(STREAM_PREFIX)
    ]

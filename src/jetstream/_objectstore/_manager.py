"""Object store management on `JetStream` (ADR-20 ``ObjectStoreManager``): create, update, bind,
delete and list stores."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING

from .._core import DEFAULT, Timeout, merge_config
from .._exceptions import InvalidArgumentError, ObjectStoreExistsError, ObjectStoreNotFoundError
from .._generated.api import GeneratedAPI
from .._generated.errors import StreamNameExistError, StreamNotFoundError
from .._generated.models import Placement, PubAck, StorageType, StreamConfig, StreamInfo
from .._public import provide
from .._time import Duration, nanos
from .._transport import Connection
from . import _store
from ._store import ObjectStore
from ._types import STREAM_PREFIX, ObjectStoreConfig, ObjectStoreStatus, check_bucket

__all__ = ["ObjectStoreMixin", "stream_config"]

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


class ObjectStoreMixin(GeneratedAPI):
    """Object stores on `JetStream` (ADR-20 ``ObjectStoreManager``)."""

    if TYPE_CHECKING:
        # Supplied by `JetStream`; declared so that an `ObjectStore` can publish.
        @property
        def connection(self) -> Connection: ...

        async def publish(
            self,
            subject: str,
            data: bytes = b"",
            *,
            headers: Mapping[str, str] | None = None,
            timeout: Timeout = DEFAULT,
        ) -> PubAck: ...

        async def publish_async(
            self,
            subject: str,
            data: bytes = b"",
            *,
            headers: Mapping[str, str] | None = None,
            timeout: Timeout = DEFAULT,
        ) -> asyncio.Future[PubAck]: ...

    async def create_object_store(
        self,
        config: ObjectStoreConfig | str,
        /,
        *,
        description: str | None = None,
        ttl: timedelta | None = None,
        max_bytes: int | None = None,
        storage: StorageType | str | None = None,
        replicas: int | None = None,
        placement: Placement | None = None,
        compression: bool | None = None,
        metadata: dict[str, str] | None = None,
        timeout: Timeout = DEFAULT,
    ) -> ObjectStore:
        """Create an object store (an `ObjectStoreConfig`, or a name with keyword options) and
        return its handle. Creating it again with the same configuration is fine; with another one
        it raises `errors.ObjectStoreExistsError`. Raises `errors.InvalidNameError` before sending
        for a name that is not letters, digits, '-' and '_'."""
        scfg = stream_config(_merge(config, locals()))
        try:
            info = await self.stream_create(scfg, timeout=timeout)
        except StreamNameExistError as exc:
            raise ObjectStoreExistsError(scfg.name.removeprefix(STREAM_PREFIX)) from exc
        return ObjectStore(self, info)

    async def update_object_store(
        self,
        config: ObjectStoreConfig | str,
        /,
        *,
        description: str | None = None,
        ttl: timedelta | None = None,
        max_bytes: int | None = None,
        storage: StorageType | str | None = None,
        replicas: int | None = None,
        placement: Placement | None = None,
        compression: bool | None = None,
        metadata: dict[str, str] | None = None,
        timeout: Timeout = DEFAULT,
    ) -> ObjectStore:
        """Update an existing store to this configuration (options not given take their defaults,
        as on create); raises `errors.ObjectStoreNotFoundError` when there is none."""
        scfg = stream_config(_merge(config, locals()))
        try:
            info = await self.stream_update(scfg, timeout=timeout)
        except StreamNotFoundError as exc:
            raise ObjectStoreNotFoundError(scfg.name.removeprefix(STREAM_PREFIX)) from exc
        return ObjectStore(self, info)

    async def create_or_update_object_store(
        self,
        config: ObjectStoreConfig | str,
        /,
        *,
        description: str | None = None,
        ttl: timedelta | None = None,
        max_bytes: int | None = None,
        storage: StorageType | str | None = None,
        replicas: int | None = None,
        placement: Placement | None = None,
        compression: bool | None = None,
        metadata: dict[str, str] | None = None,
        timeout: Timeout = DEFAULT,
    ) -> ObjectStore:
        """Update the store if it exists, else create it."""
        scfg = stream_config(_merge(config, locals()))
        info: StreamInfo
        try:
            info = await self.stream_update(scfg, timeout=timeout)
        except StreamNotFoundError:
            try:
                info = await self.stream_create(scfg, timeout=timeout)
            except StreamNameExistError as exc:  # created meanwhile, differently
                raise ObjectStoreExistsError(scfg.name.removeprefix(STREAM_PREFIX)) from exc
        return ObjectStore(self, info)

    async def object_store(self, bucket: str, /, *, timeout: Timeout = DEFAULT) -> ObjectStore:
        """A handle on an existing store; raises `errors.ObjectStoreNotFoundError` when there is
        none (or the stream of that name is not an object store)."""
        check_bucket(bucket)
        try:
            info = await self.stream_info(STREAM_PREFIX + bucket, timeout=timeout)
        except StreamNotFoundError as exc:
            raise ObjectStoreNotFoundError(bucket) from exc
        if not _is_store(info):
            raise ObjectStoreNotFoundError(bucket, f"stream {info.config.name!r} is not an object store")
        return ObjectStore(self, info)

    async def delete_object_store(self, bucket: str, /, *, timeout: Timeout = DEFAULT) -> None:
        """Delete a store with all its objects; raises `errors.ObjectStoreNotFoundError` when
        there is none."""
        check_bucket(bucket)
        try:
            await self.stream_delete(STREAM_PREFIX + bucket, timeout=timeout)
        except StreamNotFoundError as exc:
            raise ObjectStoreNotFoundError(bucket) from exc

    async def object_store_names(self, *, timeout: Timeout = DEFAULT) -> list[str]:
        """The names of every object store (every page)."""
        names = await self.stream_names(subject=_STORE_SUBJECTS, timeout=timeout)
        return [n.removeprefix(STREAM_PREFIX) for n in names if n.startswith(STREAM_PREFIX)]

    async def object_stores(self, *, timeout: Timeout = DEFAULT) -> list[ObjectStoreStatus]:
        """The status of every object store (every page)."""
        infos = await self.stream_list(subject=_STORE_SUBJECTS, timeout=timeout)
        return [
            ObjectStoreStatus(i.config.name.removeprefix(STREAM_PREFIX), i)
            for i in infos
            if i.config.name.startswith(STREAM_PREFIX)
        ]


_OPTIONS = tuple(f for f in ObjectStoreConfig.__struct_fields__ if f != "bucket")


def _merge(config: ObjectStoreConfig | str, given: Mapping[str, object]) -> ObjectStoreConfig:
    """`config` (or a store name) with the keyword options that were given."""
    return merge_config(ObjectStoreConfig, config, ("bucket",), {k: given[k] for k in _OPTIONS}, {})


# `_store` names `ObjectStoreMixin` in annotations but cannot import it (this module imports `_store`).
provide(_store, ObjectStoreMixin)

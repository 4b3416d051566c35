"""Object Store types (ADR-20): the bucket configuration and status, object info and links, and
the JSON meta message other clients read and write.

The meta message of an object is the JSON of its info, field names exactly as ADR-20 (and nats.go)
write them. ``mtime`` is never stored (a writer may still put one there; it is ignored): the time of
an object is its meta message's time in the stream.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Final, TypeAlias

import msgspec

from .._exceptions import BadObjectMetaError, InvalidObjectNameError
from .._generated.models import Placement, StorageType
from .._stream import BucketStatus
from .._transport._headers import Headers

__all__ = [
    "ObjectInfo",
    "ObjectLink",
    "ObjectMeta",
    "ObjectMetaOptions",
    "ObjectStoreConfig",
    "ObjectStoreStatus",
]

STREAM_PREFIX: Final = "OBJ_"
DEFAULT_CHUNK_SIZE: Final = 128 * 1024
DIGEST_ALGORITHM: Final = "SHA-256"
ROLLUP: Final = "Nats-Rollup"


HeadersArg: TypeAlias = Mapping[str, str | Sequence[str]] | Headers
"""Object headers as given: a mapping of names to one value or several, or `Headers`."""


class ObjectStoreConfig(msgspec.Struct, kw_only=True):
    """An object store's configuration, as `JetStream.create_object_store` turns it into the stream
    ``OBJ_<bucket>`` (ADR-20). ``ttl`` expires objects (the stream's ``max_age``); ``max_bytes`` of -1
    is unlimited; ``compression`` stores with s2; ``metadata`` is the stream's."""

    bucket: str
    description: str | None = None
    ttl: timedelta | None = None
    max_bytes: int = -1
    storage: StorageType | str = "file"
    replicas: int = 1
    placement: Placement | None = None
    compression: bool = False
    metadata: dict[str, str] | None = None


class ObjectStoreStatus(BucketStatus):
    """An object store's state and configuration, read from its stream's info."""

    # A dataclass through `BucketStatus` (its fields, __init__ and __eq__).
    __slots__ = ()

    @property
    def description(self) -> str | None:
        """The store's description, if it has one."""
        return self.stream_info.config.description

    @property
    def storage(self) -> StorageType | str:
        """Where the data is kept: ``"file"`` or ``"memory"``."""
        return self.stream_info.config.storage or "file"

    @property
    def replicas(self) -> int:
        """How many replicas the store's stream has."""
        return self.stream_info.config.num_replicas or 1

    @property
    def sealed(self) -> bool:
        """Whether the store is sealed (`ObjectStore.seal`): nothing can be written any more."""
        return bool(self.stream_info.config.sealed)

    @property
    def size(self) -> int:
        """Bytes stored: every chunk and meta message."""
        return self.stream_info.state.bytes

    @property
    def config(self) -> ObjectStoreConfig:
        """The configuration as an `ObjectStoreConfig` (round-trips to `update_object_store`)."""
        cfg = self.stream_info.config
        return ObjectStoreConfig(
            bucket=self.bucket,
            description=cfg.description,
            ttl=cfg.max_age if cfg.max_age else None,
            max_bytes=-1 if cfg.max_bytes is None else cfg.max_bytes,
            storage=self.storage,
            replicas=self.replicas,
            placement=cfg.placement,
            compression=self.is_compressed,
            metadata=cfg.metadata,
        )


class ObjectLink(msgspec.Struct, kw_only=True, omit_defaults=True, frozen=True):
    """Where a link points: an object (``bucket`` and ``name``) or a whole store (``bucket`` only)."""

    bucket: str
    name: str | None = None

    @property
    def is_bucket_link(self) -> bool:
        """Whether the link points at a whole store rather than at one object."""
        return not self.name


class ObjectMetaOptions(msgspec.Struct, kw_only=True, omit_defaults=True, frozen=True):
    """ADR-20 ``options``: the link of a link object, and the chunk size an object was put with."""

    link: ObjectLink | None = None
    max_chunk_size: int | None = None


class ObjectMeta(msgspec.Struct, kw_only=True, frozen=True):
    """What `ObjectStore.update_meta` sets: the name (a different one renames the object), the
    description, headers and metadata - all replaced by the values given here."""

    name: str
    description: str | None = None
    headers: dict[str, list[str]] | None = None
    metadata: dict[str, str] | None = None


class ObjectInfo(msgspec.Struct, kw_only=True, frozen=True):
    """An object (or link) in a store: its meta message's facts and the time it was written.

    ``nuid`` names this version's chunks (``$O.<bucket>.C.<nuid>``), ``size`` and ``chunks`` count
    them, ``digest`` is ``SHA-256=<base64url>`` of the data. ``mtime`` is the server's time of the
    meta message (exact to the nanosecond). ``headers`` maps each name to its values, as nats.go
    stores them. A link has ``options.link``; a deleted object ``deleted`` and no size or digest.
    """

    name: str
    bucket: str
    nuid: str
    size: int
    chunks: int
    mtime: datetime
    digest: str | None = None
    deleted: bool = False
    description: str | None = None
    headers: dict[str, list[str]] | None = None
    metadata: dict[str, str] | None = None
    options: ObjectMetaOptions | None = None

    @property
    def link(self) -> ObjectLink | None:
        """Where this entry points, if it is a link; None for an object."""
        return None if self.options is None else self.options.link

    @property
    def is_link(self) -> bool:
        """Whether this entry is a link (to an object or a store) rather than an object."""
        return self.link is not None

    @property
    def meta(self) -> ObjectMeta:
        """The part `ObjectStore.update_meta` changes, e.g. ``replace(info.meta, name="new")``."""
        return ObjectMeta(
            name=self.name, description=self.description, headers=self.headers, metadata=self.metadata
        )


class _MetaMessage(msgspec.Struct, kw_only=True, omit_defaults=True):
    """The JSON of a meta message. Tolerant on reading: nats-py stores headers as a plain mapping
    and may leave out ``size``/``chunks``; ``size`` and ``chunks`` are always written (nats-py takes a
    missing size for a non-empty object)."""

    name: str
    description: str | None = None
    headers: dict[str, list[str] | str] | None = None
    metadata: dict[str, str] | None = None
    options: ObjectMetaOptions | None = None
    bucket: str = ""
    nuid: str = ""
    size: int | None = None
    chunks: int | None = None
    digest: str | None = None
    deleted: bool = False


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(_MetaMessage)


def check_object_name(name: object) -> str:
    if not isinstance(name, str) or not name:
        raise InvalidObjectNameError(name)
    return name


def encode_name(name: str) -> str:
    """The meta subject token of an object name: base64url with padding (as nats.go)."""
    return base64.urlsafe_b64encode(name.encode()).decode()


def normal_headers(headers: HeadersArg | None) -> dict[str, list[str]] | None:
    """Headers in the stored form: each name with the list of its values."""
    if not headers:
        return None
    result: dict[str, list[str]] = {}
    pairs: list[tuple[str, str]]
    if isinstance(headers, Headers):
        pairs = headers.items_all()
    else:
        pairs = []
        for name, value in headers.items():
            if isinstance(value, str):
                pairs.append((name, value))
            else:
                pairs.extend((name, v) for v in value)
    for name, value in pairs:
        result.setdefault(name, []).append(value)
    return result


def digest_text(raw: bytes) -> str:
    """The ADR-20 form of a SHA-256 hash: ``SHA-256=<base64url>``."""
    return f"{DIGEST_ALGORITHM}={base64.urlsafe_b64encode(raw).decode()}"


def digest_bytes(digest: str) -> bytes | None:
    """The hash bytes of an ADR-20 digest; None when it is not a SHA-256 digest in base64."""
    algorithm, sep, value = digest.partition("=")
    if not sep or algorithm.upper() != DIGEST_ALGORITHM:
        return None
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except ValueError:
        return None
    return raw if len(raw) == hashlib.sha256().digest_size else None


def encode_info(info: ObjectInfo) -> bytes:
    """The meta message of ``info`` (without ``mtime``)."""
    return _encoder.encode(
        _MetaMessage(
            name=info.name,
            description=info.description,
            headers=dict(info.headers) if info.headers else None,
            metadata=info.metadata or None,
            options=info.options,
            bucket=info.bucket,
            nuid=info.nuid,
            size=info.size,
            chunks=info.chunks,
            digest=info.digest or None,
            deleted=info.deleted,
        )
    )


def info_of(bucket: str, subject: str, data: bytes, time: datetime) -> ObjectInfo:
    """The `ObjectInfo` of the meta message ``data`` stored at ``time``; raises
    `errors.BadObjectMetaError` when it is not ADR-20 JSON."""
    try:
        meta = _decoder.decode(data)
    except msgspec.DecodeError as exc:  # also the ValidationError of a wrong shape
        raise BadObjectMetaError(bucket, subject, data, str(exc)) from exc
    headers: dict[str, list[str]] | None = None
    if meta.headers:
        headers = {k: [v] if isinstance(v, str) else v for k, v in meta.headers.items()}
    return ObjectInfo(
        name=meta.name,
        bucket=meta.bucket or bucket,
        nuid=meta.nuid,
        size=meta.size or 0,
        chunks=meta.chunks or 0,
        mtime=time,
        digest=meta.digest or None,
        deleted=meta.deleted,
        description=meta.description or None,
        headers=headers,
        metadata=meta.metadata or None,
        options=meta.options,
    )

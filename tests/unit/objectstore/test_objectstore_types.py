"""Object Store client logic without a server: the ADR-20 meta message both ways, names, digests,
the stream layout, and how `put` cuts its input into chunks."""

from __future__ import annotations

import base64
import hashlib
import io
import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from unit_support import STREAM_INFO_FULL, always, mock_js

from jetstream import (
    ObjectInfo,
    ObjectLink,
    ObjectMetaOptions,
    ObjectStore,
    ObjectStoreConfig,
    ObjectStoreStatus,
    Placement,
    StreamInfo,
    errors,
)
from jetstream._core._codec import decode
from jetstream._objectstore._io import check_chunk_size, chunks_of
from jetstream._objectstore._manager import (
    ObjectStoreOptions,
    object_store_config,
    object_store_stream_config,
)
from jetstream._objectstore._types import (
    check_object_name,
    digest_bytes,
    digest_text,
    encode_info,
    encode_name,
    info_of,
    normal_headers,
)
from jetstream._time import Duration
from jetstream._transport._headers import Headers
from jetstream._validate import check_bucket

WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def info(**over: object) -> ObjectInfo:
    values: dict[str, object] = {
        "name": "report.pdf",
        "bucket": "files",
        "nuid": "N1",
        "size": 5,
        "chunks": 1,
        "mtime": WHEN,
        "digest": "SHA-256=abc=",
    }
    values.update(over)
    return ObjectInfo(**values)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------ the meta message


def test_meta_message_has_the_adr20_fields_and_never_mtime() -> None:
    data = encode_info(
        info(
            description="Q3",
            headers={"Content-Type": ["application/pdf"], "X": ["1", "2"]},
            metadata={"owner": "infra"},
            options=ObjectMetaOptions(max_chunk_size=131072),
        )
    )
    assert json.loads(data) == {
        "name": "report.pdf",
        "description": "Q3",
        "headers": {"Content-Type": ["application/pdf"], "X": ["1", "2"]},
        "metadata": {"owner": "infra"},
        "options": {"max_chunk_size": 131072},
        "bucket": "files",
        "nuid": "N1",
        "size": 5,
        "chunks": 1,
        "digest": "SHA-256=abc=",
    }


def test_size_and_chunks_are_written_even_when_zero_and_deleted_only_when_set() -> None:
    # nats-py takes a missing size for a non-empty object and would wait for chunks forever.
    empty = json.loads(encode_info(info(size=0, chunks=0, digest=None)))
    assert (empty["size"], empty["chunks"]) == (0, 0)
    assert "deleted" not in empty and "digest" not in empty
    assert json.loads(encode_info(info(deleted=True)))["deleted"] is True


def test_links_are_written_as_nats_go_writes_them() -> None:
    obj = json.loads(encode_info(info(options=ObjectMetaOptions(link=ObjectLink(bucket="b", name="o")))))
    assert obj["options"] == {"link": {"bucket": "b", "name": "o"}}
    whole = json.loads(encode_info(info(options=ObjectMetaOptions(link=ObjectLink(bucket="b")))))
    assert whole["options"] == {"link": {"bucket": "b"}}


def test_reads_the_meta_nats_go_writes() -> None:
    # The JSON of nats.go's ObjectInfo: zero mtime always present, headers as lists.
    data = (
        b'{"name":"a/b c","description":"d","headers":{"K":["v1","v2"]},"metadata":{"m":"1"},'
        b'"options":{"link":{"bucket":"other","name":"x"},"max_chunk_size":8196},"bucket":"files",'
        b'"nuid":"CkuyLEX4z2hbyjj1aWCfiH","size":344000,"mtime":"0001-01-01T00:00:00Z","chunks":42,'
        b'"digest":"SHA-256=abc=","deleted":true}'
    )
    got = info_of("files", "$O.files.M.x", data, WHEN)
    assert got == ObjectInfo(
        name="a/b c",
        bucket="files",
        nuid="CkuyLEX4z2hbyjj1aWCfiH",
        size=344000,
        chunks=42,
        mtime=WHEN,
        digest="SHA-256=abc=",
        deleted=True,
        description="d",
        headers={"K": ["v1", "v2"]},
        metadata={"m": "1"},
        options=ObjectMetaOptions(link=ObjectLink(bucket="other", name="x"), max_chunk_size=8196),
    )
    assert got.is_link and got.link == ObjectLink(bucket="other", name="x")
    assert got.meta.name == "a/b c" and got.meta.headers == {"K": ["v1", "v2"]}


def test_reads_the_meta_nats_py_writes() -> None:
    # nats-py: headers as a plain mapping, mtime an ISO string or "" (after a delete), digest "".
    data = (
        b'{"name":"n","bucket":"files","nuid":"X","size":0,"mtime":"","chunks":0,"digest":"",'
        b'"deleted":true,"description":null,"headers":{"A":"1"},"options":{"link":null,'
        b'"max_chunk_size":131072}}'
    )
    got = info_of("files", "$O.files.M.bg==", data, WHEN)
    assert got.headers == {"A": ["1"]}
    assert got.digest is None and got.deleted and got.mtime == WHEN
    assert not got.is_link
    # A minimal message: what is missing takes its zero value.
    bare = info_of("files", "s", b'{"name":"n"}', WHEN)
    assert (bare.bucket, bare.nuid, bare.size, bare.chunks, bare.deleted) == ("files", "", 0, 0, False)


@pytest.mark.parametrize("data", [b"not json", b'{"nuid":"x"}', b'{"name":1}', b"[]"])
def test_a_bad_meta_message_is_a_typed_error(data: bytes) -> None:
    with pytest.raises(errors.BadObjectMetaError) as exc:
        info_of("files", "$O.files.M.x", data, WHEN)
    assert exc.value.data == data and exc.value.bucket == "files"
    assert isinstance(exc.value, errors.ObjectStoreError)


# ------------------------------------------------------------------------- names, digests, headers


@pytest.mark.parametrize("name", ["report.pdf", "a b/c?d", "ü", ">", "*", "x" * 300])
def test_names_are_base64url_with_padding(name: str) -> None:
    token = encode_name(name)
    assert token == base64.urlsafe_b64encode(name.encode()).decode()
    assert "+" not in token and "/" not in token and "." not in token
    assert base64.urlsafe_b64decode(token).decode() == name


def test_object_and_bucket_names() -> None:
    assert check_object_name("any name / at all") == "any name / at all"
    for bad in ("", None, b"x"):
        with pytest.raises(errors.InvalidObjectNameError) as exc:
            check_object_name(bad)
        assert isinstance(exc.value, errors.InvalidNameError)
        assert isinstance(exc.value, errors.ObjectStoreError)
    assert check_bucket("My-Store_1") == "My-Store_1"
    for bad_bucket in ("", "a.b", "a b", "a*", "ä"):
        with pytest.raises(errors.InvalidNameError):
            check_bucket(bad_bucket)


def test_digest_form() -> None:
    raw = hashlib.sha256(b"hello").digest()
    text = digest_text(raw)
    assert text == "SHA-256=" + base64.urlsafe_b64encode(raw).decode()
    assert digest_bytes(text) == raw
    assert digest_bytes(text.rstrip("=")) == raw  # unpadded
    assert digest_bytes("sha-256=" + text.split("=", 1)[1]) == raw
    assert digest_bytes("MD5=" + text.split("=", 1)[1]) is None
    assert digest_bytes("SHA-256=AAAA") is None  # not 32 bytes
    assert digest_bytes("garbage") is None


def test_headers_are_stored_as_lists() -> None:
    assert normal_headers(None) is None and normal_headers({}) is None
    assert normal_headers({"A": "1", "B": ["2", "3"]}) == {"A": ["1"], "B": ["2", "3"]}
    assert normal_headers(Headers([("A", "1"), ("a", "2"), ("B", "3")])) == {
        "A": ["1"],
        "a": ["2"],
        "B": ["3"],
    }


# ------------------------------------------------------------------------------- stream layout


def test_stream_config_is_the_adr20_layout() -> None:
    cfg = object_store_stream_config(
        ObjectStoreConfig(
            bucket="MY-STORE",
            description="description",
            ttl=timedelta(hours=1),
            max_bytes=1 << 20,
            storage="memory",
            replicas=3,
            placement=Placement(cluster="clstr", tags=["tag1"]),
            compression=True,
            metadata={"owner": "infra"},
        )
    )
    assert cfg.name == "OBJ_MY-STORE"
    assert cfg.subjects == ["$O.MY-STORE.C.>", "$O.MY-STORE.M.>"]
    assert (cfg.discard, cfg.allow_rollup_hdrs, cfg.allow_direct) == ("new", True, True)
    assert cfg.max_age == Duration(3600 * 10**9) and cfg.max_bytes == 1 << 20
    assert (cfg.storage, cfg.num_replicas, cfg.compression) == ("memory", 3, "s2")
    assert cfg.placement == Placement(cluster="clstr", tags=["tag1"])
    assert cfg.metadata == {"owner": "infra"} and cfg.description == "description"
    plain = object_store_stream_config(ObjectStoreConfig(bucket="b"))
    assert (plain.max_age, plain.max_bytes, plain.compression, plain.num_replicas) == (
        Duration(0),
        -1,
        "none",
        1,
    )
    with pytest.raises(errors.InvalidNameError):
        object_store_stream_config(ObjectStoreConfig(bucket="no.dots"))
    with pytest.raises(errors.InvalidArgumentError):
        object_store_stream_config(ObjectStoreConfig(bucket="b", ttl=timedelta(seconds=-1)))


def test_status_reads_the_stream_info() -> None:
    stream = decode("$JS.API.STREAM.INFO.FULL", STREAM_INFO_FULL, StreamInfo)
    status = ObjectStoreStatus("FULL", stream)
    assert status.bucket == "FULL" and status.backing_store == "JetStream"
    assert status.description == "full stream" and status.ttl == timedelta(hours=1)
    assert (status.storage, status.replicas, status.sealed, status.is_compressed) == ("file", 1, False, True)
    assert status.size == stream.state.bytes and status.metadata["owner"] == "me"
    cfg = status.config
    assert (cfg.bucket, cfg.ttl, cfg.max_bytes, cfg.compression) == (
        "FULL",
        timedelta(hours=1),
        10485760,
        True,
    )


# ------------------------------------------------------------------------------ chunking input


async def collect(data: object, size: int) -> list[bytes]:
    return [chunk async for chunk in chunks_of(data, size)]  # type: ignore[arg-type]


async def pieces(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


DATA = bytes(range(256)) * 40  # 10240 bytes


@pytest.mark.parametrize("size", [1000, 1024, 10240, 20000])
async def test_every_source_is_cut_into_full_chunks(size: int, tmp_path: Path) -> None:
    expected = [DATA[i : i + size] for i in range(0, len(DATA), size)]
    path = tmp_path / "data.bin"
    path.write_bytes(DATA)
    sources: list[object] = [
        DATA,
        bytearray(DATA),
        memoryview(DATA),
        str(path),
        path,
        io.BytesIO(DATA),
        pieces(DATA[:7], DATA[7:5000], b"", DATA[5000:5001], DATA[5001:]),
        [DATA[:3000], memoryview(DATA[3000:])],
    ]
    for source in sources:
        assert await collect(source, size) == expected, type(source)


async def test_empty_sources_give_no_chunks(tmp_path: Path) -> None:
    path = tmp_path / "empty"
    path.write_bytes(b"")
    sources: list[object] = [b"", path, io.BytesIO(), pieces(), pieces(b"", b""), []]
    for source in sources:
        assert await collect(source, 8) == []


async def test_bad_sources_are_refused(tmp_path: Path) -> None:
    with pytest.raises(errors.InvalidArgumentError):
        await collect(12345, 8)
    with pytest.raises(errors.InvalidArgumentError):
        await collect(pieces(b"ok", "text"), 8)  # type: ignore[arg-type]
    text = io.StringIO("text")
    with pytest.raises(errors.InvalidArgumentError, match="binary"):
        await collect(text, 8)
    with pytest.raises(FileNotFoundError):
        await collect(str(tmp_path / "missing"), 8)


def test_chunk_size_is_checked() -> None:
    assert check_chunk_size(128 * 1024, 1 << 20) == 128 * 1024
    for bad in (0, -1, 1.5, True, "1"):
        with pytest.raises(errors.InvalidArgumentError):
            check_chunk_size(bad, None)
    with pytest.raises(errors.InvalidArgumentError, match="max_payload"):
        check_chunk_size(2 << 20, 1 << 20)


@pytest.mark.parametrize(
    ("options", "write"),
    [
        ({}, "$O.FULL."),
        ({"domain": "hub"}, "$O.FULL."),
        ({"api_prefix": "$JS.hub.API"}, "$O.FULL."),
        ({"api_prefix": "fromA"}, "fromA.$O.FULL."),
        ({"api_prefix": "JS.acc.API."}, "JS.acc.API.$O.FULL."),
    ],
)
def test_write_subjects_follow_adr19(options: dict[str, str], write: str) -> None:
    """A custom prefix goes in front of `$O` (ADR-19); a domain does not: servers map
    `$JS.<domain>.API.$OBJ.>`, not `$O`, and plain subjects reach the domain's stream."""
    js, _ = mock_js(always(b"{}"), **options)
    store = ObjectStore(js, decode("$JS.API.STREAM.INFO.FULL", STREAM_INFO_FULL, StreamInfo))
    assert (store.bucket, store._read_pre, store._write_pre) == ("FULL", "$O.FULL.", write)


def test_object_store_options_are_the_config_fields() -> None:
    assert set(ObjectStoreOptions.__annotations__) == set(ObjectStoreConfig.__struct_fields__) - {"bucket"}
    base = ObjectStoreConfig(bucket="files", description="d", max_bytes=10)
    merged = object_store_config(base, {"max_bytes": 20, "description": None})
    assert (merged.bucket, merged.description, merged.max_bytes) == ("files", "d", 20)
    assert base.max_bytes == 10  # the caller's config is not modified
    with pytest.raises(TypeError, match="bucket"):
        object_store_config("files", {"bucket": "other"})  # type: ignore[typeddict-unknown-key]

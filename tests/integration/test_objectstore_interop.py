"""Object Store interoperability with nats-py (the ``nats`` package) on a real server, both ways:
what one client writes - data in several chunks, empty objects, digests, descriptions, headers,
links, deletes, replacements - the other reads the same."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import nats
import nats.js.api
import nats.js.errors
import pytest
import pytest_asyncio
from nats.aio.client import Client as NATS

from jetstream import JetStream, ObjectLink, errors
from jetstream._objectstore._types import encode_name
from jetstream.testing import NatsServer

KIB = 1024


@pytest_asyncio.fixture
async def nc(nats_server: NatsServer) -> AsyncIterator[NATS]:
    client = await nats.connect(nats_server.url)
    try:
        yield client
    finally:
        await client.close()


async def test_nats_py_writes_the_sdk_reads(nc: NATS, js: JetStream) -> None:
    pjs = nc.jetstream()
    pobs = await pjs.create_object_store("from_py")
    data = os.urandom(300 * KIB + 5)
    pmeta = nats.js.api.ObjectMeta(description="three chunks", headers={"Content-Type": "x/y"})
    pinfo = await pobs.put("dir/multi.bin", data, meta=pmeta)
    await pobs.put("empty", b"")
    await pobs.put("gone", b"soon gone")
    await pobs.delete("gone")
    await pobs.put("replaced", b"old")
    await pobs.put("replaced", b"new")

    store = await js.object_store("from_py")
    info = await store.info("dir/multi.bin")
    assert (info.size, info.chunks, info.nuid) == (len(data), 3, pinfo.nuid)
    assert info.digest == pinfo.digest
    assert info.description == "three chunks" and info.headers == {"Content-Type": ["x/y"]}
    stored = await js.direct_get_last_for_subject(
        "OBJ_from_py", "$O.from_py.M." + encode_name("dir/multi.bin")
    )
    assert info.mtime == stored.time  # not the time nats-py wrote into the message
    assert await store.get_bytes("dir/multi.bin") == data  # digest checked on the way
    assert await store.get_bytes("empty") == b""
    assert await store.get_bytes("replaced") == b"new"
    with pytest.raises(errors.ObjectNotFoundError) as gone:
        await store.get_bytes("gone")
    assert gone.value.deleted
    marker = await store.info("gone", show_deleted=True)
    assert marker.deleted and marker.digest is None and marker.size == 0
    assert [i.name for i in await store.list()] == ["dir/multi.bin", "empty", "replaced"]

    # The SDK writes over what nats-py wrote; nats-py reads the result.
    await store.put("replaced", b"from the sdk")
    assert (await pobs.get("replaced")).data == b"from the sdk"
    await store.delete("dir/multi.bin")
    with pytest.raises(nats.js.errors.ObjectNotFoundError):
        await pobs.get_info("dir/multi.bin")


async def test_the_sdk_writes_nats_py_reads(nc: NATS, js: JetStream) -> None:
    store = await js.create_object_store("from_sdk", description="made by the sdk")
    other = await js.create_object_store("other")
    data = os.urandom(300 * KIB + 5)
    info = await store.put(
        "dir/multi.bin",
        data,
        description="three chunks",
        headers={"Content-Type": "x/y", "X-Many": ["1", "2"]},
        metadata={"owner": "me"},
    )
    await store.put("empty", b"")
    await store.put("gone", b"soon gone")
    await store.delete("gone")
    await store.add_link("link", info)
    remote = await other.put("remote", b"remote data")
    await store.add_link("cross", remote)
    await store.add_bucket_link("dir", other)

    pjs = nc.jetstream()
    pobs = await pjs.object_store("from_sdk")
    result = await pobs.get("dir/multi.bin")  # nats-py checks the digest too
    assert result.data == data
    pinfo = result.info
    assert (pinfo.size, pinfo.chunks, pinfo.nuid, pinfo.digest) == (len(data), 3, info.nuid, info.digest)
    assert pinfo.description == "three chunks"
    assert pinfo.headers == {"Content-Type": ["x/y"], "X-Many": ["1", "2"]}
    assert pinfo.options is not None and pinfo.options.max_chunk_size == 128 * KIB
    assert (await pobs.get("empty")).data == b""

    # Links: nats-py sees them and follows object links.
    plink = await pobs.get_info("link")
    assert plink.is_link() and plink.options is not None and plink.options.link is not None
    assert (plink.options.link.bucket, plink.options.link.name) == ("from_sdk", "dir/multi.bin")
    assert (await pobs.get("link")).data == data
    assert (await pobs.get("cross")).data == b"remote data"
    pdir = await pobs.get_info("dir")
    assert pdir.options is not None and pdir.options.link is not None
    assert pdir.options.link.bucket == "other" and not pdir.options.link.name
    with pytest.raises(nats.js.errors.LinkIsABucketError):
        await pobs.get("dir")

    # Deletes.
    with pytest.raises(nats.js.errors.ObjectNotFoundError):
        await pobs.get_info("gone")
    deleted = await pobs.get_info("gone", show_deleted=True)
    assert deleted.deleted and deleted.size == 0

    names = sorted(i.name for i in await pobs.list(ignore_deletes=True))
    assert names == ["cross", "dir", "dir/multi.bin", "empty", "link"]
    status = await pobs.status()
    assert status.description == "made by the sdk" and not status.sealed

    # nats-py writes over what the SDK wrote (and purges the old chunks); the SDK reads the result.
    await pobs.put("dir/multi.bin", b"from nats-py")
    assert await store.get_bytes("dir/multi.bin") == b"from nats-py"
    assert (await store.info("link")).link == ObjectLink(bucket="from_sdk", name="dir/multi.bin")
    assert await store.get_bytes("link") == b"from nats-py"
    await pobs.delete("empty")
    with pytest.raises(errors.ObjectNotFoundError):
        await store.info("empty")
    subjects = (await js.stream_info("OBJ_from_sdk", subjects_filter="$O.from_sdk.C.>")).state.subjects
    assert list((subjects or {}).values()) == [1]  # only the chunk of nats-py's version is left

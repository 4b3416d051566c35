"""Object Store: put one object of `size` bytes from memory, then get it back (file storage).

nats-py's get is given `writeinto` (its default accumulates the object with `bytes +=`, quadratic in
the size, which would make the comparison meaningless).
"""

from __future__ import annotations

from _harness import NATS_PY, RAW, SDK, Ctx, child

CHUNK = 128 * 1024


async def sdk(ctx: Ctx) -> None:
    import jetstream

    async with await jetstream.connect(ctx.url) as js:
        bucket, data = f"obj_{ctx.tag}", ctx.payload()
        store = await js.create_object_store(bucket)
        with ctx.timed("put"):
            await store.put("big", data)
        size = 0
        with ctx.timed("get"):
            async for chunk in await store.get("big"):
                size += len(chunk)
        await js.delete_object_store(bucket)
    if size != len(data):
        raise RuntimeError(f"got {size} of {len(data)} bytes")


async def nats_py(ctx: Ctx) -> None:
    import io

    import nats

    nc = await nats.connect(ctx.url)
    js = nc.jetstream()
    bucket, data = f"obj_{ctx.tag}", ctx.payload()
    store = await js.create_object_store(bucket)
    with ctx.timed("put"):
        await store.put("big", data)
    out = io.BytesIO()
    with ctx.timed("get"):
        await store.get("big", writeinto=out)
    await js.delete_object_store(bucket)
    await nc.close()
    if out.getbuffer().nbytes != len(data):
        raise RuntimeError(f"got {out.getbuffer().nbytes} of {len(data)} bytes")


async def raw(ctx: Ctx) -> None:
    """Chunks published with a window of acks, read back by bare pulls: no metadata, no digest."""
    import nats
    from _common import raw_publish_window, raw_pull
    from nats.js.api import AckPolicy, ConsumerConfig

    nc = await nats.connect(ctx.url)
    jsm = nc.jsm()
    name, subject, data = f"OBJ_{ctx.tag}", f"obj.{ctx.tag}", ctx.payload()
    await jsm.add_stream(name=name, subjects=[subject])
    chunks = -(-len(data) // CHUNK)
    view = memoryview(data)
    with ctx.timed("put"):
        # One chunk per publish, as an object store does; the acks are not awaited, but the last
        # message is: it is stored after every chunk before it.
        for i in range(chunks):
            await nc.publish(subject, bytes(view[i * CHUNK : (i + 1) * CHUNK]), reply=nc.new_inbox())
        await raw_publish_window(nc, subject, b"", 1, 1)
    await jsm.add_consumer(name, ConsumerConfig(durable_name="get", ack_policy=AckPolicy.NONE))
    with ctx.timed("get"):
        size = await raw_pull(nc, name, "get", chunks + 1, ack=False)
    await jsm.delete_stream(name)
    await nc.close()
    if size != len(data):
        raise RuntimeError(f"got {size} of {len(data)} bytes")


CLIENTS = {SDK: sdk, NATS_PY: nats_py, RAW: raw}

if __name__ == "__main__":
    child(CLIENTS)

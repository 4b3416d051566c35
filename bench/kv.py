"""Key/Value: n puts of distinct keys (each awaited), then n gets of those keys (128 B values)."""

from __future__ import annotations

from _harness import NATS_PY, OFFICIAL, RAW, SDK, Ctx, child


async def sdk(ctx: Ctx) -> None:
    import jetstream

    async with await jetstream.connect(ctx.url) as js:
        bucket, value = f"kv_{ctx.tag}", ctx.payload()
        kv = await js.create_key_value(bucket)
        keys = [f"key.{i}" for i in range(ctx.n)]
        with ctx.timed("put"):
            for key in keys:
                await kv.put(key, value)
        with ctx.timed("get"):
            for key in keys:
                entry = await kv.get(key)
                if len(entry.value) != len(value):
                    raise RuntimeError("wrong value")
        await js.delete_key_value(bucket)


async def nats_py(ctx: Ctx) -> None:
    import nats

    nc = await nats.connect(ctx.url)
    js = nc.jetstream()
    bucket, value = f"kv_{ctx.tag}", ctx.payload()
    kv = await js.create_key_value(bucket=bucket)
    keys = [f"key.{i}" for i in range(ctx.n)]
    with ctx.timed("put"):
        for key in keys:
            await kv.put(key, value)
    with ctx.timed("get"):
        for key in keys:
            entry = await kv.get(key)
            if entry.value is None or len(entry.value) != len(value):
                raise RuntimeError("wrong value")
    await js.delete_key_value(bucket)
    await nc.close()


async def raw(ctx: Ctx) -> None:
    """A put is a core request on `$KV.<bucket>.<key>`, a get a core DIRECT.GET request."""
    import nats

    nc = await nats.connect(ctx.url)
    js = nc.jetstream()
    bucket, value = f"kv_{ctx.tag}", ctx.payload()
    await js.create_key_value(bucket=bucket, direct=True)
    keys = [f"key.{i}" for i in range(ctx.n)]
    with ctx.timed("put"):
        for key in keys:
            await nc.request(f"$KV.{bucket}.{key}", value, timeout=5)
    with ctx.timed("get"):
        for key in keys:
            msg = await nc.request(f"$JS.API.DIRECT.GET.KV_{bucket}.$KV.{bucket}.{key}", b"", timeout=5)
            if len(msg.data) != len(value):
                raise RuntimeError("wrong value")
    await js.delete_key_value(bucket)
    await nc.close()


async def official(ctx: Ctx) -> None:
    import _official

    await _official.kv(ctx)


CLIENTS = {SDK: sdk, NATS_PY: nats_py, OFFICIAL: official, RAW: raw}

if __name__ == "__main__":
    child(CLIENTS)

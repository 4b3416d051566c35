"""Key/Value reads on an ordered consumer: ``keys()`` of a bucket of n keys, then a watch of every key
until the end of its initial values (n entries of 128 B). The bucket is filled once (`fill_kv`)."""

from __future__ import annotations

from _common import KV_READ_BUCKET
from _harness import NATS_PY, OFFICIAL, SDK, Ctx, child


async def sdk(ctx: Ctx) -> None:
    import jetstream

    async with await jetstream.connect(ctx.url) as js:
        kv = await js.key_value(KV_READ_BUCKET)
        with ctx.timed("keys()"):
            keys = await kv.keys()
        if len(keys) != ctx.n:
            raise RuntimeError(f"{len(keys)} keys of {ctx.n}")
        seen = 0
        with ctx.timed("watch replay"):
            async with kv.watch() as watcher:
                async for entry in watcher:
                    if isinstance(entry, jetstream.InitialValuesDone):
                        break
                    seen += 1
        if seen != ctx.n:
            raise RuntimeError(f"{seen} entries of {ctx.n}")


async def nats_py(ctx: Ctx) -> None:
    import nats

    nc = await nats.connect(ctx.url)
    js = nc.jetstream()
    kv = await js.key_value(KV_READ_BUCKET)
    with ctx.timed("keys()"):
        keys = await kv.keys()
    if len(keys) != ctx.n:
        raise RuntimeError(f"{len(keys)} keys of {ctx.n}")
    seen = 0
    with ctx.timed("watch replay"):
        watcher = await kv.watchall()
        async for entry in watcher:
            if entry is None:
                # nats-py's end-of-initial-values marker: it reads the consumer's pending count at
                # creation, which can still be 0 while the bucket is full (the marker then comes
                # first, seen in smoke runs). Count the entries instead.
                if seen >= ctx.n:
                    break
                continue
            seen += 1
            if seen == ctx.n:
                break
        await watcher.stop()  # type: ignore[no-untyped-call]  # nats-py leaves it unannotated
    if seen != ctx.n:
        raise RuntimeError(f"{seen} entries of {ctx.n}")
    await nc.close()


async def official(ctx: Ctx) -> None:
    import _official

    await _official.kv_read(ctx)


CLIENTS = {SDK: sdk, NATS_PY: nats_py, OFFICIAL: official}

if __name__ == "__main__":
    child(CLIENTS)

"""Reading 1,000 known keys of a bucket (128 B values): jetstream-py's ``get_many`` (batched direct
gets, ADR-31) and 1,000 ``get`` calls one after the other. nats-py has no bulk read: both of its
phases are 1,000 sequential ``get`` calls, what a nats-py user does instead. The bucket is filled
once (`fill_kv`)."""

from __future__ import annotations

from _common import KV_READ_BUCKET
from _harness import NATS_PY, OFFICIAL, SDK, Ctx, child


def _keys(n: int) -> list[str]:
    return [f"key.{i}" for i in range(n)]


async def sdk(ctx: Ctx) -> None:
    import jetstream

    keys = _keys(ctx.n)
    async with await jetstream.connect(ctx.url) as js:
        kv = await js.key_value(KV_READ_BUCKET)
        with ctx.timed("get_many"):
            entries = await kv.get_many(keys)
        if len(entries) != ctx.n:
            raise RuntimeError(f"{len(entries)} entries of {ctx.n}")
        with ctx.timed("1,000 gets"):
            for key in keys:
                await kv.get(key)


async def nats_py(ctx: Ctx) -> None:
    import nats

    keys = _keys(ctx.n)
    nc = await nats.connect(ctx.url)
    kv = await nc.jetstream().key_value(KV_READ_BUCKET)
    for phase in ("get_many", "1,000 gets"):
        with ctx.timed(phase):
            for key in keys:
                await kv.get(key)
    await nc.close()


async def official(ctx: Ctx) -> None:
    import _official

    await _official.kv_get_many(ctx)


CLIENTS = {SDK: sdk, NATS_PY: nats_py, OFFICIAL: official}

if __name__ == "__main__":
    child(CLIENTS)

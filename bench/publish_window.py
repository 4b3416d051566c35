"""Publish with a window: up to 4,000 PubAcks in flight, all awaited inside the timing (128 B payloads)."""

from __future__ import annotations

from _common import WINDOW, nats_py_publish_stream, raw_publish_window
from _harness import NATS_PY, OFFICIAL, RAW, SDK, Ctx, child


async def sdk(ctx: Ctx) -> None:
    import jetstream

    async with await jetstream.connect(ctx.url, publish_async_max_pending=WINDOW) as js:
        name, subject, payload = f"P_{ctx.tag}", f"p.{ctx.tag}", ctx.payload()
        await js.stream_create(name, subjects=[subject])
        with ctx.timed():
            for _ in range(ctx.n):
                await js.publish_async(subject, payload)
            await js.publish_async_complete()
        stored = (await js.stream_info(name)).state.messages
        await js.stream_delete(name)
    if stored != ctx.n:
        raise RuntimeError(f"stored {stored} of {ctx.n}")


async def nats_py(ctx: Ctx) -> None:
    async with nats_py_publish_stream(ctx) as (nc, subject, payload):
        js = nc.jetstream(publish_async_max_pending=WINDOW)
        with ctx.timed():
            for _ in range(ctx.n):
                await js.publish_async(subject, payload)
            await js.publish_async_completed()


async def raw(ctx: Ctx) -> None:
    async with nats_py_publish_stream(ctx) as (nc, subject, payload):
        with ctx.timed():
            await raw_publish_window(nc, subject, payload, ctx.n, WINDOW)


async def official(ctx: Ctx) -> None:
    import _official

    await _official.publish_window(ctx)


CLIENTS = {SDK: sdk, NATS_PY: nats_py, OFFICIAL: official, RAW: raw}

if __name__ == "__main__":
    child(CLIENTS)

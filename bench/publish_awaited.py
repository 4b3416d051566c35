"""Publish awaited one by one: every publish waits for its PubAck before the next (128 B payloads)."""

from __future__ import annotations

from _common import nats_py_publish_stream
from _harness import NATS_PY, OFFICIAL, RAW, SDK, Ctx, child


async def sdk(ctx: Ctx) -> None:
    import jetstream

    async with await jetstream.connect(ctx.url) as js:
        name, subject, payload = f"P_{ctx.tag}", f"p.{ctx.tag}", ctx.payload()
        await js.stream_create(name, subjects=[subject])
        with ctx.timed():
            for _ in range(ctx.n):
                await js.publish(subject, payload)
        stored = (await js.stream_info(name)).state.messages
        await js.stream_delete(name)
    if stored != ctx.n:
        raise RuntimeError(f"stored {stored} of {ctx.n}")


async def nats_py(ctx: Ctx) -> None:
    async with nats_py_publish_stream(ctx) as (nc, subject, payload):
        js = nc.jetstream()
        with ctx.timed():
            for _ in range(ctx.n):
                await js.publish(subject, payload)


async def raw(ctx: Ctx) -> None:
    """A core request per message (the PubAck is the reply, left undecoded)."""
    async with nats_py_publish_stream(ctx) as (nc, subject, payload):
        with ctx.timed():
            for _ in range(ctx.n):
                await nc.request(subject, payload, timeout=5)


async def official(ctx: Ctx) -> None:
    import _official

    await _official.publish_awaited(ctx)


CLIENTS = {SDK: sdk, NATS_PY: nats_py, OFFICIAL: official, RAW: raw}

if __name__ == "__main__":
    child(CLIENTS)

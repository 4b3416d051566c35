"""API round trip: sequential STREAM.INFO requests, each awaited before the next; calls/s, p50, p99."""

from __future__ import annotations

import time

from _harness import NATS_PY, OFFICIAL, RAW, SDK, Ctx, child


async def sdk(ctx: Ctx) -> None:
    import jetstream

    async with await jetstream.connect(ctx.url) as js:
        name = f"RT_{ctx.tag}"
        await js.stream_create(name, subjects=[f"rt.{ctx.tag}"])
        with ctx.timed():
            for _ in range(ctx.n):
                started = time.perf_counter()
                await js.stream_info(name)
                ctx.latencies.append(time.perf_counter() - started)
        await js.stream_delete(name)


async def nats_py(ctx: Ctx) -> None:
    import nats

    nc = await nats.connect(ctx.url)
    jsm = nc.jsm()
    name = f"RT_{ctx.tag}"
    await jsm.add_stream(name=name, subjects=[f"rt.{ctx.tag}"])
    with ctx.timed():
        for _ in range(ctx.n):
            started = time.perf_counter()
            await jsm.stream_info(name)
            ctx.latencies.append(time.perf_counter() - started)
    await jsm.delete_stream(name)
    await nc.close()


async def raw(ctx: Ctx) -> None:
    """The same request through nats-py core, reply left undecoded: the transport's limit."""
    import nats

    nc = await nats.connect(ctx.url)
    name = f"RT_{ctx.tag}"
    await nc.jsm().add_stream(name=name, subjects=[f"rt.{ctx.tag}"])
    subject = f"$JS.API.STREAM.INFO.{name}"
    with ctx.timed():
        for _ in range(ctx.n):
            started = time.perf_counter()
            await nc.request(subject, b"", timeout=5)
            ctx.latencies.append(time.perf_counter() - started)
    await nc.jsm().delete_stream(name)
    await nc.close()


async def official(ctx: Ctx) -> None:
    import _official

    await _official.api_round_trip(ctx)


CLIENTS = {SDK: sdk, NATS_PY: nats_py, OFFICIAL: official, RAW: raw}

if __name__ == "__main__":
    child(CLIENTS)

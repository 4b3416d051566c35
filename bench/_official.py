"""The official `nats-jetstream` client (PyPI `nats-jetstream` 0.3.0 on `nats-core` 0.2.0) in every
workload it can run; for Key/Value, the official `nats-key-value` 0.1.0 on top of it.

Imported only by the Python >= 3.13 interpreter that has it installed: it ships a top-level `nats`
package (`nats.client`, `nats.jetstream`) that collides with nats-py's, so it never shares a venv with
the others. It has no Object Store and no async (pipelined) publish; `nats-key-value` has no bulk read.
"""

from __future__ import annotations

import asyncio
import time

from _common import BATCH, BENCH_STREAM, WINDOW
from _harness import Ctx


async def decode(ctx: Ctx) -> None:
    """What `JetStream.get_stream_info` does with a reply: `request_json`'s `json.loads` of the decoded
    text and error probe, then `StreamInfo.from_response` (which pops the dict, so each decode needs a
    fresh parse)."""
    import json

    from decode import REPLY
    from nats.jetstream import StreamInfo
    from nats.jetstream.api.client import is_error_response

    with ctx.timed():
        for _ in range(ctx.n):
            data = json.loads(REPLY.decode())
            if is_error_response(data):
                raise RuntimeError(data)
            StreamInfo.from_response(data, strict=False)


async def api_round_trip(ctx: Ctx) -> None:
    from nats.client import connect
    from nats.jetstream import new

    async with await connect(ctx.url) as nc:
        js = new(nc)
        name = f"RT_{ctx.tag}"
        await js.create_stream(name=name, subjects=[f"rt.{ctx.tag}"])
        with ctx.timed():
            for _ in range(ctx.n):
                started = time.perf_counter()
                await js.get_stream_info(name)
                ctx.latencies.append(time.perf_counter() - started)
        await js.delete_stream(name)


async def publish_awaited(ctx: Ctx) -> None:
    from nats.client import connect
    from nats.jetstream import new

    async with await connect(ctx.url) as nc:
        js = new(nc)
        name, subject, payload = f"P_{ctx.tag}", f"p.{ctx.tag}", ctx.payload()
        await js.create_stream(name=name, subjects=[subject])
        with ctx.timed():
            for _ in range(ctx.n):
                await js.publish(subject, payload)
        stored = (await js.get_stream_info(name)).state.messages
        await js.delete_stream(name)
    if stored != ctx.n:
        raise RuntimeError(f"stored {stored} of {ctx.n}")


async def publish_window(ctx: Ctx) -> None:
    """The client has no async publish: `WINDOW` coroutines each loop on the awaited `js.publish`, so at
    most `WINDOW` PubAcks are outstanding, without a task per message."""
    from nats.client import connect
    from nats.jetstream import new

    async with await connect(ctx.url) as nc:
        js = new(nc)
        name, subject, payload = f"P_{ctx.tag}", f"p.{ctx.tag}", ctx.payload()
        await js.create_stream(name=name, subjects=[subject])
        left = ctx.n

        async def worker() -> None:
            nonlocal left
            while left > 0:
                left -= 1
                await js.publish(subject, payload)

        with ctx.timed():
            await asyncio.gather(*(worker() for _ in range(min(WINDOW, ctx.n))))
        stored = (await js.get_stream_info(name)).state.messages
        await js.delete_stream(name)
    if stored != ctx.n:
        raise RuntimeError(f"stored {stored} of {ctx.n}")


async def _fetch(ctx: Ctx, ack: bool) -> None:
    from nats.client import connect
    from nats.jetstream import new

    async with await connect(ctx.url) as nc:
        js = new(nc)
        stream = await js.get_stream(BENCH_STREAM)
        name = f"C_{ctx.tag}"
        consumer = await stream.create_consumer(
            name=name,
            durable_name=name,
            ack_policy="explicit" if ack else "none",
            max_ack_pending=20_000,
            deliver_policy="all",
        )
        received = nbytes = 0
        with ctx.timed():
            while received < ctx.n:
                batch = await consumer.fetch(max_messages=min(BATCH, ctx.n - received), max_wait=5.0)
                before = received
                async for msg in batch:
                    if ack:
                        await msg.ack()
                    nbytes += len(msg.data)
                    received += 1
                if batch.error is not None:
                    raise batch.error
                if received == before:
                    raise RuntimeError(f"a fetch returned nothing after {received} of {ctx.n}")
        await stream.delete_consumer(name)
    ctx.count = nbytes


async def fetch_ack(ctx: Ctx) -> None:
    await _fetch(ctx, ack=True)


async def fetch_no_ack(ctx: Ctx) -> None:
    await _fetch(ctx, ack=False)


async def messages_ack(ctx: Ctx) -> None:
    """`PullConsumer.messages()` buffering 1,000 messages, as jetstream-py does by default.

    Its own default (100-message pulls topped up by a loop that looks every 100 ms) caps it near
    1,000 msg/s, which would only measure that sleep."""
    from nats.client import connect
    from nats.jetstream import new

    async with await connect(ctx.url) as nc:
        js = new(nc)
        stream = await js.get_stream(BENCH_STREAM)
        name = f"C_{ctx.tag}"
        consumer = await stream.create_consumer(
            name=name,
            durable_name=name,
            ack_policy="explicit",
            max_ack_pending=20_000,
            deliver_policy="all",
        )
        received = nbytes = 0
        messages = await consumer.messages(max_messages=1000)
        with ctx.timed():
            async for msg in messages:
                await msg.ack()
                nbytes += len(msg.data)
                received += 1
                if received == ctx.n:
                    break
        await messages.stop()
        if received != ctx.n:
            raise RuntimeError(f"the message stream ended after {received} of {ctx.n}")
        await stream.delete_consumer(name)
    ctx.count = nbytes


async def kv(ctx: Ctx) -> None:
    """n awaited puts of distinct keys, then n gets (kv.py)."""
    from nats.client import connect
    from nats.jetstream import new
    from nats.key_value import KeyValueConfig, create_key_value, delete_key_value

    async with await connect(ctx.url) as nc:
        js = new(nc)
        bucket, value = f"kv_{ctx.tag}", ctx.payload()
        store = await create_key_value(js, KeyValueConfig(bucket=bucket))
        keys = [f"key.{i}" for i in range(ctx.n)]
        with ctx.timed("put"):
            for key in keys:
                await store.put(key, value)
        with ctx.timed("get"):
            for key in keys:
                entry = await store.get(key)
                if len(entry.value) != len(value):
                    raise RuntimeError("wrong value")
        await delete_key_value(js, bucket)


async def kv_read(ctx: Ctx) -> None:
    """keys() of the filled bucket, then a watch of every key to the end of its initial values."""
    from _common import KV_READ_BUCKET
    from nats.client import connect
    from nats.jetstream import new
    from nats.key_value import key_value

    async with await connect(ctx.url) as nc:
        store = await key_value(new(nc), KV_READ_BUCKET)
        with ctx.timed("keys()"):
            keys = [key async for key in await store.keys()]
        if len(keys) != ctx.n:
            raise RuntimeError(f"{len(keys)} keys of {ctx.n}")
        seen = 0
        with ctx.timed("watch replay"):
            watcher = await store.watch_all()
            async for _ in watcher.values():
                seen += 1
            await watcher.stop()
        if seen != ctx.n:
            raise RuntimeError(f"{seen} entries of {ctx.n}")


async def kv_get_many(ctx: Ctx) -> None:
    """No bulk read: both phases are n sequential gets of the filled bucket."""
    from _common import KV_READ_BUCKET
    from nats.client import connect
    from nats.jetstream import new
    from nats.key_value import key_value

    async with await connect(ctx.url) as nc:
        store = await key_value(new(nc), KV_READ_BUCKET)
        keys = [f"key.{i}" for i in range(ctx.n)]
        for phase in ("get_many", "1,000 gets"):
            with ctx.timed(phase):
                for key in keys:
                    await store.get(key)

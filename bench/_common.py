"""Small pieces the workload scripts share: stream names and the raw-core helpers.

Stdlib only at import time (see `_harness`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from _harness import Ctx
    from nats.aio.client import Client as NATS
    from nats.aio.msg import Msg

#: The prefilled stream of the consume workloads (see `prefill`).
BENCH_STREAM = "BENCH"
BENCH_SUBJECT = "bench.data"
#: Acks in flight while publishing with a window, for every client.
WINDOW = 4000
#: Messages per pull of the fetch workloads.
BATCH = 500
#: The bucket of the Key/Value read workload (see `fill_kv`).
KV_READ_BUCKET = "bench_read"


async def prefill(url: str, n: int, size: int) -> None:
    """Fills `BENCH` with n messages of `size` bytes (jetstream-py, untimed setup)."""
    import os

    import jetstream

    async with await jetstream.connect(url) as js:
        await js.stream_create(BENCH_STREAM, subjects=["bench.>"])
        payload = os.urandom(size)
        for _ in range(n):
            await js.publish_async(BENCH_SUBJECT, payload)
        await js.publish_async_complete()
        info = await js.stream_info(BENCH_STREAM)
        if info.state.messages != n:
            raise RuntimeError(f"prefill stored {info.state.messages} of {n}")


async def fill_kv(url: str, n: int, size: int) -> None:
    """Fills the bucket `KV_READ_BUCKET` with n keys of `size` bytes (jetstream-py, untimed setup)."""
    import os

    import jetstream

    async with await jetstream.connect(url) as js:
        await js.create_key_value(KV_READ_BUCKET)
        value = os.urandom(size)
        for i in range(n):
            await js.publish_async(f"$KV.{KV_READ_BUCKET}.key.{i}", value)
        await js.publish_async_complete()


@asynccontextmanager
async def nats_py_publish_stream(ctx: Ctx) -> AsyncIterator[tuple[NATS, str, bytes]]:
    """For the nats-py publish clients: a connection, the subject of a fresh stream ``P_<tag>`` and
    the payload; afterwards checks the stream holds ctx.n messages, deletes it and closes."""
    import nats

    nc = await nats.connect(ctx.url)
    js = nc.jetstream()
    name, subject = f"P_{ctx.tag}", f"p.{ctx.tag}"
    await js.add_stream(name=name, subjects=[subject])
    yield nc, subject, ctx.payload()
    stored = (await js.stream_info(name)).state.messages
    await js.delete_stream(name)
    await nc.close()
    if stored != ctx.n:
        raise RuntimeError(f"stored {stored} of {ctx.n}")


async def raw_publish_window(nc: NATS, subject: str, payload: bytes, n: int, window: int) -> None:
    """Publishes n messages with a reply inbox, at most `window` acks outstanding, and waits for all:
    what a JetStream async publish costs on nats-py's core connection with no JetStream code at all."""
    inbox = nc.new_inbox()
    acked = 0
    room = asyncio.Event()
    done = asyncio.Event()

    async def on_ack(msg: Msg) -> None:
        nonlocal acked
        acked += 1
        room.set()
        if acked == n:
            done.set()

    sub = await nc.subscribe(inbox + ".*", cb=on_ack)
    reply = inbox + ".a"
    for sent in range(n):
        while sent - acked >= window:
            room.clear()
            await room.wait()
        await nc.publish(subject, payload, reply=reply)
    await asyncio.wait_for(done.wait(), 60)
    await sub.unsubscribe()


async def raw_pull(nc: NATS, stream: str, consumer: str, n: int, ack: bool) -> int:
    """Pulls n messages in batches of `BATCH` with bare MSG.NEXT requests and (optionally) bare acks:
    the transport's limit for the fetch workloads. Returns the payload bytes received."""
    import json

    inbox = nc.new_inbox()
    got = 0
    in_batch = 0
    received = 0
    batch_done = asyncio.Event()

    async def on_msg(msg: Msg) -> None:
        nonlocal got, in_batch, received
        if not msg.reply:  # a status message (timeout, heartbeat): not data
            batch_done.set()
            return
        got += 1
        in_batch += 1
        received += len(msg.data)
        if ack:
            await nc.publish(msg.reply, b"+ACK")
        if in_batch == BATCH or got == n:
            batch_done.set()

    sub = await nc.subscribe(inbox, cb=on_msg)
    subject = f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{consumer}"
    while got < n:
        in_batch = 0
        batch_done.clear()
        request = json.dumps({"batch": min(BATCH, n - got), "expires": 5_000_000_000}).encode()
        await nc.publish(subject, request, reply=inbox)
        await asyncio.wait_for(batch_done.wait(), 10)
    await sub.unsubscribe()
    return received

"""The three consume workloads differ only in ack policy and pull style; their clients live here.

Every client reads the prefilled `BENCH` stream (n messages, see `_common.prefill`) through its own
durable pull consumer: deliver all, max_ack_pending 20,000, and stops at exactly n messages.
"""

from __future__ import annotations

from _common import BATCH, BENCH_STREAM, raw_pull
from _harness import Ctx

MAX_ACK_PENDING = 20_000


async def sdk_fetch(ctx: Ctx, ack: bool) -> None:
    import jetstream
    from jetstream import ConsumerConfig

    async with await jetstream.connect(ctx.url) as js:
        name = f"C_{ctx.tag}"
        policy = "explicit" if ack else "none"
        config = ConsumerConfig(durable_name=name, ack_policy=policy, max_ack_pending=MAX_ACK_PENDING)
        consumer = await js.create_consumer(BENCH_STREAM, config)
        got = 0
        with ctx.timed():
            while got < ctx.n:
                async for msg in consumer.fetch(min(BATCH, ctx.n - got), expires=5):
                    got += 1
                    if ack:
                        await msg.ack()
        ctx.count = got
        await js.consumer_delete(BENCH_STREAM, name)


async def sdk_messages(ctx: Ctx) -> None:
    import jetstream
    from jetstream import ConsumerConfig

    async with await jetstream.connect(ctx.url) as js:
        name = f"C_{ctx.tag}"
        config = ConsumerConfig(durable_name=name, max_ack_pending=MAX_ACK_PENDING)
        consumer = await js.create_consumer(BENCH_STREAM, config)
        got = 0
        with ctx.timed():
            async with consumer.messages() as msgs:
                async for msg in msgs:
                    await msg.ack()
                    got += 1
                    if got == ctx.n:
                        break
        ctx.count = got
        await js.consumer_delete(BENCH_STREAM, name)


async def nats_py_fetch(ctx: Ctx, ack: bool) -> None:
    """nats-py has no continuous pull: its messages() counterpart is this same fetch loop."""
    import nats
    from nats.js.api import AckPolicy, ConsumerConfig

    nc = await nats.connect(ctx.url)
    js = nc.jetstream()
    name = f"C_{ctx.tag}"
    policy = AckPolicy.EXPLICIT if ack else AckPolicy.NONE
    config = ConsumerConfig(ack_policy=policy, max_ack_pending=MAX_ACK_PENDING)
    psub = await js.pull_subscribe("bench.>", durable=name, stream=BENCH_STREAM, config=config)
    got = 0
    with ctx.timed():
        while got < ctx.n:
            for msg in await psub.fetch(min(BATCH, ctx.n - got), timeout=5):
                got += 1
                if ack:
                    await msg.ack()
    ctx.count = got
    await psub.unsubscribe()
    await js.delete_consumer(BENCH_STREAM, name)
    await nc.close()


async def raw_fetch(ctx: Ctx, ack: bool) -> None:
    import nats
    from nats.js.api import AckPolicy, ConsumerConfig

    nc = await nats.connect(ctx.url)
    jsm = nc.jsm()
    name = f"C_{ctx.tag}"
    policy = AckPolicy.EXPLICIT if ack else AckPolicy.NONE
    config = ConsumerConfig(durable_name=name, ack_policy=policy, max_ack_pending=MAX_ACK_PENDING)
    await jsm.add_consumer(BENCH_STREAM, config)
    with ctx.timed():
        await raw_pull(nc, BENCH_STREAM, name, ctx.n, ack)
    ctx.count = ctx.n
    await jsm.delete_consumer(BENCH_STREAM, name)
    await nc.close()

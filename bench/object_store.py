"""Object Store put/get of one large object, jetstream-py and nats-py side by side, on an embedded
nats-server (file storage, loopback).

    .venv/bin/python bench/object_store.py            # 100 MiB, 3 rounds
    .venv/bin/python bench/object_store.py --mib 200 --rounds 1 --no-nats-py

Prints the median seconds and MiB/s of each step. nats-py's get is run with ``writeinto`` (its
default accumulates the object with ``bytes +=``, quadratic in the size).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import platform
import statistics
import time
from collections.abc import Awaitable, Callable

import nats

import jetstream
from jetstream.testing import NatsServer


async def timed(step: Callable[[], Awaitable[object]]) -> float:
    started = time.perf_counter()
    await step()
    return time.perf_counter() - started


async def sdk_round(url: str, data: bytes) -> tuple[float, float]:
    async with await jetstream.connect(url) as js:
        store = await js.create_object_store("bench_sdk")
        put = await timed(lambda: store.put("big", data))
        size = 0

        async def get() -> None:
            nonlocal size
            async for chunk in await store.get("big"):
                size += len(chunk)

        got = await timed(get)
        assert size == len(data)
        await js.delete_object_store("bench_sdk")
    return put, got


async def nats_py_round(url: str, data: bytes) -> tuple[float, float]:
    nc = await nats.connect(url)
    try:
        pjs = nc.jetstream()
        store = await pjs.create_object_store("bench_py")
        put = await timed(lambda: store.put("big", data))
        out = io.BytesIO()
        got = await timed(lambda: store.get("big", writeinto=out))
        assert out.getbuffer().nbytes == len(data)
        await pjs.delete_object_store("bench_py")
    finally:
        await nc.close()
    return put, got


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=100, help="object size in MiB")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-nats-py", action="store_true", help="only jetstream-py")
    args = parser.parse_args()
    data = os.urandom(args.mib * 1024 * 1024)
    clients: dict[str, Callable[[str, bytes], Awaitable[tuple[float, float]]]] = {"jetstream-py": sdk_round}
    if not args.no_nats_py:
        clients["nats-py"] = nats_py_round
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in clients}
    async with NatsServer() as server:
        for _ in range(args.rounds):  # interleaved, so both see the same machine load
            for name, run in clients.items():
                results[name].append(await run(server.url, data))
    print(
        f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs; "
        f"{args.mib} MiB object, 128 KiB chunks, median of {args.rounds}\n"
    )
    print("| client | put s | put MiB/s | get s | get MiB/s |")
    print("|---|---:|---:|---:|---:|")
    for name, rounds in results.items():
        put = statistics.median(r[0] for r in rounds)
        get = statistics.median(r[1] for r in rounds)
        print(f"| {name} | {put:.2f} | {args.mib / put:.0f} | {get:.2f} | {args.mib / get:.0f} |")


if __name__ == "__main__":
    asyncio.run(main())

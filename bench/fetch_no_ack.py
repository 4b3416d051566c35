"""Fetch with ack policy none: batches of 500 pulled one after the other, no acks."""

from __future__ import annotations

import _consume
from _harness import NATS_PY, OFFICIAL, RAW, SDK, Ctx, child


async def sdk(ctx: Ctx) -> None:
    await _consume.sdk_fetch(ctx, ack=False)


async def nats_py(ctx: Ctx) -> None:
    await _consume.nats_py_fetch(ctx, ack=False)


async def raw(ctx: Ctx) -> None:
    await _consume.raw_fetch(ctx, ack=False)


async def official(ctx: Ctx) -> None:
    import _official

    await _official.fetch_no_ack(ctx)


CLIENTS = {SDK: sdk, NATS_PY: nats_py, OFFICIAL: official, RAW: raw}

if __name__ == "__main__":
    child(CLIENTS)

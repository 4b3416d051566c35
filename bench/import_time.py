"""Import time: a fresh process imports the client (asyncio and the other stdlib modules the harness
uses are already loaded, as they are in any asyncio service)."""

from __future__ import annotations

import importlib

from _harness import NATS_PY, OFFICIAL, SDK, Client, Ctx, child

MODULES = {SDK: "jetstream", NATS_PY: "nats.js", OFFICIAL: "nats.jetstream"}


def _importer(module: str) -> Client:
    async def run(ctx: Ctx) -> None:
        with ctx.timed():
            importlib.import_module(module)

    return run


CLIENTS = {client: _importer(module) for client, module in MODULES.items()}

if __name__ == "__main__":
    child(CLIENTS)

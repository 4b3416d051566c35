"""`make demo`: start an embedded nats-server on a free loopback port, run the quickstart, stop it."""

from __future__ import annotations

import asyncio

from quickstart import main as quickstart

from jetstream.testing import NatsServer


async def main() -> None:
    async with NatsServer() as server:
        print(f"embedded nats-server on {server.url} (store {server.store_dir})")
        await quickstart(server.url)
    print("server stopped")


if __name__ == "__main__":
    asyncio.run(main())

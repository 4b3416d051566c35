"""Servers never outlive their owner, and are not tied to one event loop."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from jetstream.testing import HubAndLeaf, NatsServer


def _pid_gone(pid: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def test_forgotten_server_is_killed_at_interpreter_exit() -> None:
    # A program that starts a server and exits without stopping it: the
    # exit-time finalizer must kill the server and delete its directory.
    script = (
        "import asyncio, json\n"
        "from jetstream.testing import NatsServer\n"
        "server = NatsServer()\n"
        "asyncio.run(server.start())\n"
        "print(json.dumps({'pid': server.process.pid, 'dir': str(server.directory)}))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env, check=True
    )
    leaked = json.loads(done.stdout.strip().splitlines()[-1])
    assert _pid_gone(leaked["pid"])
    assert not Path(leaked["dir"]).exists()


def test_server_is_not_bound_to_an_event_loop() -> None:
    # Session-scoped fixtures may start a server on one loop and tests drive
    # it from another; every operation must work across loops.
    server = NatsServer()
    asyncio.run(server.start())
    try:
        assert server.process is not None
        pid = server.process.pid
        asyncio.run(server.restart())
        assert server.process.pid != pid
        asyncio.run(server.kill())
        asyncio.run(server.start())
        assert server.running
    finally:
        asyncio.run(server.stop())
    assert not server.running


def test_hub_and_leaf_can_start_again_after_stop() -> None:
    async def cycle(pair: HubAndLeaf) -> str:
        async with pair:
            return pair.leaf.name

    pair = HubAndLeaf()
    first = asyncio.run(cycle(pair))
    assert "Server Exiting" in pair.leaf.read_log()
    second = asyncio.run(cycle(pair))
    assert first == second
    assert not pair.hub.running and not pair.leaf.running

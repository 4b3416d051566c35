"""Free TCP port allocation on the loopback interface."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

LOOPBACK = "127.0.0.1"


def free_ports(count: int) -> list[int]:
    """Return ``count`` distinct TCP ports that are currently free on 127.0.0.1.

    The kernel picks them (bind to port 0).  All probe sockets are held open
    until every port is chosen so one call never returns the same port
    twice.  There is an unavoidable window between closing the probes and
    ``nats-server`` binding the ports; callers retry on "address already in
    use" to cover it.
    """
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sockets.append(sock)
            sock.bind((LOOPBACK, 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


@contextlib.asynccontextmanager
async def loopback_connection(port: int) -> AsyncIterator[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    """A TCP connection to ``127.0.0.1:port``, closed on exit (a server that is already gone
    is no error)."""
    reader, writer = await asyncio.open_connection(LOOPBACK, port)
    try:
        yield reader, writer
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()

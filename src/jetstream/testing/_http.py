"""A tiny async HTTP/1.0 GET client for the nats-server monitoring port.

Only talks to 127.0.0.1 and only needs GET + JSON, so a few lines over
``asyncio.open_connection`` avoid pulling in an HTTP client dependency.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from ._ports import LOOPBACK, loopback_connection


async def http_get(port: int, path: str, *, timeout: float = 5.0) -> tuple[int, bytes]:
    """GET ``path`` from ``127.0.0.1:port``; return ``(status, body)``."""

    async def _get() -> bytes:
        async with loopback_connection(port) as (reader, writer):
            # HTTP/1.0 makes the server close the connection after the
            # response, so "read until EOF" is the whole body (no chunking).
            request = f"GET {path} HTTP/1.0\r\nHost: {LOOPBACK}:{port}\r\n\r\n"
            writer.write(request.encode("ascii"))
            await writer.drain()
            return await reader.read()

    raw = await asyncio.wait_for(_get(), timeout)
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].split(b" ", 2)
    if len(status_line) < 2 or not status_line[1].isdigit():
        raise ConnectionError(f"malformed HTTP response from {LOOPBACK}:{port}{path}: {raw[:200]!r}")
    return int(status_line[1]), body


async def http_get_json(port: int, path: str, *, timeout: float = 5.0) -> tuple[int, Any]:
    """GET ``path`` and decode the body as JSON; return ``(status, document)``."""
    status, body = await http_get(port, path, timeout=timeout)
    return status, json.loads(body) if body.strip() else None

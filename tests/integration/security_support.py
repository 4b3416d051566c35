"""What the security tests share: the time bounds, connecting, and expecting a connect to fail."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

import jetstream
from jetstream import JetStream, errors

#: The contract's bound on the time from connect() to the error, with default options.
FAST = 1.0
#: A connect() still running after this long (e.g. nats-py's reconnect loop) fails the test here
#: instead of at the pytest timeout.
HANG_GUARD = 15.0


def report(case: str, elapsed: float) -> None:
    print(f"\n[time-to-error] {case}: {elapsed * 1000:.1f} ms")


@asynccontextmanager
async def connected(servers: str | list[str], **options: Any) -> AsyncIterator[JetStream]:
    js = await asyncio.wait_for(jetstream.connect(servers, **options), HANG_GUARD)
    try:
        yield js
    finally:
        await asyncio.wait_for(js.close(), HANG_GUARD)


async def connect_must_fail(
    expected: type[errors.ConnectError], servers: str | list[str], **options: Any
) -> tuple[errors.ConnectError, float]:
    """Run `jetstream.connect` with ``options`` (nothing else: the defaults are under test) and
    return the error it raised and the seconds it took."""
    start = time.perf_counter()
    try:
        js = await asyncio.wait_for(jetstream.connect(servers, **options), HANG_GUARD)
    except Exception as exc:
        elapsed = time.perf_counter() - start
        if isinstance(exc, expected):
            return exc, elapsed
        if isinstance(exc, TimeoutError) and not isinstance(exc, errors.JetStreamError):
            pytest.fail(f"connect() did not fail within {HANG_GUARD}s (expected {expected.__name__})")
        raise AssertionError(
            f"expected {expected.__name__}, got {type(exc).__module__}.{type(exc).__name__} "
            f"after {elapsed * 1000:.0f} ms"
        ) from exc
    await js.close()
    pytest.fail(f"connect() succeeded (expected {expected.__name__})")

"""What the test servers share: ``async with`` starts them and stops them."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import TypeVar

# A bound TypeVar rather than `typing.Self` (3.11+): `typing.get_type_hints` must resolve the
# annotations on Python 3.10 too.
_S = TypeVar("_S", bound="StartStop")


class StartStop(ABC):
    """Started by ``async with`` (`start`), stopped when the block ends (`stop`), however it ends."""

    @abstractmethod
    async def start(self) -> None:
        """Start, and return once ready."""

    @abstractmethod
    async def stop(self) -> None:
        """Stop; idempotent."""

    async def __aenter__(self: _S) -> _S:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


async def wait_for(
    problem: Callable[[], Awaitable[str | None]],
    *,
    timeout: float,
    errors: tuple[type[Exception], ...],
    interval: float,
) -> str | None:
    """Ask ``problem`` every ``interval`` seconds until it finds none (then None), or until
    ``timeout`` has passed (then the last problem found). The exceptions ``errors`` are problems."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            found = await problem()
        except errors as exc:
            found = f"{type(exc).__name__}: {exc}"
        if found is None or loop.time() >= deadline:
            return found
        await asyncio.sleep(interval)

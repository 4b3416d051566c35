"""`Payload`, what message bodies may be; `Unpack`, for ``**options: Unpack[SomeOptions]`` (PEP 692) on every supported Python;
`AsyncResource`, what every object closed by ``aclose()`` shares as an async context manager.

Keyword options shared by several methods are one `TypedDict`; type checkers see each keyword.
Python 3.10 has no `typing.Unpack`: there, at run time, ``Unpack[T]`` is ``T``, so that
`typing.get_type_hints` still resolves the signatures (type checkers use typing_extensions').

A leaf: imports no feature.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable
from types import TracebackType
from typing import TYPE_CHECKING, TypeVar

__all__ = ["AsyncResource", "Payload", "Unpack"]

Payload = bytes | bytearray | memoryview
"""A message body: any bytes-like object nats writes as it is (`_transport/_checks.py` accepts these;
a memoryview counts its `nbytes`). A mutable one must not change until the call returns."""

if sys.version_info >= (3, 11):
    from typing import Unpack
elif TYPE_CHECKING:
    from typing_extensions import Unpack
else:

    class Unpack:
        def __class_getitem__(cls, item: object) -> object:
            return item


# A bound TypeVar rather than `typing.Self` (3.11+): `typing.get_type_hints` must resolve the
# annotations on Python 3.10 too.
_R = TypeVar("_R", bound="AsyncResource")


class AsyncResource:
    """Closed by `aclose`; ``async with`` returns the object itself and calls `aclose` when the
    block ends, however it ends."""

    __slots__ = ()

    def aclose(self) -> Awaitable[None]:
        """Close; idempotent. (Declared as returning an awaitable, so that a subclass may act at
        once and return an awaitable, as `ConsumeContext.aclose` does, or be a coroutine.)"""
        raise NotImplementedError

    async def __aenter__(self: _R) -> _R:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

"""`Payload`, what message bodies may be; `Unpack`, for ``**options: Unpack[SomeOptions]`` (PEP 692) on every supported Python.

Keyword options shared by several methods are one `TypedDict`; type checkers see each keyword.
Python 3.10 has no `typing.Unpack`: there, at run time, ``Unpack[T]`` is ``T``, so that
`typing.get_type_hints` still resolves the signatures (type checkers use typing_extensions').

A leaf: imports no feature.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

__all__ = ["Payload", "Unpack"]

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

"""Reprs of objects that carry payloads: the first bytes and the size, never a whole message.

A leaf: imports no feature.
"""

from __future__ import annotations

import msgspec

__all__ = ["preview", "struct_repr"]

PREVIEW_BYTES = 32


def preview(data: bytes) -> str:
    """``b'...'`` for a short payload; its first `PREVIEW_BYTES` bytes and its size otherwise."""
    if len(data) <= PREVIEW_BYTES:
        return repr(bytes(data))
    return f"{bytes(data[:PREVIEW_BYTES])!r}...({len(data)} bytes)"


def struct_repr(obj: msgspec.Struct, payload: str) -> str:
    """``Name(field=value, ...)`` as msgspec writes it, with the ``payload`` field previewed."""
    fields = ", ".join(
        f"{name}={preview(value) if name == payload else repr(value)}"
        for name in obj.__struct_fields__
        for value in (getattr(obj, name),)
    )
    return f"{type(obj).__name__}({fields})"

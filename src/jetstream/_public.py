"""Public names report the module users import them from.

`export` sets ``__module__`` of the classes and functions a public module (`jetstream`,
`jetstream.errors`) re-exports from private ones, so reprs, tracebacks and documentation say
``jetstream.errors.StreamNotFoundError``, not ``jetstream._generated.errors.StreamNotFoundError``;
pickle finds them there too (by ``__module__`` and ``__qualname__``).

String annotations (``from __future__ import annotations``) are resolved by `typing.get_type_hints`
and msgspec in the namespace of the module ``__module__`` names, which the public module is not:
each object's own annotations are resolved first, in the module that defines it, and stored as
objects.

A leaf: imports no feature.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Iterable, Mapping

__all__ = ["export"]


def export(module: str, namespace: Mapping[str, object], names: Iterable[str]) -> None:
    """Make each class or function ``namespace[name]`` defined in a private module of this package
    report ``module`` as its own; aliases (``Transport = Connection``) and other objects are left
    alone."""
    for name in names:
        obj = namespace[name]
        if not isinstance(obj, (type, types.FunctionType)) or obj.__qualname__ != name:
            continue
        if not _is_private(obj.__module__):
            continue
        _resolve_annotations(obj)
        obj.__module__ = module


def _is_private(module: str) -> bool:
    parts = module.split(".")
    return parts[0] == "jetstream" and any(part.startswith("_") for part in parts[1:])


def _resolve_annotations(obj: type | types.FunctionType) -> None:
    """Replace the string annotations of ``obj`` itself (not those of its bases) by the objects
    they name in its defining module. Unresolvable ones are left as they are."""
    own = inspect.get_annotations(obj)
    if not own or not any(isinstance(value, str) for value in own.values()):
        return
    try:
        hints = typing.get_type_hints(obj, include_extras=True)
    except Exception:  # left for the tests over every public name to report
        return
    obj.__annotations__ = {key: hints.get(key, value) for key, value in own.items()}

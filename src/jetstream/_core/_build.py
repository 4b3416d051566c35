"""Small helpers the generated API methods call to assemble request bodies."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import msgspec

from .._exceptions import InvalidNameError
from .._transport import next_id
from .._validate import check_name

C = TypeVar("C", bound=msgspec.Struct)
R = TypeVar("R", bound=msgspec.Struct)


def merge_config(
    cls: type[C],
    config: str | C | None,
    name_fields: Sequence[str],
    overrides: Mapping[str, Any],
    defaults: Mapping[str, Any],
) -> C:
    """A new config: `config` (a config, a name, or nothing) with the non-None `overrides` applied
    and `defaults` filled where still unset. The caller's config object is never modified."""
    values: dict[str, Any] = {}
    if isinstance(config, str):
        values = dict.fromkeys(name_fields, config)
    elif config is not None:
        if not isinstance(config, cls):
            raise TypeError(f"expected {cls.__name__} or str, got {type(config).__name__}")
        values = msgspec.structs.asdict(config)
    values.update((k, v) for k, v in overrides.items() if v is not None)
    for key, value in defaults.items():
        if values.get(key) is None:
            values[key] = value
    return cls(**values)


def config_token(cfg: msgspec.Struct, token: str, name_fields: Sequence[str], *, generate: bool) -> str:
    """The subject token naming `cfg`: the first of `name_fields` that is set, else a fresh name."""
    for field in name_fields:
        value = getattr(cfg, field, None)
        if value is not None:
            return check_name(token, value)
    if generate:
        return next_id()
    raise InvalidNameError(f"{token} name is required: set one of {', '.join(name_fields)}")


def extend(cls: type[R], base: msgspec.Struct, **extra: Any) -> R:
    """An instance of the request type `cls` (a subclass of `base`'s type) with base's fields."""
    values = msgspec.structs.asdict(base)
    values.update((k, v) for k, v in extra.items() if v is not None)
    return cls(**values)

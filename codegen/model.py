"""The intermediate model between the schemas and the templates.

Everything here is a frozen dataclass with no behaviour beyond small derived properties, so the
templates only loop and branch, and the diff command compares two models without touching JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class TypeRef:
    """A field's type. `kind` is one of: str int float bool bytes duration time list map model enum raw."""

    kind: str
    item: TypeRef | None = None  # list / map values
    name: str = ""  # model or enum schema name
    values: tuple[str, ...] = ()  # enum values

    def describe(self) -> str:
        """A short, Python-level spelling used by `codegen diff`."""
        if self.kind == "list":
            assert self.item is not None
            return f"list[{self.item.describe()}]"
        if self.kind == "map":
            assert self.item is not None
            return f"dict[str, {self.item.describe()}]"
        if self.kind in ("model", "enum"):
            return self.name
        return {"duration": "timedelta", "time": "datetime"}.get(self.kind, self.kind)


@dataclass(frozen=True)
class Field:
    wire_name: str
    py_name: str
    type: TypeRef
    required: bool
    doc: str = ""
    schema_default: str = ""  # JSON text of the schema default, documentation only
    nullable: bool = False  # required, but the server may send null


@dataclass(frozen=True)
class Model:
    name: str  # schema name: definition key or file stem
    class_name: str
    doc: str
    fields: tuple[Field, ...]
    base: str = ""  # schema name of the parent model, if any
    source: str = ""  # file#pointer, for messages
    direction: str = "response"  # request | response | both
    response_root: bool = False  # a `*_response` file: decoded after the error probe


@dataclass(frozen=True)
class Enum:
    name: str
    class_name: str
    values: tuple[str, ...]
    doc: str = ""


@dataclass(frozen=True)
class Token:
    name: str
    kind: str  # name | account | subject
    optional_tail: bool = False


@dataclass(frozen=True)
class Endpoint:
    name: str
    subject: str  # template after the API prefix
    tokens: tuple[Token, ...]
    server_const: str
    request: str  # schema name or ""
    body: str
    response: str  # schema name or "raw"
    result: str = ""
    paged: str = ""
    config: str = ""
    fill: tuple[tuple[str, str], ...] = ()
    name_fields: tuple[str, ...] = ()
    defaults: tuple[tuple[str, str], ...] = ()
    generate_name: bool = False
    merge_pages: str = ""  # a paged map inside the reply ("state.subjects"): pages are merged into it
    system: bool = False
    reply: str = "single"
    since: str = ""
    doc: str = ""


@dataclass(frozen=True)
class ErrorCode:
    constant: str
    class_name: str
    member: str  # ErrorCode enum member name
    code: int
    err_code: int
    description: str
    deprecates: str = ""


@dataclass(frozen=True)
class API:
    """Everything one generation renders."""

    ref: str
    models: tuple[Model, ...]
    enums: tuple[Enum, ...]
    endpoints: tuple[Endpoint, ...]
    errors: tuple[ErrorCode, ...]
    errors_ref: str = ""
    problems: tuple[str, ...] = field(default=())

    def model(self, name: str) -> Model:
        for m in self.models:
            if m.name == name:
                return m
        raise KeyError(name)

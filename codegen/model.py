"""The intermediate model between the schemas and the templates.

Everything here is a frozen dataclass with no behaviour beyond small derived properties, so the
templates only loop and branch, and the diff command compares two models without touching JSON.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Kind(enum.Enum):
    """What a field's type is: a scalar, a container of `TypeRef.item`, or a named model/enum."""

    STR = "str"
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    BYTES = "bytes"
    DURATION = "duration"
    TIME = "time"
    LIST = "list"
    MAP = "map"
    MODEL = "model"
    ENUM = "enum"
    RAW = "raw"


class Direction(enum.Enum):
    """Which way a model travels: built by callers, decoded from replies, or both."""

    REQUEST = "request"
    RESPONSE = "response"
    BOTH = "both"


class TokenKind(enum.Enum):
    """How a subject token is checked: a stream/consumer name (ADR-6), an account, a subject."""

    NAME = "name"
    ACCOUNT = "account"
    SUBJECT = "subject"


class Body(enum.Enum):
    """What the server does with a request body."""

    NONE = "none"  # ignored
    EMPTY = "empty"  # must be empty
    OPTIONAL = "optional"  # parsed when present
    REQUIRED = "required"


class ReplyMode(enum.Enum):
    SINGLE = "single"  # one reply
    MULTI = "multi"  # every server answers (broadcast)


class Inbox(enum.Enum):
    """Where the reply is received. The shared request inbox matches one reply per request by its
    subject; a reply of several messages, or one that keeps its own subject (a pulled message),
    needs a private inbox (a subscription per call)."""

    SHARED = "shared"
    PRIVATE = "private"


@dataclass(frozen=True)
class TypeRef:
    """A field's type."""

    kind: Kind
    item: TypeRef | None = None  # list / map values
    name: str = ""  # model or enum schema name
    values: tuple[str, ...] = ()  # enum values

    def describe(self) -> str:
        """A short, Python-level spelling used by `codegen diff`."""
        if self.kind is Kind.LIST:
            assert self.item is not None
            return f"list[{self.item.describe()}]"
        if self.kind is Kind.MAP:
            assert self.item is not None
            return f"dict[str, {self.item.describe()}]"
        if self.kind in (Kind.MODEL, Kind.ENUM):
            return self.name
        return {Kind.DURATION: "timedelta", Kind.TIME: "datetime"}.get(self.kind, str(self.kind.value))


@dataclass(frozen=True)
class Constraint:
    """A JSON Schema constraint of a field (`minimum`, `maxLength`, `pattern` ...; `items.X` for
    the items of a list). Only an enforced one reaches the generated code, as `msgspec.Meta`."""

    keyword: str
    value: int | float | str
    enforced: bool = False


@dataclass(frozen=True)
class Field:
    wire_name: str
    py_name: str
    type: TypeRef
    required: bool
    doc: str = ""
    schema_default: str = ""  # JSON text of the schema default, documentation only
    nullable: bool = False  # required, but the server may send null
    constraints: tuple[Constraint, ...] = ()
    # A type shared by requests and replies: every supported server always sends it (required.toml
    # `always` minus `newer`). Its reply variant makes it required.
    always: bool = False

    @property
    def enforced(self) -> tuple[Constraint, ...]:
        return tuple(c for c in self.constraints if c.enforced)


@dataclass(frozen=True)
class Model:
    name: str  # schema name: definition key or file stem
    class_name: str
    doc: str
    fields: tuple[Field, ...]
    base: str = ""  # schema name of the parent model, if any
    source: str = ""  # file#pointer, for messages
    direction: Direction = Direction.RESPONSE
    response_root: bool = False  # a `*_response` file: decoded after the error probe
    reply_of: str = ""  # a reply variant: the schema name of the shared type it narrows
    tag: str = ""  # an event: the value of its JSON `type` member, which picks its class
    module: str = "models"  # the generated module it is rendered into: "models" or "advisories"

    @property
    def request_body(self) -> bool:
        """A request schema (`*_request`, or a base only they use): the generated methods take its
        fields as arguments, so `jetstream` leaves it to `jetstream.models`."""
        return self.name.endswith("_request")


@dataclass(frozen=True)
class Enum:
    name: str
    class_name: str
    values: tuple[str, ...]
    doc: str = ""
    module: str = "models"  # "advisories" for the enums only events use


@dataclass(frozen=True)
class Token:
    name: str
    kind: TokenKind
    optional_tail: bool = False


@dataclass(frozen=True)
class Endpoint:
    name: str
    subject: str  # template after the API prefix
    tokens: tuple[Token, ...]
    server_const: str
    request: str  # schema name or ""
    body: Body
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
    reply: ReplyMode = ReplyMode.SINGLE
    inbox: Inbox = Inbox.SHARED
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

    def reply_variant(self, name: str) -> Model | None:
        """The reply variant of a type shared by requests and replies, if it has one."""
        return next((m for m in self.models if m.reply_of == name), None)

    def enum(self, name: str) -> Enum:
        for e in self.enums:
            if e.name == name:
                return e
        raise KeyError(name)

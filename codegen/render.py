"""Render stage: the API model -> Python modules, through jinja2 templates, then `ruff format`."""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import jinja2

from .model import (
    API,
    Body,
    Direction,
    Endpoint,
    Enum,
    Field,
    Inbox,
    Kind,
    Model,
    ReplyMode,
    TokenKind,
    TypeRef,
)

TEMPLATES = Path(__file__).parent / "templates"
OUTPUTS = {
    "models.py": "models.py.j2",
    "advisories.py": "advisories.py.j2",
    "api.py": "api.py.j2",
    "errors.py": "errors.py.j2",
    "toplevel.py": "toplevel.py.j2",
    "__init__.py": "init.py.j2",
}


# How scalar kinds are spelled inside the generated modules (aliases that avoid name clashes).
GENERATED_LEAVES = {
    Kind.BYTES: "_bytes",
    Kind.DURATION: "_Duration",
    Kind.TIME: "_Time",
    Kind.RAW: "msgspec.Raw",
}


def annotation(
    t: TypeRef, api: API, leaves: Mapping[Kind, str] = GENERATED_LEAVES, *, read: bool = False
) -> str:
    """The Python annotation of a field type; `leaves` spells the scalar kinds. `read` spells it as
    replies are read (fields of models only replies carry): reply variants of shared types, enums
    as their Literal (`read_enum`), timestamps as the `Timestamp` they decode to."""
    if t.kind is Kind.LIST:
        assert t.item is not None
        return f"list[{annotation(t.item, api, leaves, read=read)}]"
    if t.kind is Kind.MAP:
        assert t.item is not None
        return f"dict[str, {annotation(t.item, api, leaves, read=read)}]"
    if t.kind is Kind.MODEL:
        variant = api.reply_variant(t.name) if read else None
        return (variant or api.model(t.name)).class_name
    if t.kind is Kind.ENUM:
        if read:
            return read_enum(api.enum(t.name).class_name)
        # Open enums: callers may pass a value newer than these schemas as a plain str.
        return api.enum(t.name).class_name + " | str"
    if t.kind is Kind.TIME and read:
        return "Timestamp"
    return leaves.get(t.kind, str(t.kind.value))


def read_enum(class_name: str) -> str:
    """The generated alias of an enum as replies carry it: its Literal for type checkers, `str` at
    run time, so a newer server's value decodes (as a plain str) instead of failing the reply."""
    return f"_Read{class_name}"


# msgspec.Meta's spelling of the JSON Schema constraints.
META_ARGS = {
    "minimum": "ge",
    "maximum": "le",
    "exclusiveMinimum": "gt",
    "exclusiveMaximum": "lt",
    "minLength": "min_length",
    "maxLength": "max_length",
    "minItems": "min_length",
    "maxItems": "max_length",
    "pattern": "pattern",
}


def meta_args(f: Field) -> str:
    """The `msgspec.Meta(...)` arguments of a field's enforced constraints ("" for none)."""
    return ", ".join(f"{META_ARGS[c.keyword]}={c.value!r}" for c in f.enforced)


def docstring_text(text: str) -> str:
    """Text safe inside a triple-quoted docstring."""
    text = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    return text + " " if text.endswith('"') else text


class View:
    """Template-side queries on the model; kept here so templates only loop and branch."""

    def __init__(self, api: API) -> None:
        self.api = api

    def models(self, module: str) -> list[Model]:
        """The models rendered into one generated module ("models" or "advisories")."""
        return [m for m in self.api.models if m.module == module]

    def enums(self, module: str) -> list[Enum]:
        return [e for e in self.api.enums if e.module == module]

    def events(self) -> list[Model]:
        """The event types (advisories and metrics): the models with a `type` tag."""
        return [m for m in self.api.models if m.tag]

    def imported_models(self, module: str) -> list[str]:
        """Class names of the models.py types that the models of `module` refer to (read as replies)."""
        names: set[str] = set()

        def visit(t: TypeRef) -> None:
            if t.item is not None:
                visit(t.item)
            elif t.kind is Kind.MODEL:
                target = self.api.reply_variant(t.name) or self.api.model(t.name)
                if target.module != module:
                    names.add(target.class_name)

        for m in self.models(module):
            for f in m.fields:
                visit(f.type)
        return sorted(names)

    def all_fields(self, m: Model) -> list[Field]:
        base = self.api.model(m.base).fields if m.base else ()
        inherited = self.all_fields(self.api.model(m.base)) if m.base else []
        return inherited + [f for f in m.fields if f not in base]

    def constrained(self) -> list[Model]:
        """Models with an enforced constraint (their own or inherited): the core checks them."""
        return [m for m in self.api.models if any(f.enforced for f in self.all_fields(m))]

    def request_model(self, e: Endpoint) -> Model | None:
        return self.api.model(e.request) if e.request else None

    def response_class(self, e: Endpoint) -> str:
        return self.api.model(e.response).class_name

    def config_model(self, e: Endpoint) -> Model | None:
        req = self.request_model(e)
        if req is None or not e.config:
            return None
        if e.config == ".":
            return self.api.model(req.base)
        field = next(f for f in self.all_fields(req) if f.wire_name == e.config)
        return self.api.model(field.type.name)

    def config_token_field(self, e: Endpoint, token: str) -> str:
        """The config field a token is read from, or "" when the token is a plain argument."""
        if not e.config:
            return ""
        for field, tok in e.fill:
            if tok == token and (e.config == "." or field.startswith(e.config + ".")):
                return field.split(".", 1)[-1]
        return ""

    def token_fills(self, e: Endpoint) -> list[tuple[str, str]]:
        """(body field, token) pairs where the body field is set from a token argument."""
        return [(f, t) for f, t in e.fill if not self.config_token_field(e, t)]

    def positional(self, e: Endpoint) -> list[str]:
        """Names of the tokens that are positional arguments (the rest come from the config)."""
        return [t.name for t in e.tokens if not self.config_token_field(e, t.name)]

    def kwargs(self, e: Endpoint) -> list[Field]:
        """Request fields that become keyword arguments (not tied to tokens, not paging, not the config)."""
        req = self.request_model(e)
        if req is None:
            return []
        skip = {f for f, _ in self.token_fills(e)}
        if e.paged:
            skip.add("offset")
        if e.config and e.config != ".":
            skip.add(e.config)
        fields = [f for f in self.all_fields(req) if f.wire_name not in skip]
        cfg = self.config_model(e)
        if cfg is not None and e.config == ".":
            own = {f.wire_name for f in self.all_fields(cfg)}
            fields = [f for f in fields if f.wire_name not in own]
        return fields

    def config_kwargs(self, e: Endpoint) -> list[Field]:
        cfg = self.config_model(e)
        if cfg is None:
            return []
        return [f for f in self.all_fields(cfg) if f.wire_name not in e.name_fields]

    def config_py_names(self, e: Endpoint, wire_names: Sequence[str]) -> tuple[str, ...]:
        """Python attribute names of config fields given by wire name."""
        cfg = self.config_model(e)
        assert cfg is not None
        by_wire = {f.wire_name: f.py_name for f in self.all_fields(cfg)}
        return tuple(by_wire[w] for w in wire_names)

    def config_py_defaults(self, e: Endpoint) -> dict[str, str]:
        names = self.config_py_names(e, [k for k, _ in e.defaults])
        return dict(zip(names, (v for _, v in e.defaults), strict=True))

    def subject_expr(self, e: Endpoint) -> str:
        """An f-string body for the subject; an optional tail is appended by the method."""
        return re.sub(r"\.\{\w+\.\.\.\}$", "", e.subject)

    def tail(self, e: Endpoint) -> str:
        return next((t.name for t in e.tokens if t.optional_tail), "")

    def tail_required(self, e: Endpoint) -> bool:
        """A `{x...}` tail that is a plain argument (not read from the config) is required."""
        tail = self.tail(e)
        return bool(tail) and not self.config_token_field(e, tail)

    def token_kind(self, e: Endpoint, token: str) -> TokenKind:
        return next(t.kind for t in e.tokens if t.name == token)


def environment(api: API) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["annotation"] = lambda t, read=False: annotation(t, api, read=read)
    env.filters["read_enum"] = read_enum
    env.filters["pyrepr"] = repr
    env.filters["meta"] = meta_args
    env.filters["docstr"] = docstring_text
    env.globals["view"] = View(api)
    # The IR's enums, so that templates compare members (a misspelt one fails the render).
    for kind in (Body, Direction, Inbox, Kind, ReplyMode, TokenKind):
        env.globals[kind.__name__] = kind
    env.globals["api"] = api
    return env


def render(api: API) -> dict[str, str]:
    """File name -> formatted source."""
    env = environment(api)
    raw = {name: env.get_template(tpl).render() for name, tpl in OUTPUTS.items()}
    return format_sources(raw)


def format_sources(sources: dict[str, str]) -> dict[str, str]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name, text in sources.items():
            (folder / name).write_text(text, encoding="utf-8")
        ruff = [sys.executable, "-m", "ruff"]
        common = ["--no-cache", "--config", str(Path(__file__).parent.parent / "pyproject.toml")]
        subprocess.run(
            [*ruff, "check", "--fix-only", "--select", "I,F401", "--quiet", *common, str(folder)], check=True
        )
        subprocess.run([*ruff, "format", "--quiet", *common, str(folder)], check=True)
        return {name: (folder / name).read_text(encoding="utf-8") for name in sources}

"""`python -m codegen diff OLD NEW`: what a schema bump changes for users of the generated API.

Both schema sets go through the same `build()` as generation (with this checkout's overrides and
endpoint manifest), and the two `API` models are compared at the Python level: a change the
generated code does not show (``int64`` -> ``uint64``, both ``int``) is not reported, while one it
does show (``str`` -> ``datetime``) is. The comparison yields frozen dataclasses; Markdown is
rendered from them by templates/diff.md.j2.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import jinja2

from .build import build
from .model import API, Direction, Endpoint, Field, Kind, Model, ReplyMode, TypeRef
from .render import GENERATED_LEAVES, TEMPLATES, View, annotation

# The generated modules import these under private aliases; users see the public types.
PUBLIC_LEAVES = {**GENERATED_LEAVES, Kind.TIME: "datetime", Kind.DURATION: "timedelta", Kind.BYTES: "bytes"}

REQUEST_SIDE = (Direction.REQUEST, Direction.BOTH)
RESPONSE_SIDE = (Direction.RESPONSE, Direction.BOTH)
# Endpoint changes that are about the method as a whole, not one keyword argument.
SIGNATURE_KINDS = ("returns", "positional", "config")


def user_annotation(t: TypeRef, api: API) -> str:
    """The annotation a type checker shows for a field of type `t` (without the `| None` of optionals)."""
    return annotation(t, api, PUBLIC_LEAVES)


# --- the structured diff ------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One user-visible change. `subject` is the field or keyword argument ("" for the class
    itself); `breaking` says why it breaks existing code ("" when it does not)."""

    # added | removed | retyped | required | optional | nullable | not-nullable | base, and for
    # endpoints also returns | positional | config
    kind: str
    subject: str
    old: str = ""
    new: str = ""
    breaking: str = ""

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.kind, self.subject, self.old, self.new)


@dataclass(frozen=True)
class TypeInfo:
    """A type present on one side only."""

    class_name: str
    direction: Direction
    fields: int


@dataclass(frozen=True)
class TypeChange:
    class_name: str
    direction: Direction
    changes: tuple[Change, ...]
    inherits: str = ""  # a base class whose (already listed) changes this class inherits


@dataclass(frozen=True)
class EnumInfo:
    class_name: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class EnumChange:
    class_name: str
    added: tuple[str, ...]
    removed: tuple[str, ...]


@dataclass(frozen=True)
class Param:
    name: str
    annotation: str
    required: bool

    @property
    def declaration(self) -> str:
        return self.annotation + ("" if self.required else " | None = None")


@dataclass(frozen=True)
class Signature:
    """The generated method's signature, as far as a schema set can change it."""

    positional: tuple[str, ...]
    config: str  # annotation of the `config` parameter, "" when there is none
    kwargs: tuple[Param, ...]
    returns: str

    @property
    def short(self) -> str:
        args = list(self.positional)
        if self.config:
            args.append(f"config: {self.config}")
        if args:
            args.append("/")
        args += ["*", f"{len(self.kwargs)} keyword argument{'s' * (len(self.kwargs) != 1)}"]
        return f"({', '.join(args)}) -> {self.returns}"


@dataclass(frozen=True)
class Availability:
    """An endpoint that can be generated on one side only; `reason` says why not on the other."""

    name: str
    signature: str
    reason: str


@dataclass(frozen=True)
class EndpointChange:
    name: str
    changes: tuple[Change, ...]


@dataclass(frozen=True)
class SchemaDiff:
    old_ref: str
    new_ref: str
    old_problems: tuple[str, ...]
    new_problems: tuple[str, ...]
    types_added: tuple[TypeInfo, ...]
    types_removed: tuple[TypeInfo, ...]
    types_changed: tuple[TypeChange, ...]
    enums_added: tuple[EnumInfo, ...]
    enums_removed: tuple[EnumInfo, ...]
    enums_changed: tuple[EnumChange, ...]
    endpoints_available: tuple[Availability, ...]
    endpoints_unavailable: tuple[Availability, ...]
    endpoints_changed: tuple[EndpointChange, ...]

    @property
    def breaking(self) -> tuple[tuple[str, str], ...]:
        """(where, what) for every breaking change, in report order."""
        out: list[tuple[str, str]] = []
        out += [(f"`{t.class_name}`", "type removed") for t in self.types_removed]
        for tc in self.types_changed:
            for c in tc.changes:
                if c.breaking:
                    out.append((f"`{tc.class_name}{'.' * bool(c.subject)}{c.subject}`", _explain(c)))
        out += [(f"`{e.class_name}`", "enum removed") for e in self.enums_removed]
        for ec in self.enums_changed:
            out += [(f"`{ec.class_name}`", f"value `{v!r}` removed") for v in ec.removed]
        out += [(f"`{a.name}()`", f"endpoint unavailable: {a.reason}") for a in self.endpoints_unavailable]
        for ep in self.endpoints_changed:
            for c in ep.changes:
                if c.breaking:
                    param = "" if c.kind in SIGNATURE_KINDS else f" keyword `{c.subject}`"
                    out.append((f"`{ep.name}()`{param}", _explain(c)))
        return tuple(out)

    def count(self, kind: str) -> int:
        """Field changes of one kind, over all changed types."""
        return sum(1 for tc in self.types_changed for c in tc.changes if c.kind == kind)

    @property
    def summary(self) -> str:
        fields = ", ".join(
            f"{self.count(k)} {label}"
            for k, label in (("added", "added"), ("removed", "removed"), ("retyped", "retyped"))
        )
        flips = self.count("required") + self.count("optional")
        nulls = self.count("nullable") + self.count("not-nullable")
        values_added = sum(len(e.added) for e in self.enums_changed)
        values_removed = sum(len(e.removed) for e in self.enums_changed)
        return (
            f"**{len(self.breaking)} breaking change{'s' * (len(self.breaking) != 1)}** · "
            f"types: {len(self.types_added)} added, {len(self.types_removed)} removed, "
            f"{len(self.types_changed)} changed · fields: {fields}, {flips} required-ness, "
            f"{nulls} nullability · enums: {len(self.enums_added)} added, {len(self.enums_removed)} removed, "
            f"values {values_added} added, {values_removed} removed · endpoints: "
            f"{len(self.endpoints_available)} now available, {len(self.endpoints_unavailable)} unavailable, "
            f"{len(self.endpoints_changed)} changed"
        )


def _explain(c: Change) -> str:
    if c.old and c.new:
        return f"{c.breaking} (`{c.old}` → `{c.new}`)"
    return f"{c.breaking} (was `{c.old}`)" if c.old else f"{c.breaking} (`{c.new}`)"


# --- types --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Slot:
    """A field as the generated class declares it."""

    annotation: str
    required: bool
    nullable: bool  # only meaningful when required: an optional field is `| None` anyway

    @property
    def declaration(self) -> str:
        if not self.required:
            return f"{self.annotation} | None = None"
        return self.annotation + (" | None" if self.nullable else "")


def _slots(api: API, m: Model) -> dict[str, _Slot]:
    """Every attribute of the class, inherited ones included (a later declaration overrides)."""
    return {
        f.py_name: _Slot(user_annotation(f.type, api), f.required, f.required and f.nullable)
        for f in View(api).all_fields(m)
    }


def _field_changes(old: Mapping[str, _Slot], new: Mapping[str, _Slot], direction: Direction) -> list[Change]:
    built = direction in REQUEST_SIDE  # callers construct it
    read = direction in RESPONSE_SIDE  # callers read it from replies
    out: list[Change] = []
    for name in sorted(set(old) | set(new)):
        a, b = old.get(name), new.get(name)
        if a is None:
            assert b is not None
            why = "new required field: existing constructor calls lack it" if built and b.required else ""
            out.append(Change("added", name, new=b.declaration, breaking=why))
            continue
        if b is None:
            out.append(Change("removed", name, old=a.declaration, breaking="field removed"))
            continue
        if a.annotation != b.annotation:
            out.append(Change("retyped", name, a.annotation, b.annotation, "annotation changed"))
        if not a.required and b.required:
            why = "now required: existing constructor calls may lack it" if built else ""
            out.append(Change("required", name, a.declaration, b.declaration, why))
        elif a.required and not b.required:
            why = "now optional: code reading it must handle None" if read and not a.nullable else ""
            out.append(Change("optional", name, a.declaration, b.declaration, why))
        elif a.required and a.nullable != b.nullable:
            if b.nullable:
                why = "now nullable: code reading it must handle None" if read else ""
                out.append(Change("nullable", name, a.declaration, b.declaration, why))
            else:
                why = "no longer accepts None" if built else ""
                out.append(Change("not-nullable", name, a.declaration, b.declaration, why))
    return out


def _base_class(api: API, m: Model) -> str:
    return api.model(m.base).class_name if m.base else ""


def diff_types(
    old: API, new: API
) -> tuple[tuple[TypeInfo, ...], tuple[TypeInfo, ...], tuple[TypeChange, ...]]:
    olds = {m.class_name: m for m in old.models}
    news = {m.class_name: m for m in new.models}

    def info(api: API, m: Model) -> TypeInfo:
        return TypeInfo(m.class_name, m.direction, len(View(api).all_fields(m)))

    added = tuple(info(new, news[c]) for c in sorted(set(news) - set(olds)))
    removed = tuple(info(old, olds[c]) for c in sorted(set(olds) - set(news)))
    raw: dict[str, tuple[Direction, list[Change]]] = {}
    for cname in sorted(set(olds) & set(news)):
        a, b = olds[cname], news[cname]
        # A type that moved between request and reply use is judged in both roles.
        direction = b.direction if a.direction == b.direction else Direction.BOTH
        changes = _field_changes(_slots(old, a), _slots(new, b), direction)
        old_base, new_base = _base_class(old, a), _base_class(new, b)
        if old_base != new_base:
            why = f"no longer a subclass of {old_base}" if old_base else ""
            changes.insert(0, Change("base", "", old_base or "—", new_base or "—", why))
        if changes:
            raw[cname] = (direction, changes)

    changed: list[TypeChange] = []
    for cname, (direction, changes) in raw.items():
        base = _base_class(new, news[cname])
        inherits = ""
        if base and base == _base_class(old, olds[cname]) and base in raw:
            # A base's directions include its subclasses', so its listing already marks every break.
            seen = {c.key for c in raw[base][1]}
            own = [c for c in changes if c.key not in seen]
            if len(own) < len(changes):
                inherits, changes = base, own
        changed.append(TypeChange(cname, direction, tuple(changes), inherits))
    return added, removed, tuple(changed)


# --- enums --------------------------------------------------------------------------------------


def diff_enums(
    old: API, new: API
) -> tuple[tuple[EnumInfo, ...], tuple[EnumInfo, ...], tuple[EnumChange, ...]]:
    olds = {e.class_name: e.values for e in old.enums}
    news = {e.class_name: e.values for e in new.enums}
    added = tuple(EnumInfo(c, tuple(sorted(news[c]))) for c in sorted(set(news) - set(olds)))
    removed = tuple(EnumInfo(c, tuple(sorted(olds[c]))) for c in sorted(set(olds) - set(news)))
    changed = []
    for c in sorted(set(olds) & set(news)):
        plus, minus = sorted(set(news[c]) - set(olds[c])), sorted(set(olds[c]) - set(news[c]))
        if plus or minus:
            changed.append(EnumChange(c, tuple(plus), tuple(minus)))
    return added, removed, tuple(changed)


# --- endpoints ----------------------------------------------------------------------------------


def _field(view: View, m: Model, wire: str) -> Field:
    found = next((f for f in view.all_fields(m) if f.wire_name == wire), None)
    if found is None:
        raise LookupError(f"{m.class_name} has no field {wire!r}")
    return found


def signature(api: API, e: Endpoint) -> Signature:
    """The method codegen would generate for `e` (the same rules as templates/api.py.j2).

    Raises LookupError when the schema set cannot generate it: a type or a field the manifest
    names is missing.
    """
    names = {m.name for m in api.models}
    missing = [t for t in (e.request, e.response) if t and t != "raw" and t not in names]
    if missing:
        raise LookupError(f"no type {' or '.join(missing)}")
    view = View(api)
    if e.config == "." and not api.model(e.request).base:
        raise LookupError(f"{e.request} is not built on a config type")
    if e.config and e.config != ".":
        _field(view, api.model(e.request), e.config)
    cfg = view.config_model(e)
    config = ""
    if cfg is not None:
        config = f"str | {cfg.class_name}" + (" | None" if e.config != "." else "")
    kwargs = [Param(f.py_name, user_annotation(f.type, api), False) for f in view.config_kwargs(e)]
    kwargs += [Param(f.py_name, user_annotation(f.type, api), f.required) for f in view.kwargs(e)]
    if e.response == "raw":
        returns = "list[RawMessage]" if e.reply is ReplyMode.MULTI else "RawMessage"
    elif e.paged:
        item = _field(view, api.model(e.response), e.paged).type.item
        if item is None:
            raise LookupError(f"{e.response}.{e.paged} is not a list")
        returns = f"list[{user_annotation(item, api)}]"
    elif e.result:
        returns = user_annotation(_field(view, api.model(e.response), e.result).type, api)
    elif e.reply is ReplyMode.MULTI:
        returns = f"list[{view.response_class(e)}]"
    else:
        returns = view.response_class(e)
    return Signature(tuple(view.positional(e)), config, tuple(kwargs), returns)


def _try_signature(api: API, e: Endpoint) -> Signature | str:
    try:
        return signature(api, e)
    except KeyError as exc:  # API.model()
        return f"no type {exc.args[0]}"
    except LookupError as exc:
        return str(exc)


def _signature_changes(a: Signature, b: Signature) -> list[Change]:
    out: list[Change] = []
    if a.returns != b.returns:
        out.append(Change("returns", "return", a.returns, b.returns, "return type changed"))
    if a.positional != b.positional:
        out.append(
            Change(
                "positional",
                "positional",
                ", ".join(a.positional),
                ", ".join(b.positional),
                "positional arguments changed",
            )
        )
    if a.config != b.config:
        out.append(Change("config", "config", a.config or "—", b.config or "—", "config parameter changed"))
    olds = {p.name: p for p in a.kwargs}
    news = {p.name: p for p in b.kwargs}
    for name in sorted(set(olds) | set(news)):
        p, q = olds.get(name), news.get(name)
        if p is None:
            assert q is not None
            why = "new required keyword argument" if q.required else ""
            out.append(Change("added", name, new=q.declaration, breaking=why))
        elif q is None:
            out.append(Change("removed", name, old=p.declaration, breaking="keyword argument removed"))
        else:
            if p.annotation != q.annotation:
                out.append(Change("retyped", name, p.annotation, q.annotation, "annotation changed"))
            if p.required != q.required:
                kind, why = ("required", "now required") if q.required else ("optional", "")
                out.append(Change(kind, name, p.declaration, q.declaration, why))
    return out


def diff_endpoints(
    old: API, new: API, endpoints: Iterable[tuple[Endpoint, Endpoint]]
) -> tuple[tuple[Availability, ...], tuple[Availability, ...], tuple[EndpointChange, ...]]:
    available: list[Availability] = []
    unavailable: list[Availability] = []
    changed: list[EndpointChange] = []
    for e_old, e_new in sorted(endpoints, key=lambda pair: pair[1].name):
        a, b = _try_signature(old, e_old), _try_signature(new, e_new)
        if isinstance(a, str) and isinstance(b, Signature):
            available.append(Availability(e_new.name, b.short, a))
        elif isinstance(a, Signature) and isinstance(b, str):
            unavailable.append(Availability(e_new.name, a.short, b))
        elif isinstance(a, Signature) and isinstance(b, Signature):
            changes = _signature_changes(a, b)
            if changes:
                changed.append(EndpointChange(e_new.name, tuple(changes)))
    return tuple(available), tuple(unavailable), tuple(changed)


# --- entry points -------------------------------------------------------------------------------


def diff_apis(old: API, new: API) -> SchemaDiff:
    """Compare two built API models. Endpoints are matched by method name."""
    new_endpoints = {e.name: e for e in new.endpoints}
    pairs = [(e, new_endpoints[e.name]) for e in old.endpoints if e.name in new_endpoints]
    types = diff_types(old, new)
    enums = diff_enums(old, new)
    endpoints = diff_endpoints(old, new, pairs)
    return SchemaDiff(
        old.ref,
        new.ref,
        tuple(sorted(old.problems)),
        tuple(sorted(new.problems)),
        *types,
        *enums,
        *endpoints,
    )


def render_markdown(diff: SchemaDiff) -> str:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters["pyrepr"] = repr
    return env.get_template("diff.md.j2").render(d=diff).strip("\n")


def diff_sets(old: Path, new: Path) -> str:
    """Markdown describing what moving from schema set `old` to `new` changes for users."""
    return render_markdown(diff_apis(build(old, None, strict=False), build(new, None, strict=False)))

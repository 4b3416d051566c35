"""Load -> patch -> resolve -> the API model that the templates render."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from pathlib import Path

from . import errors_table, manifest, patches
from .load import LOCAL_DIR, SchemaSet, load
from .model import API, Direction, Endpoint, Enum, Field, Kind, Model, TypeRef
from .problems import Problems
from .resolve import OVERRIDES_DIR, SKIP_PREFIX, SKIPPED_DEFS, Overrides, Resolver

# Types the hand-written data plane decodes although no management endpoint returns them.
EXTRA_RESPONSE_TYPES = ("pub_ack_response",)


def _is_alias(doc: dict[str, object]) -> bool:
    """`stream_configuration.json` and friends are a bare $ref to the definition of the same name."""
    return set(doc) <= {"$schema", "$id", "$ref", "title", "description", "$comment"} and "$ref" in doc


def _walk(start: Iterable[str], edges: dict[str, set[str]]) -> set[str]:
    seen: set[str] = set()
    todo = list(start)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(edges.get(name, ()))
    return seen


def resolve_models(
    s: SchemaSet, endpoints: list[Endpoint], overrides: Overrides, problems: Problems
) -> Resolver:
    r = Resolver(s, overrides)
    for key, schema in sorted(s.definitions.items()):
        if key in SKIPPED_DEFS or key.startswith(SKIP_PREFIX) or "enum" in schema or not r.is_object(schema):
            continue
        if key.endswith("_deliver_policy"):  # the oneOf variants folded away by patch B4
            continue
        r.request_model(key, "jetstream/api/v1/definitions.json", f"/definitions/{key}", schema)
    for stem, doc in sorted(s.docs.items()):
        if _is_alias(doc) or stem in s.definitions:
            continue
        r.request_model(stem, r.file_of(stem), "", doc)
    for key in sorted(set(s.common) & set(s.definitions)):
        problems.add("definitions.json", f"/definitions/{key}", "also a definition of the API: rename one")
    for name, doc in sorted(s.events.items()):
        r.request_model(name, r.file_of(name), "", doc)
    return r


def event_modules(
    models: list[Model], enums: list[Enum], r: Resolver, s: SchemaSet
) -> tuple[list[Model], list[Enum]]:
    """Move the events, and the types and enums only events use, into the `advisories` module."""
    edges = {name: r.references(name) for name in r.names()}
    api_roots = [name for name in r.names() if name in s.definitions or name in s.docs]
    from_api = _walk(api_roots, edges)
    only_events = _walk((m.name for m in models if m.tag), edges) - from_api

    def used_enums(ms: Iterable[Model]) -> set[str]:
        return {name for m in ms for f in m.fields for name in _enum_names(f.type)}

    api_enums = used_enums(m for m in models if m.name not in only_events)
    return (
        [dataclasses.replace(m, module="advisories") if m.name in only_events else m for m in models],
        [dataclasses.replace(e, module="advisories") if e.name not in api_enums else e for e in enums],
    )


def _enum_names(t: TypeRef) -> set[str]:
    if t.kind is Kind.ENUM:
        return {t.name}
    return _enum_names(t.item) if t.item is not None else set()


def directions(r: Resolver, endpoints: list[Endpoint]) -> dict[str, Direction]:
    edges = {name: r.references(name) for name in r.names()}
    requests = _walk((e.request for e in endpoints if e.request), edges)
    responses = _walk(
        [e.response for e in endpoints if e.response != "raw"] + list(EXTRA_RESPONSE_TYPES), edges
    )
    out = {}
    for name in r.names():
        out[name] = (
            Direction.BOTH
            if name in requests and name in responses
            else Direction.REQUEST
            if name in requests
            else Direction.RESPONSE
        )
    return out


def reply_variants(models: list[Model], problems: Problems) -> list[Model]:
    """A reply variant for each type shared by requests and replies whose replies read better than
    its requests: a subclass that makes the fields the server always sends (required.toml `always`)
    non-optional and refers to the reply variants of the types it contains. The templates also spell
    its enums as their Literal and its timestamps as `Timestamp`. Fields that servers older than
    the oldest supported one lack (required.toml `newer`) stay optional, so their replies decode;
    required fields are always encoded, so a reply sent back loses no field. Requests keep the shared type
    (`StreamConfig(name="X")`: everything but the name optional and left off the wire); replies
    decode into the variant, which callers can send back as it is, since it is a subclass."""
    by_name = {m.name: m for m in models}
    memo: dict[str, bool] = {}

    def reads_differently(t: TypeRef) -> bool:
        if t.item is not None:
            return reads_differently(t.item)
        return t.kind in (Kind.ENUM, Kind.TIME) or (t.kind is Kind.MODEL and has_variant(t.name))

    def differs(f: Field) -> bool:
        # A list or map field keeps its type: a subclass cannot narrow it (they are invariant).
        return (f.always and not f.required) or (f.type.item is None and reads_differently(f.type))

    def has_variant(name: str) -> bool:
        m = by_name[name]
        if m.direction is not Direction.BOTH:
            return False
        if name not in memo:
            memo[name] = False  # a type that contains itself
            memo[name] = any(differs(f) for f in m.fields)
        return memo[name]

    out = []
    for m in models:
        if not has_variant(m.name):
            continue
        if m.base:
            problems.add(*_where(m), f"{m.name} has a base type: its reply variant is not supported")
            continue
        loosened = [f.wire_name for f in m.fields if f.required and not f.always]
        if loosened and any(f.always for f in m.fields):
            problems.add(
                "schemas/overrides/required.toml",
                f"/{m.name}/always",
                f"required in requests but not always sent in replies: {loosened}",
            )
        out.append(
            Model(
                name=f"{m.name}_reply",
                class_name=f"{m.class_name}Reply",
                doc=f"{m.class_name} as the server sends it back (required.toml): what it always sends is set.",
                fields=tuple(
                    dataclasses.replace(f, required=f.required or f.always) for f in m.fields if differs(f)
                ),
                base=m.name,
                source=m.source,
                direction=Direction.RESPONSE,
                reply_of=m.name,
            )
        )
    return out


def _ordered(models: list[Model]) -> list[Model]:
    """Sorted by name, with every base class before its subclasses."""
    by_name = {m.name: m for m in models}
    out: list[Model] = []
    done: set[str] = set()

    def visit(m: Model) -> None:
        if m.name in done:
            return
        if m.base and m.base in by_name:
            visit(by_name[m.base])
        done.add(m.name)
        out.append(m)

    for m in sorted(models, key=lambda m: m.class_name):
        visit(m)
    return out


def _where(m: Model) -> tuple[str, str]:
    """(file, JSON pointer) of a model, from its `file#pointer` source."""
    file, _, pointer = m.source.partition("#")
    return file, pointer


def build(
    schema_set: Path,
    errors: Path | None,
    *,
    strict: bool = True,
    manifest_path: Path = manifest.MANIFEST,
    overrides_dir: Path = OVERRIDES_DIR,
    local_dir: Path = LOCAL_DIR,
    patch_list: Sequence[patches.Patch] = patches.PATCHES,
) -> API:
    """The API model of a schema set. The keyword paths default to the project's own inputs;
    tests point them at small inputs of their own (with `patch_list=()` for sets without the bugs)."""
    problems = Problems()
    s = load(schema_set, local_dir=local_dir)
    notes = patches.apply(s, strict=strict, patch_list=patch_list)
    endpoints = manifest.read(manifest_path, problems=problems)
    overrides = Overrides.read(overrides_dir)
    r = resolve_models(s, endpoints, overrides, problems)
    models = r.finish(directions(r, endpoints))
    problems.items.extend(r.problems.items)
    models += reply_variants(models, problems)
    names = {m.name for m in models}
    manifest_label = manifest.label(manifest_path)
    for i, e in enumerate(endpoints):
        for what, ref in (("request", e.request), ("response", e.response)):
            if ref and ref != "raw" and ref not in names:
                problems.add(manifest_label, f"/endpoint/{i}/{what}", f"{e.name}: unknown type {ref!r}")
    used = {e.response for e in endpoints} | set(EXTRA_RESPONSE_TYPES)
    for m in models:
        if m.response_root and m.name not in used:
            problems.add(*_where(m), f"response type {m.name} is used by no endpoint in {manifest_label}")
    seen: dict[str, str] = {}
    for m in models:
        if m.class_name in seen:
            problems.add(*_where(m), f"class name {m.class_name} also used by {seen[m.class_name]}")
        seen[m.class_name] = m.name
    for enum in r.enums.values():
        if enum.class_name in seen:
            problems.add("", enum.name, f"enum name {enum.class_name} clashes with a model")
    models, enums = event_modules(models, list(r.enums.values()), r, s)
    errors_list = errors_table.read(errors, problems) if errors is not None else []
    if strict:
        problems.raise_if_any()
    return API(
        ref=s.ref,
        models=tuple(_ordered(models)),
        enums=tuple(sorted(enums, key=lambda e: e.class_name)),
        endpoints=tuple(endpoints),
        errors=tuple(errors_list),
        errors_ref=errors.resolve().parent.name if errors is not None else "",
        problems=tuple(
            [str(w) for w in s.warnings] + notes + ([] if strict else [str(p) for p in problems.items])
        ),
    )

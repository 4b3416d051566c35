"""Resolve stage: JSON-Schema documents -> the intermediate model.

Only the subset of JSON Schema the JetStream schemas use is understood. Anything else is reported
as a problem with its file and JSON pointer instead of being guessed, so a schema bump that
introduces a new shape stops generation with a precise message.
"""

from __future__ import annotations

import json
import keyword
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from .load import PROJECT_SCHEMAS, SchemaSet
from .model import Constraint, Direction, Enum, Field, Kind, Model, TypeRef
from .problems import Problems

Json = dict[str, Any]
# wire name, type, required, description, schema default, constraints
RawField = tuple[str, TypeRef, bool, str, str, tuple[Constraint, ...]]

SCALAR_DEFS = {
    "golang_duration_nanos": TypeRef(Kind.DURATION),
    "golang_int": TypeRef(Kind.INT),
    "golang_int32": TypeRef(Kind.INT),
    "golang_int64": TypeRef(Kind.INT),
    "golang_uint64": TypeRef(Kind.INT),
    "golang_time": TypeRef(Kind.TIME),
    "basic_name": TypeRef(Kind.STR),
}
# Definitions that are not types of their own: folded into their users or handled by the core.
SKIPPED_DEFS = {"error_response", "deliver_policy"}
SKIP_PREFIX = ("golang_",)
# Members of every reply that the core handles itself (the error probe) or that carry no data.
ROOT_SKIPPED_PROPS = {"type", "error"}
OVERRIDES_DIR = PROJECT_SCHEMAS / "overrides"
# The JSON Schema constraints codegen knows; of two bounds (the field's own and its $ref's type
# range) the tighter one holds.
LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems")
UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems")
CONSTRAINT_KEYWORDS = (*LOWER_BOUNDS, *UPPER_BOUNDS, "pattern")
CONSTRAINTS_FILE = "schemas/overrides/constraints.toml"


@dataclass
class Overrides:
    class_names: dict[str, str] = field(default_factory=dict)
    enum_names: dict[str, str] = field(default_factory=dict)
    field_types: dict[str, str] = field(default_factory=dict)
    required: dict[str, list[str]] = field(default_factory=dict)
    always: dict[str, list[str]] = field(default_factory=dict)  # required.toml: response presence
    nullable: dict[str, list[str]] = field(default_factory=dict)  # always sent, sometimes JSON null
    newer: dict[str, list[str]] = field(default_factory=dict)  # always sent, but not by older servers
    removed: dict[str, list[str]] = field(default_factory=dict)  # schema properties the server refuses
    # constraints.toml: "model.field" -> keywords to enforce; "model.field.keyword" -> why not
    enforce: dict[str, list[str]] = field(default_factory=dict)
    skip: dict[str, str] = field(default_factory=dict)
    # types.toml [event_field_types]: property name -> type, in every event (the RFC 3339 timestamps)
    event_field_types: dict[str, str] = field(default_factory=dict)

    @classmethod
    def read(cls, folder: Path = OVERRIDES_DIR) -> Overrides:
        types = tomllib.loads((folder / "types.toml").read_text(encoding="utf-8"))
        presence: dict[str, Any] = {}
        if (folder / "required.toml").exists():
            presence = tomllib.loads((folder / "required.toml").read_text(encoding="utf-8"))
        constraints: dict[str, Any] = {}
        if (folder / "constraints.toml").exists():
            constraints = tomllib.loads((folder / "constraints.toml").read_text(encoding="utf-8"))
        return cls(
            class_names=dict(types.get("class_names", {})),
            enum_names=dict(types.get("enum_names", {})),
            field_types=dict(types.get("field_types", {})),
            required={k: list(v) for k, v in types.get("required", {}).items()},
            removed={k: list(v) for k, v in types.get("removed_fields", {}).items()},
            always={k: list(v.get("always", [])) for k, v in presence.items() if isinstance(v, dict)},
            nullable={k: list(v.get("nullable", [])) for k, v in presence.items() if isinstance(v, dict)},
            newer={k: list(v.get("newer", [])) for k, v in presence.items() if isinstance(v, dict)},
            event_field_types=dict(types.get("event_field_types", {})),
            enforce={k: list(v) for k, v in constraints.get("enforce", {}).items()},
            skip=dict(constraints.get("skip", {})),
        )


def _model_refs(t: TypeRef) -> set[str]:
    if t.kind is Kind.MODEL:
        return {t.name}
    return _model_refs(t.item) if t.item is not None else set()


def camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[_\W]+", name) if part)


def py_name(wire: str) -> str:
    name = re.sub(r"\W", "_", wire)
    if keyword.iskeyword(name) or name[:1].isdigit():
        name += "_"
    return name


class Resolver:
    def __init__(self, schemas: SchemaSet, overrides: Overrides) -> None:
        self.s = schemas
        self.o = overrides
        self.problems = Problems()
        self.models: dict[str, Model] = {}
        self.enums: dict[str, Enum] = {}
        self._building: set[str] = set()
        # (name, file, pointer, schema) of every object type, filled lazily
        self._pending: dict[str, tuple[str, str, Json]] = {}
        self._raw_fields: dict[str, list[RawField]] = {}
        self._bases: dict[str, str] = {}
        self._roots: set[str] = set()
        self._decided: set[str] = set()  # constraints.toml keys that name a field or constraint
        self.tags: dict[str, str] = {}  # event schema name -> its `type` constant

    # --- naming ---------------------------------------------------------------------------------

    def class_name(self, name: str) -> str:
        return self.o.class_names.get(name, camel(name))

    # --- references -----------------------------------------------------------------------------

    def _ref_target(self, ref: str, file: str, pointer: str) -> tuple[str, Json] | None:
        """Map a `$ref` to (schema name, schema). Definitions are named by key, files by stem."""
        doc_part, _, frag = ref.partition("#")
        if frag.startswith("/definitions/"):
            key = frag.removeprefix("/definitions/")
            # Events refer to the API definitions by a relative path (`../../../jetstream/api/v1/...`).
            api = doc_part in ("", "definitions.json") or doc_part.endswith(
                "/jetstream/api/v1/definitions.json"
            )
            if api and key in self.s.definitions:
                return key, self.s.definitions[key]
            if not api and doc_part.endswith("definitions.json") and key in self.s.common:
                return key, self.s.common[key]
        elif frag == "" and doc_part.endswith(".json"):
            stem = doc_part.removesuffix(".json")
            if stem in self.s.docs:
                return stem, self.s.docs[stem]
        self.problems.add(file, pointer, f"unresolvable $ref {ref!r}")
        return None

    # --- types ----------------------------------------------------------------------------------

    def type_of(self, schema: Json, owner: str, prop: str, file: str, pointer: str) -> TypeRef:
        override = self.o.field_types.get(f"{owner}.{prop}")
        if not override and owner in self.s.events:
            override = self.o.event_field_types.get(prop, "")
        if override:
            try:
                return TypeRef(Kind(override))
            except ValueError:
                self.problems.add(
                    "schemas/overrides/types.toml",
                    f"/field_types/{owner}.{prop}",
                    f"unknown type {override!r} (one of {sorted(k.value for k in Kind)})",
                )
                return TypeRef(Kind.RAW)
        if "$ref" in schema:
            target = self._ref_target(schema["$ref"], file, pointer + "/$ref")
            if target is None:
                return TypeRef(Kind.RAW)
            name, sub = target
            if name in SCALAR_DEFS:
                return SCALAR_DEFS[name]
            if "enum" in sub:
                return self.enum(name, sub)
            if self.is_object(sub):
                self.request_model(name, self.file_of(name), self._pointer_of(name), sub)
                return TypeRef(Kind.MODEL, name=name)
            self.problems.add(file, pointer, f"$ref to {name}, which is neither scalar, enum nor object")
            return TypeRef(Kind.RAW)
        all_of = schema.get("allOf")
        if all_of and len(all_of) == 1 and "$ref" in all_of[0] and not schema.get("properties"):
            # `{type: object, allOf: [$ref]}` is a wrapper that only adds a description.
            return self.type_of(all_of[0], owner, prop, file, pointer + "/allOf/0")
        if "enum" in schema:
            name = self.o.enum_names.get(f"{owner}.{prop}") or f"{owner}_{prop}"
            return self.enum(name, schema)
        kind = schema.get("type")
        if isinstance(kind, list):  # ["array", "null"]: null and absent both become None
            kinds = [k for k in kind if k != "null"]
            kind = kinds[0] if len(kinds) == 1 else None
        if kind == "string":
            return TypeRef(Kind.TIME) if schema.get("format") == "date-time" else TypeRef(Kind.STR)
        if kind == "integer":
            return TypeRef(Kind.INT)
        if kind == "number":
            return TypeRef(Kind.FLOAT)
        if kind == "boolean":
            return TypeRef(Kind.BOOL)
        if kind == "array":
            items = schema.get("items")
            if not isinstance(items, dict):
                self.problems.add(file, pointer, "array without an items schema")
                return TypeRef(Kind.LIST, item=TypeRef(Kind.RAW))
            return TypeRef(Kind.LIST, item=self.type_of(items, owner, prop, file, pointer + "/items"))
        if (
            kind == "object"
            or "properties" in schema
            or "additionalProperties" in schema
            or "patternProperties" in schema
        ):
            values = schema.get("additionalProperties")
            pattern = schema.get("patternProperties")
            if isinstance(values, dict) and not schema.get("properties"):
                return TypeRef(
                    Kind.MAP, item=self.type_of(values, owner, prop, file, pointer + "/additionalProperties")
                )
            if isinstance(pattern, dict) and len(pattern) == 1 and not schema.get("properties"):
                ((key, sub),) = pattern.items()
                return TypeRef(
                    Kind.MAP, item=self.type_of(sub, owner, prop, file, f"{pointer}/patternProperties/{key}")
                )
            if schema.get("properties"):
                name = f"{owner}_{prop}"
                self.request_model(name, file, pointer, schema)
                return TypeRef(Kind.MODEL, name=name)
        self.problems.add(
            file, pointer, f"unsupported schema shape for {owner}.{prop}: keys {sorted(schema)}"
        )
        return TypeRef(Kind.RAW)

    def enum(self, name: str, schema: Json) -> TypeRef:
        values = tuple(str(v) for v in schema["enum"])
        existing = self.enums.get(name)
        if existing is None:
            self.enums[name] = Enum(name, self.class_name(name), values, schema.get("description", ""))
        elif existing.values != values:
            self.problems.add(self.file_of(name), "", f"enum {name} declared twice with different values")
        return TypeRef(Kind.ENUM, name=name, values=values)

    @staticmethod
    def is_object(schema: Json) -> bool:
        """An object type (a model), as opposed to a scalar or an enum."""
        return bool(
            schema.get("type") == "object" or "properties" in schema or "allOf" in schema or "oneOf" in schema
        )

    def file_of(self, name: str) -> str:
        """The file a schema name comes from, as problems name it."""
        if name in self.s.definitions:
            return "jetstream/api/v1/definitions.json"
        if name in self.s.common:
            return "definitions.json"
        if name in self.s.event_files:
            return self.s.event_files[name]
        return f"schemas/local/{name}.json" if name in self.s.local else f"jetstream/api/v1/{name}.json"

    def _pointer_of(self, name: str) -> str:
        return f"/definitions/{name}" if name in self.s.definitions or name in self.s.common else ""

    # --- models ---------------------------------------------------------------------------------

    def request_model(self, name: str, file: str, pointer: str, schema: Json) -> None:
        if name in self._raw_fields or name in self._building:
            return
        self._building.add(name)
        fields: list[RawField] = []
        required = set(schema.get("required", []))
        is_root = name.endswith("_response") and name in self.s.docs
        if is_root:
            self._roots.add(name)
        is_event = name in self.s.events
        if is_event:
            const = schema.get("properties", {}).get("type", {}).get("const")
            if isinstance(const, str) and const:
                self.tags[name] = const
            else:
                self.problems.add(file, pointer + "/properties/type", "an event without a `type` const")

        def merge(sub: Json, sub_pointer: str) -> None:
            nonlocal required
            if "$ref" in sub:
                target = self._ref_target(sub["$ref"], file, sub_pointer + "/$ref")
                if target is None:
                    return
                ref_name, ref_schema = target
                if ref_name in SKIPPED_DEFS:
                    return
                self.request_model(ref_name, self.file_of(ref_name), self._pointer_of(ref_name), ref_schema)
                if name not in self._bases:
                    self._bases[name] = ref_name
                else:  # a second parent: copy its fields
                    fields.extend(self._raw_fields.get(ref_name, []))
                return
            required |= set(sub.get("required", []))
            for key in ("allOf", "oneOf"):
                for i, part in enumerate(sub.get(key, [])):
                    merge(part, f"{sub_pointer}/{key}/{i}")
            for prop, prop_schema in sub.get("properties", {}).items():
                if (is_root and prop in ROOT_SKIPPED_PROPS) or (is_event and prop == "type"):
                    continue  # an event's `type` is its tag: msgspec reads it to pick the class
                if prop in removed:
                    unused_removals.discard(prop)
                    continue
                if any(f[0] == prop for f in fields):
                    continue
                t = self.type_of(prop_schema, name, prop, file, f"{sub_pointer}/properties/{prop}")
                default = json.dumps(prop_schema["default"]) if "default" in prop_schema else ""
                if isinstance(prop_schema.get("type"), list) and "null" in prop_schema["type"]:
                    nullable.add(prop)
                description = prop_schema.get("description", "")
                fields.append((prop, t, False, description, default, self.constraints_of(prop_schema)))

        nullable: set[str] = set()
        removed = set(self.o.removed.get(name, ()))
        unused_removals = set(removed)
        merge(schema, pointer)
        if unused_removals:
            self.problems.add(
                "schemas/overrides/types.toml",
                f"/removed_fields/{name}",
                f"no such properties: {sorted(unused_removals)}",
            )
        self._raw_fields[name] = [
            (w, t, w in required and w not in nullable, d, dflt, c) for (w, t, _, d, dflt, c) in fields
        ]
        self._pending[name] = (file, pointer, schema)
        self._building.discard(name)

    def constraints_of(self, schema: Json, prefix: str = "") -> tuple[Constraint, ...]:
        """A property's constraints, with those of the type it refers to (`golang_uint64`'s range
        ...) and of its list items (`items.` keywords); of two bounds the tighter one."""
        found: dict[str, int | float | str] = {}
        sources = [schema]
        ref = schema.get("$ref")
        if isinstance(ref, str):
            doc_part, _, frag = ref.partition("#")
            key = frag.removeprefix("/definitions/")
            if doc_part in ("", "definitions.json") and key in self.s.definitions:
                sources.append(self.s.definitions[key])
        for source in sources:
            for kw in CONSTRAINT_KEYWORDS:
                if kw not in source:
                    continue
                value = source[kw]
                old = found.get(kw)
                if isinstance(old, (int, float)) and isinstance(value, (int, float)):
                    value = max(old, value) if kw in LOWER_BOUNDS else min(old, value)
                found[kw] = value
        out = tuple(Constraint(prefix + k, v) for k, v in found.items())
        items = schema.get("items")
        if isinstance(items, dict):
            out += self.constraints_of(items, prefix + "items.")
        return out

    def names(self) -> list[str]:
        """Every model resolved so far, in resolution order."""
        return list(self._raw_fields)

    def references(self, name: str) -> set[str]:
        """The models a model refers to: its base and the models of its fields' types."""
        refs: set[str] = set()
        for _wire, t, *_rest in self._raw_fields.get(name, []):
            refs |= _model_refs(t)
        base = self._bases.get(name)
        return refs | {base} if base else refs

    def _decide(
        self, model: str, wire: str, direction: Direction, constraints: tuple[Constraint, ...]
    ) -> tuple[Constraint, ...]:
        """Which constraints of a field the generated model enforces (schemas/overrides/constraints.toml).

        Only models that nothing but requests carry can enforce one: msgspec checks constraints
        when it decodes, and a reply that broke a constraint (a limit a newer server relaxed)
        must still decode. Each constraint of a request-only model is either enforced or skipped
        with a reason, so a schema bump that adds one asks for a decision."""
        enforce = set(self.o.enforce.get(f"{model}.{wire}", ()))
        self._decided.add(f"{model}.{wire}")
        out = []
        for c in constraints:
            key = f"{model}.{wire}.{c.keyword}"
            self._decided.add(key)
            wanted = c.keyword in enforce
            enforce.discard(c.keyword)
            if wanted and (direction is not Direction.REQUEST or c.keyword.startswith("items.")):
                self.problems.add(
                    CONSTRAINTS_FILE,
                    f"/enforce/{model}.{wire}",
                    f"{c.keyword} cannot be enforced: only fields of request-only models, not list items",
                )
                wanted = False
            elif direction is Direction.REQUEST and not wanted and key not in self.o.skip:
                self.problems.add(
                    CONSTRAINTS_FILE,
                    "",
                    f"{key} = {c.value!r}: enforce it ([enforce]) or say why not ([skip])",
                )
            out.append(Constraint(c.keyword, c.value, enforced=wanted))
        for kw in sorted(enforce):
            self.problems.add(CONSTRAINTS_FILE, f"/enforce/{model}.{wire}", f"the schema has no {kw}")
        return tuple(out)

    def _wire_names(self, name: str) -> set[str]:
        """Wire names of a model's fields, inherited ones included."""
        names = {w for (w, *_rest) in self._raw_fields.get(name, [])}
        base = self._bases.get(name)
        return names | self._wire_names(base) if base else names

    def finish(self, directions: dict[str, Direction]) -> list[Model]:
        models = []
        for name, raw in self._raw_fields.items():
            file, pointer, schema = self._pending[name]
            direction = directions.get(name, Direction.RESPONSE)
            if name in self.o.required:
                required = set(self.o.required[name])
                unknown = required - {w for (w, *_rest) in raw}
                if unknown:
                    self.problems.add(
                        "schemas/overrides/types.toml",
                        f"/required/{name}",
                        f"unknown fields {sorted(unknown)}",
                    )
            elif direction is Direction.REQUEST:
                required = {w for (w, _t, req, *_r) in raw if req}
            elif direction is Direction.BOTH:
                self.problems.add(
                    file,
                    pointer,
                    f"{name} travels in requests and replies: decide its required fields in schemas/overrides/types.toml [required]",
                )
                required = set()
            elif name in self.o.always:
                required = set(self.o.always[name])
            else:
                required = {w for (w, _t, req, *_r) in raw if req}
            # A shared type's reply variant makes these non-optional (build.reply_variants).
            # Not what servers older than the oldest supported one lack: their replies must decode.
            newer = set(self.o.newer.get(name, ()))
            always = set(self.o.always.get(name, ())) - newer if direction is Direction.BOTH else set()
            nullable = set(self.o.nullable.get(name, ()))
            known = self._wire_names(name) | ROOT_SKIPPED_PROPS
            for key, names in (
                ("always", self.o.always.get(name, ())),
                ("nullable", nullable),
                ("newer", newer),
            ):
                unknown = set(names) - known
                if unknown:
                    self.problems.add(
                        "schemas/overrides/required.toml",
                        f"/{name}/{key}",
                        f"unknown fields {sorted(unknown)}",
                    )
            fields = tuple(
                Field(
                    wire,
                    py_name(wire),
                    t,
                    wire in required,
                    " ".join(doc.split()),
                    dflt,
                    wire in nullable,
                    self._decide(name, wire, direction, constraints),
                    wire in always,
                )
                for (wire, t, _req, doc, dflt, constraints) in raw
            )
            models.append(
                Model(
                    name=name,
                    class_name=self.class_name(name),
                    doc=" ".join(str(schema.get("description", "")).split()),
                    fields=fields,
                    base=self._bases.get(name, ""),
                    source=f"{file}#{pointer}",
                    direction=direction,
                    response_root=name in self._roots,
                    tag=self.tags.get(name, ""),
                )
            )
        for table, keys in (("enforce", self.o.enforce), ("skip", self.o.skip)):
            for key in sorted(set(keys) - self._decided):
                self.problems.add(CONSTRAINTS_FILE, f"/{table}/{key}", "no such field or constraint")
        return models

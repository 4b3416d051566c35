"""Load stage: read a jsm.go schema set (and the project's own local schemas) into JSON documents.

Upstream files are read in place from `<set>/schema_source/jetstream/api/v1/` (the API), the event
folders `jetstream/advisory/v1/` and `jetstream/metric/v1/` (advisories and metrics, which refer to the
set-wide `schema_source/definitions.json`), and never committed to the repository (codegen/sources.py finds or fetches them); `schemas/lock.toml` pins their sha256 so a
different set is refused (codegen/lock.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .problems import Problem, Problems

ROOT = Path(__file__).resolve().parent.parent
PROJECT_SCHEMAS = ROOT / "schemas"
LOCAL_DIR = PROJECT_SCHEMAS / "local"
API_DIR = Path("schema_source/jetstream/api/v1")
# The JetStream events: folder -> the suffix of their schema names (`consumer_action` ->
# `consumer_action_advisory`, class `ConsumerActionAdvisory`), so they never clash with API types.
EVENT_DIRS = {
    Path("schema_source/jetstream/advisory/v1"): "advisory",
    Path("schema_source/jetstream/metric/v1"): "metric",
}
# Definitions shared by every schema family of the set (client_info_v1 of the advisories).
COMMON_DEFINITIONS = Path("schema_source/definitions.json")

Json = dict[str, Any]


@dataclass
class SchemaSet:
    ref: str
    docs: dict[str, Json]  # file stem -> document (upstream and local)
    definitions: dict[str, Json]
    local: frozenset[str]  # stems declared by this project
    warnings: list[Problem]
    events: dict[str, Json] = field(default_factory=dict)  # event schema name -> document
    event_files: dict[str, str] = field(default_factory=dict)  # event schema name -> file, for messages
    common: dict[str, Json] = field(default_factory=dict)  # schema_source/definitions.json definitions


def strip_trailing_commas(text: str) -> str:
    """Drop commas that directly precede `}` or `]` outside strings (upstream bug B6, tags only).

    A lexical pass rather than a regex, so commas inside string values are never touched.
    """
    out: list[str] = []
    in_string = escaped = False
    pending_comma = -1
    for ch in text:
        if in_string:
            out.append(ch)
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
            continue
        if ch in " \t\r\n":
            out.append(ch)
            continue
        if ch in "}]" and pending_comma >= 0:
            out[pending_comma] = ""
        pending_comma = -1
        if ch == ",":
            pending_comma = len(out)
        elif ch == '"':
            in_string = True
        out.append(ch)
    return "".join(out)


def _read_json(path: Path, label: str, warnings: list[Problem], problems: Problems) -> Json | None:
    text = path.read_text(encoding="utf-8")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        try:
            doc = json.loads(strip_trailing_commas(text))
        except json.JSONDecodeError:
            problems.add(label, "", f"invalid JSON: {exc}")
            return None
        warnings.append(
            Problem(label, "", f"invalid JSON ({exc.msg}); read after removing trailing commas (B6)")
        )
    if not isinstance(doc, dict):
        problems.add(label, "", "top level is not an object")
        return None
    return doc


def api_files(schema_set: Path) -> list[Path]:
    folder = schema_set / API_DIR
    if not folder.is_dir():
        raise FileNotFoundError(
            f"{folder} does not exist: {schema_set} is not a jsm.go schema set "
            f"(a folder holding {API_DIR.as_posix()}/*.json)"
        )
    return sorted(folder.glob("*.json"))


def event_files(schema_set: Path) -> list[tuple[Path, str]]:
    """(file, suffix) of every event schema of the set; a set without event folders has none."""
    return [
        (path, suffix)
        for folder, suffix in EVENT_DIRS.items()
        for path in sorted((schema_set / folder).glob("*.json"))
    ]


def schema_files(schema_set: Path) -> list[Path]:
    """Every file codegen reads from a schema set (what the lock pins)."""
    common = [schema_set / COMMON_DEFINITIONS] if (schema_set / COMMON_DEFINITIONS).is_file() else []
    return api_files(schema_set) + [path for path, _ in event_files(schema_set)] + common


def load(schema_set: Path, *, with_local: bool = True, local_dir: Path | None = None) -> SchemaSet:
    """`local_dir` replaces the project's `schemas/local` (tests point it at their own folder)."""
    problems = Problems()
    warnings: list[Problem] = []
    docs: dict[str, Json] = {}
    for path in api_files(schema_set):
        doc = _read_json(path, str(API_DIR / path.name), warnings, problems)
        if doc is not None:
            docs[path.stem] = doc
    local: set[str] = set()
    if with_local:
        for path in sorted((LOCAL_DIR if local_dir is None else local_dir).glob("*.json")):
            if path.stem in docs:
                problems.add(
                    f"schemas/local/{path.name}", "", "upstream now has this type: delete the local copy"
                )
                continue
            doc = _read_json(path, f"schemas/local/{path.name}", warnings, problems)
            if doc is not None:
                docs[path.stem] = doc
                local.add(path.stem)
    events: dict[str, Json] = {}
    files: dict[str, str] = {}
    for path, suffix in event_files(schema_set):
        label = str(path.relative_to(schema_set / "schema_source"))
        doc = _read_json(path, label, warnings, problems)
        if doc is not None:
            events[f"{path.stem}_{suffix}"] = doc
            files[f"{path.stem}_{suffix}"] = label
    common: dict[str, Json] = {}
    if (schema_set / COMMON_DEFINITIONS).is_file():
        common_doc = _read_json(schema_set / COMMON_DEFINITIONS, "definitions.json", warnings, problems)
        common = dict((common_doc or {}).get("definitions", {}))
    definitions_doc = docs.pop("definitions", None)
    if definitions_doc is None:
        problems.add(str(API_DIR / "definitions.json"), "", "missing")
    problems.raise_if_any()
    assert definitions_doc is not None
    return SchemaSet(
        ref=schema_set.resolve().name,
        docs=docs,
        definitions=dict(definitions_doc.get("definitions", {})),
        local=frozenset(local),
        warnings=warnings,
        events=events,
        event_files=files,
        common=common,
    )

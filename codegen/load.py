"""Load stage: read a jsm.go schema set (and the project's own local schemas) into JSON documents.

Upstream files are read in place from `<set>/schema_source/jetstream/api/v1/` and never copied into
the repository; `schemas/lock.toml` pins their sha256 so a different set is refused.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

from .problems import Problem, Problems

ROOT = Path(__file__).resolve().parent.parent
PROJECT_SCHEMAS = ROOT / "schemas"
LOCAL_DIR = PROJECT_SCHEMAS / "local"
LOCK_FILE = PROJECT_SCHEMAS / "lock.toml"
API_DIR = Path("schema_source/jetstream/api/v1")

Json = dict[str, Any]


@dataclass
class SchemaSet:
    ref: str
    docs: dict[str, Json]  # file stem -> document (upstream and local)
    definitions: dict[str, Json]
    local: frozenset[str]  # stems declared by this project
    warnings: list[Problem]


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
            f"{folder} does not exist: point --schemas at a jsm.go schema set (e.g. ../shared/schemas/jsm.go/caea3c5)"
        )
    return sorted(folder.glob("*.json"))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


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
    )


# --- the lock -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lock:
    schemas_ref: str
    files: dict[str, str]
    errors_ref: str
    errors_sha256: str


def read_lock(path: Path = LOCK_FILE) -> Lock:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return Lock(
        schemas_ref=data["schemas"]["ref"],
        files=dict(data["schemas"]["files"]),
        errors_ref=data["errors"]["ref"],
        errors_sha256=data["errors"]["sha256"],
    )


def current_lock(schema_set: Path, errors: Path) -> Lock:
    files = {str(API_DIR / p.name): sha256(p) for p in api_files(schema_set)}
    return Lock(
        schemas_ref=schema_set.resolve().name,
        files=files,
        errors_ref=errors.resolve().parent.name,
        errors_sha256=sha256(errors),
    )


def write_lock(lock: Lock, path: Path = LOCK_FILE) -> None:
    lines = [
        "# Pins the upstream inputs of codegen. Written by `python -m codegen lock`; codegen refuses",
        "# any schema set or error table whose hashes differ from these.",
        "",
        "[schemas]",
        'source = "nats-io/jsm.go schema_source/"',
        f'ref = "{lock.schemas_ref}"',
        "",
        "[schemas.files]",
    ]
    lines += [f'"{name}" = "{digest}"' for name, digest in sorted(lock.files.items())]
    lines += [
        "",
        "[errors]",
        'source = "nats-io/nats-server server/errors.json"',
        f'ref = "{lock.errors_ref}"',
        f'sha256 = "{lock.errors_sha256}"',
        "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")


def verify_lock(schema_set: Path, errors: Path, path: Path = LOCK_FILE) -> None:
    """Raise InputError listing every file that differs from the lock."""
    locked = read_lock(path)
    now = current_lock(schema_set, errors)
    problems = Problems()
    for name in sorted(set(locked.files) | set(now.files)):
        if name not in now.files:
            problems.add(name, "", "locked file is missing from the schema set")
        elif name not in locked.files:
            problems.add(name, "", "file is not in the lock")
        elif locked.files[name] != now.files[name]:
            problems.add(
                name, "", f"sha256 {now.files[name][:12]}… differs from the lock ({locked.files[name][:12]}…)"
            )
    if locked.errors_sha256 != now.errors_sha256:
        problems.add(str(errors), "", "sha256 differs from the lock")
    if problems.items:
        problems.add(
            str(path),
            "",
            f"locked ref {locked.schemas_ref}; to adopt {now.schemas_ref}, run `python -m codegen lock --schemas ...`",
        )
    problems.raise_if_any()

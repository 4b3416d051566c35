"""Shared helpers for the codegen tests: a tiny schema set written to a temp dir, and a way to
import rendered modules as a throwaway subpackage of `jetstream`.

Not a conftest.py: several test folders would then hold a module named `conftest`, which mypy
(checking `tests/` as one tree) refuses.
"""

from __future__ import annotations

import importlib
import importlib.util
import itertools
import json
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from codegen import sources
from codegen.load import API_DIR, schema_files
from codegen.lock import read_lock

ROOT = Path(__file__).resolve().parents[2]
GENERATED = ROOT / "src" / "jetstream" / "_generated"
PYTHON = sys.executable

# The upstream schemas: never in the repository. schemas/lock.toml names them; they are found under
# $JETSTREAM_SCHEMAS or in .cache/schemas (`make schemas`), and the tests that read them skip without them.
LOCK = read_lock()
PLACES = sources.Places.from_environ()


def jsm(ref: str) -> Path:
    """A jsm.go schema set: where it is at hand, else where `make schemas` puts it."""
    return sources.find_set(ref, PLACES) or sources.set_folder(PLACES.cache, ref)


LOCKED = jsm(LOCK.schemas.ref)  # the set codegen generates from
ERRORS_JSON = sources.find_errors(LOCK.errors.ref, PLACES) or sources.errors_file(
    PLACES.cache, LOCK.errors.ref
)
# Earlier sets (under [previous] in the lock) that some tests are about, whatever the locked ref: bug B6
# (trailing commas) in v0.4.1, fixed by hand upstream in caea3c5; the real bump between them.
V041 = jsm("v0.4.1")
CAEA3C5 = jsm("caea3c5")
HISTORICAL = ("v0.4.1", "caea3c5")

SKIP_REASON = (
    "upstream schemas not at hand: `make schemas` fetches them, or set JETSTREAM_SCHEMAS to a folder "
    "holding jsm.go/<ref>/ and nats-server/<ref>/ (README, Codegen)"
)


def needs(*refs: str, errors: bool = False) -> pytest.MarkDecorator:
    """Skip (with SKIP_REASON) unless these jsm.go refs, and the locked errors.json if asked, are at hand."""
    missing = [ref for ref in refs if sources.find_set(ref, PLACES) is None]
    if errors and sources.find_errors(LOCK.errors.ref, PLACES) is None:
        missing.append("errors.json")
    return pytest.mark.skipif(bool(missing), reason=SKIP_REASON)


needs_locked = needs(LOCK.schemas.ref, errors=True)

Json = dict[str, Any]

DEFS = "definitions.json#/definitions/"


def _ref(name: str) -> Json:
    return {"$ref": "#/definitions/" + name}


# A miniature of the jsm.go dialect: every shape the resolver supports appears at least once.
DEFINITIONS: Json = {
    "golang_int64": {"type": "integer", "minimum": -(2**63), "maximum": 2**63 - 1},
    "golang_int": {"$ref": "#/definitions/golang_int64"},
    "golang_uint64": {"type": "integer", "minimum": 0, "maximum": 2**64 - 1},
    "golang_duration_nanos": {"$ref": "#/definitions/golang_int64", "minimum": 0},
    "golang_time": {"type": "string", "format": "date-time"},
    "basic_name": {"type": "string", "pattern": "^[^.*>]+$", "minLength": 1},
    "api_error": {
        "type": "object",
        "required": ["code"],
        "properties": {
            "code": {"type": "integer"},
            "err_code": {"type": "integer"},
            "description": {"type": "string"},
        },
    },
    "error_response": {"type": "object", "required": ["error"], "properties": {"error": _ref("api_error")}},
    "iterable_request": {
        "type": "object",
        "required": ["offset"],
        "properties": {"offset": {"type": "integer", "minimum": 0}},
    },
    "iterable_response": {
        "type": "object",
        "required": ["total", "offset", "limit"],
        "properties": {k: {"type": "integer", "minimum": 0} for k in ("total", "offset", "limit")},
    },
    "widget_kind": {"type": "string", "enum": ["small", "large"]},
    "widget_limits": {
        "type": "object",
        "properties": {
            "max_parts": {"$ref": "#/definitions/golang_int", "minimum": -1},
            "max_weight": {"type": "number"},
        },
    },
    "widget_config": {
        "type": "object",
        "required": ["name", "kind", "color"],
        "properties": {
            "name": {"description": "Widget name", "$ref": "#/definitions/basic_name"},
            "kind": _ref("widget_kind"),
            "color": {"type": "string", "enum": ["red", "green", ""], "default": "red"},
            "max_age": {"$ref": "#/definitions/golang_duration_nanos", "default": 0},
            "backoff": {"type": "array", "items": _ref("golang_duration_nanos")},
            "start_time": _ref("golang_time"),
            "tags": {"type": ["array", "null"], "items": {"type": "string"}},
            "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
            "limits": _ref("widget_limits"),
            "in": {"type": "boolean", "description": "A field named after a keyword"},
        },
    },
    "widget_state": {
        "type": "object",
        "required": ["parts", "bytes", "first_ts"],
        "properties": {
            "parts": _ref("golang_uint64"),
            "bytes": _ref("golang_uint64"),
            "first_ts": _ref("golang_time"),
            "lost": {"type": ["array", "null"], "items": _ref("golang_uint64")},
            "counters": {"type": "object", "patternProperties": {"^.+$": _ref("golang_int")}},
        },
    },
    "widget_part": {
        "type": "object",
        "required": ["id"],
        "properties": {"id": {"type": "string"}, "weight": {"type": "number"}},
    },
    "widget_info": {
        "type": "object",
        "required": ["config", "created", "state"],
        "properties": {
            "config": {"type": "object", "description": "The config", "allOf": [_ref("widget_config")]},
            "created": _ref("golang_time"),
            "state": {"allOf": [_ref("widget_state")]},
            "parts": {"type": "array", "items": _ref("widget_part")},
            "payload": {"type": "string", "description": "base64 on the wire"},
            "uptime": _ref("golang_duration_nanos"),
            "cluster": {
                "type": "object",
                "properties": {
                    "leader": {"type": "string"},
                    "leader_since": {"type": "string", "format": "date-time"},
                },
            },
        },
    },
}


def _response(name: str, success: Json, *, error_first: bool = False, extra: Json | None = None) -> Json:
    branches = [success, {"$ref": DEFS + "error_response"}]
    doc: Json = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "description": f"A response from the $JS.API.{name.upper()} API",
        "type": "object",
        "required": ["type"],
        "oneOf": branches[::-1] if error_first else branches,
        "properties": {"type": {"type": "string", "const": f"io.nats.jetstream.api.v1.{name}"}},
    }
    if extra:
        doc.update(extra)
    return doc


FILES: dict[str, Json] = {
    "widget_config": {"$ref": DEFS + "widget_config"},  # an alias file, like stream_configuration.json
    "widget_create_request": {
        "description": "A request to create a widget",
        "type": "object",
        "allOf": [
            {"$ref": DEFS + "widget_config"},
            {"type": "object", "properties": {"pedantic": {"type": "boolean", "default": False}}},
        ],
    },
    "widget_create_response": _response("widget_create_response", {"$ref": DEFS + "widget_info"}),
    "widget_info_response": _response(
        "widget_info_response", {"$ref": DEFS + "widget_info"}, error_first=True
    ),
    "widget_names_request": {
        "type": "object",
        "allOf": [{"$ref": DEFS + "iterable_request"}],
        "properties": {"subject": {"type": "string"}},
    },
    "widget_names_response": _response(
        "widget_names_response",
        {
            "type": "object",
            "required": ["widgets"],
            "properties": {
                "widgets": {"type": ["array", "null"], "items": {"type": "string"}},
                "offline": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        },
        error_first=True,
        extra={"allOf": [{"$ref": DEFS + "iterable_response"}]},
    ),
}

LOCAL_FILES: dict[str, Json] = {
    "widget_delete_response": _response(
        "widget_delete_response",
        {"type": "object", "required": ["success"], "properties": {"success": {"type": "boolean"}}},
    ),
}

MANIFEST = """
[[endpoint]]
name = "widget_create"
subject = "WIDGET.CREATE.{widget}"
tokens = { widget = "name" }
server_const = "JSApiWidgetCreate"
request = "widget_create_request"
body = "required"
response = "widget_create_response"
config = "."
fill = { name = "widget" }
name_fields = ["name"]
since = "2.2"

[[endpoint]]
name = "widget_info"
subject = "WIDGET.INFO.{widget}"
tokens = { widget = "name" }
server_const = "JSApiWidgetInfo"
request = ""
body = "empty"
response = "widget_info_response"
since = "2.2"

[[endpoint]]
name = "widget_names"
subject = "WIDGET.NAMES"
server_const = "JSApiWidgets"
request = "widget_names_request"
body = "optional"
response = "widget_names_response"
paged = "widgets"
since = "2.2"

[[endpoint]]
name = "widget_delete"
subject = "WIDGET.DELETE.{widget}"
tokens = { widget = "name" }
server_const = "JSApiWidgetDelete"
request = ""
body = "empty"
response = "widget_delete_response"
result = "success"
since = "2.2"
"""

TYPES_TOML = """
[class_names]
widget_info = "Widget"

[enum_names]
"widget_config.color" = "Color"

[field_types]
"widget_info.payload" = "bytes"

[required]
widget_config = ["name"]
widget_limits = []
"""

REQUIRED_TOML = """
[widget_names_response]
always = ["widgets"]
nullable = ["widgets"]
"""

ERRORS: list[Json] = [
    {"constant": "JSWidgetNotFoundErr", "code": 404, "error_code": 10059, "description": "widget not found"},
    {
        "constant": "JSWidgetNameExistErrF",
        "code": 400,
        "error_code": 10058,
        "description": "widget name already in use with a different configuration ({name})",
    },
]


@dataclass(frozen=True)
class Inputs:
    """Paths to hand to `codegen.build.build` for a schema set of a test's own."""

    schemas: Path
    manifest: Path
    overrides: Path
    local: Path
    errors: Path

    def build_kwargs(self) -> dict[str, Any]:
        return {
            "manifest_path": self.manifest,
            "overrides_dir": self.overrides,
            "local_dir": self.local,
            "patch_list": (),
        }


CONSTRAINTS_TOML = """
[enforce]
"iterable_request.offset" = ["minimum"]
"""


def write_inputs(
    root: Path,
    *,
    ref: str = "tinyref",
    definitions: Json | None = None,
    files: dict[str, Json] | None = None,
    local_files: dict[str, Json] | None = None,
    manifest: str = MANIFEST,
    types_toml: str = TYPES_TOML,
    required_toml: str = REQUIRED_TOML,
    constraints_toml: str = CONSTRAINTS_TOML,
) -> Inputs:
    """Write a schema set (`<root>/<ref>/schema_source/...`) and the project-side inputs."""
    api = root / ref / API_DIR
    api.mkdir(parents=True)
    (api / "definitions.json").write_text(
        json.dumps({"definitions": DEFINITIONS if definitions is None else definitions}, indent=2)
    )
    for stem, doc in (FILES if files is None else files).items():
        (api / f"{stem}.json").write_text(json.dumps(doc, indent=2))
    local = root / "local"
    local.mkdir()
    for stem, doc in (LOCAL_FILES if local_files is None else local_files).items():
        (local / f"{stem}.json").write_text(json.dumps(doc, indent=2))
    overrides = root / "overrides"
    overrides.mkdir()
    (overrides / "types.toml").write_text(types_toml)
    (overrides / "required.toml").write_text(required_toml)
    (overrides / "constraints.toml").write_text(constraints_toml)
    (root / "endpoints.toml").write_text(manifest)
    errors = root / "errors" / "errref" / "errors.json"
    errors.parent.mkdir(parents=True)
    errors.write_text(json.dumps(ERRORS))
    return Inputs(root / ref, root / "endpoints.toml", overrides, local, errors)


_counter = itertools.count()


@contextmanager
def imported(files: dict[str, str], root: Path) -> Iterator[str]:
    """Import rendered modules as `jetstream._codegen_test_<n>`, so their `..` imports resolve to the
    real `jetstream` package; yield the package name and forget the modules afterwards."""
    short = f"_codegen_test_{next(_counter)}"
    name = f"jetstream.{short}"
    folder = root / short
    folder.mkdir()
    for filename, text in files.items():
        (folder / filename).write_text(text, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(
        name, folder / "__init__.py", submodule_search_locations=[str(folder)]
    )
    assert spec is not None and spec.loader is not None
    package = importlib.util.module_from_spec(spec)
    sys.modules[name] = package
    try:
        spec.loader.exec_module(package)
        yield name
    finally:
        for key in [k for k in sys.modules if k == name or k.startswith(name + ".")]:
            del sys.modules[key]


def module(package: str, sub: str) -> ModuleType:
    return importlib.import_module(f"{package}.{sub}")


def copy_schema_set(source: Path, dest: Path) -> Path:
    """A copy of just the files codegen reads (the API and event folders, the shared definitions)."""
    for path in schema_files(source):
        target = dest / path.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    return dest

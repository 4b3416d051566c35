"""Problems in the codegen input are collected per stage and reported together, each with its file
and JSON pointer, instead of stopping at the first."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import codegen_support as support
import pytest

from codegen.build import build
from codegen.load import API_DIR, load
from codegen.problems import InputError, Problem

BROKEN_ENDPOINTS = """
[[endpoint]]
name = "widget_gone"
subject = "WIDGET.GONE.{widget}"
tokens = { widget = "nme" }
request = ""
body = "sometimes"
response = "widget_gone_response"

[[endpoint]]
name = "widget_nameless"
request = ""
body = "none"
response = "widget_delete_response"
"""


def _where(problems: list[Problem]) -> set[tuple[str, str]]:
    return {(p.file, p.pointer) for p in problems}


def test_every_problem_is_reported_with_file_and_pointer(tmp_path: Path) -> None:
    definitions = copy.deepcopy(support.DEFINITIONS)
    part = definitions["widget_part"]["properties"]
    part["owner"] = {"$ref": "#/definitions/no_such_type"}
    part["mystery"] = {"not": {"type": "string"}}
    definitions["widget_state"]["properties"]["history"] = {"type": "array"}
    errors_rows = [*support.ERRORS, {"constant": "WidgetOddErr", "code": 400, "error_code": 1}]
    inputs = support.write_inputs(
        tmp_path, definitions=definitions, manifest=support.MANIFEST + BROKEN_ENDPOINTS
    )
    inputs.errors.write_text(json.dumps(errors_rows))

    with pytest.raises(InputError) as info:
        build(inputs.schemas, inputs.errors, **inputs.build_kwargs())

    problems = info.value.problems
    manifest = str(inputs.manifest)
    defs = "jetstream/api/v1/definitions.json"
    expected = {
        (
            defs,
            "/definitions/widget_part/properties/owner/$ref",
        ): "unresolvable $ref '#/definitions/no_such_type'",
        (
            defs,
            "/definitions/widget_part/properties/mystery",
        ): "unsupported schema shape for widget_part.mystery",
        (defs, "/definitions/widget_state/properties/history"): "array without an items schema",
        (manifest, "/endpoint/4/tokens/widget"): "token 'widget' needs a kind",
        (manifest, "/endpoint/4/body"): "body must be one of",
        (manifest, "/endpoint/4/response"): "unknown type 'widget_gone_response'",
        (manifest, "/endpoint/5/subject"): "missing",
        (str(inputs.errors), "/2"): "unexpected constant 'WidgetOddErr'",
    }
    assert _where(problems) == set(expected)
    for p in problems:
        assert expected[(p.file, p.pointer)] in p.message
    # The exception text lists them all, one per line.
    text = str(info.value)
    assert text.startswith(f"{len(expected)} problem(s) in the codegen input:")
    assert all(f"  - {p}" in text for p in problems)


def test_lenient_build_returns_the_problems_instead(tmp_path: Path) -> None:
    inputs = support.write_inputs(tmp_path, manifest=support.MANIFEST + BROKEN_ENDPOINTS)
    api = build(inputs.schemas, None, strict=False, **inputs.build_kwargs())
    assert any("unknown type 'widget_gone_response'" in p for p in api.problems)
    assert any(p.endswith("/endpoint/5/subject: missing") for p in api.problems)


def test_type_problems_of_the_model(tmp_path: Path) -> None:
    files = dict(support.FILES)
    # A response file no endpoint returns, and a second type that takes an existing class name.
    files["widget_orphan_response"] = support.FILES["widget_info_response"]
    files["widget_spare"] = {"type": "object", "properties": {"x": {"type": "string"}}}
    inputs = support.write_inputs(
        tmp_path,
        files=files,
        types_toml=support.TYPES_TOML.replace(
            'widget_info = "Widget"', 'widget_info = "Widget"\nwidget_spare = "Widget"'
        ),
        required_toml=support.REQUIRED_TOML,
    )
    with pytest.raises(InputError) as info:
        build(inputs.schemas, None, **inputs.build_kwargs())
    messages = {(p.file, p.pointer, p.message) for p in info.value.problems}
    assert messages == {
        (
            "jetstream/api/v1/widget_orphan_response.json",
            "",
            f"response type widget_orphan_response is used by no endpoint in {inputs.manifest}",
        ),
        ("jetstream/api/v1/widget_spare.json", "", "class name Widget also used by widget_info"),
    }


def test_a_type_in_both_directions_needs_a_decision(tmp_path: Path) -> None:
    types_toml = support.TYPES_TOML.replace("widget_limits = []\n", "")
    inputs = support.write_inputs(tmp_path, types_toml=types_toml)
    with pytest.raises(InputError) as info:
        build(inputs.schemas, None, **inputs.build_kwargs())
    (problem,) = info.value.problems
    assert (problem.file, problem.pointer) == (
        "jetstream/api/v1/definitions.json",
        "/definitions/widget_limits",
    )
    assert "travels in requests and replies" in problem.message


def test_load_reports_every_unreadable_file(tmp_path: Path) -> None:
    inputs = support.write_inputs(tmp_path)
    api = inputs.schemas / API_DIR
    (api / "widget_broken.json").write_text('{"type": "object", "properties": {')
    (api / "widget_list.json").write_text("[1, 2]")
    (inputs.local / "widget_create_request.json").write_text("{}")  # upstream has it now
    with pytest.raises(InputError) as info:
        load(inputs.schemas, local_dir=inputs.local)
    found = {(p.file, p.message.split(":")[0]) for p in info.value.problems}
    assert found == {
        (str(API_DIR / "widget_broken.json"), "invalid JSON"),
        (str(API_DIR / "widget_list.json"), "top level is not an object"),
        ("schemas/local/widget_create_request.json", "upstream now has this type"),
    }


def test_missing_definitions_is_reported(tmp_path: Path) -> None:
    inputs = support.write_inputs(tmp_path)
    (inputs.schemas / API_DIR / "definitions.json").unlink()
    with pytest.raises(InputError, match=re.escape("definitions.json#: missing")):
        load(inputs.schemas, local_dir=inputs.local)


def test_not_a_schema_set(tmp_path: Path) -> None:
    expected = (
        f"{tmp_path} is not a jsm.go schema set (a folder holding schema_source/jetstream/api/v1/*.json)"
    )
    with pytest.raises(FileNotFoundError, match=re.escape(expected)):
        load(tmp_path)


MULTI_ENDPOINT = """
[[endpoint]]
name = "widget_everywhere"
subject = "WIDGET.EVERYWHERE"
request = ""
body = "none"
response = "widget_delete_response"
reply = "multi"

[[endpoint]]
name = "widget_elsewhere"
subject = "WIDGET.ELSEWHERE"
request = ""
body = "none"
response = "widget_delete_response"
reply = "single"
inbox = "somewhere"
"""


def test_several_replies_need_a_private_inbox(tmp_path: Path) -> None:
    inputs = support.write_inputs(tmp_path, manifest=support.MANIFEST + MULTI_ENDPOINT)
    with pytest.raises(InputError) as info:
        build(inputs.schemas, None, **inputs.build_kwargs())
    manifest = str(inputs.manifest)
    assert {(p.file, p.pointer, p.message) for p in info.value.problems} == {
        (manifest, "/endpoint/4/inbox", 'several replies to one request need inbox = "private"'),
        (manifest, "/endpoint/5/inbox", "inbox must be one of ['private', 'shared']"),
    }


def test_every_request_constraint_is_decided(tmp_path: Path) -> None:
    """A constraint of a request-only model is enforced or skipped with a reason; a decision that
    names nothing, or enforces a constraint of a model that replies carry too, is a problem."""
    constraints = """
[enforce]
"widget_create_request.pedantic" = ["minimum"]
"widget_limits.max_parts" = ["minimum"]

[skip]
"widget_names_request.nothing.minimum" = "no such field"
"""
    inputs = support.write_inputs(tmp_path, constraints_toml=constraints)
    with pytest.raises(InputError) as info:
        build(inputs.schemas, None, **inputs.build_kwargs())
    file = "schemas/overrides/constraints.toml"
    assert {(p.file, p.pointer, p.message) for p in info.value.problems} == {
        (file, "", "iterable_request.offset.minimum = 0: enforce it ([enforce]) or say why not ([skip])"),
        (file, "/enforce/widget_create_request.pedantic", "the schema has no minimum"),
        (
            file,
            "/enforce/widget_limits.max_parts",
            "minimum cannot be enforced: only fields of request-only models, not list items",
        ),
        (file, "/skip/widget_names_request.nothing.minimum", "no such field or constraint"),
    }

"""The expect-then-fix patches B1-B5 and B7-B10 on the locked upstream set: each fixes its bug, and each refuses
(strict) or notes (lenient) a set where the buggy shape is gone."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import codegen_support as support
import pytest

from codegen import patches
from codegen.build import build
from codegen.load import API_DIR, SchemaSet, load
from codegen.model import API, Kind, TypeRef
from codegen.problems import InputError

Check = Callable[[SchemaSet], bool]


def _success_props(s: SchemaSet, stem: str) -> dict[str, Any]:
    branch = next(b for b in s.docs[stem]["oneOf"] if "$ref" not in b)
    props: dict[str, Any] = branch["properties"]
    return props


def _consumer_config(s: SchemaSet) -> dict[str, Any]:
    return s.definitions["consumer_configuration"]


# patch, the buggy shape upstream ships, the shape after the patch
CASES: list[tuple[patches.Patch, Check, Check]] = [
    (
        patches.b1_stream_names_streams,
        lambda s: set(_success_props(s, "stream_names_response")) == {"consumers"},
        lambda s: (
            set(_success_props(s, "stream_names_response")) == {"streams"}
            and _success_props(s, "stream_names_response")["streams"]["items"] == {"type": "string"}
        ),
    ),
    (
        patches.b2_consumer_list_missing,
        lambda s: (
            set(_success_props(s, "consumer_list_response")) == {"consumers"}
            and "offline" in _success_props(s, "consumer_list_response")["consumers"]["missing"]
        ),
        lambda s: (
            set(_success_props(s, "consumer_list_response")) == {"consumers", "missing", "offline"}
            and "missing" not in _success_props(s, "consumer_list_response")["consumers"]
            and "offline" not in _success_props(s, "consumer_list_response")["missing"]
            and _success_props(s, "consumer_list_response")["offline"]["additionalProperties"]
            == {"type": "string"}
        ),
    ),
    (
        patches.b3_consumer_unpin_error,
        lambda s: (
            s.docs["consumer_unpin_response"]["properties"].get("error")
            == {"$ref": "definitions.json#/definitions/error_response"}
        ),
        lambda s: set(s.docs["consumer_unpin_response"]["properties"]) == {"type"},
    ),
    (
        patches.b4_consumer_config_deliver_policy,
        lambda s: _consumer_config(s).get("allOf") == [{"$ref": "#/definitions/deliver_policy"}],
        lambda s: (
            "allOf" not in _consumer_config(s)
            and _consumer_config(s)["properties"]["deliver_policy"]["enum"][0] == "all"
        ),
    ),
    (
        patches.b5_ack_wait_default,
        lambda s: _consumer_config(s)["properties"]["ack_wait"]["default"] == "30000000000",
        lambda s: _consumer_config(s)["properties"]["ack_wait"]["default"] == 30_000_000_000,
    ),
    (
        patches.b7_advisory_replicas,
        lambda s: all("$ref" in s.events[n]["properties"]["replicas"] for n in patches.REPLICAS_LISTS),
        lambda s: all(
            s.events[n]["properties"]["replicas"]["type"] == "array"
            and s.events[n]["properties"]["replicas"]["items"]["$ref"].endswith("/peer_info")
            for n in patches.REPLICAS_LISTS
        ),
    ),
    (
        patches.b8_advisory_consumer_seq,
        lambda s: s.events["nak_advisory"]["properties"]["consumer_seq"]["type"] == "string",
        lambda s: (
            s.events["nak_advisory"]["properties"]["consumer_seq"]["type"]
            == s.events["terminated_advisory"]["properties"]["consumer_seq"]["type"]
            == "integer"
        ),
    ),
    (
        patches.b9_snapshot_create_blocks,
        lambda s: {"blocks", "block_size"} <= set(s.events["snapshot_create_advisory"]["required"]),
        lambda s: not {"blocks", "block_size"} & set(s.events["snapshot_create_advisory"]["required"]),
    ),
    (
        patches.b10_advisory_domain,
        lambda s: "domain" not in s.events["stream_action_advisory"]["properties"],
        lambda s: all("domain" in doc["properties"] for doc in s.events.values()),
    ),
]
IDS = [patch.__name__ for patch, _, _ in CASES]


def test_cases_cover_every_patch() -> None:
    assert tuple(patch for patch, _, _ in CASES) == patches.PATCHES


@support.needs_locked
@pytest.mark.parametrize(("patch", "buggy", "fixed"), CASES, ids=IDS)
def test_patch_fixes_the_shape(patch: patches.Patch, buggy: Check, fixed: Check) -> None:
    s = load(support.LOCKED)
    assert buggy(s)
    assert patches.apply(s, patch_list=(patch,)) == []
    assert fixed(s)
    assert not buggy(s)


@support.needs_locked
@pytest.mark.parametrize(("patch", "buggy", "fixed"), CASES, ids=IDS)
def test_patch_refuses_a_fixed_shape(patch: patches.Patch, buggy: Check, fixed: Check) -> None:
    """A set where upstream fixed the bug (here: the patched set itself) stops strict generation."""
    s = load(support.LOCKED)
    patches.apply(s, patch_list=(patch,))
    before = copy.deepcopy((s.docs, s.definitions))

    with pytest.raises(InputError) as info:
        patches.apply(s, patch_list=(patch,))
    ((file, pointer, message),) = [(p.file, p.pointer, p.message) for p in info.value.problems]
    assert (file, pointer) == ("codegen/patches.py", patch.__name__)
    assert message.startswith(f"{patch.__name__}: the buggy shape is gone or moved")
    assert message.endswith("review the patch")

    assert patches.apply(s, strict=False, patch_list=(patch,)) == [message]
    assert (s.docs, s.definitions) == before  # a refused patch changes nothing
    assert fixed(s)


@support.needs_locked
def test_strict_apply_lists_every_refused_patch() -> None:
    s = load(support.LOCKED)
    patches.apply(s)
    with pytest.raises(InputError) as info:
        patches.apply(s)
    assert [p.pointer for p in info.value.problems] == IDS


def _field(api: API, model: str, wire: str) -> TypeRef | None:
    return next((f.type for f in api.model(model).fields if f.wire_name == wire), None)


@support.needs_locked
def test_patched_models() -> None:
    """What the patches change in the model the templates render (B3, B4 only matter to other
    generators: the resolver drops a root `error` and a `deliver_policy` allOf by itself)."""
    patched = build(support.LOCKED, None)
    raw = build(support.LOCKED, None, strict=False, patch_list=())

    assert _field(raw, "stream_names_response", "consumers") == TypeRef(Kind.LIST, item=TypeRef(Kind.STR))
    assert _field(raw, "stream_names_response", "streams") is None
    assert _field(patched, "stream_names_response", "streams") == TypeRef(Kind.LIST, item=TypeRef(Kind.STR))
    assert _field(patched, "stream_names_response", "consumers") is None

    assert {f.wire_name for f in raw.model("consumer_list_response").fields} == {"consumers"}
    assert _field(patched, "consumer_list_response", "missing") == TypeRef(Kind.LIST, item=TypeRef(Kind.STR))
    assert _field(patched, "consumer_list_response", "offline") == TypeRef(Kind.MAP, item=TypeRef(Kind.STR))

    def ack_wait_default(api: API) -> str:
        return next(
            f.schema_default for f in api.model("consumer_configuration").fields if f.wire_name == "ack_wait"
        )

    assert ack_wait_default(raw) == '"30000000000"'
    assert ack_wait_default(patched) == "30000000000"

    for api in (raw, patched):
        assert api.model("consumer_unpin_response").fields == ()
        assert api.model("consumer_configuration").base == ""


@support.needs_locked
def test_build_refuses_a_set_where_upstream_fixed_b1(tmp_path: Path) -> None:
    fixed = support.copy_schema_set(support.LOCKED, tmp_path / "fixed")
    path = fixed / API_DIR / "stream_names_response.json"
    doc = json.loads(path.read_text())
    doc["oneOf"][1]["properties"] = {"streams": {"type": "array", "items": {"type": "string"}}}
    path.write_text(json.dumps(doc))

    with pytest.raises(InputError) as info:
        build(fixed, None)
    assert [(p.file, p.pointer) for p in info.value.problems] == [
        ("codegen/patches.py", "b1_stream_names_streams")
    ]
    assert "B1: `consumers` property not found" in str(info.value)

    lenient = build(fixed, None, strict=False)
    assert [p for p in lenient.problems if "b1_stream_names_streams" in p] != []
    assert _field(lenient, "stream_names_response", "streams") == TypeRef(Kind.LIST, item=TypeRef(Kind.STR))

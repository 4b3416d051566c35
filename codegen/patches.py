"""Expect-then-fix patches for the upstream schema bugs (research/schemas.md B1-B5).

Each patch first asserts the buggy shape. When a schema bump fixes or moves a bug, the assertion
fails and generation stops with a message naming the bug, so the patch is reviewed, not silently
skipped. Upstream files are never edited: patches act on the loaded documents.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .load import SchemaSet
from .problems import Problems

Json = dict[str, Any]


class ShapeMismatch(Exception):
    pass


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise ShapeMismatch(message)


def _success_branch(doc: Json) -> Json:
    branches = [b for b in doc.get("oneOf", []) if "error_response" not in b.get("$ref", "")]
    _expect(len(branches) == 1, "expected one non-error oneOf branch")
    branch: Json = branches[0]
    return branch


def b1_stream_names_streams(s: SchemaSet) -> None:
    """stream_names_response declares `consumers` but requires (and the server sends) `streams`."""
    props = _success_branch(s.docs["stream_names_response"]).get("properties", {})
    _expect("consumers" in props and "streams" not in props, "B1: `consumers` property not found")
    props["streams"] = props.pop("consumers")


def b2_consumer_list_missing(s: SchemaSet) -> None:
    """consumer_list_response nests `missing` inside `consumers` and `offline` inside `missing`."""
    props = _success_branch(s.docs["consumer_list_response"])["properties"]
    consumers = props["consumers"]
    _expect(
        "missing" in consumers and "offline" in consumers["missing"], "B2: nested missing/offline not found"
    )
    missing = consumers.pop("missing")
    props["offline"] = missing.pop("offline")
    props["missing"] = missing


def b3_consumer_unpin_error(s: SchemaSet) -> None:
    """consumer_unpin_response types `error` as a whole error_response ({error:{error:...}})."""
    props = s.docs["consumer_unpin_response"]["properties"]
    _expect(
        "error_response" in props.get("error", {}).get("$ref", ""), "B3: error -> error_response not found"
    )
    # The server sends the flat ApiResponse error, which the core's error probe handles for every reply.
    del props["error"]


def b4_consumer_config_deliver_policy(s: SchemaSet) -> None:
    """consumer_configuration mixes allOf[deliver_policy oneOf] with a flat deliver_policy enum."""
    cfg = s.definitions["consumer_configuration"]
    all_of = cfg.get("allOf", [])
    _expect(
        len(all_of) == 1
        and all_of[0].get("$ref", "").endswith("/deliver_policy")
        and "deliver_policy" in cfg["properties"],
        "B4: allOf[deliver_policy] beside the flat enum not found",
    )
    del cfg["allOf"]


def b5_ack_wait_default(s: SchemaSet) -> None:
    """consumer_configuration.ack_wait has the default as a string."""
    ack_wait = s.definitions["consumer_configuration"]["properties"]["ack_wait"]
    _expect(isinstance(ack_wait.get("default"), str), "B5: string default not found")
    ack_wait["default"] = int(ack_wait["default"])


Patch = Callable[[SchemaSet], None]

PATCHES: tuple[Patch, ...] = (
    b1_stream_names_streams,
    b2_consumer_list_missing,
    b3_consumer_unpin_error,
    b4_consumer_config_deliver_policy,
    b5_ack_wait_default,
)


def apply(s: SchemaSet, *, strict: bool = True, patch_list: Sequence[Patch] = PATCHES) -> list[str]:
    """Apply every patch. Strict: a missing buggy shape is an error. Lenient (diffs of old tags): a note.

    `patch_list` narrows the patches (tests apply one at a time, or none to a schema set of their own).
    """
    problems = Problems()
    notes: list[str] = []
    for patch in patch_list:
        try:
            patch(s)
        except (ShapeMismatch, KeyError, TypeError, AttributeError, IndexError) as exc:
            message = f"{patch.__name__}: the buggy shape is gone or moved ({exc}); review the patch"
            if strict:
                problems.add("codegen/patches.py", patch.__name__, message)
            else:
                notes.append(message)
    problems.raise_if_any()
    return notes

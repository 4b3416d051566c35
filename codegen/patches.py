"""Expect-then-fix patches for the upstream schema bugs (research/schemas.md B1-B5; B7-B10 are bugs of
the advisory schemas, found against nats-server's server/jetstream_events.go).

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


# Advisories whose `replicas` the server sends as a list of peer_info (`[]*PeerInfo`).
REPLICAS_LISTS = (
    "consumer_leader_elected_advisory",
    "consumer_quorum_lost_advisory",
    "domain_leader_elected_advisory",
    "stream_leader_elected_advisory",
    "stream_quorum_lost_advisory",
)


def b7_advisory_replicas(s: SchemaSet) -> None:
    """Leader-elected and quorum-lost advisories type `replicas` as one peer_info; the server sends a list."""
    for name in REPLICAS_LISTS:
        replicas = s.events[name]["properties"]["replicas"]
        _expect(
            "$ref" in replicas and replicas["$ref"].endswith("/peer_info"), f"B7: {name}.replicas not found"
        )
        s.events[name]["properties"]["replicas"] = {
            "type": "array",
            "description": "The peers of the group",
            "items": {"$ref": replicas["$ref"]},
        }


def b8_advisory_consumer_seq(s: SchemaSet) -> None:
    """The nak and terminated advisories type `consumer_seq` as a string; the server sends a uint64."""
    for name in ("nak_advisory", "terminated_advisory"):
        seq = s.events[name]["properties"]["consumer_seq"]
        _expect(seq.get("type") == "string", f"B8: {name}.consumer_seq is no longer a string")
        seq["type"] = "integer"


def b9_snapshot_create_blocks(s: SchemaSet) -> None:
    """snapshot_create requires `blocks` and `block_size`, which the server no longer sends."""
    doc = s.events["snapshot_create_advisory"]
    required = doc["required"]
    _expect("blocks" in required and "block_size" in required, "B9: required blocks/block_size not found")
    doc["required"] = [r for r in required if r not in ("blocks", "block_size")]


def b10_advisory_domain(s: SchemaSet) -> None:
    """Most events lack `domain`, which the server sends in every one (`omitempty`): the JetStream
    domain of the server that sent it, which tells apart the events of domains sharing an account."""
    lacking = sorted(name for name, doc in s.events.items() if "domain" not in doc.get("properties", {}))
    _expect(bool(lacking), "B10: every event declares `domain`")
    for name in lacking:
        s.events[name]["properties"]["domain"] = {
            "type": "string",
            "description": "The JetStream domain of the server that sent the event",
        }


Patch = Callable[[SchemaSet], None]

PATCHES: tuple[Patch, ...] = (
    b1_stream_names_streams,
    b2_consumer_list_missing,
    b3_consumer_unpin_error,
    b4_consumer_config_deliver_policy,
    b5_ack_wait_default,
    b7_advisory_replicas,
    b8_advisory_consumer_seq,
    b9_snapshot_create_blocks,
    b10_advisory_domain,
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

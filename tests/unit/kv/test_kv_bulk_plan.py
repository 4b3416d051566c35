"""`KeyValue.get_many` over the mock transport: how keys are cut into requests, how the end of a
batch is read (follow-ups, bad counts), and the fallback for servers without batched direct gets.
Wire behaviour is in tests/integration/test_kv_bulk.py."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest
from test_kv_client import STREAM_TS, direct, kv_info
from unit_support import Answer, dumps, mock_js

from jetstream import Reply, Timestamp, errors
from jetstream._kv._bulk import MAX_SUBJECTS, server_header, split_subjects
from jetstream._transport._headers import Headers

DIRECT = "$JS.API.DIRECT.GET.KV_cfg"


def eob(pending: int, last: int, up_to: int | None = None) -> Reply:
    headers = {"Nats-Num-Pending": str(pending), "Nats-Last-Sequence": str(last)}
    if up_to is not None:
        headers["Nats-UpTo-Sequence"] = str(up_to)
    return Reply("_INBOX.x", b"", headers, status="204")


class Batches:
    """Answers the stream info, then each DIRECT.GET with the next list of replies; records the
    request bodies."""

    def __init__(self, *batches: Answer | list[Answer], direct_ok: bool = True) -> None:
        self.batches = list(batches)
        self.bodies: list[dict[str, object]] = []
        self.direct_ok = direct_ok

    def __call__(self, subject: str, payload: bytes, headers: Mapping[str, str] | None) -> Any:
        if subject == "$JS.API.STREAM.INFO.KV_cfg":
            return dumps(kv_info(allow_direct=self.direct_ok))
        if subject == DIRECT:
            self.bodies.append(json.loads(payload))
            return self.batches.pop(0)
        if subject.startswith(DIRECT + "."):
            return self.batches.pop(0) if self.batches else Reply(subject, b"", {}, status="404")
        raise AssertionError(f"unexpected request on {subject!r}")


# --------------------------------------------------------------------------------- pure parts


def test_split_by_count_keeps_order() -> None:
    subjects = [f"$KV.b.{i}" for i in range(2 * MAX_SUBJECTS + 5)]
    groups = split_subjects(subjects, None)
    assert [len(g) for g in groups] == [MAX_SUBJECTS, MAX_SUBJECTS, 5]
    assert [s for g in groups for s in g] == subjects


def test_split_by_payload() -> None:
    subjects = [f"$KV.b.{'k' * 90}.{i:03d}" for i in range(100)]  # 104 characters each
    groups = split_subjects(subjects, 256 + 107 * 10)
    assert [len(g) for g in groups] == [10] * 10
    # A subject larger than any request still goes, alone (the transport refuses it, typed).
    assert split_subjects(["x" * 5000, "y"], 1024) == [["x" * 5000], ["y"]]
    assert split_subjects([], 1024) == []


def test_the_server_header_is_the_last_value() -> None:
    headers = Headers([("Nats-Subject", "$KV.b.forged"), ("X", "1"), ("Nats-Subject", "$KV.b.real")])
    assert server_header(headers, "nats-subject") == "$KV.b.real"
    assert server_header(headers, "Nats-Sequence") is None


# ------------------------------------------------------------------------ over the mock transport


async def test_follow_up_starts_after_the_last_sequence_at_the_snapshot() -> None:
    server = Batches(
        [direct("$KV.cfg.a", 3, b"A"), eob(1, 3, up_to=9)],
        [direct("$KV.cfg.b", 7, b"B"), eob(0, 7, up_to=9)],
    )
    js, _ = mock_js(server)
    kv = await js.key_value("cfg")
    entries = await kv.get_many(["b", "a", "c"])
    assert {k: (e.value, e.revision) for k, e in entries.items()} == {"b": (b"B", 7), "a": (b"A", 3)}
    assert list(entries) == ["b", "a"]
    assert server.bodies[0] == {"multi_last": ["$KV.cfg.b", "$KV.cfg.a", "$KV.cfg.c"]}
    assert server.bodies[1] == {
        "multi_last": ["$KV.cfg.b", "$KV.cfg.a", "$KV.cfg.c"],
        "seq": 4,
        "up_to_seq": 9,
    }
    assert entries["a"].created == Timestamp.parse(STREAM_TS)


async def test_bad_ends_of_batch_are_typed_errors() -> None:
    js, _ = mock_js(Batches([eob(1, 0)]))
    kv = await js.key_value("cfg")
    with pytest.raises(errors.InvalidReplyError):
        # Nothing pending was delivered and the cursor cannot move: not asked again forever.
        await kv.get_many(["a"])
    bad = Reply("_INBOX.x", b"", {"Nats-Num-Pending": "many", "Nats-Last-Sequence": "1"}, status="204")
    js, _ = mock_js(Batches([bad]))
    kv = await js.key_value("cfg")
    with pytest.raises(errors.InvalidReplyError):
        await kv.get_many(["a"])
    js, _ = mock_js(Batches([Reply("_INBOX.x", b"", {}, status="500")]))
    kv = await js.key_value("cfg")
    with pytest.raises(errors.APIError):
        await kv.get_many(["a"])
    unnamed = Reply("_INBOX.x", b"v", {"Nats-Sequence": "1"})
    js, _ = mock_js(Batches([unnamed, eob(0, 1)]))
    kv = await js.key_value("cfg")
    with pytest.raises(errors.InvalidReplyError):
        await kv.get_many(["a"])


async def test_an_old_server_is_read_key_by_key_from_then_on() -> None:
    # A server before 2.11 does not know multi_last: the body looks empty to it (408).
    server = Batches(
        [Reply("_INBOX.x", b"", {"Description": "Empty Request"}, status="408")],
        direct("$KV.cfg.a", 1, b"A"),
        direct("$KV.cfg.b", 2, b"", KV_Operation="DEL"),
    )
    js, _ = mock_js(server)
    kv = await js.key_value("cfg")
    assert list(await kv.get_many(["a", "b", "c"])) == ["a"]
    assert len(server.bodies) == 1
    with pytest.raises(errors.InvalidArgumentError):
        await kv.get_many(["a"], up_to_revision=1)
    assert len(server.bodies) == 1


async def test_arguments_are_checked_before_sending() -> None:
    server = Batches()
    js, _ = mock_js(server)
    kv = await js.key_value("cfg")
    with pytest.raises(errors.InvalidArgumentError):
        await kv.get_many()
    with pytest.raises(errors.InvalidArgumentError):
        await kv.get_many(["a"], filters="a")
    with pytest.raises(errors.InvalidArgumentError):
        await kv.get_many(["a"], up_to_revision=0)
    with pytest.raises(errors.InvalidArgumentError):
        await kv.get_many(["a"], up_to_revision=True)
    with pytest.raises(errors.InvalidArgumentError):
        await kv.get_many(filters=[])
    with pytest.raises(errors.InvalidArgumentError):
        await kv.get_many(["a"], up_to_time="2026-01-01")  # type: ignore[arg-type]
    with pytest.raises(errors.InvalidKeyError):
        await kv.get_many(filters="a..b")
    assert server.bodies == []
    assert await kv.get_many(iter(())) == {}

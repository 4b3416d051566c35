"""The schema constraints the generated requests enforce (schemas/overrides/constraints.toml) refuse
only what the server refuses anyway, so raising early cannot surprise anyone.

For each enforced constraint: the value just outside it, sent as raw JSON to a real nats-server, is
refused; the SDK refuses the same value before sending (`errors.InvalidArgumentError`); and the
value on the boundary passes the SDK's check and reaches the server.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from jetstream import ConsumerConfig, JetStream, errors
from jetstream._generated.models import CONSTRAINED_REQUESTS

Call = Callable[[JetStream, int | str], Awaitable[object]]


async def _pull(js: JetStream, priority: int | str) -> object:
    assert isinstance(priority, int)
    return await js.consumer_msg_next("S", "C", batch=1, no_wait=True, priority=priority, timeout=5)


async def _delete(js: JetStream, seq: int | str) -> object:
    assert isinstance(seq, int)
    return await js.stream_msg_delete("S", seq=seq)


async def _purge_seq(js: JetStream, seq: int | str) -> object:
    assert isinstance(seq, int)
    return await js.stream_purge("S", seq=seq)


async def _purge_keep(js: JetStream, keep: int | str) -> object:
    assert isinstance(keep, int)
    return await js.stream_purge("S", keep=keep)


async def _reset(js: JetStream, seq: int | str) -> object:
    assert isinstance(seq, int)
    return await js.consumer_reset("S", "C", seq=seq)


async def _peer_remove(js: JetStream, peer: int | str) -> object:
    assert isinstance(peer, str)
    return await js.stream_peer_remove("S", peer=peer)


async def _snapshot(js: JetStream, subject: int | str) -> object:
    assert isinstance(subject, str)
    return await js.stream_snapshot("S", deliver_subject=subject)


# (constraint, generated call, API subject suffix, field, refused value, boundary value)
CASES: list[tuple[str, Call, str, str, int | str, int | str]] = [
    ("priority >= 0", _pull, "CONSUMER.MSG.NEXT.S.C", "priority", -1, 0),
    ("priority <= 9", _pull, "CONSUMER.MSG.NEXT.S.C", "priority", 10, 9),
    ("msg delete seq >= 0", _delete, "STREAM.MSG.DELETE.S", "seq", -1, 0),
    ("purge seq >= 0", _purge_seq, "STREAM.PURGE.S", "seq", -1, 0),
    ("purge keep >= 0", _purge_keep, "STREAM.PURGE.S", "keep", -1, 0),
    ("consumer reset seq >= 0", _reset, "CONSUMER.RESET.S.C", "seq", -1, 0),
    ("peer min length 1", _peer_remove, "STREAM.PEER.REMOVE.S", "peer", "", "n1"),
    (
        "snapshot deliver_subject min length 1",
        _snapshot,
        "STREAM.SNAPSHOT.S",
        "deliver_subject",
        "",
        "snap.x",
    ),
]


def test_every_constrained_request_type_is_covered() -> None:
    covered = {"ConsumerGetnextRequest", "StreamMsgDeleteRequest", "StreamPurgeRequest"}
    covered |= {"ConsumerResetRequest", "StreamRemovePeerRequest", "StreamSnapshotRequest"}
    assert {tp.__name__ for tp in CONSTRAINED_REQUESTS} == covered


async def _raw(js: JetStream, suffix: str, body: dict[str, Any]) -> tuple[dict[str, str], bytes]:
    """The server's answer to a request sent as raw JSON, past the SDK's checks: (headers, data)."""
    nc = js.nc
    assert nc is not None
    inbox = nc.new_inbox()
    sub = await nc.subscribe(inbox)
    try:
        await nc.publish(f"$JS.API.{suffix}", json.dumps(body).encode(), reply=inbox)
        msg = await sub.next_msg(timeout=5)
    finally:
        await sub.unsubscribe()
    return dict(msg.headers or {}), msg.data


def _refused(headers: dict[str, str], data: bytes) -> bool:
    """An error reply: a JSON `error` member, or a 4xx status."""
    if data:
        return "error" in json.loads(data)
    return headers.get("Status", "").startswith("4")


@pytest.mark.parametrize(
    ("what", "call", "suffix", "field", "outside", "boundary"), CASES, ids=[c[0] for c in CASES]
)
async def test_the_server_refuses_what_the_sdk_refuses(
    js: JetStream,
    what: str,
    call: Call,
    suffix: str,
    field: str,
    outside: int | str,
    boundary: int | str,
) -> None:
    await js.stream_create("S", subjects=["s.>"])
    await js.consumer_create("S", ConsumerConfig(durable_name="C"))
    await js.publish("s.1", b"x")

    body: dict[str, Any] = {field: outside}
    if suffix.startswith("CONSUMER.MSG.NEXT."):
        body |= {"batch": 1, "no_wait": True}
    headers, data = await _raw(js, suffix, body)
    assert _refused(headers, data), (what, headers, data)

    with pytest.raises(errors.InvalidArgumentError, match=field):
        await call(js, outside)

    # The boundary value is sent: whatever the server answers, it is not the SDK's refusal.
    try:
        await call(js, boundary)
    except errors.InvalidArgumentError:
        pytest.fail(f"{what}: the SDK refused the boundary value {boundary!r}")
    except errors.JetStreamError:
        pass

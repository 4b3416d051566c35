"""Decode: a realistic ~1 KB STREAM.INFO reply into the client's typed StreamInfo, pure CPU.

jetstream-py's cached typed decoder (error probe included), nats-py's JetStream API (`json.loads` +
`StreamInfo.from_response`, as its manager does), the official client's own path, and plain
`json.loads` as the floor of anything that builds Python objects from JSON.
"""

from __future__ import annotations

from _harness import NATS_PY, OFFICIAL, RAW, SDK, Ctx, child

REPLY = (
    b'{"type":"io.nats.jetstream.api.v1.stream_info_response","total":0,"offset":0,"limit":0,'
    b'"config":{"name":"ORDERS","subjects":["orders.>","returns.*"],"retention":"limits","max_consumers":-1,'
    b'"max_msgs":-1,"max_bytes":-1,"max_age":86400000000000,"max_msgs_per_subject":-1,"max_msg_size":-1,'
    b'"discard":"old","storage":"file","num_replicas":3,"duplicate_window":120000000000,"compression":"none",'
    b'"allow_direct":true,"mirror_direct":false,"sealed":false,"deny_delete":false,"deny_purge":false,'
    b'"allow_rollup_hdrs":false,"consumer_limits":{},"allow_msg_ttl":false,'
    b'"metadata":{"_nats.req.level":"0","_nats.ver":"2.15.1","_nats.level":"2"}},'
    b'"created":"2026-11-20T10:11:12.123456789Z",'
    b'"state":{"messages":1234567,"bytes":987654321,"first_seq":1,"first_ts":"2026-11-20T10:11:12.223456789Z",'
    b'"last_seq":1234567,"last_ts":"2026-11-28T01:02:03.323456789Z","num_subjects":42,"consumer_count":7},'
    b'"cluster":{"name":"east","raft_group":"S-R3F-abcd","leader":"n1","leader_since":"2026-11-27T00:00:00.5Z",'
    b'"replicas":[{"name":"n2","current":true,"active":123456789,"peer":"abcd1234"},'
    b'{"name":"n3","current":true,"active":223456789,"peer":"efgh5678"}]},'
    b'"ts":"2026-11-28T02:00:00.000000001Z"}'
)


async def sdk(ctx: Ctx) -> None:
    from jetstream import StreamInfoResponse
    from jetstream._core._codec import decode

    subject = "$JS.API.STREAM.INFO.ORDERS"
    decode(subject, REPLY, StreamInfoResponse)
    with ctx.timed():
        for _ in range(ctx.n):
            decode(subject, REPLY, StreamInfoResponse)


async def nats_py(ctx: Ctx) -> None:
    import json

    from nats.js.api import StreamInfo

    with ctx.timed():
        for _ in range(ctx.n):
            StreamInfo.from_response(json.loads(REPLY))


async def json_loads(ctx: Ctx) -> None:
    import json

    with ctx.timed():
        for _ in range(ctx.n):
            json.loads(REPLY)


async def official(ctx: Ctx) -> None:
    import _official

    await _official.decode(ctx)


# Plain json.loads stands in the raw column: the floor of anything building Python objects from JSON.
CLIENTS = {SDK: sdk, NATS_PY: nats_py, OFFICIAL: official, RAW: json_loads}

if __name__ == "__main__":
    child(CLIENTS)

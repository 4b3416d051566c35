"""Decode workload: a realistic ~1 KB STREAM.INFO reply, pure CPU.

jetstream-py's cached typed decoder (error probe included) against nats-py's JetStream API
(`json.loads` + `StreamInfo.from_response`, as its manager does) and plain `json.loads`.
"""

from __future__ import annotations

import json
import timeit
from collections.abc import Callable

import nats.js.api

from jetstream import StreamInfoResponse
from jetstream._codec import decode

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


def jetstream_py() -> object:
    return decode("$JS.API.STREAM.INFO.ORDERS", REPLY, StreamInfoResponse)


def nats_py() -> object:
    resp = json.loads(REPLY)
    return nats.js.api.StreamInfo.from_response(resp)


def json_loads() -> object:
    return json.loads(REPLY)


CLIENTS: dict[str, Callable[[], object]] = {
    "jetstream-py": jetstream_py,
    "nats-py": nats_py,
    "json.loads": json_loads,
}


def run(rounds: int = 5, number: int = 20_000) -> dict[str, float]:
    """Median µs per decode for each client, interleaved A/B/C per round."""
    samples: dict[str, list[float]] = {name: [] for name in CLIENTS}
    for _ in range(rounds):
        for name, fn in CLIENTS.items():
            samples[name].append(timeit.timeit(fn, number=number) / number * 1e6)
    return {name: sorted(v)[len(v) // 2] for name, v in samples.items()}


if __name__ == "__main__":
    print(f"reply size: {len(REPLY)} bytes")
    for name, us in run().items():
        print(f"{name:14s} {us:8.2f} µs")

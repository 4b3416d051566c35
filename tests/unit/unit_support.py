"""Shared pieces of the unit tests: a recording mock transport and real server replies.

The reply bodies are verbatim nats-server 2.15.1 replies (captured from live servers), so the
decoders are exercised on what the server really sends rather than on hand-trimmed JSON.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from typing import Any

from jetstream import JetStream, MockTransport, Reply

Answer = Reply | bytes | BaseException
Responder = Callable[[str, bytes, Mapping[str, str] | None], Answer]

ACCOUNT_INFO = (
    b'{"type":"io.nats.jetstream.api.v1.account_info_response","memory":0,"storage":2165,'
    b'"reserved_memory":0,"reserved_storage":10485760,"streams":11,"consumers":14,'
    b'"limits":{"max_memory":-1,"max_storage":-1,"max_streams":-1,"max_consumers":-1,'
    b'"max_ack_pending":-1,"memory_max_stream_bytes":-1,"storage_max_stream_bytes":-1,'
    b'"max_bytes_required":false},"api":{"level":5,"total":66,"errors":5}}'
)

STREAM_INFO_FULL = (
    b'{"type":"io.nats.jetstream.api.v1.stream_info_response","total":0,"offset":0,"limit":0,'
    b'"config":{"name":"FULL","description":"full stream","subjects":["full.\\u003e"],'
    b'"retention":"limits","max_consumers":50,"max_msgs":10000,"max_bytes":10485760,'
    b'"max_age":3600000000000,"max_msgs_per_subject":100,"max_msg_size":65536,"discard":"new",'
    b'"storage":"file","num_replicas":1,"duplicate_window":60000000000,"compression":"s2",'
    b'"first_seq":10,"subject_transform":{"src":"full.in.*","dest":"full.out.{{wildcard(1)}}"},'
    b'"republish":{"src":"full.\\u003e","dest":"rp.\\u003e","headers_only":true},"allow_direct":true,'
    b'"mirror_direct":false,"discard_new_per_subject":true,"sealed":false,"deny_delete":false,'
    b'"deny_purge":false,"allow_rollup_hdrs":true,'
    b'"consumer_limits":{"inactive_threshold":300000000000,"max_ack_pending":500},'
    b'"allow_msg_ttl":true,"subject_delete_marker_ttl":60000000000,"allow_atomic":true,'
    b'"metadata":{"_nats.level":"5","_nats.req.level":"2","_nats.ver":"2.15.1","owner":"me"}},'
    b'"created":"2026-11-28T02:33:39.425909913Z","state":{"messages":12,"bytes":768,"first_seq":10,'
    b'"first_ts":"2026-11-28T02:33:39.430491126Z","last_seq":23,'
    b'"last_ts":"2026-11-28T02:33:39.442224567Z","num_subjects":6,"num_deleted":2,"consumer_count":0},'
    b'"cluster":{"leader":"NDBG2AQ7Q4IPOO4HBLRD66KDIYQRDWIQH3VY2IWS5O2IZEFOEPO5BTLN"},'
    b'"ts":"2026-11-28T02:33:39.448491202Z"}'
)

STREAM_CREATE_MINIMAL = (
    b'{"type":"io.nats.jetstream.api.v1.stream_create_response","config":{"name":"MIN",'
    b'"subjects":["MIN"],"retention":"limits","max_consumers":-1,"max_msgs":-1,"max_bytes":-1,'
    b'"max_age":0,"max_msgs_per_subject":-1,"max_msg_size":-1,"discard":"old","storage":"file",'
    b'"num_replicas":1,"duplicate_window":120000000000,"compression":"none","allow_direct":false,'
    b'"mirror_direct":false,"sealed":false,"deny_delete":false,"deny_purge":false,'
    b'"allow_rollup_hdrs":false,"consumer_limits":{},"allow_msg_ttl":false,'
    b'"metadata":{"_nats.level":"5","_nats.req.level":"0","_nats.ver":"2.15.1"}},'
    b'"created":"2026-11-28T02:33:39.406092478Z","state":{"messages":0,"bytes":0,"first_seq":0,'
    b'"first_ts":"0001-01-01T00:00:00Z","last_seq":0,"last_ts":"0001-01-01T00:00:00Z",'
    b'"consumer_count":0},"ts":"2026-11-28T02:33:39.408959716Z","did_create":true}'
)

CONSUMER_CREATE_DURABLE = (
    b'{"type":"io.nats.jetstream.api.v1.consumer_create_response","stream_name":"MIN","name":"D2",'
    b'"created":"2026-11-28T02:33:42.503863842Z","config":{"durable_name":"D2","name":"D2",'
    b'"deliver_policy":"last","ack_policy":"all","ack_wait":30000000000,"max_deliver":-1,'
    b'"replay_policy":"instant","max_waiting":512,"max_ack_pending":1000,"num_replicas":0,'
    b'"metadata":{"_nats.level":"5","_nats.req.level":"0","_nats.ver":"2.15.1"}},'
    b'"delivered":{"consumer_seq":0,"stream_seq":7},"ack_floor":{"consumer_seq":0,"stream_seq":7},'
    b'"num_ack_pending":0,"num_redelivered":0,"num_waiting":0,"num_pending":1,'
    b'"ts":"2026-11-28T02:33:42.505001737Z"}'
)

STREAM_NOT_FOUND = (
    b'{"type":"io.nats.jetstream.api.v1.stream_info_response","error":{"code":404,"err_code":10059,'
    b'"description":"stream not found"},"total":0,"offset":0,"limit":0}'
)

PUB_ACK = b'{"stream":"MIN","seq":1}'


def stream_info(name: str) -> dict[str, Any]:
    """The FULL stream's info as a dict, renamed: material for list pages."""
    info: dict[str, Any] = json.loads(STREAM_INFO_FULL)
    info["config"]["name"] = name
    return info


def consumer_info(stream: str, name: str) -> dict[str, Any]:
    info: dict[str, Any] = json.loads(CONSUMER_CREATE_DURABLE)
    info["stream_name"] = stream
    info["name"] = name
    info["config"]["name"] = info["config"]["durable_name"] = name
    return info


def dumps(obj: Any) -> bytes:
    return json.dumps(obj).encode()


class RecordingTransport(MockTransport):
    """A MockTransport whose ``answer`` may return an exception instance, which is raised as if the
    transport had failed. Timeouts are recorded by MockTransport in ``timeouts``.
    """

    def __init__(self, answer: Responder) -> None:
        super().__init__(self._answer)
        self._respond = answer

    def _answer(self, subject: str, payload: bytes, headers: Mapping[str, str] | None) -> Reply | bytes:
        result = self._respond(subject, payload, headers)
        if isinstance(result, BaseException):
            raise result
        return result

    @property
    def subjects(self) -> list[str]:
        return [subject for subject, _, _ in self.requests]

    def bodies(self) -> list[Any]:
        """The JSON request bodies, decoded; None for an empty payload."""
        return [json.loads(payload) if payload else None for _, payload, _ in self.requests]


def routed(routes: Mapping[str, Answer]) -> Responder:
    """Answer by exact subject; an unexpected subject fails the test loudly."""

    def answer(subject: str, payload: bytes, headers: Mapping[str, str] | None) -> Answer:
        if subject not in routes:
            raise AssertionError(f"unexpected request on {subject!r}: {payload!r}")
        return routes[subject]

    return answer


def always(reply: Answer) -> Responder:
    return lambda subject, payload, headers: reply


def mock_js(answer: Responder, **options: Any) -> tuple[JetStream, RecordingTransport]:
    transport = RecordingTransport(answer)
    return JetStream(transport=transport, **options), transport


async def settle(predicate: Callable[[], bool]) -> None:
    """Let the other tasks run until ``predicate()`` holds (no timer: the fake is all in memory)."""
    for _ in range(1000):
        if predicate():
            return
        await asyncio.sleep(0)
    raise AssertionError("never settled")

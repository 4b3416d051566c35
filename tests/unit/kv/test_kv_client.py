"""Key/Value client logic over the mock transport: key rules, subjects (ADR-19 prefixes, mirrors),
operations, CAS error mapping, the ADR-48 API-level check. Wire behaviour is in tests/integration."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest
from unit_support import ACCOUNT_INFO, PUB_ACK, Answer, dumps, mock_js

from jetstream import JetStream, Reply, errors
from jetstream._kv._bucket import KeyValue, KeyValueOp, check_key, check_key_filter
from jetstream._kv._entry import operation_of
from jetstream._transport._headers import Headers

STREAM_TS = "2026-11-28T02:33:39.425909913Z"


def kv_info(bucket: str = "cfg", **config: Any) -> dict[str, Any]:
    cfg: dict[str, Any] = {
        "name": f"KV_{bucket}",
        "subjects": [f"$KV.{bucket}.>"],
        "retention": "limits",
        "max_consumers": -1,
        "max_msgs": -1,
        "max_bytes": -1,
        "max_age": 0,
        "max_msg_size": -1,
        "max_msgs_per_subject": 5,
        "storage": "file",
        "num_replicas": 1,
        "discard": "new",
        "allow_direct": True,
        "allow_rollup_hdrs": True,
        "deny_delete": True,
    }
    cfg.update(config)
    if "mirror" in config:
        del cfg["subjects"]
    return {
        "type": "io.nats.jetstream.api.v1.stream_info_response",
        "total": 0,
        "offset": 0,
        "limit": 0,
        "config": cfg,
        "created": STREAM_TS,
        "ts": STREAM_TS,
        "state": {
            "messages": 0,
            "bytes": 0,
            "first_seq": 0,
            "first_ts": STREAM_TS,
            "last_seq": 0,
            "last_ts": STREAM_TS,
            "consumer_count": 0,
        },
    }


def error_reply(code: int, err_code: int, description: str) -> bytes:
    return dumps({"error": {"code": code, "err_code": err_code, "description": description}})


def direct(subject: str, seq: int, data: bytes = b"", **headers: str) -> Reply:
    hdrs = {
        "Nats-Stream": "KV_cfg",
        "Nats-Subject": subject,
        "Nats-Sequence": str(seq),
        "Nats-Time-Stamp": STREAM_TS,
        **{k.replace("_", "-"): v for k, v in headers.items()},
    }
    return Reply("_INBOX.x", data, hdrs)


async def bound(js: JetStream, bucket: str = "cfg") -> KeyValue:
    return await js.key_value(bucket)


class Server:
    """Answers by subject prefix; records (subject, headers) of every request."""

    def __init__(self, routes: list[tuple[str, Answer | list[Answer]]]) -> None:
        self.routes = routes
        self.seen: list[tuple[str, Mapping[str, str] | None]] = []

    def __call__(self, subject: str, payload: bytes, headers: Mapping[str, str] | None) -> Answer:
        self.seen.append((subject, headers))
        for prefix, answer in self.routes:
            if subject.startswith(prefix):
                if isinstance(answer, list):
                    return answer.pop(0)
                return answer
        raise AssertionError(f"unexpected request on {subject!r}")


# ------------------------------------------------------------------------------------ key rules


@pytest.mark.parametrize("key", ["a", "a.b", "A-Z_0=9/x", "_kvx".upper(), "x._kv", "a.b.c.d.e"])
def test_valid_keys(key: str) -> None:
    assert check_key(key, write=True) == key


@pytest.mark.parametrize(
    "key", ["", ".a", "a.", "a..b", "a b", "a*", "*", ">", "a.>", "ä", "a\tb", "a:b", "$KV", None, 1]
)
def test_invalid_keys(key: Any) -> None:
    with pytest.raises(errors.InvalidKeyError) as info:
        check_key(key)
    assert isinstance(info.value, errors.InvalidNameError)  # also an InvalidArgumentError/ValueError
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("key", ["_kv", "_kv.x", "_kvstate"])
def test_reserved_prefix_is_refused_for_writes_only(key: str) -> None:
    assert check_key(key) == key
    with pytest.raises(errors.InvalidKeyError, match="reserved"):
        check_key(key, write=True)


@pytest.mark.parametrize("pattern", ["a", ">", "*", "a.*", "a.>", "*.b.>", "a.*.c"])
def test_valid_filters(pattern: str) -> None:
    assert check_key_filter(pattern) == pattern


@pytest.mark.parametrize("pattern", ["", "a.>.b", ">.a", "a*", "a.b*", "a..b", ".a", "a b"])
def test_invalid_filters(pattern: str) -> None:
    with pytest.raises(errors.InvalidKeyError):
        check_key_filter(pattern)


@pytest.mark.parametrize(
    ("headers", "op"),
    [
        ({}, KeyValueOp.PUT),
        ({"KV-Operation": "DEL"}, KeyValueOp.DEL),
        ({"kv-operation": "PURGE"}, KeyValueOp.PURGE),
        ({"Nats-Marker-Reason": "MaxAge"}, KeyValueOp.PURGE),
        ({"Nats-Marker-Reason": "Purge"}, KeyValueOp.PURGE),
        ({"Nats-Marker-Reason": "Remove"}, KeyValueOp.DEL),
        ({"KV-Operation": "DEL", "Nats-Marker-Reason": "MaxAge"}, KeyValueOp.DEL),
    ],
)
def test_operation_of_headers(headers: dict[str, str], op: KeyValueOp) -> None:
    assert operation_of(Headers.of(headers)) is op


async def test_invalid_key_sends_nothing() -> None:
    server = Server([("$JS.API.STREAM.INFO.KV_cfg", dumps(kv_info()))])
    js, transport = mock_js(server)
    kv = await bound(js)
    before = len(transport.requests)
    for call in (
        kv.put("a b", b"x"),
        kv.get("a.*"),
        kv.create("_kv.x", b"x"),
        kv.update("a..b", b"x", last=1),
        kv.delete(""),
        kv.purge(">"),
        kv.history("a b"),
    ):
        with pytest.raises(errors.InvalidKeyError):
            await call
    with pytest.raises(errors.InvalidKeyError):
        kv.watch("a.>.b")
    with pytest.raises(errors.InvalidKeyError):
        await kv.keys(["ok", "not ok"])
    assert len(transport.requests) == before


# --------------------------------------------------------------------------- subjects (ADR-19)


@pytest.mark.parametrize(
    ("options", "put_subject", "get_subject"),
    [
        ({}, "$KV.cfg.a.b", "$JS.API.DIRECT.GET.KV_cfg.$KV.cfg.a.b"),
        ({"domain": "hub"}, "$JS.hub.API.$KV.cfg.a.b", "$JS.hub.API.DIRECT.GET.KV_cfg.$KV.cfg.a.b"),
        (
            {"api_prefix": "JS.from-acc1"},
            "JS.from-acc1.$KV.cfg.a.b",
            "JS.from-acc1.DIRECT.GET.KV_cfg.$KV.cfg.a.b",
        ),
    ],
)
async def test_prefixes_on_writes_and_reads(
    options: dict[str, str], put_subject: str, get_subject: str
) -> None:
    server = Server(
        [
            ("$KV.", PUB_ACK),
            ("$JS.hub.API.$KV.", PUB_ACK),
            ("JS.from-acc1.$KV.", PUB_ACK),
            (get_subject, direct("$KV.cfg.a.b", 9, b"v")),
            ("", dumps(kv_info())),
        ]
    )
    js, _ = mock_js(server, **options)
    kv = await bound(js)
    assert await kv.put("a.b", b"v") == 1
    entry = await kv.get("a.b")
    assert (entry.key, entry.value, entry.revision) == ("a.b", b"v", 9)
    subjects = [s for s, _ in server.seen]
    assert put_subject in subjects
    assert get_subject in subjects


@pytest.mark.parametrize(
    ("mirror", "options", "put_subject", "read_subject"),
    [
        # A mirror stores its origin's subjects, and writes go to the origin.
        ({"name": "KV_origin"}, {}, "$KV.origin.k", "$KV.origin.k"),
        ({"name": "KV_origin"}, {"domain": "leaf"}, "$JS.leaf.API.$KV.origin.k", "$KV.origin.k"),
        (
            {"name": "KV_origin", "external": {"api": "$JS.hub.API", "deliver": ""}},
            {},
            "$JS.hub.API.$KV.origin.k",
            "$KV.origin.k",
        ),
        (
            {"name": "KV_origin", "external": {"api": "$JS.hub.API.", "deliver": ""}},
            {"domain": "leaf"},
            "$JS.hub.API.$KV.origin.k",
            "$KV.origin.k",
        ),
    ],
)
async def test_mirror_aware_writes(
    mirror: dict[str, Any], options: dict[str, str], put_subject: str, read_subject: str
) -> None:
    server = Server(
        [
            (put_subject, PUB_ACK),
            ("_never_", b""),
            ("", dumps(kv_info("copy", mirror=mirror, mirror_direct=True))),
        ]
    )
    js, _ = mock_js(server, **options)
    kv = await bound(js, "copy")
    await kv.put("k", b"v")
    await kv.delete("k")
    assert [s for s, _ in server.seen[1:]] == [put_subject, put_subject]
    assert kv._read_pre + "k" == read_subject


# ---------------------------------------------------------------------------------- operations


async def test_operation_headers() -> None:
    server = Server([("$KV.", PUB_ACK), ("", dumps(kv_info()))])
    js, _ = mock_js(server)
    kv = await bound(js)
    await kv.put("k", b"1")
    await kv.delete("k")
    await kv.delete("k", last=4)
    await kv.purge("k")
    await kv.purge("k", last=0, ttl=60)
    await kv.update("k", b"2", last=7)
    headers = [h for _, h in server.seen[1:]]
    assert headers == [
        None,
        {"KV-Operation": "DEL"},
        {"KV-Operation": "DEL", "Nats-Expected-Last-Subject-Sequence": "4"},
        {"KV-Operation": "PURGE", "Nats-Rollup": "sub"},
        {
            "KV-Operation": "PURGE",
            "Nats-Rollup": "sub",
            "Nats-Expected-Last-Subject-Sequence": "0",
            "Nats-TTL": "60s",
        },
        {"Nats-Expected-Last-Subject-Sequence": "7"},
    ]


@pytest.mark.parametrize("err_code", [10071, 10164])
async def test_both_wrong_last_sequence_codes_are_one_error(err_code: int) -> None:
    wrong = error_reply(400, err_code, "wrong last sequence")
    server = Server([("$KV.", wrong), ("", dumps(kv_info()))])
    js, _ = mock_js(server)
    kv = await bound(js)
    for call in (kv.update("k", b"v", last=3), kv.delete("k", last=3), kv.purge("k", last=3)):
        with pytest.raises(errors.WrongLastRevisionError) as info:
            await call
        assert (info.value.err_code, info.value.expected, info.value.key) == (err_code, 3, "k")
        assert isinstance(info.value.__cause__, errors.APIError)
        assert info.value.__cause__.err_code == err_code


@pytest.mark.parametrize("err_code", [10071, 10164])
async def test_create_on_a_live_key_is_key_exists(err_code: int) -> None:
    server = Server(
        [
            ("$KV.", error_reply(400, err_code, "wrong last sequence: 4")),
            ("$JS.API.DIRECT.GET.KV_cfg.$KV.cfg.k", direct("$KV.cfg.k", 4, b"live")),
            ("", dumps(kv_info())),
        ]
    )
    js, _ = mock_js(server)
    kv = await bound(js)
    with pytest.raises(errors.KeyExistsError) as info:
        await kv.create("k", b"v")
    assert isinstance(info.value, errors.WrongLastRevisionError)
    assert info.value.err_code == err_code


@pytest.mark.parametrize(
    "marker", [{"KV_Operation": "DEL"}, {"KV_Operation": "PURGE"}, {"Nats_Marker_Reason": "MaxAge"}]
)
async def test_create_after_a_marker_expects_the_markers_revision(marker: dict[str, str]) -> None:
    server = Server(
        [
            ("$KV.", [error_reply(400, 10071, "wrong last sequence: 8"), PUB_ACK]),
            ("$JS.API.DIRECT.GET.KV_cfg.$KV.cfg.k", direct("$KV.cfg.k", 8, b"", **marker)),
            ("", dumps(kv_info())),
        ]
    )
    js, _ = mock_js(server)
    kv = await bound(js)
    assert await kv.create("k", b"v", ttl=5) == 1
    puts = [h for s, h in server.seen if s == "$KV.cfg.k"]
    assert puts == [
        {"Nats-Expected-Last-Subject-Sequence": "0", "Nats-TTL": "5s"},
        {"Nats-Expected-Last-Subject-Sequence": "8", "Nats-TTL": "5s"},
    ]


async def test_get_maps_markers_and_missing_keys() -> None:
    no_msg = Reply("_INBOX.x", b"", {"Status": "404", "Description": "Message Not Found"}, status="404")
    server = Server(
        [
            ("$JS.API.DIRECT.GET.KV_cfg.$KV.cfg.gone", direct("$KV.cfg.gone", 3, KV_Operation="DEL")),
            ("$JS.API.DIRECT.GET.KV_cfg.$KV.cfg.none", no_msg),
            ("$JS.API.DIRECT.GET.KV_cfg", direct("$KV.cfg.other", 2, b"x")),
            ("", dumps(kv_info())),
        ]
    )
    js, _ = mock_js(server)
    kv = await bound(js)
    with pytest.raises(errors.KeyDeletedError) as deleted:
        await kv.get("gone")
    assert (deleted.value.entry.revision, deleted.value.entry.operation) == (3, KeyValueOp.DEL)
    assert isinstance(deleted.value, errors.KeyNotFoundError)
    with pytest.raises(errors.KeyNotFoundError) as missing:
        await kv.get("none")
    assert not isinstance(missing.value, errors.KeyDeletedError)
    # Revision 2 belongs to another key.
    with pytest.raises(errors.KeyNotFoundError):
        await kv.get("k", revision=2)


async def test_limit_markers_check_the_api_level_of_the_jetstream_we_manage() -> None:
    level0 = json.loads(ACCOUNT_INFO)
    level0["api"]["level"] = 0
    server = Server([("$JS.hub.API.INFO", dumps(level0))])
    js, _ = mock_js(server, domain="hub")
    with pytest.raises(errors.LimitMarkersNotSupportedError):
        await js.create_key_value("b", limit_marker_ttl=5)  # type: ignore[arg-type]
    # Asked of the domain's JetStream, and nothing was created.
    assert [s for s, _ in server.seen] == ["$JS.hub.API.INFO"]


async def test_bucket_errors() -> None:
    server = Server(
        [
            ("$JS.API.STREAM.INFO.KV_missing", error_reply(404, 10059, "stream not found")),
            ("$JS.API.STREAM.INFO.KV_plain", dumps(kv_info("plain", max_msgs_per_subject=-1))),
            ("$JS.API.STREAM.CREATE", error_reply(400, 10058, "stream name already in use")),
            ("$JS.API.STREAM.UPDATE", error_reply(404, 10059, "stream not found")),
            ("$JS.API.STREAM.DELETE", error_reply(404, 10059, "stream not found")),
        ]
    )
    js, _ = mock_js(server)
    with pytest.raises(errors.BucketNotFoundError) as info:
        await js.key_value("missing")
    assert isinstance(info.value.__cause__, errors.StreamNotFoundError)
    with pytest.raises(errors.BucketNotFoundError, match="not a key/value bucket"):
        await js.key_value("plain")
    with pytest.raises(errors.BucketExistsError):
        await js.create_key_value("b", history=3)
    with pytest.raises(errors.BucketNotFoundError):
        await js.update_key_value("b", history=3)
    with pytest.raises(errors.BucketNotFoundError):
        await js.delete_key_value("b")
    with pytest.raises(errors.InvalidNameError):
        await js.key_value("a.b")


async def test_watch_options_are_checked_before_anything_is_sent() -> None:
    server = Server([("", dumps(kv_info()))])
    js, transport = mock_js(server)
    kv = await bound(js)
    with pytest.raises(errors.InvalidArgumentError):
        kv.watch(include_history=True, updates_only=True)
    with pytest.raises(errors.InvalidArgumentError):
        kv.watch(resume_from_revision=0)
    with pytest.raises(errors.InvalidArgumentError):
        kv.watch(idle_heartbeat=0.01)
    assert len(transport.requests) == 1

"""Request encoding: exactly the JSON the server gets, for configs, durations and timestamps."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta, timezone

import pytest
from unit_support import (
    CONSUMER_CREATE_DURABLE,
    STREAM_CREATE_MINIMAL,
    always,
    mock_js,
)

import jetstream
from jetstream import ConsumerConfig, Duration, StreamConfig, StreamConsumerLimits, Timestamp
from jetstream._core._codec import decode, encode
from jetstream._validate import check_name


def test_stream_config_encodes_only_what_was_set() -> None:
    assert encode(StreamConfig(name="x", subjects=["a"])) == b'{"name":"x","subjects":["a"]}'


async def test_stream_create_sends_exactly_the_given_fields() -> None:
    js, transport = mock_js(always(STREAM_CREATE_MINIMAL))
    info = await js.stream_create("x", subjects=["a"])
    assert transport.requests == [("$JS.API.STREAM.CREATE.x", b'{"name":"x","subjects":["a"]}', None)]
    assert info.config.name == "MIN"
    assert info.did_create is True


async def test_stream_create_merges_overrides_without_touching_the_callers_config() -> None:
    js, transport = mock_js(always(STREAM_CREATE_MINIMAL))
    cfg = StreamConfig(name="ORDERS", subjects=["orders.>"], max_msgs=10, description="mine")
    before = copy.deepcopy(cfg)

    await js.stream_create(cfg, max_msgs=20, storage="memory", max_age=timedelta(seconds=2))

    assert transport.bodies() == [
        {
            "name": "ORDERS",
            "description": "mine",
            "subjects": ["orders.>"],
            "max_msgs": 20,
            "max_age": 2_000_000_000,
            "storage": "memory",
        }
    ]
    assert transport.subjects == ["$JS.API.STREAM.CREATE.ORDERS"]
    assert cfg == before
    assert cfg.max_msgs == 10 and cfg.storage is None and cfg.max_age is None


async def test_falsy_overrides_are_sent() -> None:
    js, transport = mock_js(always(STREAM_CREATE_MINIMAL))
    await js.stream_update(StreamConfig(name="S", sealed=True), sealed=False, max_msgs=0)
    assert transport.bodies() == [{"name": "S", "max_msgs": 0, "sealed": False}]


async def test_stream_create_pedantic_is_part_of_the_request_not_the_config() -> None:
    js, transport = mock_js(always(STREAM_CREATE_MINIMAL))
    await js.stream_create("x", pedantic=True)
    assert transport.bodies() == [{"name": "x", "pedantic": True}]


async def test_consumer_create_with_a_name_is_a_durable_with_explicit_ack() -> None:
    js, transport = mock_js(always(CONSUMER_CREATE_DURABLE))
    info = await js.consumer_create("S", "c")
    assert transport.requests == [
        (
            "$JS.API.CONSUMER.CREATE.S.c",
            b'{"stream_name":"S","config":{"durable_name":"c","name":"c","ack_policy":"explicit"}}',
            None,
        )
    ]
    assert info.name == "D2"


async def test_consumer_create_keeps_an_explicit_ack_policy() -> None:
    js, transport = mock_js(always(CONSUMER_CREATE_DURABLE))
    await js.consumer_create("S", "c", ack_policy="none")
    await js.consumer_create("S", ConsumerConfig(durable_name="d", ack_policy="all"))
    assert [body["config"]["ack_policy"] for body in transport.bodies()] == ["none", "all"]


async def test_consumer_config_is_not_mutated() -> None:
    js, _ = mock_js(always(CONSUMER_CREATE_DURABLE))
    cfg = ConsumerConfig(durable_name="d", max_deliver=3)
    before = copy.deepcopy(cfg)
    await js.consumer_create("S", cfg, max_deliver=5)
    assert cfg == before
    assert cfg.name is None and cfg.ack_policy is None


async def test_single_filter_subject_is_appended_to_the_subject() -> None:
    js, transport = mock_js(always(CONSUMER_CREATE_DURABLE))
    await js.consumer_create("S", ConsumerConfig(durable_name="d", filter_subject="orders.*.new"))
    await js.consumer_create("S", "k", filter_subject="orders.>")
    await js.consumer_create("S", "m", filter_subjects=["a", "b"])
    assert transport.subjects == [
        "$JS.API.CONSUMER.CREATE.S.d.orders.*.new",
        "$JS.API.CONSUMER.CREATE.S.k.orders.>",
        "$JS.API.CONSUMER.CREATE.S.m",
    ]
    assert transport.bodies()[0]["config"]["filter_subject"] == "orders.*.new"
    assert transport.bodies()[2]["config"]["filter_subjects"] == ["a", "b"]


async def test_ephemeral_consumer_gets_a_fresh_valid_name_and_no_durable_name() -> None:
    js, transport = mock_js(always(CONSUMER_CREATE_DURABLE))
    await js.consumer_create("S")
    await js.consumer_create("S", ConsumerConfig(inactive_threshold=timedelta(seconds=30)))

    names = []
    for subject, body in zip(transport.subjects, transport.bodies(), strict=True):
        config = body["config"]
        assert "durable_name" not in config
        assert config["ack_policy"] == "explicit"
        name = config["name"]
        assert check_name("consumer", name) == name
        assert subject == f"$JS.API.CONSUMER.CREATE.S.{name}"
        names.append(name)
    assert names[0] != names[1]
    assert transport.bodies()[1]["config"]["inactive_threshold"] == 30_000_000_000


async def test_plain_timedeltas_encode_as_int_nanoseconds() -> None:
    js, transport = mock_js(always(CONSUMER_CREATE_DURABLE))
    await js.consumer_create(
        "S",
        "c",
        ack_wait=timedelta(seconds=30),
        backoff=[timedelta(seconds=1), timedelta(milliseconds=1500), Duration(2_000_000_001)],
        idle_heartbeat=timedelta(microseconds=7),
        max_expires=Duration(1),
    )
    config = transport.bodies()[0]["config"]
    assert config["ack_wait"] == 30_000_000_000
    assert config["backoff"] == [1_000_000_000, 1_500_000_000, 2_000_000_001]
    assert config["idle_heartbeat"] == 7_000
    assert config["max_expires"] == 1
    assert all(type(v) is int for v in [config["ack_wait"], config["idle_heartbeat"], *config["backoff"]])


def test_durations_in_a_constructed_config_encode_as_nanoseconds() -> None:
    cfg = StreamConfig(
        name="x",
        max_age=timedelta(days=1),
        duplicate_window=timedelta(minutes=2),
        subject_delete_marker_ttl=timedelta(seconds=-1),
        consumer_limits=StreamConsumerLimits(inactive_threshold=timedelta(hours=1)),
    )
    assert json.loads(encode(cfg)) == {
        "name": "x",
        "max_age": 86_400_000_000_000,
        "duplicate_window": 120_000_000_000,
        "subject_delete_marker_ttl": -1_000_000_000,
        "consumer_limits": {"inactive_threshold": 3_600_000_000_000},
    }


async def test_timedelta_assigned_after_construction_is_encoded_by_stream_create() -> None:
    js, transport = mock_js(always(STREAM_CREATE_MINIMAL))
    cfg = StreamConfig(name="x")
    cfg.max_age = timedelta(seconds=1)
    await js.stream_create(cfg)
    assert transport.bodies() == [{"name": "x", "max_age": 1_000_000_000}]


async def test_timedelta_assigned_to_a_nested_struct_is_encoded_as_nanoseconds() -> None:
    js, transport = mock_js(always(STREAM_CREATE_MINIMAL))
    cfg = StreamConfig(name="x", consumer_limits=StreamConsumerLimits())
    assert cfg.consumer_limits is not None
    cfg.consumer_limits.inactive_threshold = timedelta(seconds=5)
    await js.stream_create(cfg)
    assert transport.bodies()[0]["consumer_limits"] == {"inactive_threshold": 5_000_000_000}


async def test_timedelta_assigned_after_construction_is_encoded_by_stream_restore() -> None:
    js, transport = mock_js(always(b'{"deliver_subject":"_INBOX.restore"}'))
    cfg = StreamConfig(name="x")
    cfg.max_age = timedelta(seconds=1)
    state = decode(
        "test",
        b'{"messages":0,"bytes":0,"first_seq":0,"first_ts":"0001-01-01T00:00:00Z","last_seq":0,'
        b'"last_ts":"0001-01-01T00:00:00Z","consumer_count":0}',
        jetstream.StreamState,
    )
    await js.stream_restore("x", config=cfg, state=state)
    assert transport.bodies()[0]["config"]["max_age"] == 1_000_000_000


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        (datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc), "2024-01-02T03:04:05Z"),
        (datetime(2024, 1, 2, 3, 4, 5, 120000, tzinfo=timezone.utc), "2024-01-02T03:04:05.120000Z"),
        (
            datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2))),
            "2024-01-02T03:04:05+02:00",
        ),
        (Timestamp.parse("2024-01-02T03:04:05.123456789Z"), "2024-01-02T03:04:05.123456789Z"),
        (Timestamp.parse("2024-01-02T03:04:05.000000001-07:30"), "2024-01-02T03:04:05.000000001-07:30"),
    ],
)
async def test_timestamps_encode_as_rfc3339(value: datetime, wire: str) -> None:
    js, transport = mock_js(always(CONSUMER_CREATE_DURABLE))
    await js.consumer_create("S", "c", deliver_policy="by_start_time", opt_start_time=value)
    assert transport.bodies()[0]["config"]["opt_start_time"] == wire


async def test_timestamp_in_a_request_struct_keeps_nanoseconds() -> None:
    js, transport = mock_js(
        always(b'{"message":{"subject":"a","seq":1,"time":"2024-01-02T03:04:05.123456789Z"}}')
    )
    msg = await js.stream_msg_get("S", start_time=Timestamp.parse("2024-01-02T03:04:05.123456789Z"))
    assert transport.requests[0][1] == b'{"start_time":"2024-01-02T03:04:05.123456789Z"}'
    assert isinstance(msg.time, Timestamp)
    assert msg.time.nanosecond == 789


async def test_naive_datetime_is_refused_before_sending() -> None:
    js, transport = mock_js(always(CONSUMER_CREATE_DURABLE))
    with pytest.raises(ValueError, match="timezone"):
        await js.consumer_create("S", "c", opt_start_time=datetime(2024, 1, 2, 3, 4, 5))
    assert transport.requests == []


def test_unsupported_value_type_raises_type_error() -> None:
    with pytest.raises(TypeError):
        encode(StreamConfig(name="x", metadata={"a": object()}))  # type: ignore[dict-item]


async def test_request_of_a_raw_endpoint_encodes_durations() -> None:
    js, transport = mock_js(always(jetstream.Reply("_INBOX.1", b"m", {"Nats-Sequence": "3"})))
    msg = await js.consumer_msg_next("S", "c", batch=1, expires=timedelta(seconds=5), no_wait=True)
    assert msg.seq == 3
    assert transport.requests == [
        ("$JS.API.CONSUMER.MSG.NEXT.S.c", b'{"expires":5000000000,"batch":1,"no_wait":true}', None)
    ]

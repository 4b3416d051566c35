"""Read -> modify -> update round trips stay exact, and live replies with fields the schemas lack
still decode.

Equality of `Duration` / `Timestamp` compares microseconds only (they are timedelta/datetime), so
configs are compared in their wire form, with nanoseconds, by an encoder written here rather than
the SDK's own.
"""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import msgspec.inspect as mi

from jetstream import (
    ConsumerConfig,
    ConsumerInfoResponse,
    Duration,
    JetStream,
    Republish,
    StreamConfig,
    StreamConsumerLimits,
    StreamInfoResponse,
    StreamSource,
    SubjectTransform,
    Timestamp,
)


def _exact(obj: Any) -> Any:
    if isinstance(obj, Duration):
        return obj.nanoseconds
    if isinstance(obj, Timestamp):
        return obj.isoformat_ns()
    raise NotImplementedError(type(obj))


def wire(obj: msgspec.Struct) -> Any:
    """`obj` as plain data, durations as int nanoseconds and times with nanoseconds."""
    return msgspec.to_builtins(obj, enc_hook=_exact)


def unknown_fields(tp: mi.Type, value: Any, path: str = "$") -> list[str]:
    """Paths of the members of the JSON `value` that the model type `tp` has no field for."""
    if isinstance(tp, mi.UnionType):
        return [p for t in tp.types for p in unknown_fields(t, value, path)]
    if isinstance(tp, mi.StructType) and isinstance(value, dict):
        fields = {f.encode_name: f for f in tp.fields}
        out: list[str] = []
        for key, item in value.items():
            field = fields.get(key)
            if field is None:
                out.append(f"{path}.{key}")
            else:
                out += unknown_fields(field.type, item, f"{path}.{key}")
        return out
    if isinstance(tp, mi.ListType) and isinstance(value, list):
        return [p for i, item in enumerate(value) for p in unknown_fields(tp.item_type, item, f"{path}[{i}]")]
    if isinstance(tp, mi.DictType) and isinstance(value, dict):
        return [p for k, item in value.items() for p in unknown_fields(tp.value_type, item, f"{path}.{k}")]
    return []


def _rich_stream() -> StreamConfig:
    return StreamConfig(
        name="AGG",
        description="first",
        subjects=["agg.>"],
        storage="memory",
        subject_transform=SubjectTransform(src="agg.>", dest="agg.t.>"),
        sources=[
            StreamSource(
                name="SRC",
                subject_transforms=[SubjectTransform(src="src.>", dest="agg.from.>")],
            )
        ],
        republish=Republish(src="agg.>", dest="rp.>", headers_only=True),
        metadata={"owner": "team-a", "tier": "gold"},
        consumer_limits=StreamConsumerLimits(inactive_threshold=Duration(3_000_000_001), max_ack_pending=77),
        max_age=Duration(86_400_000_000_001),
        duplicate_window=Duration(60_000_000_001),
        subject_delete_marker_ttl=Duration(2_000_000_000),
        max_msgs_per_subject=5,
        allow_direct=True,
        allow_msg_ttl=True,
        allow_rollup_hdrs=True,
    )


async def test_stream_config_round_trip(js: JetStream) -> None:
    await js.stream_create("SRC", subjects=["src.>"], storage="memory")
    sent = _rich_stream()
    created = await js.stream_create(sent)
    # every field that was set comes back exactly; metadata gains the server's own keys
    got, want = wire(created.config), wire(sent)
    for key, value in want.items():
        if key == "metadata":
            assert got[key] == {**got[key], **value}
            assert any(k.startswith("_nats.") for k in got[key])
        else:
            assert got[key] == value, key

    cfg = (await js.stream_info("AGG")).config
    cfg.description = "second"
    cfg.max_age = Duration(172_800_000_000_003)
    assert cfg.metadata is not None
    cfg.metadata["tier"] = "silver"
    updated = await js.stream_update(cfg)
    assert wire(updated.config) == wire(cfg)
    assert wire((await js.stream_info("AGG")).config) == wire(cfg)


async def test_consumer_config_round_trip(js: JetStream) -> None:
    await js.stream_create("S", subjects=["s.>"], storage="memory")
    sent = ConsumerConfig(
        durable_name="C",
        description="first",
        ack_policy="explicit",
        ack_wait=Duration(1_000_000_001),
        backoff=[Duration(1_000_000_001), Duration(2_000_000_002), Duration(4_000_000_004)],
        max_deliver=5,
        deliver_policy="by_start_time",
        opt_start_time=Timestamp.parse("2024-01-02T03:04:05.123456789Z"),
        pause_until=Timestamp.parse("2099-01-02T03:04:05.987654321Z"),
        filter_subjects=["s.a", "s.b.>"],
        max_waiting=10,
        max_expires=Duration(9_000_000_009),
        inactive_threshold=Duration(3_600_000_000_001),
        metadata={"k": "v"},
    )
    created = await js.consumer_create("S", sent)
    got, want = wire(created.config), wire(sent)
    for key, value in want.items():
        if key == "metadata":
            assert got[key] == {**got[key], **value}
        else:
            assert got[key] == value, key
    assert isinstance(created.config.opt_start_time, Timestamp)
    assert created.config.opt_start_time.nanosecond == 789
    assert created.paused is True

    cfg = (await js.consumer_info("S", "C")).config
    cfg.description = "second"
    cfg.backoff = [Duration(1_000_000_001), Duration(3_000_000_003)]
    cfg.max_deliver = 4
    updated = await js.consumer_create("S", cfg)
    assert wire(updated.config) == wire(cfg)
    assert wire((await js.consumer_info("S", "C")).config) == wire(cfg)


async def test_consumer_backoff_sets_ack_wait(js: JetStream) -> None:
    # A normalization to know about: with a backoff list the server replaces ack_wait by its
    # first step, so an ack_wait sent alongside does not round-trip.
    await js.stream_create("S", subjects=["s.>"], storage="memory")
    created = await js.consumer_create(
        "S", "C", ack_wait=Duration(5_000_000_005), backoff=[Duration(1_000_000_001)], max_deliver=3
    )
    assert isinstance(created.config.ack_wait, Duration)
    assert created.config.ack_wait.nanoseconds == 1_000_000_001


async def test_live_replies_carry_unknown_fields(js: JetStream) -> None:
    await js.stream_create("SRC", subjects=["src.>"], storage="memory")
    await js.publish("src.a", b"x")
    await js.stream_create(_rich_stream())
    await js.consumer_create("AGG", "C")
    # the source reports its sequence once it has copied something
    for _ in range(100):
        if (await js.stream_info("AGG")).state.messages == 1:
            break
        await asyncio.sleep(0.02)
    assert js.nc is not None

    raw = await js.nc.request("$JS.API.STREAM.INFO.AGG", b"", timeout=2)
    unknown = unknown_fields(mi.type_info(StreamInfoResponse), msgspec.json.decode(raw.data))
    # the schemas lack the response `type` and the source's sequence; decoding skips them
    assert {"$.type", "$.sources[0].seq"} <= set(unknown)
    info = await js.stream_info("AGG")
    assert info.sources is not None
    assert (info.sources[0].name, info.sources[0].lag) == ("SRC", 0)

    raw = await js.nc.request("$JS.API.CONSUMER.INFO.AGG.C", b"", timeout=2)
    unknown = unknown_fields(mi.type_info(ConsumerInfoResponse), msgspec.json.decode(raw.data))
    assert "$.type" in unknown
    assert (await js.consumer_info("AGG", "C")).name == "C"

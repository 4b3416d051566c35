"""Key/Value bucket configuration -> stream configuration (ADR-8, ADR-48, ADR-57), and back."""

from __future__ import annotations

import inspect
from datetime import timedelta

import msgspec
import pytest

import jetstream
from jetstream import (
    Duration,
    KeyValueConfig,
    KeyValueStatus,
    Placement,
    Republish,
    StreamSource,
    SubjectTransform,
    errors,
)
from jetstream._core._codec import decoder, encode
from jetstream._generated.models import ExternalStreamSource, StreamInfo
from jetstream._kv._manager import KeyValueOptions, key_value_config, key_value_stream_config
from jetstream._time import nanos

MIN = 60 * 1_000_000_000


def wire(cfg: KeyValueConfig, api_level: int | None = None) -> dict[str, object]:
    """The stream configuration exactly as it goes on the wire."""
    decoded: dict[str, object] = msgspec.json.decode(
        encode(key_value_stream_config(cfg, api_level=api_level))
    )
    return decoded


def test_defaults_are_the_adr8_stream() -> None:
    assert wire(KeyValueConfig(bucket="CONFIGURATION")) == {
        "name": "KV_CONFIGURATION",
        "subjects": ["$KV.CONFIGURATION.>"],
        "retention": "limits",
        "max_consumers": -1,
        "max_msgs": -1,
        "max_msgs_per_subject": 1,
        "max_bytes": -1,
        "max_age": 0,
        "max_msg_size": -1,
        "storage": "file",
        "compression": "none",
        "num_replicas": 1,
        "discard": "new",
        "duplicate_window": 2 * MIN,
        "deny_delete": True,
        "allow_rollup_hdrs": True,
        "allow_direct": True,
    }


def test_adr8_full_example() -> None:
    cfg = KeyValueConfig(
        bucket="CONFIGURATION",
        history=5,
        compression=True,
        limit_marker_ttl=timedelta(minutes=15),
        placement=Placement(cluster="clstr", tags=["tag1", "tag2"]),
        republish=Republish(src="repub.>", dest="dest.>", headers_only=True),
        metadata={"encoding": "base64"},
        replicas=3,
        max_bytes=1024,
        max_value_size=128,
        storage="memory",
        description="settings",
    )
    out = wire(cfg, api_level=1)
    assert out["max_msgs_per_subject"] == 5
    assert out["compression"] == "s2"
    assert out["allow_msg_ttl"] is True
    assert out["subject_delete_marker_ttl"] == 15 * MIN
    assert out["placement"] == {"cluster": "clstr", "tags": ["tag1", "tag2"]}
    assert out["republish"] == {"src": "repub.>", "dest": "dest.>", "headers_only": True}
    assert out["metadata"] == {"encoding": "base64"}
    assert (out["num_replicas"], out["max_bytes"], out["max_msg_size"]) == (3, 1024, 128)
    assert (out["storage"], out["description"]) == ("memory", "settings")


@pytest.mark.parametrize(
    ("ttl", "max_age", "window"),
    [
        (None, 0, 2 * MIN),
        (timedelta(hours=1), 60 * MIN, 2 * MIN),  # capped at 2 minutes
        (timedelta(minutes=2), 2 * MIN, 2 * MIN),
        (timedelta(seconds=30), 30_000_000_000, 30_000_000_000),  # never longer than the TTL
        (Duration(1_500_000_001), 1_500_000_001, 1_500_000_001),  # exact nanoseconds
    ],
)
def test_ttl_sets_max_age_and_the_duplicate_window(ttl: timedelta | None, max_age: int, window: int) -> None:
    out = wire(KeyValueConfig(bucket="b", ttl=ttl))
    assert (out["max_age"], out["duplicate_window"]) == (max_age, window)


@pytest.mark.parametrize("history", [0, 65, -1, True])
def test_history_outside_1_to_64_is_refused(history: int) -> None:
    with pytest.raises(errors.HistoryTooLargeError) as info:
        key_value_stream_config(KeyValueConfig(bucket="b", history=history))
    assert isinstance(info.value, errors.KeyValueError)
    assert isinstance(info.value, errors.InvalidArgumentError)


@pytest.mark.parametrize("history", [1, 64])
def test_history_bounds_are_accepted(history: int) -> None:
    assert wire(KeyValueConfig(bucket="b", history=history))["max_msgs_per_subject"] == history


@pytest.mark.parametrize("level", [None, 0])
def test_limit_markers_need_api_level_1(level: int | None) -> None:
    cfg = KeyValueConfig(bucket="b", limit_marker_ttl=timedelta(seconds=5))
    with pytest.raises(errors.LimitMarkersNotSupportedError) as info:
        key_value_stream_config(cfg, api_level=level)
    assert info.value.bucket == "b"
    assert info.value.level == (level or 0)


def test_limit_marker_ttl_must_be_at_least_a_second() -> None:
    cfg = KeyValueConfig(bucket="b", limit_marker_ttl=timedelta(milliseconds=999))
    with pytest.raises(errors.InvalidArgumentError):
        key_value_stream_config(cfg, api_level=5)


def test_no_limit_markers_no_ttl_fields() -> None:
    out = wire(KeyValueConfig(bucket="b"), api_level=0)
    assert "allow_msg_ttl" not in out
    assert "subject_delete_marker_ttl" not in out


@pytest.mark.parametrize("bucket", ["", "a.b", "a b", "a*", "a>", "ä", "a/b", "$KV"])
def test_bucket_names_are_restricted_terms(bucket: str) -> None:
    with pytest.raises(errors.InvalidNameError):
        key_value_stream_config(KeyValueConfig(bucket=bucket))


def test_mirror_gets_the_kv_prefix_and_mirror_direct_and_no_subjects() -> None:
    given = StreamSource(name="ORIGIN")
    out = wire(KeyValueConfig(bucket="COPY", mirror=given))
    assert out["mirror"] == {"name": "KV_ORIGIN"}
    assert out["mirror_direct"] is True
    assert "subjects" not in out and "sources" not in out
    assert given.name == "ORIGIN"  # the caller's object is not changed


def test_prefixed_mirror_name_is_kept() -> None:
    external = ExternalStreamSource(api="$JS.hub.API")
    out = wire(KeyValueConfig(bucket="COPY", mirror=StreamSource(name="KV_ORIGIN", external=external)))
    assert out["mirror"] == {"name": "KV_ORIGIN", "external": {"api": "$JS.hub.API"}}


def test_sources_get_kv_prefix_and_automatic_transforms() -> None:
    sources = [StreamSource(name="ORDERS"), StreamSource(name="KV_USERS", opt_start_seq=3)]
    out = wire(KeyValueConfig(bucket="ALL", sources=sources))
    assert out["subjects"] == ["$KV.ALL.>"]
    assert out["sources"] == [
        {"name": "KV_ORDERS", "subject_transforms": [{"src": "$KV.ORDERS.>", "dest": "$KV.ALL.>"}]},
        {
            "name": "KV_USERS",
            "opt_start_seq": 3,
            "subject_transforms": [{"src": "$KV.USERS.>", "dest": "$KV.ALL.>"}],
        },
    ]
    assert sources[0].name == "ORDERS" and sources[0].subject_transforms is None


def test_custom_source_transforms_are_kept_exactly() -> None:
    custom = StreamSource(
        name="EVENTS", subject_transforms=[SubjectTransform(src="events.processed.>", dest="$KV.CACHE.>")]
    )
    out = wire(KeyValueConfig(bucket="CACHE", sources=[custom]))
    assert out["sources"] == [
        {"name": "EVENTS", "subject_transforms": [{"src": "events.processed.>", "dest": "$KV.CACHE.>"}]}
    ]


def test_same_bucket_in_another_domain_is_sourced_without_transform() -> None:
    external = ExternalStreamSource(api="$JS.hub.API")
    out = wire(KeyValueConfig(bucket="CFG", sources=[StreamSource(name="CFG", external=external)]))
    assert out["sources"] == [{"name": "KV_CFG", "external": {"api": "$JS.hub.API"}}]


def test_status_and_config_round_trip() -> None:
    cfg = KeyValueConfig(
        bucket="b",
        history=7,
        ttl=timedelta(hours=1),
        compression=True,
        limit_marker_ttl=timedelta(seconds=90),
        metadata={"owner": "me"},
        max_bytes=4096,
        max_value_size=256,
        replicas=1,
        storage="memory",
        description="d",
    )
    stream = key_value_stream_config(cfg, api_level=2)
    info_json = {
        "config": msgspec.json.decode(encode(stream)),
        "created": "2026-01-02T03:04:05.123456789Z",
        "ts": "2026-01-02T03:04:05.123456789Z",
        "state": {
            "messages": 12,
            "bytes": 3456,
            "first_seq": 1,
            "first_ts": "2026-01-02T03:04:05Z",
            "last_seq": 12,
            "last_ts": "2026-01-02T03:04:05Z",
            "consumer_count": 0,
        },
    }
    info = decoder(StreamInfo).decode(msgspec.json.encode(info_json))
    status = KeyValueStatus("b", info)
    assert (status.bucket, status.values, status.bytes, status.history) == ("b", 12, 3456, 7)
    assert status.ttl == timedelta(hours=1)
    assert status.limit_marker_ttl == timedelta(seconds=90)
    assert status.is_compressed is True
    assert status.backing_store == "JetStream"
    assert status.metadata == {"owner": "me"}
    assert status.stream_info is info
    assert status.config == cfg
    assert nanos(status.ttl) == 3600 * 1_000_000_000


def test_every_config_field_is_a_keyword_of_the_manager_methods() -> None:
    fields = set(KeyValueConfig.__struct_fields__) - {"bucket"}
    assert set(KeyValueOptions.__annotations__) == fields
    for method in (
        jetstream.JetStream.create_key_value,
        jetstream.JetStream.update_key_value,
        jetstream.JetStream.create_or_update_key_value,
    ):
        options = inspect.signature(method).parameters["options"]
        assert options.kind is options.VAR_KEYWORD
        assert "KeyValueOptions" in str(options.annotation)


def test_keyword_options_override_the_config_and_nothing_else() -> None:
    base = KeyValueConfig(bucket="cfg", history=3, description="d")
    merged = key_value_config(base, {"history": 5, "description": None})
    assert (merged.bucket, merged.history, merged.description) == ("cfg", 5, "d")
    assert base.history == 3  # the caller's config is not modified
    assert key_value_config("cfg", {}) == KeyValueConfig(bucket="cfg")
    with pytest.raises(TypeError, match="bucket"):
        key_value_config("cfg", {"bucket": "other"})  # type: ignore[typeddict-unknown-key]

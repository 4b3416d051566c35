"""What replies are typed as, checked against a real nats-server: the fields a read-back config is
sure to carry, its enums and timestamps, and bytes-like payloads on every publishing call."""

from __future__ import annotations

import array
from datetime import timedelta

from jetstream import ConsumerConfigReply, JetStream, StreamConfig, StreamConfigReply, Timestamp
from jetstream._core._codec import decoder


async def test_a_minimal_stream_reads_back_with_its_server_defaults(js: JetStream) -> None:
    info = await js.stream_create(StreamConfig(name="MIN"))
    cfg = info.config
    assert isinstance(cfg, StreamConfigReply)
    assert (cfg.retention, cfg.storage, cfg.discard) == ("limits", "file", "old")
    assert (cfg.max_consumers, cfg.max_msgs, cfg.max_bytes, cfg.max_msg_size) == (-1, -1, -1, -1)
    assert cfg.max_age.total_seconds() == 0
    assert cfg.num_replicas == 1
    assert isinstance(info.created, Timestamp)
    assert isinstance(info.state.first_ts, Timestamp)
    # sent back as it is, it changes nothing
    again = await js.stream_update(cfg)
    assert again.config == cfg


async def test_a_minimal_consumer_reads_back_with_its_server_defaults(js: JetStream) -> None:
    await js.stream_create("C", subjects=["c.>"], storage="memory")
    info = await js.consumer_create("C", "d")
    cfg = info.config
    assert isinstance(cfg, ConsumerConfigReply)
    assert (cfg.deliver_policy, cfg.replay_policy, cfg.max_deliver) == ("all", "instant", -1)
    assert cfg.ack_policy in ("none", "all", "explicit", "flow_control")
    assert isinstance(info.created, Timestamp)


async def test_bytes_like_payloads_are_stored_as_their_bytes(js: JetStream) -> None:
    await js.stream_create("P", subjects=["p.>"], storage="memory", allow_direct=True)
    wide = array.array("i", [1, 2, 3])
    payloads: list[bytes | bytearray | memoryview] = [
        bytearray(b"grown"),
        memoryview(b"..slice..")[2:7],
        memoryview(wide),
    ]
    for i, payload in enumerate(payloads):
        ack = await js.publish(f"p.{i}", payload)
        assert (await js.direct_get("P", seq=ack.seq)).data == bytes(payload)
    future = await js.publish_async("p.async", bytearray(b"later"))
    ack = await future
    assert (await js.direct_get("P", seq=ack.seq)).data == b"later"


async def test_bytes_like_values_in_key_value_and_object_store(js: JetStream) -> None:
    kv = await js.create_key_value("types", history=2)
    revision = await kv.put("k", memoryview(b"blue"))
    assert (await kv.get("k")).value == b"blue"
    await kv.update("k", bytearray(b"green"), revision)
    assert (await kv.get("k")).value == b"green"
    obs = await js.create_object_store("types_obs")
    await obs.put("o", bytearray(b"%PDF-1.7"))
    assert await obs.get_bytes("o") == b"%PDF-1.7"


def test_an_older_servers_config_decodes() -> None:
    # what a server before 2.3 sends for a minimal stream: none of the fields added since
    reply = (
        b'{"name":"OLD","subjects":["old"],"retention":"limits","max_consumers":-1,"max_msgs":-1,'
        b'"max_bytes":-1,"max_age":0,"max_msg_size":-1,"storage":"file","discard":"old",'
        b'"num_replicas":1,"duplicate_window":120000000000}'
    )
    cfg = decoder(StreamConfigReply).decode(reply)
    assert (cfg.compression, cfg.allow_msg_ttl, cfg.max_msgs_per_subject) == (None, None, None)
    assert cfg.duplicate_window == timedelta(minutes=2)

"""Advisory payloads decode into their generated class by `type`; other kinds into UnknownAdvisory;
what is not an event into InvalidAdvisoryError (the iterator skips and logs those)."""

from __future__ import annotations

import msgspec
import pytest

from jetstream import Timestamp, errors
from jetstream.advisories import (
    EVENT_TYPES,
    ConsumerActionAdvisory,
    ConsumerPauseAdvisory,
    JetStreamEvent,
    NakAdvisory,
    StreamLeaderElectedAdvisory,
    UnknownAdvisory,
    decode_advisory,
)
from jetstream.models import PeerInfo

# As nats-server 2.12 sends them (jetstream_events.go), trimmed of nothing.
CONSUMER_CREATED = (
    b'{"type":"io.nats.jetstream.advisory.v1.consumer_action","id":"eU23969ltEgoHyoWi05IOk",'
    b'"timestamp":"2026-12-03T13:23:34.397388129Z","stream":"S","consumer":"C","action":"create"}'
)
NAK = (
    b'{"type":"io.nats.jetstream.advisory.v1.nak","id":"x1","timestamp":"2026-12-03T13:23:34.1Z",'
    b'"stream":"S","consumer":"C","consumer_seq":3,"stream_seq":7,"deliveries":2,"domain":"hub"}'
)
LEADER_ELECTED = (
    b'{"type":"io.nats.jetstream.advisory.v1.stream_leader_elected","id":"x2",'
    b'"timestamp":"2026-12-03T13:23:34Z","account":"APP","stream":"S","leader":"n1",'
    b'"replicas":[{"name":"n1","current":true,"active":0,"peer":"abc"},'
    b'{"name":"n2","current":false,"active":1500,"lag":3,"peer":"def"}]}'
)
UNPAUSED = (
    b'{"type":"io.nats.jetstream.advisory.v1.consumer_pause","id":"x3","timestamp":"2026-12-03T13:23:34Z",'
    b'"stream":"S","consumer":"C","paused":false,"pause_until":"0001-01-01T00:00:00Z"}'
)


def test_the_type_picks_the_class() -> None:
    adv = decode_advisory(CONSUMER_CREATED, "$JS.EVENT.ADVISORY.CONSUMER.CREATED.S.C")
    assert isinstance(adv, ConsumerActionAdvisory)
    assert (adv.stream, adv.consumer, adv.action, adv.id) == ("S", "C", "create", "eU23969ltEgoHyoWi05IOk")
    assert isinstance(adv.timestamp, Timestamp) and adv.timestamp.nanosecond == 129
    assert adv.type == ConsumerActionAdvisory.type == "io.nats.jetstream.advisory.v1.consumer_action"
    # the tag is written back: an event re-encodes to what the server sent
    encoded = msgspec.json.encode(adv, enc_hook=lambda t: t.isoformat_ns())
    assert msgspec.json.decode(encoded) == msgspec.json.decode(CONSUMER_CREATED)


def test_fields_the_schemas_get_wrong_decode_as_the_server_sends_them() -> None:
    nak = decode_advisory(NAK)
    assert isinstance(nak, NakAdvisory)
    assert (nak.consumer_seq, nak.stream_seq, nak.deliveries, nak.domain) == (3, 7, 2, "hub")  # B8
    elected = decode_advisory(LEADER_ELECTED)
    assert isinstance(elected, StreamLeaderElectedAdvisory)
    assert [type(p) for p in elected.replicas] == [PeerInfo, PeerInfo]  # B7: a list
    assert [p.name for p in elected.replicas] == ["n1", "n2"] and elected.replicas[1].lag == 3


def test_an_unpaused_consumer_carries_the_zero_time() -> None:
    adv = decode_advisory(UNPAUSED)
    assert isinstance(adv, ConsumerPauseAdvisory) and adv.paused is False
    assert adv.pause_until is not None and adv.pause_until.year == 1


def test_enum_values_newer_than_the_schemas_decode() -> None:
    # a value the schema's enum lacks (the server's own enum may grow before the schemas do)
    adv = decode_advisory(CONSUMER_CREATED.replace(b'"create"', b'"modify"'))
    assert isinstance(adv, ConsumerActionAdvisory)
    assert adv.action == "modify"  # type: ignore[comparison-overlap]  # the Literal is the schema's


def test_unknown_fields_are_skipped() -> None:
    adv = decode_advisory(CONSUMER_CREATED.replace(b'"action"', b'"future":[1,{"a":2}],"action"'))
    assert isinstance(adv, ConsumerActionAdvisory)


def test_an_unknown_kind_is_kept_with_its_members() -> None:
    data = (
        b'{"type":"io.nats.jetstream.advisory.v1.meta_rescue","id":"r1","timestamp":"2026-12-03T13:23:34Z",'
        b'"server":"n1","prev_quorum":2,"new_quorum":1}'
    )
    adv = decode_advisory(data, "$JS.EVENT.ADVISORY.SERVER.META_RESCUE")
    assert isinstance(adv, UnknownAdvisory) and not isinstance(adv, JetStreamEvent)
    assert adv.type == "io.nats.jetstream.advisory.v1.meta_rescue"
    assert adv.subject == "$JS.EVENT.ADVISORY.SERVER.META_RESCUE"
    assert adv.id == "r1" and adv.data["new_quorum"] == 1
    assert decode_advisory(b'{"type":"x","id":5}').id is None


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "not JSON"),
        (b"{not json", "not JSON"),
        (b'{"type":"io.nats.jetstream.advisory.v1.nak"', "not JSON"),
        (b"[1,2]", "not a JSON object with a string `type`"),
        (b'"io.nats.jetstream.advisory.v1.nak"', "not a JSON object with a string `type`"),
        (b'{"id":"x"}', "not a JSON object with a string `type`"),
        (b'{"type":7}', "not a JSON object with a string `type`"),
        (b"[" * 100_000 + b"]" * 100_000, ""),
        # known kinds the server would never send: a missing required field, a wrong type, a bad time
        (
            CONSUMER_CREATED.replace(b'"stream":"S",', b""),
            "not a valid io.nats.jetstream.advisory.v1.consumer_action",
        ),
        (
            NAK.replace(b'"stream_seq":7', b'"stream_seq":"7"'),
            "not a valid io.nats.jetstream.advisory.v1.nak",
        ),
        (CONSUMER_CREATED.replace(b"2026-12-03T13", b"yesterday"), "not a valid"),
    ],
)
def test_what_is_not_an_event_is_a_typed_error(data: bytes, reason: str) -> None:
    with pytest.raises(errors.InvalidAdvisoryError) as info:
        decode_advisory(data, "$JS.EVENT.ADVISORY.X")
    assert reason in info.value.reason
    assert (info.value.subject, info.value.data) == ("$JS.EVENT.ADVISORY.X", data)
    assert isinstance(info.value, errors.JetStreamError)


def test_every_generated_kind_is_a_tagged_event() -> None:
    assert len(EVENT_TYPES) == 23
    for kind, cls in EVENT_TYPES.items():
        assert issubclass(cls, JetStreamEvent) and cls.type == kind
        assert cls.__struct_config__.tag == kind and cls.__struct_config__.tag_field == "type"

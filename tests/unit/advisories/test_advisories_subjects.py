"""The subscriptions of js.advisories(): every kind has its server subjects, narrowed by stream and
consumer where the subject names them."""

from __future__ import annotations

import pytest
from unit_support import always, mock_js

from jetstream import errors
from jetstream.advisories import (
    EVENT_TYPES,
    SUBJECTS,
    ApiAuditAdvisory,
    ConsumerAckMetric,
    ConsumerActionAdvisory,
    StreamActionAdvisory,
)
from jetstream.advisories import Advisories as AdvisoriesType

P = "$JS.EVENT.ADVISORY"


def subjects(**kwargs: object) -> list[str]:
    js, _ = mock_js(always(b"{}"))
    advs = js.advisories(**kwargs)  # type: ignore[arg-type]
    assert isinstance(advs, AdvisoriesType)
    return list(advs.subjects)


def test_every_kind_has_its_subjects() -> None:
    assert set(SUBJECTS) == set(EVENT_TYPES)


def test_without_kinds_every_advisory_narrowed_by_name() -> None:
    assert subjects() == [f"{P}.>"]
    assert subjects(stream="S") == [f"{P}.STREAM.*.S", f"{P}.CONSUMER.*.S.*"]
    assert subjects(stream="S", consumer="C") == [f"{P}.CONSUMER.*.S.C"]
    assert subjects(consumer="C") == [f"{P}.CONSUMER.*.*.C"]


def test_kinds_by_class_type_or_short_name() -> None:
    created = [f"{P}.CONSUMER.CREATED.S.*", f"{P}.CONSUMER.DELETED.S.*"]
    assert subjects(kinds=[ConsumerActionAdvisory], stream="S") == created
    assert subjects(kinds=ConsumerActionAdvisory, stream="S") == created
    assert subjects(kinds=["io.nats.jetstream.advisory.v1.consumer_action"], stream="S") == created
    assert subjects(kinds="consumer_action", stream="S") == created
    assert subjects(kinds=["api_audit", "stream_action", "stream_action"]) == [
        f"{P}.API",
        f"{P}.STREAM.CREATED.*",
        f"{P}.STREAM.DELETED.*",
        f"{P}.STREAM.UPDATED.*",
    ]


def test_metrics_come_on_their_own_prefix_and_the_prefix_can_move() -> None:
    assert subjects(kinds=[ConsumerAckMetric], stream="S", consumer="C") == [
        "$JS.EVENT.METRIC.CONSUMER.ACK.S.C"
    ]
    assert subjects(kinds=[StreamActionAdvisory], event_prefix="HUB.EVENT") == [
        "HUB.EVENT.ADVISORY.STREAM.CREATED.*",
        "HUB.EVENT.ADVISORY.STREAM.DELETED.*",
        "HUB.EVENT.ADVISORY.STREAM.UPDATED.*",
    ]


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"kinds": ["no_such_kind"]}, errors.InvalidArgumentError),
        ({"kinds": [int]}, errors.InvalidArgumentError),
        ({"kinds": []}, errors.InvalidArgumentError),
        ({"kinds": [ApiAuditAdvisory], "stream": "S"}, errors.InvalidArgumentError),
        ({"kinds": [StreamActionAdvisory], "consumer": "C"}, errors.InvalidArgumentError),
        ({"stream": "a.b"}, errors.InvalidNameError),
        ({"stream": "S", "consumer": "*"}, errors.InvalidNameError),
        ({"event_prefix": "$JS.>"}, errors.InvalidNameError),
        ({"event_prefix": ""}, errors.InvalidNameError),
        ({"max_buffered": 0}, errors.InvalidArgumentError),
    ],
)
def test_refused_before_anything_is_sent(kwargs: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error):
        subjects(**kwargs)

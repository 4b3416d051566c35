"""STREAM.INFO pages `state.subjects` (100,000 per reply): the method merges every page."""

from __future__ import annotations

import json

import msgspec

from jetstream import JetStream, MockTransport


def _reply(subjects: dict[str, int], total: int, offset: int) -> bytes:
    return msgspec.json.encode(
        {
            "type": "io.nats.jetstream.api.v1.stream_info_response",
            "total": total,
            "offset": offset,
            "limit": 2,
            "config": {
                "name": "S",
                "retention": "limits",
                "max_consumers": -1,
                "max_msgs": -1,
                "max_bytes": -1,
                "max_age": 0,
                "max_msg_size": -1,
                "storage": "file",
                "num_replicas": 1,
                "discard": "old",
            },  # what every server sends
            "created": "2026-11-28T00:00:00Z",
            "ts": "2026-11-28T00:00:00Z",
            "state": {
                "messages": 3,
                "bytes": 3,
                "first_seq": 1,
                "first_ts": "2026-11-28T00:00:00Z",
                "last_seq": 3,
                "last_ts": "2026-11-28T00:00:00Z",
                "consumer_count": 0,
                "subjects": subjects,
            },
        }
    )


PAGES = {0: {"a.1": 1, "a.2": 1}, 2: {"a.3": 1}}


def _answer(subject: str, payload: bytes, headers: object) -> bytes:
    offset = json.loads(payload).get("offset", 0)
    return _reply(PAGES[offset], total=3, offset=offset)


async def test_every_page_of_subjects_is_merged() -> None:
    transport = MockTransport(_answer)
    js = JetStream(transport=transport)
    info = await js.stream_info("S", subjects_filter="a.>")
    assert info.state.subjects == {"a.1": 1, "a.2": 1, "a.3": 1}
    assert [json.loads(p) for _, p, _ in transport.requests] == [
        {"subjects_filter": "a.>"},
        {"subjects_filter": "a.>", "offset": 2},
    ]


async def test_an_explicit_offset_asks_for_one_page() -> None:
    transport = MockTransport(_answer)
    js = JetStream(transport=transport)
    info = await js.stream_info("S", subjects_filter="a.>", offset=2)
    assert info.state.subjects == {"a.3": 1}
    assert len(transport.requests) == 1


async def test_without_subjects_there_is_one_request() -> None:
    transport = MockTransport(lambda s, p, h: _reply({}, total=0, offset=0))
    js = JetStream(transport=transport)
    await js.stream_info("S")
    assert len(transport.requests) == 1

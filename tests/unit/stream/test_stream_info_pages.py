"""STREAM.INFO pages `state.subjects` (100,000 per reply): the method merges every page."""

from __future__ import annotations

import json

import msgspec
from unit_support import stream_info

from jetstream import JetStream, MockTransport


def _reply(subjects: dict[str, int], total: int, offset: int) -> bytes:
    info = stream_info("S")
    info.update(total=total, offset=offset, limit=2)
    info["state"]["subjects"] = subjects
    return msgspec.json.encode(info)


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

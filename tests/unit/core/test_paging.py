"""Paged list endpoints: every page is requested, with the right offsets, items kept in order."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import pytest
from unit_support import Answer, Responder, consumer_info, dumps, mock_js, stream_info

from jetstream import ConsumerInfo, JetStream, StreamInfo, errors

NAMES = ["A", "B", "C", "D", "E"]


def pager(key: str, items: list[Any], limit: int, total: int | None = None) -> Responder:
    """Answer like the server: the page at the requested offset, `limit` items at most."""

    def answer(subject: str, payload: bytes, headers: Mapping[str, str] | None) -> Answer:
        offset = json.loads(payload).get("offset", 0) if payload else 0
        page = items[offset : offset + limit]
        return dumps(
            {
                "type": "page",
                "total": len(items) if total is None else total,
                "offset": offset,
                "limit": limit,
                key: page,
            }
        )

    return answer


async def test_stream_names_requests_every_page() -> None:
    js, transport = mock_js(pager("streams", NAMES, limit=2))
    assert await js.stream_names() == NAMES
    assert transport.subjects == ["$JS.API.STREAM.NAMES"] * 3
    assert transport.bodies() == [{"offset": 0}, {"offset": 2}, {"offset": 4}]


async def test_stream_names_sends_the_subject_filter_on_every_page() -> None:
    js, transport = mock_js(pager("streams", NAMES, limit=2))
    assert await js.stream_names(subject="orders.>") == NAMES
    assert transport.bodies() == [{"subject": "orders.>", "offset": n} for n in (0, 2, 4)]


async def test_stream_list_requests_every_page() -> None:
    infos = [stream_info(name) for name in NAMES]
    js, transport = mock_js(pager("streams", infos, limit=2))
    streams = await js.stream_list()
    assert all(isinstance(s, StreamInfo) for s in streams)
    assert [s.config.name for s in streams] == NAMES
    assert transport.subjects == ["$JS.API.STREAM.LIST"] * 3
    assert transport.bodies() == [{"offset": 0}, {"offset": 2}, {"offset": 4}]


async def test_consumer_names_requests_every_page() -> None:
    js, transport = mock_js(pager("consumers", NAMES, limit=2))
    assert await js.consumer_names("ORDERS") == NAMES
    assert transport.subjects == ["$JS.API.CONSUMER.NAMES.ORDERS"] * 3
    assert transport.bodies() == [{"offset": 0}, {"offset": 2}, {"offset": 4}]


async def test_consumer_list_requests_every_page() -> None:
    infos = [consumer_info("ORDERS", name) for name in NAMES]
    js, transport = mock_js(pager("consumers", infos, limit=2), domain="hub")
    consumers = await js.consumer_list("ORDERS")
    assert all(isinstance(c, ConsumerInfo) for c in consumers)
    assert [c.name for c in consumers] == NAMES
    assert [c.config.durable_name for c in consumers] == NAMES
    assert transport.subjects == ["$JS.hub.API.CONSUMER.LIST.ORDERS"] * 3
    assert transport.bodies() == [{"offset": 0}, {"offset": 2}, {"offset": 4}]


async def test_a_single_page_is_one_request() -> None:
    js, transport = mock_js(pager("streams", NAMES, limit=1024))
    assert await js.stream_names() == NAMES
    assert len(transport.requests) == 1


async def test_exactly_full_pages_stop_at_total() -> None:
    js, transport = mock_js(pager("streams", NAMES[:4], limit=2))
    assert await js.stream_names() == NAMES[:4]
    assert transport.bodies() == [{"offset": 0}, {"offset": 2}]


async def test_null_streams_page_is_an_empty_list() -> None:
    reply = b'{"type":"io.nats.jetstream.api.v1.stream_names_response","total":0,"offset":0,"limit":1024,"streams":null}'
    js, transport = mock_js(lambda s, p, h: reply)
    assert await js.stream_names() == []
    assert len(transport.requests) == 1


@pytest.mark.parametrize(
    ("call", "key"),
    [
        (lambda js: js.stream_list(), "streams"),
        (lambda js: js.consumer_names("S"), "consumers"),
        (lambda js: js.consumer_list("S"), "consumers"),
    ],
)
async def test_empty_lists(call: Callable[[JetStream], Awaitable[Sequence[object]]], key: str) -> None:
    js, transport = mock_js(pager(key, [], limit=256))
    assert await call(js) == []
    assert len(transport.requests) == 1


async def test_an_empty_page_while_total_says_more_remain_is_unexpected() -> None:
    # The server computes a page and its total from one snapshot: an empty page before the total
    # is a reply that cannot advance the listing, not the end of it.
    js, transport = mock_js(pager("streams", NAMES[:2], limit=2, total=5))
    with pytest.raises(errors.UnexpectedReplyError, match="empty page at offset 2"):
        await js.stream_names()
    assert transport.bodies() == [{"offset": 0}, {"offset": 2}]


async def test_a_list_that_shrank_while_read_ends_cleanly() -> None:
    # Streams deleted between two pages: the server clamps an offset past the end to the new
    # total and answers an empty page.
    def answer(subject: str, payload: bytes, headers: Mapping[str, str] | None) -> Answer:
        offset = json.loads(payload).get("offset", 0)
        if offset == 0:
            return dumps({"total": 5, "offset": 0, "limit": 2, "streams": NAMES[:2]})
        return dumps({"total": 1, "offset": 1, "limit": 2, "streams": []})

    js, transport = mock_js(answer)
    assert await js.stream_names() == NAMES[:2]
    assert transport.bodies() == [{"offset": 0}, {"offset": 2}]


async def test_a_page_at_another_offset_is_unexpected() -> None:
    # A huge total, and the first page again whatever offset is asked: requested forever before.
    js, transport = mock_js(
        lambda s, p, h: dumps({"total": 10**12, "offset": 0, "limit": 2, "consumers": ["A"]})
    )
    with pytest.raises(errors.UnexpectedReplyError, match="asked for the page at offset 1, got offset 0"):
        await js.consumer_names("S")
    assert len(transport.requests) == 2


async def test_empty_pages_with_a_huge_total_stop() -> None:
    js, transport = mock_js(
        lambda s, p, h: dumps({"total": 10**12, "offset": 0, "limit": 256, "consumers": []})
    )
    with pytest.raises(errors.UnexpectedReplyError, match="empty page"):
        await js.consumer_list("S")
    assert len(transport.requests) == 1


async def test_pages_are_capped() -> None:
    # One new item per page, at the right offset, and a total never reached: the client stops after
    # the number of pages its error names.
    def answer(subject: str, payload: bytes, headers: Mapping[str, str] | None) -> Answer:
        offset = json.loads(payload).get("offset", 0)
        return dumps({"total": 10**12, "offset": offset, "limit": 1, "streams": [f"S{offset}"]})

    js, transport = mock_js(answer)
    with pytest.raises(errors.UnexpectedReplyError, match=r"more than \d+ pages") as info:
        await js.stream_names()
    cap = re.search(r"more than (\d+) pages", str(info.value))
    assert cap is not None
    assert len(transport.requests) == int(cap.group(1)) > 1


async def test_an_error_on_a_later_page_is_raised() -> None:
    first = pager("consumers", NAMES, limit=2)

    def answer(subject: str, payload: bytes, headers: Mapping[str, str] | None) -> Answer:
        if payload and json.loads(payload).get("offset"):
            return b'{"error":{"code":404,"err_code":10059,"description":"stream not found"}}'
        return first(subject, payload, headers)

    js, transport = mock_js(answer)
    with pytest.raises(errors.StreamNotFoundError):
        await js.consumer_names("S")
    assert len(transport.requests) == 2


async def test_a_page_of_the_wrong_shape_is_unexpected() -> None:
    js, _ = mock_js(lambda s, p, h: b'{"total":1,"offset":0,"limit":10,"streams":"A"}')
    with pytest.raises(errors.UnexpectedReplyError):
        await js.stream_names()

"""Timeouts: the client's default, per-call overrides, and None for no timeout, as the transport sees them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import pytest
from unit_support import ACCOUNT_INFO, PUB_ACK, Answer, RecordingTransport, dumps, mock_js

from jetstream import DEFAULT, JetStream, Reply, Timeout


def answer(subject: str, payload: bytes, headers: Mapping[str, str] | None) -> Answer:
    if subject == "$JS.API.INFO":
        return ACCOUNT_INFO
    if subject == "$JS.API.STREAM.NAMES":
        offset = int(payload.decode().split(":")[1].rstrip("}")) if payload else 0
        return dumps({"total": 2, "offset": offset, "limit": 1, "streams": [["A", "B"][offset]]})
    if subject.startswith("$JS.API.DIRECT.GET."):
        return Reply("_INBOX.1", b"m", {"Nats-Sequence": "1"})
    return PUB_ACK


@pytest.mark.parametrize(
    ("options", "default"),
    [
        ({}, 5.0),
        ({"timeout": 2.5}, 2.5),
        ({"timeout": 1}, 1),
        ({"timeout": timedelta(milliseconds=1500)}, 1.5),
    ],
)
async def test_default_timeout_reaches_every_kind_of_call(options: dict[str, Any], default: float) -> None:
    js, transport = mock_js(answer, **options)
    await js.account_info()
    await js.stream_names()  # two pages: each one gets the timeout
    await js.direct_get("S", seq=1)
    await js.publish("orders.new", b"x")
    assert transport.timeouts == [default] * 5


@pytest.mark.parametrize(
    ("timeout", "seen"),
    [
        (0.25, 0.25),
        (3, 3),
        (timedelta(seconds=3), 3.0),
        (timedelta(microseconds=1500), 0.0015),
        (None, None),
        (DEFAULT, 7.0),
    ],
)
async def test_per_call_timeout_overrides_the_default(timeout: Timeout, seen: float | None) -> None:
    js, transport = mock_js(answer, timeout=7.0)
    await js.account_info(timeout=timeout)
    await js.stream_names(timeout=timeout)
    await js.direct_get("S", seq=1, timeout=timeout)
    await js.publish("orders.new", b"x", timeout=timeout)
    assert transport.timeouts == [seen] * 5


async def test_override_applies_to_one_call_only() -> None:
    js, transport = mock_js(answer, timeout=4.0)
    await js.account_info(timeout=None)
    await js.account_info()
    assert transport.timeouts == [None, 4.0]


@pytest.mark.parametrize("timeout", [0, -1, 0.0, timedelta(0), timedelta(seconds=-1)])
def test_default_timeout_must_be_positive(timeout: float | timedelta) -> None:
    with pytest.raises(ValueError, match="timeout"):
        JetStream(transport=RecordingTransport(answer), timeout=timeout)


def test_default_timeout_cannot_be_none() -> None:
    with pytest.raises(ValueError, match="timeout"):
        JetStream(transport=RecordingTransport(answer), timeout=None)  # type: ignore[arg-type]


def test_default_is_a_singleton_with_a_readable_repr() -> None:
    assert repr(DEFAULT) == "DEFAULT"
    assert type(DEFAULT)() is DEFAULT

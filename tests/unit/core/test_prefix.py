"""Subject prefixing: `$JS.API.`, the domain form and a custom import prefix (ADR-19)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import nats
import pytest
from nats.aio.client import Client as NATS
from unit_support import ACCOUNT_INFO, PUB_ACK, Answer, RecordingTransport, dumps, mock_js

import jetstream
from jetstream import JetStream, Reply, errors

DIRECT_REPLY = Reply("_INBOX.x", b"payload", {"Nats-Stream": "S", "Nats-Sequence": "1"})


def by_suffix(subject: str, payload: bytes, headers: Mapping[str, str] | None) -> Answer:
    if subject.endswith("API.INFO"):
        return ACCOUNT_INFO
    if subject.endswith("API.STREAM.NAMES"):
        return dumps({"total": 1, "offset": 0, "limit": 1024, "streams": ["S"]})
    if ".API.DIRECT.GET." in subject:
        return DIRECT_REPLY
    return PUB_ACK


@pytest.mark.parametrize(
    ("options", "prefix"),
    [
        ({}, "$JS.API."),
        ({"domain": "hub"}, "$JS.hub.API."),
        ({"api_prefix": "JS.acme.API"}, "JS.acme.API."),
        ({"api_prefix": "JS.acme.API."}, "JS.acme.API."),
    ],
)
async def test_prefix_is_applied_to_every_kind_of_call_but_not_publish(
    options: dict[str, Any], prefix: str
) -> None:
    js, transport = mock_js(by_suffix, **options)
    assert js.api_prefix == prefix

    await js.account_info()  # a JSON endpoint
    assert await js.stream_names() == ["S"]  # a paged one
    raw = await js.direct_get("S", seq=1)  # a raw one
    ack = await js.publish("orders.new", b"x")  # a stream subject: never prefixed

    assert raw.data == b"payload"
    assert ack.seq == 1
    assert transport.subjects == [
        prefix + "INFO",
        prefix + "STREAM.NAMES",
        prefix + "DIRECT.GET.S",
        "orders.new",
    ]


async def test_domain_is_reported() -> None:
    js, _ = mock_js(by_suffix, domain="hub")
    assert js.domain == "hub"
    plain, _ = mock_js(by_suffix)
    assert plain.domain is None


async def test_subject_tokens_follow_the_prefix() -> None:
    js, transport = mock_js(lambda s, p, h: b'{"success":true}', domain="hub")
    await js.consumer_delete("ORDERS", "worker")
    assert transport.subjects == ["$JS.hub.API.CONSUMER.DELETE.ORDERS.worker"]


def test_domain_and_api_prefix_together_are_refused() -> None:
    with pytest.raises(ValueError, match="domain or api_prefix"):
        JetStream(transport=RecordingTransport(lambda s, p, h: b""), domain="hub", api_prefix="JS.acme.API")


@pytest.mark.parametrize("domain", ["", "a.b", "a b", "a*", "a>"])
def test_invalid_domain_is_refused(domain: str) -> None:
    with pytest.raises(errors.InvalidNameError):
        JetStream(transport=RecordingTransport(lambda s, p, h: b""), domain=domain)


@pytest.mark.parametrize("prefix", ["", "JS.*.API", "JS.>", "JS acme.API", "JS.acme.API\t"])
def test_invalid_api_prefix_is_refused(prefix: str) -> None:
    with pytest.raises(ValueError):
        JetStream(transport=RecordingTransport(lambda s, p, h: b""), api_prefix=prefix)


@pytest.mark.parametrize("prefix", ["JS..API", ".JS.API", "JS.API.."])
def test_api_prefix_with_empty_token_is_refused(prefix: str) -> None:
    with pytest.raises(ValueError):
        JetStream(transport=RecordingTransport(lambda s, p, h: b""), api_prefix=prefix)


def test_a_client_needs_exactly_one_of_connection_and_transport() -> None:
    with pytest.raises(ValueError):
        JetStream()
    with pytest.raises(ValueError):
        JetStream(NATS(), transport=RecordingTransport(lambda s, p, h: b""))
    js = JetStream(NATS())
    assert isinstance(js.nc, NATS)


class _FakeConnection:
    """Stands in for a connected nats-py client: records whether it was closed."""

    def __init__(self) -> None:
        self.is_closed = False

    async def close(self) -> None:
        self.is_closed = True

    async def drain(self) -> None:
        self.is_closed = True


async def test_connect_with_bad_options_does_not_leak_a_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[_FakeConnection] = []

    async def fake_connect(servers: Any, **options: Any) -> _FakeConnection:
        opened.append(_FakeConnection())
        return opened[-1]

    monkeypatch.setattr(nats, "connect", fake_connect)
    with pytest.raises(ValueError):
        await jetstream.connect("nats://127.0.0.1:1", domain="hub", api_prefix="JS.acme.API")
    assert all(nc.is_closed for nc in opened)

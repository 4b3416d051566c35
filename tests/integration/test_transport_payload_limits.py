"""Oversized payloads are refused with a typed error, before anything is sent, on every path."""

from __future__ import annotations

import pytest
from conftest import JetStreamFactory

from jetstream import errors
from jetstream.testing.pytest_plugin import NatsServerFactory


async def test_oversized_payloads_are_typed_errors(
    nats_server_factory: NatsServerFactory, js_factory: JetStreamFactory
) -> None:
    server = await nats_server_factory(max_payload=4096)
    js = await js_factory(server.url)
    await js.stream_create("S", subjects=["s"], storage="memory")
    big = b"x" * 5000
    with pytest.raises(errors.PayloadTooLargeError):
        await js.publish("s", big)
    with pytest.raises(errors.PayloadTooLargeError):
        await js.stream_create("T", subjects=["t"], description="d" * 5000)
    # Nothing was stored and the connection still works.
    assert (await js.stream_info("S")).state.messages == 0
    assert (await js.publish("s", b"small")).seq == 1
    assert await js.stream_names() == ["S"]

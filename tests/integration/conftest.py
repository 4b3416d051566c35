"""Fixtures shared by the integration tests (single node, cluster, domains).

The servers come from the ``jetstream.testing`` pytest plugin (``nats_server``,
``nats_server_no_js``, ``nats_cluster``, ``nats_hub_leaf``, ``nats_server_factory``); these
fixtures only add JetStream clients on top of them. Every client is closed at teardown, before
the server fixture it depends on stops.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import pytest_asyncio

import jetstream
from jetstream import JetStream, errors
from jetstream.testing import NatsServer

JetStreamFactory = Callable[..., Awaitable[JetStream]]
"""``await js_factory(servers, **options)``: the type of the ``js_factory`` fixture."""

# Bounds teardown: nats-py drains for 30 s by default, which would hide a stuck test behind a
# slow teardown instead of failing fast.
_CLOSE_TIMEOUT = 5.0


async def _quiet(_: Exception) -> None:
    # Killed nodes make nats-py report every failed reconnect; the tests assert on outcomes.
    return None


async def _close(js: JetStream) -> None:
    try:
        await asyncio.wait_for(js.close(), _CLOSE_TIMEOUT)
    except Exception:
        # A connection that is reconnecting to a stopped server cannot drain; just drop it.
        nc = js.nc
        if nc is not None and not nc.is_closed:
            with contextlib.suppress(Exception):
                await nc.close()


@pytest_asyncio.fixture
async def js_factory() -> AsyncIterator[JetStreamFactory]:
    """Connect JetStream clients to any URL(s); all are closed at teardown.

    Keyword options go to `jetstream.connect` (``domain``, ``api_prefix``, ``timeout``, and
    nats-py options such as ``user``/``password`` or ``max_reconnect_attempts``).
    """
    clients: list[JetStream] = []

    async def connect(servers: str | list[str], **options: Any) -> JetStream:
        options.setdefault("drain_timeout", _CLOSE_TIMEOUT)
        options.setdefault("error_cb", _quiet)
        client = await jetstream.connect(servers, **options)
        clients.append(client)
        return client

    try:
        yield connect
    finally:
        await asyncio.gather(*(_close(c) for c in clients))


@pytest_asyncio.fixture
async def js(nats_server: NatsServer, js_factory: JetStreamFactory) -> JetStream:
    """A `JetStream` on ``nats_server`` as the APP account (JetStream enabled)."""
    return await js_factory(nats_server.url)


@pytest_asyncio.fixture
async def sys_js(nats_server: NatsServer, js_factory: JetStreamFactory) -> JetStream:
    """A `JetStream` on ``nats_server`` as the system account (for the system-only endpoints)."""
    assert nats_server.system_url is not None
    return await js_factory(nats_server.system_url)


class Published:
    """The subjects published over one client's connection, as a core subscriber there sees them."""

    def __init__(self) -> None:
        self.subjects: list[str] = []
        self._changed = asyncio.Event()

    async def record(self, msg: Any) -> None:
        self.subjects.append(msg.subject)
        self._changed.set()

    async def wait_for(self, prefix: str, timeout: float = 5.0) -> str:
        """The first subject seen that starts with ``prefix`` (waits for it, bounded)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for subject in self.subjects:
                if subject.startswith(prefix):
                    return subject
            self._changed.clear()
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"nothing published under {prefix!r}: {self.subjects}")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)


@contextlib.asynccontextmanager
async def published(js: JetStream, pattern: str) -> AsyncIterator[Published]:
    """Record what ``js`` sends to subjects matching ``pattern`` while the block runs: where the
    client writes, seen on the wire rather than read from the handle."""
    seen = Published()
    sub = await js.nc.subscribe(pattern, cb=seen.record)
    await js.nc.flush()
    try:
        yield seen
    finally:
        await sub.unsubscribe()


async def raw_hpub(server: NatsServer, subject: str, header_block: bytes, payload: bytes = b"") -> None:
    """Publish with a header block written by hand (a status line included), as a raw client can."""
    host, port = "127.0.0.1", server.port
    reader, writer = await asyncio.open_connection(host, port)
    try:
        await reader.readline()  # INFO
        writer.write(b'CONNECT {"verbose":false,"pedantic":false,"headers":true,"protocol":1}\r\n')
        size = len(header_block) + len(payload)
        writer.write(
            b"HPUB %b %d %d\r\n%b%b\r\nPING\r\n"
            % (subject.encode(), len(header_block), size, header_block, payload)
        )
        await writer.drain()
        while True:
            line = await asyncio.wait_for(reader.readline(), 5)
            if line.startswith(b"PONG"):
                return
            assert not line.startswith(b"-ERR"), line
    finally:
        writer.close()


E = TypeVar("E")


async def next_event(
    events: AsyncIterable[object],
    cls: type[E],
    where: Callable[[E], bool] = lambda _: True,
    timeout: float = 10.0,
) -> E:
    """The next value of class ``cls`` (matching ``where``) from an event iterator such as
    ``js.advisories()``; the others are passed over. Fails after ``timeout`` seconds."""

    async def find() -> E:
        async for event in events:
            if isinstance(event, cls) and where(event):
                return event
        raise AssertionError(f"the events ended before a {cls.__name__}")

    return await asyncio.wait_for(find(), timeout)


async def leader_stepdowns(js: JetStream, stream: str, consumer: str, rounds: int = 4) -> int:
    """Step the consumer's and the stream's leaders down in turn while messages flow; how many
    stepdowns the cluster took (one refused or timed out while a leader is being elected is fine)."""
    done = 0
    for i in range(rounds):
        await asyncio.sleep(0.3)  # let messages flow between stepdowns
        try:
            if i % 2:
                await js.stream_leader_stepdown(stream, timeout=2)
            else:
                await js.consumer_leader_stepdown(stream, consumer, timeout=2)
            done += 1
        except (errors.TimeoutError, errors.NoRespondersError, errors.APIError):
            pass
    return done


def cross_account_config(data_prefix: str) -> str:
    """The ADR-19 accounts: account I reaches account A's JetStream API and its ``data_prefix``
    subjects (``$KV``, ``$O``) through the prefix ``fromA``, and gets its replies on ``forI.>``."""
    return f"""
accounts: {{
  A: {{
    users: [ {{user: a, password: a}} ]
    jetstream: enabled
    exports: [
      {{service: "$JS.API.>", response_type: stream}}
      {{service: "{data_prefix}.>"}}
      {{stream: "forI.>"}}
    ]
  }}
  I: {{
    users: [ {{user: i, password: i}} ]
    imports: [
      {{service: {{account: A, subject: "$JS.API.>"}}, to: "fromA.>"}}
      {{service: {{account: A, subject: "{data_prefix}.>"}}, to: "fromA.{data_prefix}.>"}}
      {{stream: {{account: A, subject: "forI.>"}}}}
    ]
  }}
}}
"""

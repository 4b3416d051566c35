"""Pytest fixtures that run real ``nats-server`` processes.

Enable with ``pytest_plugins = ["jetstream.testing.pytest_plugin"]`` in a
``conftest.py`` or through the ``pytest11`` entry point.  This module only
defines fixtures (no hooks), so it is harmless to load in several ways, as
long as pytest registers it under one name: pytest rejects the same module
registered under two names, so the ``pytest11`` entry point should be named
exactly ``jetstream.testing.pytest_plugin``; then a ``pytest_plugins``
reference to the module is recognised as already loaded.

Fixtures (all function-scoped, requiring pytest-asyncio):

* ``nats_server``: single node, JetStream enabled;
* ``nats_server_no_js``: single node without JetStream;
* ``nats_cluster``: 3-node JetStream cluster with an elected meta leader;
* ``nats_hub_leaf``: :class:`~jetstream.testing.HubAndLeaf` (domains
  ``hub`` and ``leaf``);
* ``nats_server_factory``: ``await factory(**NatsServer options)`` starts
  extra servers, all stopped at teardown.

Everything is function-scoped because starting is cheap (a server is
ready in well under 0.1 s, a 3-node cluster in well under a second) and
it gives each test a private store: tests may kill, restart or fill
servers without affecting others.

The fixtures do not pin a ``loop_scope``: they follow
``asyncio_default_fixture_loop_scope``.  Servers are not tied to an event
loop, so a fixture and a test running on different loops is fine.

Set ``JETSTREAM_TESTING_KEEP_DIRS=1`` to keep each server's directory
(config, store, ``nats-server.log``) under the test's ``tmp_path``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from ._cluster import NatsCluster
from ._leaf import HubAndLeaf
from ._server import NatsServer

__all__ = [
    "NatsServerFactory",
    "nats_cluster",
    "nats_hub_leaf",
    "nats_server",
    "nats_server_factory",
    "nats_server_no_js",
]

#: Type of the ``nats_server_factory`` fixture value.
NatsServerFactory = Callable[..., Awaitable[NatsServer]]

KEEP_DIRS_ENV = "JETSTREAM_TESTING_KEEP_DIRS"


def _dir_options(request: pytest.FixtureRequest, keep_option: str) -> dict[str, Any]:
    """Options that keep server directories when asked to via the environment."""
    if os.environ.get(KEEP_DIRS_ENV, "").lower() not in ("1", "true", "yes"):
        return {}
    # Under tmp_path, pytest's own retention policy eventually removes them.
    tmp_path: Path = request.getfixturevalue("tmp_path")
    return {keep_option: True, "base_dir": tmp_path}


@pytest_asyncio.fixture
async def nats_server(request: pytest.FixtureRequest) -> AsyncIterator[NatsServer]:
    """A started single ``nats-server`` with JetStream and the APP/SYS accounts."""
    async with NatsServer(**_dir_options(request, "keep_dir")) as server:
        yield server


@pytest_asyncio.fixture
async def nats_server_no_js(request: pytest.FixtureRequest) -> AsyncIterator[NatsServer]:
    """A started single ``nats-server`` without JetStream."""
    async with NatsServer(jetstream=False, **_dir_options(request, "keep_dir")) as server:
        yield server


@pytest_asyncio.fixture
async def nats_cluster(request: pytest.FixtureRequest) -> AsyncIterator[NatsCluster]:
    """A started 3-node JetStream cluster whose meta leader is elected."""
    async with NatsCluster(3, **_dir_options(request, "keep_dirs")) as cluster:
        yield cluster


@pytest_asyncio.fixture
async def nats_hub_leaf(request: pytest.FixtureRequest) -> AsyncIterator[HubAndLeaf]:
    """A started hub (domain ``hub``) and leaf (domain ``leaf``) with the link up."""
    async with HubAndLeaf(**_dir_options(request, "keep_dirs")) as pair:
        yield pair


@pytest_asyncio.fixture
async def nats_server_factory(request: pytest.FixtureRequest) -> AsyncIterator[NatsServerFactory]:
    """Start servers with custom :class:`NatsServer` options; all are stopped at teardown.

    Example::

        async def test_small_payload(nats_server_factory):
            server = await nats_server_factory(max_payload=1024)
    """
    servers: list[NatsServer] = []
    defaults = _dir_options(request, "keep_dir")

    async def factory(**options: Any) -> NatsServer:
        server = NatsServer(**{**defaults, **options})
        servers.append(server)
        await server.start()
        return server

    try:
        yield factory
    finally:
        results = await asyncio.gather(*(s.stop() for s in servers), return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            raise errors[0]

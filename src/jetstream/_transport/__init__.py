"""The boundary to NATS: the only package that imports nats-py.

Features talk to a `Connection` (protocol in `_types`): `NatsConnection` over nats-py, or the
in-memory `FakeConnection` in unit tests. Everything nats-py raises is translated here, once.
"""

from ._checks import check_message, check_wire_subject, header_size, matches
from ._connect import open_connection, redact
from ._fake import FakeConnection, FakeMsg, MockTransport, status_msg
from ._hub import (
    ConnectionEvent,
    ConnectionHub,
    LameDuck,
    LinkClosed,
    LinkDisconnected,
    LinkReconnected,
    PermissionDenied,
    ServerError,
    parse_permission,
)
from ._ids import next_id
from ._msg import Msg, MsgHandler, Reply, Subscription
from ._nats import NatsConnection, for_client, translate
from ._router import ReplyRouter
from ._status import StatusHeaders, description_of, header_status, status_of
from ._types import Connection

Transport = Connection
NatsTransport = NatsConnection

__all__ = [
    "Connection",
    "ConnectionEvent",
    "ConnectionHub",
    "FakeConnection",
    "FakeMsg",
    "LameDuck",
    "LinkClosed",
    "LinkDisconnected",
    "LinkReconnected",
    "MockTransport",
    "Msg",
    "MsgHandler",
    "NatsConnection",
    "NatsTransport",
    "PermissionDenied",
    "Reply",
    "ReplyRouter",
    "ServerError",
    "StatusHeaders",
    "Subscription",
    "Transport",
    "check_message",
    "check_wire_subject",
    "description_of",
    "for_client",
    "header_size",
    "header_status",
    "matches",
    "next_id",
    "open_connection",
    "parse_permission",
    "redact",
    "status_msg",
    "status_of",
    "translate",
]

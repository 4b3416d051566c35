"""jetstream-py: a typed asyncio SDK for NATS JetStream, generated from the server's JSON schemas.

js = await jetstream.connect("nats://127.0.0.1:4222")
await js.stream_create("ORDERS", subjects=["orders.>"])
ack = await js.publish("orders.new", b"hello")
"""

from . import errors
from ._client import JetStream, connect
from ._core import DEFAULT, RawMessage, Timeout
from ._generated import SCHEMA_REF
from ._generated.models import *  # noqa: F403
from ._generated.models import __all__ as _models_all
from ._time import Duration, Timestamp, nanos
from ._transport import MockTransport, NatsTransport, Reply, Transport

__version__ = "0.1.0"

__all__ = [
    "DEFAULT",
    "SCHEMA_REF",
    "Duration",
    "JetStream",
    "MockTransport",
    "NatsTransport",
    "RawMessage",
    "Reply",
    "Timeout",
    "Timestamp",
    "Transport",
    "__version__",
    "connect",
    "errors",
    "nanos",
    *_models_all,
]

"""jetstream-py: a typed asyncio SDK for NATS JetStream, generated from the server's JSON schemas.

js = await jetstream.connect("nats://127.0.0.1:4222")
await js.stream_create("ORDERS", subjects=["orders.>"])
ack = await js.publish("orders.new", b"hello")
"""

import logging as _logging

from . import advisories, errors, models
from ._backup._io import BackupProgress, BackupSink, BackupSource, ByteReader, ByteWriter
from ._client import JetStream, connect
from ._consume._consume import ConsumeContext
from ._consume._fetch import FetchResult
from ._consume._message import Message, MsgMetadata, MsgSequence
from ._consume._options import FetchOptions, MessagesOptions, PullFetchOptions, PullMessagesOptions
from ._consume._ordered import OrderedConsumer
from ._consume._ordered_streams import OrderedFetchResult, OrderedMessageStream
from ._consume._pull import Consumer, MessageStream
from ._consume._push import OrderedPushConsumer, PushConsumer
from ._consume._push_stream import PushMessageStream
from ._consume._status import (
    ConsumeEvent,
    ConsumerRecreated,
    Disconnected,
    LeadershipChanged,
    MissedHeartbeat,
    PinIdMismatch,
    PullWarning,
    Reconnected,
)
from ._core import DEFAULT, ClientTrace, RawMessage, RequestDone, RequestSent, Timeout
from ._generated import SCHEMA_REF
from ._generated.toplevel import *  # noqa: F403
from ._generated.toplevel import __all__ as _models_all
from ._kv._bucket import (
    InitialValuesDone,
    KeyValue,
    KeyValueConfig,
    KeyValueEntry,
    KeyValueOp,
    KeyValueStatus,
    KeyWatcher,
)
from ._kv._manager import KeyValueOptions
from ._objectstore._io import ObjectData, ObjectReader
from ._objectstore._manager import ObjectStoreOptions
from ._objectstore._store import ObjectStore
from ._objectstore._types import (
    ObjectInfo,
    ObjectLink,
    ObjectMeta,
    ObjectMetaOptions,
    ObjectStoreConfig,
    ObjectStoreStatus,
)
from ._objectstore._watch import ObjectWatcher
from ._public import export as _export
from ._publish._batch import Batch, BatchMessage
from ._publish._options import MessageTTL, Schedule
from ._stream import DirectGetEnd, Stream, StreamMessage
from ._time import Duration, Timestamp, nanos
from ._transport import (
    Connection,
    ConnectionEvent,
    FakeConnection,
    LameDuck,
    LinkClosed,
    LinkDisconnected,
    LinkReconnected,
    MockTransport,
    NatsConnection,
    NatsTransport,
    PermissionDenied,
    Reply,
    ServerError,
    Transport,
)
from ._transport._headers import Headers

# The one place the version is written: pyproject.toml reads it (setuptools dynamic version).
__version__ = "0.1.0"

__all__ = [
    "Connection",
    "ConnectionEvent",
    "FakeConnection",
    "LameDuck",
    "LinkClosed",
    "LinkDisconnected",
    "LinkReconnected",
    "NatsConnection",
    "PermissionDenied",
    "ServerError",
    "DEFAULT",
    "SCHEMA_REF",
    "BackupProgress",
    "BackupSink",
    "BackupSource",
    "Batch",
    "BatchMessage",
    "ByteReader",
    "ByteWriter",
    "ClientTrace",
    "ConsumeContext",
    "ConsumeEvent",
    "Consumer",
    "ConsumerRecreated",
    "DirectGetEnd",
    "Disconnected",
    "Duration",
    "FetchOptions",
    "FetchResult",
    "Headers",
    "InitialValuesDone",
    "JetStream",
    "KeyValue",
    "KeyValueConfig",
    "KeyValueEntry",
    "KeyValueOp",
    "KeyValueOptions",
    "KeyValueStatus",
    "KeyWatcher",
    "LeadershipChanged",
    "Message",
    "MessageStream",
    "MessageTTL",
    "MessagesOptions",
    "MissedHeartbeat",
    "MockTransport",
    "MsgMetadata",
    "MsgSequence",
    "NatsTransport",
    "ObjectData",
    "ObjectInfo",
    "ObjectLink",
    "ObjectMeta",
    "ObjectMetaOptions",
    "ObjectReader",
    "ObjectStore",
    "ObjectStoreConfig",
    "ObjectStoreOptions",
    "ObjectStoreStatus",
    "ObjectWatcher",
    "OrderedConsumer",
    "OrderedFetchResult",
    "OrderedMessageStream",
    "OrderedPushConsumer",
    "PinIdMismatch",
    "PullFetchOptions",
    "PullMessagesOptions",
    "PullWarning",
    "PushConsumer",
    "PushMessageStream",
    "RawMessage",
    "Reconnected",
    "Reply",
    "RequestDone",
    "RequestSent",
    "Schedule",
    "Stream",
    "StreamMessage",
    "Timeout",
    "Timestamp",
    "Transport",
    "__version__",
    "connect",
    "advisories",
    "errors",
    "models",
    "nanos",
    *_models_all,  # pyright: ignore[reportUnsupportedDunderAll]  (star-imported above: re-exported)
]

_export(__name__, globals(), __all__)

# A library logs, the application decides where to (logging's advice for libraries): without this,
# records of the "jetstream" loggers would reach logging's last-resort stderr handler.
_logging.getLogger(__name__).addHandler(_logging.NullHandler())

"""The exception tree of jetstream-py.

    JetStreamError                       root of everything this package raises
    ├── APIError                         the server answered with an error (code, err_code, description)
    │   └── <one class per server error code, generated: StreamNotFoundError (10059), ...>
    ├── NoRespondersError                nobody answered the request
    │   ├── JetStreamNotEnabledError     ... on the API subject: JetStream off or unreachable
    │   └── NoStreamResponseError        ... to a publish: no stream captures the subject
    ├── TimeoutError                     no reply in time (also builtins and asyncio.TimeoutError)
    ├── InvalidReplyError                the reply cannot be used; carries subject and raw bytes
    │   ├── MalformedReplyError          not valid JSON
    │   └── UnexpectedReplyError         valid JSON of the wrong shape
    ├── InvalidAdvisoryError             an advisory that cannot be decoded (``.subject``, ``.data``)
    ├── InvalidArgumentError             an argument refused before anything was sent (also a ValueError)
    │   ├── InvalidNameError             a stream/consumer/account name or subject (ADR-6)
    │   └── PayloadTooLargeError         a message over the server's max_payload
    ├── ConnectionClosedError            the NATS connection is closed
    ├── ConnectError                     connect() failed (no secret in the text; ``.servers``)
    │   ├── AuthorizationError           the server refused the credentials (user, token, nkey, JWT)
    │   ├── TLSError                     the TLS handshake failed (certificate, client certificate, protocol)
    │   ├── ServerUnreachableError       no server answered (refused, unreachable, timed out)
    │   └── NoServersError               every server was tried and none could be used
    ├── PermissionDeniedError            the server refused a publish or subscribe (``.subject``, ``.operation``)
    ├── MessageError                     a message cannot be acknowledged
    │   ├── MessageAlreadyAckedError     a second ack/nak/term on the same message
    │   └── NotJetStreamMessageError     the message has no JetStream reply subject
    ├── KeyValueError                    a Key/Value operation failed (ADR-8)
    │   ├── BucketNotFoundError          no such bucket (or the stream is not a KV bucket)
    │   ├── BucketExistsError            a bucket of that name exists with another configuration
    │   ├── KeyNotFoundError             no value under the key (or not at that revision)
    │   │   └── KeyDeletedError          ... its latest entry is a delete or purge marker (``.entry``; in `_kv`)
    │   ├── WrongLastRevisionError       the key's last revision is not the expected one (10071 or 10164)
    │   │   └── KeyExistsError           ... create() on a key that has a value
    │   ├── LimitMarkersNotSupportedError  limit markers need a server with API level >= 1 (ADR-48)
    │   ├── InvalidKeyError              a key or key filter refused before sending (also InvalidNameError)
    │   └── HistoryTooLargeError         history outside 1..64 (also InvalidArgumentError)
    ├── ObjectStoreError                 an Object Store operation failed (ADR-20)
    │   ├── ObjectStoreNotFoundError     no such object store (or the stream is not one)
    │   ├── ObjectStoreExistsError       an object store of that name exists with another configuration
    │   ├── ObjectStoreSealedError       the store is sealed: nothing can be written (10109 is the cause)
    │   ├── ObjectNotFoundError          no such object, or it is deleted (``.deleted``)
    │   ├── ObjectExistsError            a rename or link onto the name of a live object
    │   ├── ObjectLinkError              a link to a link or a deleted object; reading a bucket link
    │   ├── InvalidObjectNameError       an empty object name (also InvalidNameError)
    │   ├── BadObjectMetaError           an object's meta message is not ADR-20 JSON
    │   ├── IncompleteObjectError        chunks are missing, or do not add up to the object's size
    │   └── DigestMismatchError          the data read does not have the object's SHA-256 digest
    ├── BackupError                      a stream backup or restore failed on the client side (``.stream``)
    │   └── InvalidBackupError           the data to restore is not a stream backup, or its header is damaged
    ├── ConsumerConfigMismatchError      create_consumer: the consumer exists with other values (``.fields``)
    ├── PullError                        a pull request ended with an error status (``.status``, ``.description``)
    │   ├── ConsumerDeletedError         409 Consumer Deleted: ends messages()/consume() of a durable
    │   ├── ConsumerIsPushBasedError     409 Consumer is push based: pull from a push consumer
    │   ├── BadPullRequestError          400 Bad Request: the pull itself is invalid (priority group ...)
    │   └── PullRequestRejectedError     409 Exceeded MaxWaiting / MaxRequestBatch / MaxRequestExpires ...
    ├── MissedHeartbeatError             fetch/next: the server stopped sending idle heartbeats
    ├── OrderedConsumerBusyError         an ordered consumer serves one fetch/next/messages at a time
    ├── OrderedConsumerResetError        an ordered consumer gave up recreating (``max_reset_attempts``)
    └── NotPushConsumerError             push_consumer(): the consumer has no deliver subject (a pull consumer)

Lower-level errors (nats-py, msgspec) are translated in exactly one place each - the transport and the
codec - and chained with ``raise ... from``.
"""

from __future__ import annotations

import asyncio
import builtins
import sys
from typing import Any


class JetStreamError(Exception):
    """Root of every error raised by jetstream-py.

    Every error pickles (process pools, task queues, pytest-xdist): a copy is rebuilt from its
    ``args`` and attributes, without calling ``__init__`` again, so it has the same type, text and
    attributes. As for any exception, ``__cause__``, ``__context__`` and the traceback are not
    pickled.
    """

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.args), self.__dict__ or None)


def _rebuild(cls: type[JetStreamError], args: tuple[object, ...]) -> JetStreamError:
    """Unpickle an error: a new instance of ``cls`` with ``args``; pickle then restores its
    attributes (``__setstate__``). Referenced by pickles: keep its name and module."""
    exc = cls.__new__(cls)
    exc.args = args
    return exc


class APIError(JetStreamError):
    """The JetStream API answered with an error.

    ``code`` is the HTTP-like status (400, 404, 503 ...), ``err_code`` the server's unique error
    code (10059 for "stream not found" ...), matched by the generated subclasses.
    """

    code: int
    err_code: int
    description: str

    def __init__(self, code: int, err_code: int, description: str) -> None:
        self.code = code
        self.err_code = err_code
        self.description = description
        super().__init__(f"{description} (code={code}, err_code={err_code})")


class NoRespondersError(JetStreamError):
    """Nobody answered the request (the server said so at once: "no responders")."""

    def __init__(self, subject: str, reason: str = "") -> None:
        self.subject = subject
        super().__init__(f"no responders on {subject!r}" + (f": {reason}" if reason else ""))


class JetStreamNotEnabledError(NoRespondersError):
    """Nobody answered on the JetStream API subject: JetStream is not enabled for this account,
    or not reachable in this domain / with this API prefix."""

    def __init__(self, subject: str) -> None:
        super().__init__(subject, "JetStream is not enabled or not reachable")


class NoStreamResponseError(NoRespondersError):
    """A publish got no acknowledgement because no stream captures the subject."""

    def __init__(self, subject: str) -> None:
        super().__init__(subject, "no stream captures this subject")


if sys.version_info >= (3, 11):
    _Timeout = builtins.TimeoutError
else:

    class _Timeout(builtins.TimeoutError, asyncio.TimeoutError):
        """Python 3.10: `asyncio.TimeoutError` is not yet `builtins.TimeoutError`; both catch ours."""


class TimeoutError(JetStreamError, _Timeout):
    """No reply arrived within the timeout.

    Also a `builtins.TimeoutError` and an `asyncio.TimeoutError` (on every supported Python), so
    ``except TimeoutError`` and ``except asyncio.TimeoutError`` catch it.
    """

    def __init__(self, subject: str, timeout: float | None) -> None:
        self.subject = subject
        self.timeout = timeout
        super().__init__(f"no reply on {subject!r} within {timeout}s")


class InvalidReplyError(JetStreamError):
    """A reply that cannot be used. ``subject`` is the request subject, ``data`` the raw reply."""

    def __init__(self, subject: str, data: bytes, reason: str) -> None:
        self.subject = subject
        self.data = data
        self.reason = reason
        preview = data[:200]
        super().__init__(f"invalid reply to {subject!r}: {reason}; reply={preview!r}")


class MalformedReplyError(InvalidReplyError):
    """The reply is not valid JSON."""


class UnexpectedReplyError(InvalidReplyError):
    """The reply is valid JSON but not of the expected shape (e.g. a core NATS responder answered)."""


class InvalidAdvisoryError(JetStreamError):
    """An advisory or metric that cannot be decoded: not JSON, not an object with a string ``type``,
    or a kind these schemas know in a shape they do not. ``subject`` is the subject it came on,
    ``data`` its raw bytes."""

    def __init__(self, subject: str, data: bytes, reason: str) -> None:
        self.subject = subject
        self.data = data
        self.reason = reason
        super().__init__(f"invalid advisory on {subject!r}: {reason}; data={data[:200]!r}")


class InvalidArgumentError(JetStreamError, ValueError):
    """An argument was refused before anything was sent (a naive datetime, a bad timeout ...)."""


class PayloadTooLargeError(InvalidArgumentError):
    """A message is larger than the server's ``max_payload``; nothing was sent."""


class InvalidNameError(InvalidArgumentError):
    """A name or subject was refused before anything was sent (ADR-6 naming rules)."""


class ConnectionClosedError(JetStreamError):
    """The NATS connection is closed."""


class ConnectError(JetStreamError):
    """`connect()` failed. ``servers`` are the URLs tried (without credentials); the message never
    holds a password, token, seed or JWT."""

    def __init__(self, message: str, *, servers: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.servers = servers


class AuthorizationError(ConnectError):
    """The server refused the credentials (user/password, token, nkey, JWT), or none were given."""


class TLSError(ConnectError):
    """The TLS handshake failed: an untrusted or mismatched certificate, a missing client
    certificate (mutual TLS), or a server that does not speak TLS."""


class ServerUnreachableError(ConnectError):
    """No server could be reached: connection refused, host unreachable, or no answer in time."""


class NoServersError(ConnectError):
    """Every server of the list was tried (with ``retry_on_failed_connect`` for as long as allowed)
    and none could be used; the cause of the last attempt is chained."""


class PermissionDeniedError(JetStreamError):
    """The server refused to let this connection publish to or subscribe to ``subject``
    (``operation`` is "publish" or "subscribe"). Raised on the call that used that subject, as
    soon as the server says so."""

    def __init__(self, operation: str, subject: str, remedy: str = "") -> None:
        what = "publish to" if operation == "publish" else "subscribe to"
        text = f"permission denied: this connection may not {what} {subject!r}"
        super().__init__(f"{text}; {remedy}" if remedy else text)
        self.operation = operation
        self.subject = subject
        self.remedy = remedy


class MessageError(JetStreamError):
    """A message cannot be acknowledged as asked."""


class MessageAlreadyAckedError(MessageError):
    """The message was already acknowledged (ack, nak or term); only `in_progress` may repeat."""


class NotJetStreamMessageError(MessageError):
    """The message carries no JetStream ack subject (it was not delivered by a consumer)."""


class _BucketError(JetStreamError):
    """What the errors of Key/Value buckets and object stores share: ``bucket`` names the bucket
    (when known); ``_kind`` is what the messages call one."""

    _kind = "bucket"

    def __init__(self, message: str, *, bucket: str | None = None) -> None:
        self.bucket = bucket
        super().__init__(message)


class _BucketNotFound(_BucketError):
    def __init__(self, bucket: str, reason: str = "") -> None:
        super().__init__(
            f"{self._kind} {bucket!r} not found" + (f": {reason}" if reason else ""), bucket=bucket
        )


class _BucketExists(_BucketError):
    def __init__(self, bucket: str) -> None:
        super().__init__(f"{self._kind} {bucket!r} exists with another configuration", bucket=bucket)


class KeyValueError(_BucketError):
    """A Key/Value bucket operation failed. ``bucket`` names the bucket (when known)."""

    _kind = "key/value bucket"


class BucketNotFoundError(_BucketNotFound, KeyValueError):
    """The bucket does not exist, or its stream is not a Key/Value bucket."""


class BucketExistsError(_BucketExists, KeyValueError):
    """`create_key_value` found a bucket of that name with another configuration."""


class KeyNotFoundError(KeyValueError):
    """No value under ``key`` (at ``revision``, when one was asked for)."""

    def __init__(self, bucket: str, key: str, revision: int | None = None, *, reason: str = "") -> None:
        self.key = key
        self.revision = revision
        at = "" if revision is None else f" at revision {revision}"
        super().__init__(
            f"key {key!r} not found in bucket {bucket!r}{at}" + (f": {reason}" if reason else ""),
            bucket=bucket,
        )


class WrongLastRevisionError(KeyValueError):
    """The key's last revision is not ``expected`` (an `update`, or a `delete`/`purge` with
    ``last=``). The server reports this with err_code 10071 or, on replicated buckets, 10164; both
    become this error (``err_code`` says which; the server's `APIError` is the ``__cause__``)."""

    def __init__(self, bucket: str, key: str, expected: int, err_code: int, description: str = "") -> None:
        self.key = key
        self.expected = expected
        self.err_code = err_code
        self.description = description
        detail = f" ({description})" if description else ""
        super().__init__(
            f"key {key!r} in bucket {bucket!r}: last revision is not {expected}{detail}", bucket=bucket
        )


class KeyExistsError(WrongLastRevisionError):
    """`create` found a value under the key (the latest entry is not a delete or purge marker)."""

    def __init__(self, bucket: str, key: str, err_code: int, description: str = "") -> None:
        self.key = key
        self.expected = 0
        self.err_code = err_code
        self.description = description
        KeyValueError.__init__(self, f"key {key!r} already exists in bucket {bucket!r}", bucket=bucket)


class LimitMarkersNotSupportedError(KeyValueError):
    """Limit markers (``limit_marker_ttl``, ADR-48) were asked for, but the server's JetStream API
    level is below 1 (servers older than 2.11)."""

    def __init__(self, bucket: str, level: int) -> None:
        self.level = level
        super().__init__(
            f"bucket {bucket!r}: limit markers need JetStream API level 1 (nats-server 2.11), "
            f"the server has level {level}",
            bucket=bucket,
        )


class InvalidKeyError(KeyValueError, InvalidNameError):
    """A key (or a key filter) that ADR-6 does not allow, refused before anything was sent."""

    def __init__(self, key: object, reason: str) -> None:
        self.key = key
        super().__init__(f"invalid key {key!r}: {reason}")


class HistoryTooLargeError(KeyValueError, InvalidArgumentError):
    """A bucket's history must be between 1 and 64 values per key."""

    def __init__(self, history: object) -> None:
        self.history = history
        super().__init__(f"history must be between 1 and 64, got {history!r}")


class ConsumerConfigMismatchError(JetStreamError):
    """`create_consumer` found the consumer already there, configured otherwise. ``fields`` names
    every field the caller set whose value on the server differs (server-filled defaults are not
    compared)."""

    def __init__(self, stream: str, consumer: str, fields: list[str]) -> None:
        self.stream = stream
        self.consumer = consumer
        self.fields = fields
        super().__init__(
            f"consumer {consumer!r} of stream {stream!r} exists with a different configuration: "
            + ", ".join(fields)
        )


class PullError(JetStreamError):
    """A pull request was answered with an error status (``status`` 400, 409 ...)."""

    def __init__(self, status: int, description: str) -> None:
        self.status = status
        self.description = description
        super().__init__(f"pull request failed: {status} {description}")


class ConsumerDeletedError(PullError):
    """The consumer was deleted while pulling from it (409 Consumer Deleted)."""


class ConsumerIsPushBasedError(PullError):
    """The consumer is a push consumer: it cannot be pulled from (409 Consumer is push based)."""


class BadPullRequestError(PullError):
    """The server refused the pull request itself (400), e.g. a missing or unknown priority group."""


class PullRequestRejectedError(PullError):
    """The consumer's limits refused the pull (409 Exceeded MaxWaiting, MaxRequestBatch,
    MaxRequestExpires or MaxRequestMaxBytes)."""


class MissedHeartbeatError(JetStreamError):
    """No idle heartbeat arrived for twice the heartbeat interval while connected: the pull request
    was lost (server restart, consumer moved or deleted)."""

    def __init__(self, heartbeat: float) -> None:
        self.heartbeat = heartbeat
        super().__init__(f"no idle heartbeat for {2 * heartbeat:g}s (heartbeat {heartbeat:g}s)")


class OrderedConsumerBusyError(JetStreamError):
    """An ordered consumer delivers in order to one reader: a second fetch, next or messages()
    while one is running is refused."""


class OrderedConsumerResetError(JetStreamError):
    """An ordered consumer could not recreate its server consumer in ``attempts`` tries (its
    ``max_reset_attempts``); the last failure is the ``__cause__``."""

    def __init__(self, stream: str, attempts: int) -> None:
        super().__init__(f"ordered consumer on stream {stream!r}: no new consumer after {attempts} attempts")
        self.stream = stream
        self.attempts = attempts


class NotPushConsumerError(JetStreamError):
    """A push consumer was asked for, but the consumer has no ``deliver_subject``: it is a pull
    consumer (use `JetStream.consumer`)."""


class ObjectStoreError(_BucketError):
    """An Object Store operation failed. ``bucket`` names the store (when known)."""

    _kind = "object store"


class ObjectStoreNotFoundError(_BucketNotFound, ObjectStoreError):
    """The object store does not exist, or its stream is not an object store."""


class ObjectStoreExistsError(_BucketExists, ObjectStoreError):
    """`create_object_store` found a store of that name with another configuration."""


class ObjectStoreSealedError(ObjectStoreError):
    """The object store is sealed: no object can be put, changed or deleted (the server's
    `StreamSealedError`, err_code 10109, is the ``__cause__``)."""

    def __init__(self, bucket: str) -> None:
        super().__init__(f"object store {bucket!r} is sealed", bucket=bucket)


class ObjectNotFoundError(ObjectStoreError):
    """No object of that name; ``deleted`` is True when there is one, marked deleted (ADR-20 treats
    both alike)."""

    def __init__(self, bucket: str, name: str, *, deleted: bool = False) -> None:
        self.name = name
        self.deleted = deleted
        what = "is deleted" if deleted else "not found"
        super().__init__(f"object {name!r} {what} in object store {bucket!r}", bucket=bucket)


class ObjectExistsError(ObjectStoreError):
    """A rename (`update_meta`) or a link would replace an object that is not deleted."""

    def __init__(self, bucket: str, name: str) -> None:
        self.name = name
        super().__init__(f"object {name!r} already exists in object store {bucket!r}", bucket=bucket)


class ObjectLinkError(ObjectStoreError):
    """A link that cannot be made or followed: to a deleted object, to another link, or a link to
    a whole bucket read as if it were an object."""


class InvalidObjectNameError(ObjectStoreError, InvalidNameError):
    """An object name must be a non-empty str (ADR-20 restricts nothing else); refused before
    anything was sent."""

    def __init__(self, name: object) -> None:
        self.name = name
        super().__init__(f"invalid object name {name!r}: a name is a non-empty str")


class BadObjectMetaError(ObjectStoreError):
    """An object's meta message is not ADR-20 object info JSON; ``data`` holds its payload."""

    def __init__(self, bucket: str, subject: str, data: bytes, reason: str) -> None:
        self.subject = subject
        self.data = data
        super().__init__(
            f"bad object meta on {subject!r} in object store {bucket!r}: {reason}; data={data[:200]!r}",
            bucket=bucket,
        )


class _ObjectError(ObjectStoreError):
    """A problem of one object (``name``), told as "object <name> in object store <bucket>..."."""

    def __init__(self, bucket: str, name: str, problem: str) -> None:
        self.name = name
        super().__init__(f"object {name!r} in object store {bucket!r}{problem}", bucket=bucket)


class IncompleteObjectError(_ObjectError):
    """The chunks of an object do not make it up: fewer are stored than its info records, or
    their sizes do not add up to its ``size``. Raised instead of waiting for chunks that will
    never come. ``received_chunks`` / ``received_size`` count what was read (or, when the loss is
    seen before reading, the chunks found in the stream)."""

    def __init__(
        self,
        bucket: str,
        name: str,
        *,
        expected_chunks: int,
        received_chunks: int,
        expected_size: int,
        received_size: int,
    ) -> None:
        self.expected_chunks = expected_chunks
        self.received_chunks = received_chunks
        self.expected_size = expected_size
        self.received_size = received_size
        super().__init__(
            bucket,
            name,
            f" is incomplete: {received_chunks} of {expected_chunks} chunks,"
            f" {received_size} of {expected_size} bytes",
        )


class DigestMismatchError(_ObjectError):
    """The data read does not have the digest the object's info records (``expected`` and
    ``actual`` in the ADR-20 form ``SHA-256=<base64url>``)."""

    def __init__(self, bucket: str, name: str, expected: str, actual: str) -> None:
        self.expected = expected
        self.actual = actual
        super().__init__(bucket, name, f": digest mismatch, expected {expected}, read {actual}")


class BackupError(JetStreamError):
    """A stream backup or restore failed on the client's side of the chunk protocol: the server
    ended a snapshot with an error status, a chunk went missing, or the backup's header is
    unusable. What the server refuses arrives as its `APIError` instead (`StreamRestoreError` for
    damaged data, `StreamNameExistRestoreFailedError` ...). ``stream`` names the stream."""

    def __init__(self, message: str, *, stream: str) -> None:
        self.stream = stream
        super().__init__(message)


class InvalidBackupError(BackupError):
    """The data given to restore is not a stream backup, or its header is damaged (nothing was
    sent to the server)."""

"""The exception tree of jetstream-py.

    JetStreamError                       root of everything this package raises
    ├── APIError                         the server answered with an error (code, err_code, description)
    │   └── <one class per server error code, generated: StreamNotFoundError (10059), ...>
    ├── NoRespondersError                nobody answered the request
    │   ├── JetStreamNotEnabledError     ... on the API subject: JetStream off or unreachable
    │   └── NoStreamResponseError        ... to a publish: no stream captures the subject
    ├── TimeoutError                     no reply in time (also a builtins.TimeoutError)
    ├── InvalidReplyError                the reply cannot be used; carries subject and raw bytes
    │   ├── MalformedReplyError          not valid JSON
    │   └── UnexpectedReplyError         valid JSON of the wrong shape
    ├── InvalidArgumentError             an argument refused before anything was sent (also a ValueError)
    │   └── InvalidNameError             a stream/consumer/account name or subject (ADR-6)
    ├── ConnectionClosedError            the NATS connection is closed
    └── MessageError                     a message cannot be acknowledged
        ├── MessageAlreadyAckedError     a second ack/nak/term on the same message
        └── NotJetStreamMessageError     the message has no JetStream reply subject

Lower-level errors (nats-py, msgspec) are translated in exactly one place each - the transport and the
codec - and chained with ``raise ... from``.
"""

from __future__ import annotations

import builtins


class JetStreamError(Exception):
    """Root of every error raised by jetstream-py."""


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


class TimeoutError(JetStreamError, builtins.TimeoutError):
    """No reply arrived within the timeout."""

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


class InvalidArgumentError(JetStreamError, ValueError):
    """An argument was refused before anything was sent (a naive datetime, a bad timeout ...)."""


class InvalidNameError(InvalidArgumentError):
    """A name or subject was refused before anything was sent (ADR-6 naming rules)."""


class ConnectionClosedError(JetStreamError):
    """The NATS connection is closed."""


class MessageError(JetStreamError):
    """A message cannot be acknowledged as asked."""


class MessageAlreadyAckedError(MessageError):
    """The message was already acknowledged (ack, nak or term); only `in_progress` may repeat."""


class NotJetStreamMessageError(MessageError):
    """The message carries no JetStream ack subject (it was not delivered by a consumer)."""

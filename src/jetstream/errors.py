"""Every exception jetstream-py raises. The tree is in the docstring of `jetstream._exceptions`;
the `APIError` subclasses (one per server error code) are generated."""

from ._exceptions import (
    APIError,
    ConnectionClosedError,
    InvalidArgumentError,
    InvalidNameError,
    InvalidReplyError,
    JetStreamError,
    JetStreamNotEnabledError,
    MalformedReplyError,
    MessageAlreadyAckedError,
    MessageError,
    NoRespondersError,
    NoStreamResponseError,
    NotJetStreamMessageError,
    TimeoutError,
    UnexpectedReplyError,
)
from ._generated.errors import *  # noqa: F403
from ._generated.errors import __all__ as _generated_all

__all__ = [
    "APIError",
    "ConnectionClosedError",
    "InvalidArgumentError",
    "InvalidNameError",
    "InvalidReplyError",
    "JetStreamError",
    "JetStreamNotEnabledError",
    "MalformedReplyError",
    "MessageAlreadyAckedError",
    "MessageError",
    "NoRespondersError",
    "NoStreamResponseError",
    "NotJetStreamMessageError",
    "TimeoutError",
    "UnexpectedReplyError",
    *_generated_all,
]

"""Encoding requests and decoding replies: one encoder, one cached decoder per reply type.

Reply bytes go straight into msgspec: no `json.loads`, no `.decode()`, no intermediate dict.
Replies are untrusted: whatever a decode raises ends as an `InvalidReplyError`.
An `error` member is found by a small probe decode first (msgspec skips every other field), so the
typed decode never sees error replies and success types can keep their required fields.
"""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

from .._exceptions import APIError, MalformedReplyError, UnexpectedReplyError
from .._generated.errors import api_error
from .._generated.models import ApiErrorBody
from .._time import dec_hook, enc_hook, prepare

T = TypeVar("T")

encoder = msgspec.json.Encoder(enc_hook=enc_hook)


class _ErrorProbe(msgspec.Struct):
    error: ApiErrorBody | None = None


_probe = msgspec.json.Decoder(_ErrorProbe)


_decoders: dict[Any, Any] = {}


def decoder(tp: type[T]) -> msgspec.json.Decoder[T]:
    """The decoder for `tp`, built once."""
    dec: msgspec.json.Decoder[T] | None = _decoders.get(tp)
    if dec is None:
        dec = _decoders[tp] = msgspec.json.Decoder(tp, dec_hook=dec_hook)
    return dec


def encode(body: Any) -> bytes:
    return encoder.encode(prepare(body))


def error_of(subject: str, data: bytes) -> APIError | None:
    """The API error in a reply, if any."""
    # A substring test is far cheaper than a decode; a false positive only costs the probe.
    if b'"error"' not in data:
        return None
    return _probe_error(subject, data)


def _probe_error(subject: str, data: bytes) -> APIError | None:
    try:
        err = _probe.decode(data).error
    except msgspec.ValidationError as exc:
        raise UnexpectedReplyError(subject, data, f"bad error member: {exc}") from exc
    except msgspec.DecodeError as exc:
        raise MalformedReplyError(subject, data, str(exc)) from exc
    except Exception as exc:
        raise _undecodable(subject, data, exc) from exc
    if err is None:
        return None
    return api_error(err.code, err.err_code or 0, err.description or "")


def decode(subject: str, data: bytes, tp: type[T]) -> T:
    """Decode a reply into `tp`, raising the API error it carries, if any."""
    # error_of() and decoder() inlined: this runs for every reply.
    if b'"error"' in data:
        err = _probe_error(subject, data)
        if err is not None:
            raise err
    dec: msgspec.json.Decoder[T] | None = _decoders.get(tp)
    if dec is None:
        dec = decoder(tp)
    try:
        return dec.decode(data)
    except msgspec.ValidationError as exc:
        raise UnexpectedReplyError(subject, data, str(exc)) from exc
    except msgspec.DecodeError as exc:
        raise MalformedReplyError(subject, data, str(exc)) from exc
    except Exception as exc:
        raise _undecodable(subject, data, exc) from exc


def _undecodable(subject: str, data: bytes, exc: Exception) -> MalformedReplyError:
    """What msgspec raises besides its own errors: RecursionError for deeply nested JSON (msgspec
    recurses per level, even through skipped members), or whatever a decode hook lets through."""
    if isinstance(exc, RecursionError):
        return MalformedReplyError(subject, data, "the reply is nested too deeply")
    return MalformedReplyError(subject, data, f"cannot decode the reply: {exc!r}")

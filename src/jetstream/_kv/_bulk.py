"""Bulk Key/Value reads: the latest entries of many keys through batched direct gets (ADR-31).

One ``multi_last`` request names up to `MAX_SUBJECTS` subjects and is answered on its reply subject
by one message per subject that has one (in stream order, not request order), then a ``204 EOB``
status. The status says how many matches were left out (``Nats-Num-Pending``, when the reply hit
the server's byte limit), where the reply stopped (``Nats-Last-Sequence``) and at which stream
sequence the snapshot was taken (``Nats-UpTo-Sequence``); a follow-up request from
``last + 1`` at that same snapshot gets the rest, and so does every further request of one call,
so that all the entries of a `KeyValue.get_many` come from one point in the stream.

The replies arrive on the connection's shared reply inbox (`Core.stream`): no subscription per
call, and no task per reply.

Stored headers come back first, and the server appends its own ``Nats-*`` lines behind them: a
publisher can write ``Nats-Subject`` or ``Nats-Sequence`` into a value's headers, or even a status
line. So the server's facts are the *last* value of each name, and a reply that carries a stream
sequence is a message whatever status line it begins with.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from typing import Final

import msgspec

from .._core import Core, Timeout
from .._exceptions import InvalidReplyError, NoRespondersError
from .._generated.errors import api_error
from .._generated.models import DirectGetRequest
from .._numbers import parse_status, parse_uint
from .._time import Timestamp
from .._transport._headers import Headers
from ._entry import KeyValueEntry, KeyValueOp, operation_of

__all__ = [
    "MAX_SUBJECTS",
    "BatchNotSupported",
    "TooManyMatches",
    "entries_by_key",
    "latest_entries",
    "server_header",
    "split_subjects",
]

MAX_SUBJECTS: Final = 1024
"""How many subjects one ``multi_last`` request may match (the server answers 413 beyond)."""

# Room left in a request for everything but the subject list (the other fields of the body).
_BODY_SLACK: Final = 256
_EOB: Final = "204"
# What a server without multi_last (before 2.11) answers: the body it reads is "empty".
_BAD_REQUEST: Final = "408"
_TOO_MANY: Final = "413"
_NOT_FOUND: Final = "404"
_NO_RESPONDERS: Final = "503"
_NO_BUCKET: Final = "no such bucket, or its stream has no allow_direct"


class BatchNotSupported(Exception):
    """The server does not know batched direct gets (before 2.11): read key by key instead."""


class TooManyMatches(Exception):
    """The subjects match more than `MAX_SUBJECTS` subjects (the server's 413)."""


def split_subjects(subjects: Sequence[str], max_payload: int | None) -> list[list[str]]:
    """``subjects`` in order, cut into request-sized lists: at most `MAX_SUBJECTS` each, and a JSON
    body that fits the server's ``max_payload``. A subject too long for any request is a list of its own
    (the transport refuses it with `errors.PayloadTooLargeError`)."""
    budget = None if max_payload is None else max(max_payload - _BODY_SLACK, 1)
    groups: list[list[str]] = []
    group: list[str] = []
    size = 0
    for subject in subjects:
        # '"' + subject + '",': keys and bucket names need no JSON escapes.
        cost = len(subject) + 3
        if group and (len(group) >= MAX_SUBJECTS or (budget is not None and size + cost > budget)):
            groups.append(group)
            group, size = [], 0
        group.append(subject)
        size += cost
    if group:
        groups.append(group)
    return groups


def server_header(headers: Headers, name: str) -> str | None:
    """The value the server wrote for ``name``: the last one (stored headers come first)."""
    values = headers.get_all(name)
    return values[-1] if values else None


class _End(msgspec.Struct, frozen=True):
    pending: int
    last: int
    up_to: int | None


def _count(subject: str, data: bytes, headers: Headers, name: str) -> int | None:
    value = server_header(headers, name)
    if value is None:
        return None
    count = parse_uint(value)
    if count is None:
        raise InvalidReplyError(subject, data, f"bad {name} header {value[:40]!r} at the end of a batch")
    return count


def _end_of(subject: str, data: bytes, headers: Headers) -> _End:
    pending = _count(subject, data, headers, "Nats-Num-Pending")
    last = _count(subject, data, headers, "Nats-Last-Sequence")
    if pending is None or last is None:
        raise InvalidReplyError(
            subject, data, "an end of batch without Nats-Num-Pending / Nats-Last-Sequence"
        )
    return _End(pending, last, _count(subject, data, headers, "Nats-UpTo-Sequence"))


def _entry(
    bucket: str, read_prefix: str, subject: str, data: bytes, raw: Mapping[str, str] | None
) -> KeyValueEntry:
    """A reply message as an entry; the server's own headers decide where it belongs."""
    headers: Mapping[str, str]
    if type(raw) is dict:
        # Each name once (the connection's parser gives repeats and status lines other types).
        headers = raw
        stored, seq, stamp = raw.get("Nats-Subject"), raw.get("Nats-Sequence"), raw.get("Nats-Time-Stamp")
    else:
        headers = Headers.of(raw)
        stored = server_header(headers, "Nats-Subject")
        seq = server_header(headers, "Nats-Sequence")
        stamp = server_header(headers, "Nats-Time-Stamp")
    revision = parse_uint(seq)
    if stored is None or not stored.startswith(read_prefix) or revision is None or stamp is None:
        raise InvalidReplyError(
            subject, data, f"bad direct get headers: subject {stored!r}, sequence {seq!r}"
        )
    try:
        created = Timestamp.parse(stamp)
    except ValueError as exc:
        raise InvalidReplyError(subject, data, f"bad Nats-Time-Stamp header {stamp[:40]!r}") from exc
    return KeyValueEntry(
        bucket, stored[len(read_prefix) :], data, revision, created, 0, operation_of(headers)
    )


async def latest_entries(
    core: Core,
    stream: str,
    bucket: str,
    read_prefix: str,
    subjects: Sequence[str],
    *,
    up_to_seq: int | None,
    up_to_time: datetime | None,
    timeout: Timeout,
    max_bytes: int | None = None,
) -> AsyncIterator[KeyValueEntry]:
    """The latest entry (markers included) of every subject matched by ``subjects``, request after
    request, all at one snapshot of the stream. Raises `BatchNotSupported` when the first request
    shows an old server, `TooManyMatches` on the server's 413; ``timeout`` bounds each wait.
    ``max_bytes`` caps each reply (the server's own cap is its ``max_pending``, 64 MB by default)."""
    suffix = f"DIRECT.GET.{stream}"
    subject = core.subject(suffix)
    first = True
    for group in split_subjects(subjects, core.transport.max_payload):
        start: int | None = None
        while True:
            body = DirectGetRequest(
                multi_last=group,
                seq=start,
                max_bytes=max_bytes,
                up_to_seq=up_to_seq,
                # Once a reply named its snapshot, every later request reads at that sequence.
                up_to_time=up_to_time if up_to_seq is None else None,
            )
            end: _End | None = None
            delivered = 0
            replies = core.stream(suffix, body, timeout)
            try:
                async for reply in replies:
                    status = reply.status
                    headers = Headers.of(reply.headers) if status else None
                    if headers is None or server_header(headers, "Nats-Sequence") is not None:
                        first = False
                        delivered += 1
                        yield _entry(bucket, read_prefix, subject, reply.data, reply.headers)
                        continue
                    if status == _EOB:
                        end = _end_of(subject, reply.data, headers)
                        break
                    if status == _NOT_FOUND:
                        break
                    if status == _NO_RESPONDERS:
                        raise NoRespondersError(subject)  # named below, as a first 503 is
                    if status == _BAD_REQUEST and first:
                        raise BatchNotSupported
                    if status == _TOO_MANY:
                        raise TooManyMatches
                    code = parse_status(status)
                    description = headers.get("Description") or f"status {status}"
                    if code is None:
                        raise InvalidReplyError(subject, reply.data, f"unknown status {status!r}")
                    raise api_error(code, 0, description)
            except NoRespondersError as exc:
                raise NoRespondersError(subject, _NO_BUCKET) from exc
            finally:
                await replies.aclose()
            first = False
            if end is None:
                break
            if up_to_seq is None:
                up_to_seq = end.up_to
            if end.pending == 0:
                break
            if not delivered or (start is not None and end.last < start):
                # Asking again from the same place would never finish.
                raise InvalidReplyError(subject, b"", "a batch ended without progress, but with more pending")
            start = end.last + 1


def entries_by_key(
    found: Mapping[str, KeyValueEntry], keys: Sequence[str] | None
) -> dict[str, KeyValueEntry]:
    """The entries holding a value: in the order of ``keys``, or sorted by key (``keys`` None)."""
    order = sorted(found) if keys is None else keys
    out: dict[str, KeyValueEntry] = {}
    for key in order:
        entry = found.get(key)
        if entry is not None and entry.operation is KeyValueOp.PUT:
            out[key] = entry
    return out

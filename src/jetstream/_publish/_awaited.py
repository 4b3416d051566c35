"""The awaited publish: one message sent as a request, retried while nobody answers (ADR-22),
and the reading of its acknowledgement, `parse_ack` (shared with `publish_async` and atomic
batches). The headers come from `PublishOptions`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import timedelta

from .._core import Core, Timeout
from .._core._codec import decode, encode
from .._exceptions import (
    InvalidArgumentError,
    NoRespondersError,
    NoStreamResponseError,
    UnexpectedReplyError,
)
from .._generated.models import PubAck
from .._numbers import parse_int
from .._time import seconds
from .._transport import Reply
from .._typing import Payload
from .._validate import check_publish_subject
from ._options import PublishOptions

# ADR-22 defaults (as nats.go): 2 retries, 250 ms apart, when nobody answers a publish.
RETRY_ATTEMPTS = 2
RETRY_WAIT = 0.25


def parse_ack(subject: str, data: bytes, status: str = "") -> PubAck:
    """The PubAck in a reply to a publish; anything else (a status, a core NATS responder's answer,
    an ack without a stream) is an `InvalidReplyError`, an error ack its `APIError`."""
    if status and not data:
        raise UnexpectedReplyError(subject, data, f"status {status} instead of a PubAck")
    ack = decode(subject, data, PubAck)
    if not ack.stream:
        raise UnexpectedReplyError(subject, data, "the PubAck names no stream")
    return ack


def check_retries(retry_attempts: int, retry_wait: timedelta | float) -> float:
    """Validated ADR-22 retry options; the wait in seconds."""
    if isinstance(retry_attempts, bool) or not isinstance(retry_attempts, int) or retry_attempts < 0:
        raise InvalidArgumentError(f"retry_attempts must be a non-negative int, got {retry_attempts!r}")
    return seconds(retry_wait, "retry_wait")


async def publish_request(
    core: Core,
    subject: str,
    data: Payload,
    headers: Mapping[str, str] | None,
    *,
    timeout: Timeout,
    retry_attempts: int = RETRY_ATTEMPTS,
    retry_wait: float = RETRY_WAIT,
) -> PubAck:
    check_publish_subject(subject)
    wait = core.timeout(timeout)
    loop = asyncio.get_running_loop()
    deadline = None if wait is None else loop.time() + wait
    attempt = 0
    left = wait
    while True:
        try:
            reply: Reply = await core.transport.request(subject, data, left, headers)
            break
        except NoRespondersError as exc:
            # ADR-22: during a leader election (or right after a stream was created elsewhere in a
            # cluster) nobody answers for a moment; back off and retry within the call's timeout.
            attempt += 1
            left = None if deadline is None else deadline - loop.time()
            if attempt > retry_attempts or (left is not None and left <= retry_wait):
                raise NoStreamResponseError(subject) from exc
            await asyncio.sleep(retry_wait)
            left = None if deadline is None else deadline - loop.time()
    return parse_ack(subject, reply.data, reply.status)


async def counter_add(
    core: Core, subject: str, delta: int, headers: Mapping[str, str] | None, timeout: Timeout
) -> int:
    """ADR-49: add ``delta`` to the counter on ``subject``; the new total from the ack's ``val``."""
    hdrs = PublishOptions(incr=delta).headers(headers)
    ack = await publish_request(core, subject, b"", hdrs, timeout=timeout)
    if ack.val is None:
        reason = "the ack carries no counter value (a duplicate, or not a counter stream)"
    else:
        value = parse_int(ack.val)
        if value is not None:
            return value
        reason = f"the counter value is not an integer: {ack.val[:40]!r}"
    raise UnexpectedReplyError(subject, encode(ack), reason)

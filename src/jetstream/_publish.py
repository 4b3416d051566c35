"""Publishing to a stream and reading its acknowledgement."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import timedelta

from ._codec import decode
from ._core import Core, Timeout
from ._exceptions import InvalidArgumentError, NoRespondersError, NoStreamResponseError
from ._generated.models import PubAck
from ._time import nanos
from ._validate import check_subject

# Headers of the publish options (ADR-31 dedupe and expectations, ADR-43 TTL)
MSG_ID = "Nats-Msg-Id"
EXPECTED_STREAM = "Nats-Expected-Stream"
EXPECTED_LAST_SEQ = "Nats-Expected-Last-Sequence"
EXPECTED_LAST_SUBJECT_SEQ = "Nats-Expected-Last-Subject-Sequence"
EXPECTED_LAST_MSG_ID = "Nats-Expected-Last-Msg-Id"
TTL = "Nats-TTL"

# ADR-22 defaults (as nats.go): 2 retries, 250 ms apart, when nobody answers a publish.
RETRY_ATTEMPTS = 2
RETRY_WAIT = 0.25


def ttl_header(ttl: timedelta | float) -> str:
    """ADR-43 wants whole seconds (or a Go duration); refuse what would be silently rounded."""
    ns = nanos(ttl)
    if ns <= 0 or ns % 1_000_000_000:
        raise InvalidArgumentError(f"ttl must be a positive whole number of seconds, got {ttl!r}")
    return f"{ns // 1_000_000_000}s"


async def publish(
    core: Core,
    subject: str,
    data: bytes,
    *,
    headers: Mapping[str, str] | None,
    msg_id: str | None,
    expected_stream: str | None,
    expected_last_seq: int | None,
    expected_last_subject_seq: int | None,
    expected_last_msg_id: str | None,
    ttl: timedelta | float | None,
    timeout: Timeout,
    retry_attempts: int = RETRY_ATTEMPTS,
    retry_wait: float = RETRY_WAIT,
) -> PubAck:
    check_subject("subject", subject, wildcards=False)
    hdrs = dict(headers) if headers else {}
    for name, value in (
        (MSG_ID, msg_id),
        (EXPECTED_STREAM, expected_stream),
        (EXPECTED_LAST_SEQ, expected_last_seq),
        (EXPECTED_LAST_SUBJECT_SEQ, expected_last_subject_seq),
        (EXPECTED_LAST_MSG_ID, expected_last_msg_id),
    ):
        if value is not None:
            hdrs[name] = str(value)
    if ttl is not None:
        hdrs[TTL] = ttl_header(ttl)
    wait = core.timeout(timeout)
    loop = asyncio.get_running_loop()
    deadline = None if wait is None else loop.time() + wait
    attempt = 0
    left = wait
    while True:
        try:
            reply = await core.transport.request(subject, data, left, hdrs or None)
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
    return decode(subject, reply.data, PubAck)

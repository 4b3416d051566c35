"""Publishing to a stream and reading its acknowledgement."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from ._codec import decode
from ._core import Core, Timeout
from ._exceptions import InvalidArgumentError, NoRespondersError, NoStreamResponseError
from ._generated.models import PubAck
from ._time import nanos
from ._validate import check_subject

# Header names of ADR-... publish expectations
MSG_ID = "Nats-Msg-Id"
EXPECTED_STREAM = "Nats-Expected-Stream"
EXPECTED_LAST_SEQ = "Nats-Expected-Last-Sequence"
EXPECTED_LAST_SUBJECT_SEQ = "Nats-Expected-Last-Subject-Sequence"
EXPECTED_LAST_MSG_ID = "Nats-Expected-Last-Msg-Id"
TTL = "Nats-TTL"


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
    try:
        reply = await core.transport.request(subject, data, core.timeout(timeout), hdrs or None)
    except NoRespondersError as exc:
        raise NoStreamResponseError(subject) from exc
    return decode(subject, reply.data, PubAck)

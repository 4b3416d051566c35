"""`ClientTrace` checks that need no server: the option is checked up front, hooks are optional,
and a client without a trace has none (the core's one `None` check)."""

from __future__ import annotations

import pytest
from unit_support import always, mock_js

import jetstream
from jetstream import ClientTrace, RequestDone, errors


def test_trace_must_be_a_client_trace() -> None:
    with pytest.raises(errors.InvalidArgumentError, match="ClientTrace"):
        mock_js(always(b"{}"), trace=print)


async def test_connect_refuses_a_bad_trace_before_connecting() -> None:
    # Port 1: nothing listens there; the option is refused before any connection attempt.
    with pytest.raises(errors.InvalidArgumentError, match="ClientTrace"):
        await jetstream.connect("nats://127.0.0.1:1", trace=lambda event: None)  # type: ignore[arg-type]


def test_no_trace_by_default() -> None:
    js, _ = mock_js(always(b"{}"))
    assert js._core.trace is None


async def test_one_hook_alone() -> None:
    done: list[RequestDone] = []
    js, _ = mock_js(
        always(
            b'{"type":"io.nats.jetstream.api.v1.stream_names_response","total":0,"offset":0,"limit":1024,"streams":null}'
        ),
        trace=ClientTrace(request_done=done.append),
    )
    assert await js.stream_names() == []
    (event,) = done
    assert event.subject == "$JS.API.STREAM.NAMES" and event.error is None and event.replies == 1


async def test_a_bad_reply_is_the_event_error() -> None:
    done: list[RequestDone] = []
    js, _ = mock_js(always(b'{"type":"x"}'), trace=ClientTrace(request_done=done.append))
    with pytest.raises(errors.UnexpectedReplyError) as exc:
        await js.stream_names()
    (event,) = done
    assert event.error is exc.value and event.reply_size == len(b'{"type":"x"}') and event.replies == 1

"""`Core.stream` (one request, many replies) over the fake connection: replies come on the shared
reply inbox, a first 503 is no responders, the connection's failures end the wait, and the request is
traced once. Wire behaviour is in tests/integration/test_stream_handle.py and test_kv_bulk.py."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping

import pytest
from unit_support import STREAM_INFO_FULL

from jetstream import ClientTrace, FakeConnection, JetStream, Reply, RequestDone, errors
from jetstream._transport._fake import Answer, Handler
from jetstream.models import DirectGetRequest

SUBJECT = "$JS.API.DIRECT.GET.FULL"


def client(handler: Handler, trace: ClientTrace | None = None) -> tuple[JetStream, FakeConnection]:
    transport = FakeConnection(handler)
    return JetStream(transport=transport, trace=trace), transport


def status(code: str) -> Reply:
    return Reply("_INBOX.x", b"", {}, status=code)


async def test_replies_come_on_the_shared_inbox_and_two_requests_do_not_mix() -> None:
    def answer(subject: str, payload: bytes, headers: Mapping[str, str] | None) -> Answer:
        seq = json.loads(payload)["seq"]
        return [f"{seq}.a".encode(), f"{seq}.b".encode(), status("204")]

    js, transport = client(answer)

    async def read(seq: int) -> list[bytes]:
        got: list[bytes] = []
        async for reply in js._core.stream("DIRECT.GET.FULL", DirectGetRequest(batch=2, seq=seq), 5.0):
            if reply.status:
                break
            got.append(reply.data)
        return got

    assert list(await asyncio.gather(read(1), read(2))) == [[b"1.a", b"1.b"], [b"2.a", b"2.b"]]
    inbox = [s for s, _, _, _ in transport.published if s.startswith("$JS.API.DIRECT")]
    assert inbox == [SUBJECT, SUBJECT]
    assert transport.published[-1][2] != transport.published[-2][2]  # one token per request
    await transport.close()


async def test_a_first_503_is_no_responders_and_a_later_one_a_reply() -> None:
    js, transport = client(lambda s, p, h: [status("503")])
    stream = js._core.stream("DIRECT.GET.FULL", DirectGetRequest(batch=1, seq=1), 5.0)
    with pytest.raises(errors.NoRespondersError):
        await stream.__anext__()
    transport.handler = lambda s, p, h: [b"m", status("503")]
    stream = js._core.stream("DIRECT.GET.FULL", DirectGetRequest(batch=1, seq=1), 5.0)
    assert (await stream.__anext__()).data == b"m"
    assert (await stream.__anext__()).status == "503"
    await stream.aclose()
    await transport.close()


async def test_get_msgs_names_the_stream_on_no_responders_and_is_traced_once() -> None:
    done: list[RequestDone] = []

    def answer(subject: str, payload: bytes, headers: Mapping[str, str] | None) -> Answer:
        if subject == SUBJECT:
            raise errors.NoRespondersError(subject)
        return STREAM_INFO_FULL

    js, transport = client(answer, ClientTrace(request_done=done.append))
    stream = await js.stream("FULL")
    with pytest.raises(errors.NoRespondersError, match="allow_direct") as exc:
        _ = [m async for m in stream.get_msgs(batch=5)]
    (event,) = [e for e in done if e.subject == SUBJECT]
    assert isinstance(event.error, errors.NoRespondersError) and event.error is exc.value.__cause__
    await transport.close()


async def test_closing_the_connection_ends_the_wait() -> None:
    js, transport = client(lambda s, p, h: [b"m"])
    stream = js._core.stream("DIRECT.GET.FULL", DirectGetRequest(batch=5, seq=1), None)
    assert (await stream.__anext__()).data == b"m"
    waiting = asyncio.ensure_future(stream.__anext__())
    await transport.close()
    with pytest.raises(errors.ConnectionClosedError):
        await waiting


async def test_a_refused_request_subject_ends_the_wait() -> None:
    js, transport = client(lambda s, p, h: [b"m"])
    stream = js._core.stream("DIRECT.GET.FULL", DirectGetRequest(batch=5, seq=1), None)
    assert (await stream.__anext__()).data == b"m"
    waiting = asyncio.ensure_future(stream.__anext__())
    transport.deny("publish", SUBJECT)
    with pytest.raises(errors.PermissionDeniedError):
        await waiting
    await transport.close()

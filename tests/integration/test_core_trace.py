"""`ClientTrace` against real servers: every API request is announced and its outcome reported,
with sizes, duration and the error the call raised; a raising hook does not break the request."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import nats
import pytest
import pytest_asyncio

from jetstream import ClientTrace, JetStream, RequestDone, RequestSent, StreamConfig, errors
from jetstream.testing import NatsServer, Permissions, User
from jetstream.testing.pytest_plugin import NatsServerFactory

pytestmark = pytest.mark.asyncio

JetStreamFactory = Callable[..., Awaitable[JetStream]]  # the js_factory fixture (conftest.py)


class Recorder:
    """The events of one client, in the order the hooks saw them."""

    def __init__(self) -> None:
        self.events: list[RequestSent | RequestDone] = []
        self.trace = ClientTrace(request_sent=self.events.append, request_done=self.events.append)

    def done(self, subject: str | None = None) -> list[RequestDone]:
        return [
            e for e in self.events if isinstance(e, RequestDone) and (subject is None or e.subject == subject)
        ]

    def sent(self, subject: str | None = None) -> list[RequestSent]:
        return [
            e for e in self.events if isinstance(e, RequestSent) and (subject is None or e.subject == subject)
        ]

    def clear(self) -> None:
        self.events.clear()


@pytest_asyncio.fixture
async def traced(nats_server: NatsServer, js_factory: JetStreamFactory) -> tuple[JetStream, Recorder]:
    recorder = Recorder()
    return await js_factory(nats_server.url, trace=recorder.trace), recorder


async def test_success_is_announced_then_reported(traced: tuple[JetStream, Recorder]) -> None:
    js, rec = traced
    info = await js.stream_create("T", subjects=["t.>"], storage="memory")
    assert info.config.name == "T"
    sent, done = rec.events
    assert isinstance(sent, RequestSent) and isinstance(done, RequestDone)
    assert sent.subject == done.subject == "$JS.API.STREAM.CREATE.T"
    assert sent.size == done.request_size > 0
    assert done.reply_size > 0 and done.replies == 1
    assert done.error is None and done.duration >= 0

    # A data-plane publish is not an API request; an empty-bodied API request has size 0.
    rec.clear()
    await js.publish("t.a", b"x")
    assert rec.events == []
    await js.account_info()
    (info_done,) = rec.done()
    assert info_done.subject == "$JS.API.INFO" and info_done.request_size == 0 and info_done.reply_size > 0


async def test_api_error_is_the_event_error(traced: tuple[JetStream, Recorder]) -> None:
    js, rec = traced
    with pytest.raises(errors.StreamNotFoundError) as exc:
        await js.stream_info("MISSING")
    (done,) = rec.done()
    assert done.subject == "$JS.API.STREAM.INFO.MISSING"
    assert done.error is exc.value  # the very exception the call raised
    assert done.reply_size > 0 and done.replies == 1  # the server answered, with an error


async def test_no_responders(nats_server_no_js: NatsServer, js_factory: JetStreamFactory) -> None:
    rec = Recorder()
    js = await js_factory(nats_server_no_js.url, trace=rec.trace)
    with pytest.raises(errors.JetStreamNotEnabledError) as exc:
        await js.account_info()
    assert len(rec.sent()) == 1
    (done,) = rec.done()
    assert done.error is exc.value and done.reply_size == 0 and done.replies == 0


async def test_timeout(nats_server: NatsServer, js_factory: JetStreamFactory) -> None:
    # A silent responder on a custom API prefix: the request is received, never answered.
    nc = await nats.connect(nats_server.url)
    try:
        await nc.subscribe("silent.api.>", cb=_ignore)
        await nc.flush()
        rec = Recorder()
        js = await js_factory(nats_server.url, api_prefix="silent.api", trace=rec.trace)
        with pytest.raises(errors.TimeoutError) as exc:
            await js.stream_info("S", timeout=0.2)
    finally:
        await nc.close()
    (done,) = rec.done()
    assert done.subject == "silent.api.STREAM.INFO.S"
    assert done.error is exc.value and done.reply_size == 0 and done.replies == 0
    assert done.duration >= 0.15


async def _ignore(_: Any) -> None:
    return None


async def test_permission_denied(
    nats_server_factory: NatsServerFactory, js_factory: JetStreamFactory
) -> None:
    server = await nats_server_factory(
        users=[User("limited", "limited-pw-0001", Permissions(publish_deny=["$JS.API.STREAM.DELETE.>"]))]
    )
    rec = Recorder()
    js = await js_factory(server.url, user="limited", password="limited-pw-0001", trace=rec.trace)
    await js.stream_create("P", subjects=["p"], storage="memory")
    rec.clear()
    with pytest.raises(errors.PermissionDeniedError) as exc:
        await asyncio.wait_for(js.stream_delete("P"), 10)
    (done,) = rec.done()
    assert done.subject == "$JS.API.STREAM.DELETE.P" and done.error is exc.value


async def test_each_page_of_a_listing(traced: tuple[JetStream, Recorder]) -> None:
    js, rec = traced
    await js.stream_create("S", subjects=["s"], storage="memory")
    sem = asyncio.Semaphore(32)

    async def create(i: int) -> None:
        async with sem:
            await js.consumer_create("S", f"C{i:03d}")

    # CONSUMER.LIST pages by 256: two pages.
    await asyncio.gather(*(create(i) for i in range(260)))
    rec.clear()
    assert len(await js.consumer_list("S")) == 260
    pages = rec.done("$JS.API.CONSUMER.LIST.S")
    assert len(pages) == 2 == len(rec.done())
    assert all(p.error is None and p.reply_size > 0 for p in pages)
    assert pages[0].request_size < pages[1].request_size  # {"offset":0} then {"offset":256}


async def test_handles_kv_and_ordered_consumers_are_traced(traced: tuple[JetStream, Recorder]) -> None:
    js, rec = traced
    kv = await js.create_key_value("cfg")
    assert any(e.subject == "$JS.API.STREAM.CREATE.KV_cfg" for e in rec.done())
    await kv.put("a", b"1")
    rec.clear()
    assert (await kv.get("a")).value == b"1"
    (get,) = rec.done()
    assert get.subject == "$JS.API.DIRECT.GET.KV_cfg.$KV.cfg.a" and get.error is None
    assert get.reply_size == 1  # the value, sent as-is

    rec.clear()
    assert await kv.keys() == ["a"]  # a watch: its ordered consumer is created and deleted
    subjects = [e.subject for e in rec.done()]
    assert any(s.startswith("$JS.API.CONSUMER.CREATE.KV_cfg") for s in subjects), subjects

    rec.clear()
    oc = await js.ordered_consumer("KV_cfg")
    await oc.aclose()
    subjects = [e.subject for e in rec.done()]
    assert subjects[0].startswith("$JS.API.CONSUMER.CREATE.KV_cfg"), subjects
    assert any(s.startswith("$JS.API.CONSUMER.DELETE.KV_cfg") for s in subjects), subjects

    rec.clear()
    await js.create_object_store("files")
    assert any(e.subject == "$JS.API.STREAM.CREATE.OBJ_files" for e in rec.done())

    rec.clear()
    stream = await js.create_stream(StreamConfig(name="O", subjects=["o.>"], allow_direct=True))
    for i in range(3):
        await js.publish(f"o.{i}", b"m")
    rec.clear()
    got = [m async for m in stream.get_msgs(batch=10)]
    assert len(got) == 3
    (batch,) = rec.done()
    # One request, three messages and the end-of-batch status.
    assert batch.subject == "$JS.API.DIRECT.GET.O" and batch.replies == 4 and batch.error is None


async def test_a_raising_hook_does_not_break_the_request(
    nats_server: NatsServer, js_factory: JetStreamFactory, caplog: pytest.LogCaptureFixture
) -> None:
    def boom(event: object) -> None:
        raise RuntimeError("hook failed")

    js = await js_factory(nats_server.url, trace=ClientTrace(request_sent=boom, request_done=boom))
    with caplog.at_level(logging.ERROR, logger="jetstream"):
        assert (await js.account_info()).streams == 0
        with pytest.raises(errors.StreamNotFoundError):  # the call's own error, not the hook's
            await js.stream_info("MISSING")
    failures = [r for r in caplog.records if "ClientTrace hook raised" in r.getMessage()]
    assert len(failures) == 4
    assert all(r.exc_info is not None and isinstance(r.exc_info[1], RuntimeError) for r in failures)

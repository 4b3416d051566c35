"""Reprs of the public classes (issue 11, item 5): every class in `jetstream.__all__` has one of its
own, which says what the object is (names, sequences, state), shows at most the first bytes of a
payload, and never a credential."""

from __future__ import annotations

import inspect
from datetime import timedelta
from typing import Any

import msgspec
import pytest
from unit_support import CONSUMER_CREATE_DURABLE, STREAM_INFO_FULL, always, mock_js

import jetstream
from jetstream import ConsumeContext, JetStream, Message
from jetstream._consume._ordered import OrderedConfig
from jetstream._core._codec import decoder

ACK = "$JS.ACK.ORDERS.worker.2.17.9.1700000000123456789.4"
BIG = b"0123456789abcdef" * 64  # 1 KiB
TRANSPORT_NAMES = frozenset(
    name
    for name in jetstream.__all__
    if getattr(jetstream._transport, name, None) is getattr(jetstream, name)
)


def _stream_info(name: str) -> jetstream.StreamInfo:
    info = decoder(jetstream.StreamInfo).decode(STREAM_INFO_FULL)
    return jetstream.StreamInfo(
        config=msgspec.structs.replace(info.config, name=name, subjects=[f"$KV.{name}.>"]),
        state=info.state,
        created=info.created,
        ts=info.ts,
    )


def _ordered_config() -> OrderedConfig:
    return OrderedConfig(("orders.>",), "all", None, None, False, "instant", timedelta(minutes=5), None)


@pytest.fixture
def js() -> JetStream:
    return mock_js(always(b"{}"))[0]


def test_every_public_class_has_a_repr_of_its_own() -> None:
    missing = []
    for name in jetstream.__all__:
        cls = getattr(jetstream, name)
        if not inspect.isclass(cls) or getattr(cls, "_is_protocol", False) or name in TRANSPORT_NAMES:
            continue
        if cls.__repr__ is object.__repr__:
            missing.append(name)
    assert missing == []


def test_every_public_transport_class_has_a_repr_of_its_own() -> None:
    missing = [
        name
        for name in TRANSPORT_NAMES
        if inspect.isclass(cls := getattr(jetstream, name))
        and not getattr(cls, "_is_protocol", False)
        and cls.__repr__ is object.__repr__
    ]
    assert missing == []


def test_message_repr_names_subject_and_sequence_not_the_whole_payload(js: JetStream) -> None:
    msg = Message(js._core, "orders.new", ACK, BIG)
    text = repr(msg)
    assert text.startswith(
        "Message(subject='orders.new', stream='ORDERS', consumer='worker', seq=17, num_delivered=2, "
    )
    assert "(1024 bytes)" in text and len(text) < 200
    assert repr(Message(js._core, "core.subject", "", b"hi")) == "Message(subject='core.subject', data=b'hi')"
    # A reply subject that is not an ack subject: shown as it is, the repr does not raise.
    assert "reply='not.an.ack'" in repr(Message(js._core, "s", "not.an.ack", b""))


def test_payload_structs_preview_their_payload() -> None:
    entry = jetstream.KeyValueEntry("cfg", "k", BIG, 3, jetstream.Timestamp.from_nanos(1))
    text = repr(entry)
    assert text.startswith(
        "KeyValueEntry(bucket='cfg', key='k', value=b'0123456789abcdef0123456789abcdef'..."
    )
    assert "(1024 bytes), revision=3, created=Timestamp.parse('1970-01-01T00:00:00.000000001Z')" in text
    stored = jetstream.StreamMessage(
        "S", "s.1", 9, BIG, jetstream.Headers.of({"a": "1"}), jetstream.Timestamp.from_nanos(0)
    )
    assert "seq=9, data=b'0123456789abcdef0123456789abcdef'...(1024 bytes)" in repr(stored)
    raw = jetstream.RawMessage("s.1", b"short", {"Nats-Sequence": "4"})
    assert repr(raw) == "RawMessage(subject='s.1', data=b'short', headers={'Nats-Sequence': '4'}, reply='')"


def test_timestamp_repr_keeps_the_nanoseconds() -> None:
    ts = jetstream.Timestamp.parse("2026-05-01T12:00:00.123456789+02:00")
    assert repr(ts) == "Timestamp.parse('2026-05-01T12:00:00.123456789+02:00')"
    assert eval(repr(ts), {"Timestamp": jetstream.Timestamp}) == ts


async def test_handles_say_what_they_are(js: JetStream) -> None:
    stream = jetstream.Stream(js, _stream_info("ORDERS"))
    assert repr(stream) == "Stream(name='ORDERS')"
    consumer = jetstream.Consumer(js, decoder(jetstream.ConsumerInfo).decode(CONSUMER_CREATE_DURABLE))
    assert repr(consumer) == "Consumer(stream='MIN', name='D2')"
    assert (
        repr(consumer.fetch(10))
        == "FetchResult(consumer=Consumer(stream='MIN', name='D2'), n=10, finished=False)"
    )
    assert repr(consumer.messages()).startswith("MessageStream(consumer=Consumer(stream='MIN', name='D2')")
    kv = jetstream.KeyValue(js, _stream_info("KV_cfg"))
    assert repr(kv) == "KeyValue(bucket='cfg')"
    watcher = kv.watch("a.>")
    assert repr(watcher) == "KeyWatcher(bucket='cfg', keys=['a.>'], revision=0, closed=False)"
    store = jetstream.ObjectStore(js, _stream_info("OBJ_files"))
    assert repr(store) == "ObjectStore(bucket='files')"
    assert repr(store.watch()) == "ObjectWatcher(bucket='files', closed=False)"
    oc = jetstream.OrderedConsumer(js, "ORDERS", _ordered_config())
    assert repr(oc) == "OrderedConsumer(stream='ORDERS', consumer=None)"
    assert (
        repr(oc.fetch(5))
        == "OrderedFetchResult(consumer=OrderedConsumer(stream='ORDERS', consumer=None), n=5, finished=False)"
    )
    assert repr(oc.messages()) == (
        "OrderedMessageStream(consumer=OrderedConsumer(stream='ORDERS', consumer=None), closed=False)"
    )
    batch = js.batch("b-1")
    assert repr(batch) == "Batch(id='b-1', count=0, finished=False)"
    assert repr(js).startswith("JetStream(prefix='$JS.API.', connection=")


class _Empty:
    """A message source with nothing in it."""

    def __aiter__(self) -> _Empty:
        return self

    async def __anext__(self) -> Message:
        raise StopAsyncIteration

    def _request_stop(self) -> None: ...

    def _request_drain(self) -> None: ...

    async def aclose(self) -> None: ...

    def __repr__(self) -> str:
        return "_Empty()"


async def test_consume_context_repr() -> None:
    async def handler(msg: Any) -> None: ...

    ctx = ConsumeContext(_Empty(), handler, None)
    assert repr(ctx) == "ConsumeContext(source=_Empty(), done=False)"
    await ctx.aclose()
    assert repr(ctx) == "ConsumeContext(source=_Empty(), done=True)"

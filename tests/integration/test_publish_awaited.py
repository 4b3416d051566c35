"""`JetStream.publish` against one real nats-server: acks, de-duplication, expectations, TTL."""

from __future__ import annotations

from datetime import timedelta

import pytest
import pytest_asyncio

from jetstream import JetStream, errors


@pytest_asyncio.fixture
async def stream(js: JetStream) -> str:
    await js.stream_create(
        "S",
        subjects=["a.>"],
        storage="memory",
        allow_direct=True,
        duplicate_window=timedelta(minutes=1),
    )
    return "S"


async def test_publish_ack_and_headers(js: JetStream, stream: str) -> None:
    ack = await js.publish("a.1", b"hello", headers={"Foo": "bar", "X-Multi": "1"})
    assert (ack.stream, ack.seq, ack.duplicate, ack.domain) == (stream, 1, None, None)
    stored = await js.direct_get(stream, seq=1)
    assert stored.data == b"hello"
    assert (stored.headers["Foo"], stored.headers["X-Multi"]) == ("bar", "1")
    ack = await js.publish("a.2")
    assert ack.seq == 2
    assert (await js.stream_msg_get(stream, seq=2)).data in (None, b"")


async def test_publish_msg_id_dedupe(js: JetStream, stream: str) -> None:
    first = await js.publish("a.1", b"x", msg_id="id-1")
    assert (first.seq, first.duplicate) == (1, None)
    dup = await js.publish("a.1", b"y", msg_id="id-1")
    # the duplicate is acknowledged with the original's sequence and not stored
    assert (dup.seq, dup.duplicate) == (1, True)
    assert (await js.stream_info(stream)).state.messages == 1
    other = await js.publish("a.1", b"z", msg_id="id-2")
    assert (other.seq, other.duplicate) == (2, None)


async def test_publish_expectations_met(js: JetStream, stream: str) -> None:
    await js.publish("a.1", b"1", msg_id="m1")
    await js.publish("a.2", b"2", msg_id="m2")
    ack = await js.publish(
        "a.1",
        b"3",
        expected_stream=stream,
        expected_last_seq=2,
        expected_last_subject_seq=1,
        expected_last_msg_id="m2",
    )
    assert ack.seq == 3
    # 0 means "no message yet on this subject"
    first_on_subject = await js.publish("a.3", b"4", expected_last_subject_seq=0)
    assert first_on_subject.seq == 4


async def test_publish_expectations_refused(js: JetStream, stream: str) -> None:
    await js.publish("a.1", b"1", msg_id="m1")
    await js.publish("a.2", b"2", msg_id="m2")

    with pytest.raises(errors.StreamNotMatchError) as wrong_stream:
        await js.publish("a.1", b"x", expected_stream="OTHER")
    assert (wrong_stream.value.code, wrong_stream.value.err_code) == (400, 10060)

    with pytest.raises(errors.StreamWrongLastSequenceError) as wrong_seq:
        await js.publish("a.1", b"x", expected_last_seq=1)
    assert wrong_seq.value.err_code == 10071
    assert "2" in wrong_seq.value.description

    with pytest.raises(errors.StreamWrongLastSequenceError) as wrong_subject_seq:
        await js.publish("a.1", b"x", expected_last_subject_seq=2)
    assert "1" in wrong_subject_seq.value.description

    with pytest.raises(errors.StreamWrongLastMsgIDError) as wrong_id:
        await js.publish("a.1", b"x", expected_last_msg_id="m1")
    assert wrong_id.value.err_code == 10070
    assert "m2" in wrong_id.value.description

    assert (await js.stream_info(stream)).state.messages == 2


async def test_publish_ttl(js: JetStream) -> None:
    await js.stream_create("T", subjects=["t.>"], storage="memory", allow_msg_ttl=True, allow_direct=True)
    ack = await js.publish("t.1", b"x", ttl=timedelta(minutes=1))
    stored = await js.direct_get("T", seq=ack.seq)
    assert stored.headers["Nats-TTL"] == "60s"
    ack = await js.publish("t.1", b"y", ttl=2)
    assert (await js.direct_get("T", seq=ack.seq)).headers["Nats-TTL"] == "2s"


async def test_publish_ttl_disabled(js: JetStream, stream: str) -> None:
    with pytest.raises(errors.MessageTTLDisabledError):
        await js.publish("a.1", b"x", ttl=timedelta(minutes=1))


async def test_publish_without_stream(js: JetStream, stream: str) -> None:
    with pytest.raises(errors.NoStreamResponseError) as exc:
        await js.publish("nobody.listens", b"x")
    assert exc.value.subject == "nobody.listens"

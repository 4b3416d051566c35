"""Atomic batch publish (ADR-50) against nats-server 2.15.1: all or nothing, end-of-batch commits,
the server's refusals as typed errors, and abandoning a batch to free its slot at once."""

from __future__ import annotations

import pytest
import pytest_asyncio

from jetstream import BatchMessage, JetStream, errors


@pytest_asyncio.fixture
async def stream(js: JetStream) -> str:
    await js.stream_create("B", subjects=["b.>"], storage="memory", allow_atomic=True, allow_direct=True)
    return "B"


async def messages(js: JetStream, stream: str) -> int:
    return (await js.stream_info(stream)).state.messages


async def test_publish_batch_stores_all_messages(js: JetStream, stream: str) -> None:
    await js.publish("b.before", b"0")
    ack = await js.publish_batch(
        [
            BatchMessage("b.1", b"one", headers={"X-Part": "1"}, msg_id="m1", expected_last_seq=1),
            BatchMessage("b.2", b"two", expected_last_subject_seq=0),
            BatchMessage("b.3", b"three", ttl=None),
        ],
        batch_id="order-42",
    )
    assert (ack.stream, ack.seq, ack.batch, ack.count) == (stream, 4, "order-42", 3)
    assert await messages(js, stream) == 4
    first = await js.direct_get(stream, seq=2)
    assert (first.data, first.headers["X-Part"], first.headers["Nats-Msg-Id"]) == (b"one", "1", "m1")
    assert (await js.direct_get(stream, seq=4)).data == b"three"


async def test_context_manager_commits_with_an_end_of_batch_marker(js: JetStream, stream: str) -> None:
    async with js.batch() as b:
        for i in range(5):
            await b.add(f"b.{i}", str(i).encode())
        assert await messages(js, stream) == 0  # nothing is visible before the commit
    assert b.ack is not None
    assert (b.ack.batch, b.ack.count, b.ack.seq) == (b.id, 5, 5)
    assert await messages(js, stream) == 5  # the end-of-batch marker is not stored
    last = await js.direct_get(stream, seq=5)
    assert last.data == b"4"
    assert last.headers["Nats-Batch-Commit"] == "1"


async def test_the_largest_batch_and_one_more(js: JetStream, stream: str) -> None:
    ack = await js.publish_batch([BatchMessage("b.big", b"x") for _ in range(1000)])
    assert ack.count == 1000
    with pytest.raises(errors.AtomicPublishTooLargeBatchError) as info:
        await js.publish_batch([BatchMessage("b.big", b"x") for _ in range(1001)])
    assert info.value.err_code == 10199
    assert await messages(js, stream) == 1000


async def test_stream_without_atomic_publish(js: JetStream) -> None:
    await js.stream_create("PLAIN", subjects=["p.>"], storage="memory")
    b = js.batch()
    with pytest.raises(errors.AtomicPublishDisabledError) as info:
        await b.add("p.1", b"x")
    assert info.value.err_code == 10174
    with pytest.raises(errors.NoStreamResponseError):
        await js.publish_batch([BatchMessage("nobody.1")])


async def test_failed_expectation_stores_nothing(js: JetStream, stream: str) -> None:
    await js.publish("b.1", b"0")
    with pytest.raises(errors.StreamWrongLastSequenceError):
        await js.publish_batch([BatchMessage("b.1", expected_last_seq=5), BatchMessage("b.2")])
    with pytest.raises(errors.StreamWrongLastSequenceError):
        await js.publish_batch([BatchMessage("b.3"), BatchMessage("b.4", expected_last_subject_seq=9)])
    with pytest.raises(errors.AtomicPublishContainsDuplicateMessageError):
        await js.publish_batch([BatchMessage("b.5", msg_id="same"), BatchMessage("b.6", msg_id="same")])
    assert await messages(js, stream) == 1


async def test_abandon_frees_the_stream_batch_slots(js: JetStream, stream: str) -> None:
    # A stream holds at most 50 open batches; an open batch is dropped by the server only after
    # 10 idle seconds, unless the client abandons it.
    open_batches = []
    for i in range(50):
        b = js.batch(f"open-{i}")
        await b.add("b.1", b"x")
        open_batches.append(b)
    with pytest.raises(errors.AtomicPublishTooManyInflightError):
        await js.batch("one-too-many").add("b.1", b"x")
    for b in open_batches:
        await b.abandon()
    # Exceptions in the block abandon the batch as well.
    for i in range(60):
        with pytest.raises(KeyError):
            async with js.batch(f"failing-{i}") as b:
                await b.add("b.1", b"x")
                raise KeyError(i)
    ack = await js.publish_batch([BatchMessage("b.1", b"kept")])
    assert (ack.seq, ack.count) == (1, 1)
    assert await messages(js, stream) == 1

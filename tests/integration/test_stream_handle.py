"""`Stream` handles: cached vs fresh info, message reads through DIRECT.GET and MSG.GET, batched
direct gets (ADR-31) ending on the server's end-of-batch status."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from jetstream import ConsumerConfig, DirectGetEnd, JetStream, StreamConfig, StreamMessage, Timestamp, errors


async def _filled(js: JetStream, *, allow_direct: bool = True) -> None:
    await js.stream_create("S", subjects=["a.>"], storage="memory", allow_direct=allow_direct)
    for i in range(10):
        await js.publish(f"a.{i % 3}", f"m{i}".encode(), headers={"n": str(i)})


async def test_stream_handle_info_cached_and_fresh(js: JetStream) -> None:
    await _filled(js)
    stream = await js.stream("S")
    assert stream.name == "S"
    assert stream.cached_info.state.messages == 10
    await js.publish("a.0", b"more")
    assert stream.cached_info.state.messages == 10  # the cache does not move by itself
    assert (await stream.info()).state.messages == 11
    assert stream.cached_info.state.messages == 11
    with pytest.raises(errors.StreamNotFoundError):
        await js.stream("NOPE")


@pytest.mark.parametrize("direct", [True, False])
async def test_get_msg_direct_or_through_the_leader(js: JetStream, direct: bool) -> None:
    await _filled(js, allow_direct=direct)
    stream = await js.stream("S")
    by_seq = await stream.get_msg(4)
    assert isinstance(by_seq, StreamMessage)
    assert (by_seq.stream, by_seq.subject, by_seq.seq, by_seq.data) == ("S", "a.0", 4, b"m3")
    assert by_seq.headers.get("N") == "3"  # case-insensitive
    assert isinstance(by_seq.time, Timestamp)
    assert abs(by_seq.time.timestamp() - datetime.now(timezone.utc).timestamp()) < 60
    last = await stream.get_msg(last_by_subj="a.1")
    assert (last.seq, last.data) == (8, b"m7")
    following = await stream.get_msg(5, next_by_subj="a.2")
    assert (following.seq, following.subject) == (6, "a.2")
    with pytest.raises(errors.NoMessageFoundError):
        await stream.get_msg(99)
    with pytest.raises(errors.InvalidArgumentError):
        await stream.get_msg()


async def test_direct_and_leader_reads_agree(js: JetStream) -> None:
    await _filled(js)
    stream = await js.stream("S")
    direct = await stream.get_msg(7, direct=True)
    leader = await stream.get_msg(7, direct=False)
    assert direct.data == leader.data and direct.subject == leader.subject and direct.seq == leader.seq
    assert direct.time == leader.time  # both exact to the nanosecond
    assert direct.headers.get("n") == leader.headers.get("n") == "6"


async def test_batched_direct_get_ends_on_end_of_batch(js: JetStream) -> None:
    await _filled(js)
    stream = await js.stream("S")
    end: list[DirectGetEnd] = []
    got = [m async for m in stream.get_msgs(batch=4, seq=3, end=end)]
    assert [m.seq for m in got] == [3, 4, 5, 6]
    assert [m.data for m in got] == [b"m2", b"m3", b"m4", b"m5"]
    assert end == [DirectGetEnd(num_pending=4, last_sequence=6)]
    # Only one subject, from the start.
    assert [m.seq async for m in stream.get_msgs(batch=10, next_by_subj="a.1")] == [2, 5, 8]
    # A batch larger than what is left stops at the end of the stream.
    assert [m.seq async for m in stream.get_msgs(batch=50, seq=9)] == [9, 10]


async def test_multi_last_direct_get(js: JetStream) -> None:
    await _filled(js)
    stream = await js.stream("S")
    last = {m.subject: m.seq async for m in stream.get_msgs(multi_last=["a.0", "a.2"])}
    assert last == {"a.0": 10, "a.2": 9}
    as_of = {m.subject: m.seq async for m in stream.get_msgs(multi_last=["a.>"], up_to_seq=5)}
    assert as_of == {"a.0": 4, "a.1": 5, "a.2": 3}


async def test_batched_direct_get_errors(js: JetStream) -> None:
    await _filled(js)
    stream = await js.stream("S")
    with pytest.raises(errors.NoMessageFoundError):
        _ = [m async for m in stream.get_msgs(batch=3, seq=50)]
    with pytest.raises(errors.InvalidArgumentError):
        _ = [m async for m in stream.get_msgs()]
    await js.stream_create("ND", subjects=["nd"], storage="memory")
    no_direct = await js.stream("ND")
    with pytest.raises(errors.NoRespondersError):
        _ = [m async for m in no_direct.get_msgs(batch=1)]


async def test_stream_handles_create_update_purge(js: JetStream) -> None:
    stream = await js.create_stream(StreamConfig(name="H", subjects=["h.>"], storage="memory"))
    assert stream.cached_info.config.subjects == ["h.>"]
    for i in range(5):
        await js.publish(f"h.{i}", b"x")
    assert await stream.purge(keep=2) == 3
    await stream.delete_msg(5)
    assert (await stream.info()).state.messages == 1
    updated = await js.update_stream(StreamConfig(name="H", subjects=["h.>", "i"], storage="memory"))
    assert updated.cached_info.config.subjects == ["h.>", "i"]
    again = await js.create_or_update_stream(StreamConfig(name="H", subjects=["h.>"], storage="memory"))
    assert again.cached_info.config.subjects == ["h.>"]
    fresh = await js.create_or_update_stream(StreamConfig(name="NEW", subjects=["n"], storage="memory"))
    assert fresh.name == "NEW"
    with pytest.raises(errors.StreamNameExistError):
        await js.create_stream(StreamConfig(name="H", subjects=["other"], storage="memory"))
    with pytest.raises(errors.StreamNotFoundError):
        await js.update_stream(StreamConfig(name="MISSING", subjects=["m"], storage="memory"))
    await js.stream_delete("H")
    with pytest.raises(errors.StreamNotFoundError):
        await stream.info()


async def test_consumer_management_from_the_stream_handle(js: JetStream) -> None:
    await _filled(js)
    stream = await js.stream("S")
    created = await stream.create_consumer("C1")
    assert (created.name, created.stream) == ("C1", "S")
    assert created.cached_info.config.ack_policy == "explicit"
    same = await stream.consumer("C1")
    assert same.cached_info.num_pending == 10
    # Getting a consumer never changes it.
    assert (await stream.consumer("C1")).cached_info.config == same.cached_info.config
    updated = await stream.update_consumer(ConsumerConfig(durable_name="C1", max_ack_pending=7))
    assert updated.cached_info.config.max_ack_pending == 7
    with pytest.raises(errors.ConsumerConfigMismatchError) as mismatch:
        await stream.create_consumer(ConsumerConfig(durable_name="C1", max_ack_pending=9))
    assert "max_ack_pending" in mismatch.value.fields
    either = await stream.create_or_update_consumer(ConsumerConfig(durable_name="C2"))
    assert either.name == "C2"
    await stream.delete_consumer("C2")
    with pytest.raises(errors.ConsumerNotFoundError):
        await stream.consumer("C2")
    msg = await created.next(timeout=2)
    assert msg.metadata.stream == "S" and msg.metadata.sequence.stream == 1
    await msg.ack()

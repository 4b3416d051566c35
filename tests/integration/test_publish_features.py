"""Publish options against nats-server 2.15.1: the subject-sequence subject, counters (ADR-49),
schedules (ADR-51), TTL "never", ADR-22 retries, and replies that are not PubAcks."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest
from nats.aio.msg import Msg

from jetstream import JetStream, Schedule, errors

UTC = timezone.utc


async def test_expected_last_subject_seq_for_another_subject(js: JetStream) -> None:
    await js.stream_create("E", subjects=["e.>"], storage="memory")
    await js.publish("e.a", b"1")  # seq 1
    await js.publish("e.b", b"2")  # seq 2
    # the check is about e.a's last message, though the message goes to e.c
    ack = await js.publish("e.c", b"3", expected_last_subject_seq=1, expected_last_subject_seq_subject="e.a")
    assert ack.seq == 3
    with pytest.raises(errors.StreamWrongLastSequenceError) as info:
        await js.publish("e.c", b"4", expected_last_subject_seq=2, expected_last_subject_seq_subject="e.a")
    assert "1" in info.value.description
    # a wildcard covers several subjects: their last message overall is seq 3
    ack = await js.publish("e.d", b"5", expected_last_subject_seq=3, expected_last_subject_seq_subject="e.*")
    assert ack.seq == 4
    fut = await js.publish_async(
        "e.d", b"6", expected_last_subject_seq=0, expected_last_subject_seq_subject="e.x"
    )
    assert (await asyncio.wait_for(fut, 5)).seq == 5
    assert (await js.stream_info("E")).state.messages == 5


async def test_counters(js: JetStream) -> None:
    await js.stream_create("C", subjects=["c.>"], storage="memory", allow_msg_counter=True, allow_direct=True)
    assert await js.counter_add("c.hits", 1) == 1
    assert await js.counter_add("c.hits", 41) == 42
    assert await js.counter_add("c.hits", -50) == -8
    big = 10**40
    assert await js.counter_add("c.hits", big) == big - 8
    assert await js.counter_add("c.other", 0) == 0
    stored = await js.direct_get("C", last_by_subj="c.hits")
    assert stored.data == f'{{"val":"{big - 8}"}}'.encode()
    assert stored.headers["Nats-Incr"] == f"+{big}"
    # the publish option, with de-duplication (a duplicate's ack has no value)
    ack = await js.publish("c.hits", incr=2, msg_id="once")
    assert ack.val == str(big - 6)
    dup = await js.publish("c.hits", incr=2, msg_id="once")
    assert (dup.duplicate, dup.val) == (True, None)
    with pytest.raises(errors.MessageIncrPayloadError):
        await js.publish("c.hits", b"payload", incr=1)
    with pytest.raises(errors.MessageIncrMissingError):
        await js.publish("c.hits", b"")
    with pytest.raises(errors.MessageIncrInvalidError):
        await js.publish("c.hits", incr=1, expected_stream="C")
    await js.stream_create("N", subjects=["n.>"], storage="memory")
    with pytest.raises(errors.MessageIncrDisabledError):
        await js.counter_add("n.hits", 1)


async def test_schedules(js: JetStream) -> None:
    await js.stream_create(
        "S",
        subjects=["sch.>", "out.>", "src.>"],
        storage="memory",
        allow_msg_schedules=True,
        allow_msg_ttl=True,
        allow_direct=True,
    )
    # A time in the past fires at once; the schedule message is then removed.
    past = datetime.now(UTC) - timedelta(seconds=5)
    await js.publish(
        "sch.once", b"hello", headers={"X-Order": "7"}, schedule=Schedule.at(past, "out.once", ttl=300)
    )
    # Accepted and kept until they fire (not within this test).
    hourly = await js.publish(
        "sch.hourly", b"h", schedule=Schedule.cron("@hourly", "out.h", time_zone="Europe/Paris")
    )
    every = await js.publish(
        "sch.every", b"e", schedule=Schedule.every(timedelta(hours=1), "out.e", ttl="never")
    )
    sampled = await js.publish(
        "sch.sample", schedule=Schedule.cron("0 0 * * * *", "out.sample", source="src.temp", rollup=True)
    )
    assert hourly.seq < every.seq < sampled.seq

    produced = None
    for _ in range(100):
        try:
            produced = await js.direct_get("S", last_by_subj="out.once")
            break
        except errors.NoMessageFoundError:
            await asyncio.sleep(0.05)
    assert produced is not None, "the @at schedule did not fire"
    assert produced.data == b"hello"
    assert produced.headers["X-Order"] == "7"
    assert produced.headers["Nats-Scheduler"] == "sch.once"
    assert produced.headers["Nats-Schedule-Next"] == "purge"
    assert produced.headers["Nats-TTL"] == "300s"
    kept = await js.direct_get("S", last_by_subj="sch.hourly")
    assert kept.headers["Nats-Schedule"] == "@hourly"
    assert kept.headers["Nats-Schedule-Time-Zone"] == "Europe/Paris"

    with pytest.raises(errors.MessageSchedulesTargetInvalidError):
        await js.publish("sch.bad", schedule=Schedule.cron("@hourly", "elsewhere.x"))
    with pytest.raises(errors.MessageSchedulesPatternInvalidError):
        await js.publish("sch.bad", schedule=Schedule.cron("every now and then", "out.x"))
    with pytest.raises(errors.MessageSchedulesTimeZoneInvalidError):
        await js.publish("sch.bad", schedule=Schedule.cron("@daily", "out.x", time_zone="Mars/Olympus_Mons"))
    await js.stream_create("NS", subjects=["ns.>"], storage="memory")
    with pytest.raises(errors.MessageSchedulesDisabledError):
        await js.publish("ns.a", schedule=Schedule.cron("@hourly", "ns.b"))


async def test_ttl_never(js: JetStream) -> None:
    await js.stream_create("T", subjects=["t.>"], storage="memory", allow_msg_ttl=True, allow_direct=True)
    ack = await js.publish("t.1", b"x", ttl="never")
    assert (await js.direct_get("T", seq=ack.seq)).headers["Nats-TTL"] == "never"


async def test_publish_retries_until_the_stream_exists(js: JetStream) -> None:
    async def create_later() -> None:
        await asyncio.sleep(0.3)
        await js.stream_create("LATE", subjects=["late.>"], storage="memory")

    creating = asyncio.ensure_future(create_later())
    # generous retries: the point is that a publish survives "nobody answers yet"
    ack = await js.publish("late.1", b"x", retry_attempts=40, retry_wait=0.05, timeout=5)
    await creating
    assert (ack.stream, ack.seq) == ("LATE", 1)


async def test_publish_without_stream_gives_up_after_the_retries(js: JetStream) -> None:
    loop = asyncio.get_running_loop()
    start = loop.time()
    with pytest.raises(errors.NoStreamResponseError):
        await js.publish("nobody.1", b"x")
    assert 0.45 <= loop.time() - start < 3  # two retries, 250 ms apart (ADR-22)
    start = loop.time()
    with pytest.raises(errors.NoStreamResponseError):
        await js.publish("nobody.1", b"x", retry_attempts=0)
    assert loop.time() - start < 0.25


async def test_a_core_responder_is_not_a_stream(js: JetStream) -> None:
    assert js.nc is not None
    nc = js.nc
    replies = {"core.text": b"hello", "core.empty": b"{}", "core.nostream": b'{"stream":"","seq":1}'}

    async def answer(msg: Msg) -> None:
        await nc.publish(msg.reply, replies[msg.subject])

    await nc.subscribe("core.>", cb=answer)
    with pytest.raises(errors.MalformedReplyError):
        await js.publish("core.text", b"x")
    with pytest.raises(errors.UnexpectedReplyError):
        await js.publish("core.empty", b"x")
    with pytest.raises(errors.UnexpectedReplyError):
        await js.publish("core.nostream", b"x")

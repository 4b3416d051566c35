"""Consumer endpoints against one real nats-server: a success case and the main error case each."""

from __future__ import annotations

import asyncio
import inspect
from datetime import datetime, timedelta, timezone

import pytest
import pytest_asyncio

from jetstream import ConsumerConfig, Duration, JetStream, RawMessage, Timestamp, errors
from jetstream.models import ConsumerNamesRequest


@pytest_asyncio.fixture
async def stream(js: JetStream) -> str:
    """Stream S on ``a.>`` holding a.0 (seq 1), a.1 (2), a.0 (3), a.1 (4)."""
    await js.stream_create("S", subjects=["a.>"], storage="memory")
    for i in range(4):
        await js.publish(f"a.{i % 2}", b"m%d" % i)
    return "S"


async def test_consumer_create_durable(js: JetStream, stream: str) -> None:
    created = await js.consumer_create(stream, "D")
    assert (created.stream_name, created.name) == (stream, "D")
    assert (created.config.name, created.config.durable_name) == ("D", "D")
    # the SDK's default: pull consumer with explicit ack
    assert created.config.ack_policy == "explicit"
    assert created.config.deliver_subject is None
    assert (created.config.deliver_policy, created.config.replay_policy) == ("all", "instant")
    assert isinstance(created.config.ack_wait, Duration)
    assert created.config.ack_wait.nanoseconds == 30 * 10**9
    assert created.num_pending == 4
    assert created.delivered.stream_seq == 0

    # The same config again is idempotent: the same consumer comes back.
    again = await js.consumer_create(stream, "D")
    assert again.created == created.created


async def test_consumer_create_updates_or_refuses(js: JetStream, stream: str) -> None:
    await js.consumer_create(stream, "D")
    # Without an action, CONSUMER.CREATE creates or updates: an updatable change is applied.
    updated = await js.consumer_create(stream, "D", max_deliver=3)
    assert updated.config.max_deliver == 3
    # action="create" refuses any existing consumer with a different config ...
    with pytest.raises(errors.ConsumerAlreadyExistsError) as exists:
        await js.consumer_create(stream, "D", max_deliver=4, action="create")
    assert (exists.value.code, exists.value.err_code) == (400, 10148)
    # ... a change the server cannot apply is refused whatever the action ...
    with pytest.raises(errors.ConsumerCreateError) as mismatch:
        await js.consumer_create(stream, "D", deliver_policy="new")
    assert mismatch.value.err_code == 10012
    assert "deliver policy" in mismatch.value.description
    # ... and action="update" needs an existing consumer.
    with pytest.raises(errors.ConsumerDoesNotExistError) as missing:
        await js.consumer_create(stream, "OTHER", action="update")
    assert missing.value.err_code == 10149
    with pytest.raises(errors.StreamNotFoundError):
        await js.consumer_create("NOPE", "D")


async def test_consumer_create_ephemeral(js: JetStream, stream: str) -> None:
    created = await js.consumer_create(stream, inactive_threshold=timedelta(seconds=30))
    # the SDK names it (the subject needs a name); it stays ephemeral: no durable_name
    assert created.config.durable_name is None
    assert created.config.name == created.name
    assert len(created.name) > 0
    assert isinstance(created.config.inactive_threshold, Duration)
    assert created.config.inactive_threshold.nanoseconds == 30 * 10**9
    assert created.name in await js.consumer_names(stream)


async def test_consumer_create_filter_subjects(js: JetStream, stream: str) -> None:
    # The filter travels as the subject tail too, wildcards included.
    wild = await js.consumer_create(stream, "W", filter_subject="a.>")
    assert wild.config.filter_subject == "a.>"
    assert wild.num_pending == 4
    one = await js.consumer_create(stream, "ONE", filter_subject="a.1")
    assert one.num_pending == 2
    many = await js.consumer_create(stream, "MANY", filter_subjects=["a.0", "a.1"])
    assert many.config.filter_subjects == ["a.0", "a.1"]
    assert many.num_pending == 4

    with pytest.raises(errors.ConsumerMultipleFiltersNotAllowedError):
        await js.consumer_create(stream, "BOTH", filter_subject="a.0", filter_subjects=["a.1"])
    with pytest.raises(errors.ConsumerOverlappingSubjectFiltersError):
        await js.consumer_create(stream, "OVERLAP", filter_subjects=["a.>", "a.1"])


async def test_consumer_create_legacy(js: JetStream, stream: str) -> None:
    # CONSUMER.CREATE.<stream> is the legacy ephemeral endpoint.
    anonymous = await js.consumer_create_legacy(stream)
    assert anonymous.config.durable_name is None
    assert anonymous.name
    named = await js.consumer_create_legacy(stream, "L1")
    assert named.name == "L1"
    assert named.config.durable_name is None
    # ephemerals get a default inactivity threshold from the server
    assert isinstance(named.config.inactive_threshold, Duration)
    assert named.config.inactive_threshold.nanoseconds == 5 * 10**9

    with pytest.raises(errors.StreamNotFoundError):
        await js.consumer_create_legacy("NOPE")


async def test_consumer_create_legacy_by_name(js: JetStream, stream: str) -> None:
    created = await js.consumer_create_legacy(stream, "L2")
    assert created.name == "L2"


async def test_consumer_durable_create(js: JetStream, stream: str) -> None:
    created = await js.consumer_durable_create(stream, "DD", filter_subject="a.0")
    assert (created.name, created.config.durable_name) == ("DD", "DD")
    assert created.num_pending == 2
    with pytest.raises(errors.StreamNotFoundError):
        await js.consumer_durable_create("NOPE", "DD")


async def test_consumer_info(js: JetStream, stream: str) -> None:
    await js.consumer_create(stream, "D")
    info = await js.consumer_info(stream, "D")
    assert (info.stream_name, info.name, info.num_pending, info.num_ack_pending) == (stream, "D", 4, 0)
    assert info.ack_floor.stream_seq == 0
    assert info.ts.tzinfo is not None

    with pytest.raises(errors.ConsumerNotFoundError) as exc:
        await js.consumer_info(stream, "NOPE")
    assert (exc.value.code, exc.value.err_code) == (404, 10014)
    with pytest.raises(errors.StreamNotFoundError):
        await js.consumer_info("NOPE", "D")


async def test_consumer_names_and_list_page(js: JetStream, stream: str) -> None:
    # CONSUMER.LIST pages by 256: more than one page.
    count = 260
    sem = asyncio.Semaphore(32)

    async def create(i: int) -> None:
        async with sem:
            await js.consumer_create(stream, f"C{i:03d}")

    await asyncio.gather(*(create(i) for i in range(count)))
    expected = [f"C{i:03d}" for i in range(count)]
    assert sorted(await js.consumer_names(stream)) == expected
    infos = await js.consumer_list(stream)
    assert sorted(i.name for i in infos) == expected
    assert all(i.stream_name == stream for i in infos)

    with pytest.raises(errors.StreamNotFoundError):
        await js.consumer_names("NOPE")
    with pytest.raises(errors.StreamNotFoundError):
        await js.consumer_list("NOPE")


async def test_consumer_names_empty(js: JetStream, stream: str) -> None:
    assert await js.consumer_names(stream) == []
    assert await js.consumer_list(stream) == []


async def test_consumer_names_has_no_subject_filter(js: JetStream, stream: str) -> None:
    # The schema offers a subject filter, but nats-server has no such field and, decoding requests
    # strictly, refuses it (10025); schemas/overrides/types.toml removes it from the request type.
    assert "subject" not in inspect.signature(js.consumer_names).parameters
    assert "subject" not in ConsumerNamesRequest.__struct_fields__
    await js.consumer_create(stream, "N1")
    assert await js.consumer_names(stream) == ["N1"]


async def test_consumer_delete(js: JetStream, stream: str) -> None:
    await js.consumer_create(stream, "D")
    assert (await js.consumer_delete(stream, "D")).success is True
    assert await js.consumer_names(stream) == []
    with pytest.raises(errors.ConsumerNotFoundError):
        await js.consumer_delete(stream, "D")
    with pytest.raises(errors.StreamNotFoundError):
        await js.consumer_delete("NOPE", "D")


async def test_consumer_pause_and_resume(js: JetStream, stream: str) -> None:
    await js.consumer_create(stream, "D")
    until = Timestamp.parse("2099-01-02T03:04:05.987654321Z")
    paused = await js.consumer_pause(stream, "D", pause_until=until)
    assert paused.paused is True
    assert paused.pause_until == until
    assert isinstance(paused.pause_until, Timestamp)
    assert paused.pause_until.nanosecond == 321
    assert paused.pause_remaining is not None
    assert paused.pause_remaining > timedelta(days=365)
    info = await js.consumer_info(stream, "D")
    assert info.paused is True
    assert info.config.pause_until == until

    resumed = await js.consumer_pause(stream, "D")
    assert resumed.paused is False
    # the server answers Go's zero time rather than leaving the field out
    assert resumed.pause_until == datetime(1, 1, 1, tzinfo=timezone.utc)
    assert resumed.pause_remaining is None
    assert not (await js.consumer_info(stream, "D")).paused

    with pytest.raises(errors.ConsumerNotFoundError):
        await js.consumer_pause(stream, "NOPE")


async def test_consumer_unpin(js: JetStream, stream: str) -> None:
    created = await js.consumer_create(stream, "PIN", priority_groups=["g"], priority_policy="pinned_client")
    assert created.config.priority_policy == "pinned_client"
    assert created.config.priority_groups == ["g"]
    # nothing is pinned yet: unpinning is still accepted (the reply is an empty object)
    await js.consumer_unpin(stream, "PIN", group="g")

    with pytest.raises(errors.ConsumerInvalidPriorityGroupError) as exc:
        await js.consumer_unpin(stream, "PIN", group="unknown")
    assert (exc.value.code, exc.value.err_code) == (400, 10160)
    with pytest.raises(errors.ConsumerNotFoundError):
        await js.consumer_unpin(stream, "NOPE", group="g")


async def test_consumer_reset(js: JetStream, stream: str) -> None:
    await js.consumer_create(stream, "D")
    # without a sequence the consumer goes back to its ack floor + 1
    start = await js.consumer_reset(stream, "D")
    assert (start.reset_seq, start.num_pending) == (1, 4)
    reset = await js.consumer_reset(stream, "D", seq=3)
    assert reset.reset_seq == 3
    assert (reset.name, reset.num_pending) == ("D", 2)
    assert reset.delivered.stream_seq == 2
    # a reset moves the ack floor too: the next plain reset comes back to 3, not 1
    back = await js.consumer_reset(stream, "D")
    assert back.reset_seq == 3
    assert back.ack_floor.stream_seq == 2
    # DeliverAll consumers accept any sequence, even past the end of the stream
    beyond = await js.consumer_reset(stream, "D", seq=1000)
    assert (beyond.reset_seq, beyond.num_pending) == (1000, 0)

    await js.consumer_create(stream, "NEW", deliver_policy="new")
    with pytest.raises(errors.ConsumerInvalidResetError) as exc:
        await js.consumer_reset(stream, "NEW", seq=1)
    assert (exc.value.code, exc.value.err_code) == (400, 10204)


async def test_consumer_reset_unknown_consumer_times_out(js: JetStream, stream: str) -> None:
    # Only a consumer answers its own RESET subject; for an unknown one the request is dropped.
    with pytest.raises(errors.TimeoutError):
        await js.consumer_reset(stream, "NOPE", timeout=0.2)


async def test_consumer_msg_next_message(js: JetStream, stream: str) -> None:
    await js.consumer_create(stream, "D")
    msg = await js.consumer_msg_next(stream, "D", batch=1, timeout=0.5)
    assert isinstance(msg, RawMessage)
    assert (msg.subject, msg.data) == ("a.0", b"m0")
    assert msg.reply.startswith("$JS.ACK.S.D.")


async def test_consumer_msg_next_errors(js: JetStream, stream: str) -> None:
    await js.consumer_create(stream, "EMPTY", filter_subject="a.none")
    with pytest.raises(errors.NoMessageFoundError) as nothing:
        await js.consumer_msg_next(stream, "EMPTY", no_wait=True)
    assert nothing.value.code == 404
    # An expired pull is a bare 408 status: no err_code, so the plain APIError.
    with pytest.raises(errors.APIError) as expired:
        await js.consumer_msg_next(stream, "EMPTY", expires=timedelta(milliseconds=100), timeout=2)
    assert (type(expired.value), expired.value.code, expired.value.err_code) == (errors.APIError, 408, 0)

    await js.consumer_create(stream, "PIN", priority_groups=["g"], priority_policy="pinned_client")
    with pytest.raises(errors.APIError) as bad:
        await js.consumer_msg_next(stream, "PIN", no_wait=True)
    assert bad.value.code == 400
    assert "Priority Group" in bad.value.description

    # The pull subject is served by the consumer itself: an unknown one is "no responders",
    # which for this endpoint does not mean that JetStream is off.
    with pytest.raises(errors.NoRespondersError) as missing:
        await js.consumer_msg_next(stream, "NOPE", no_wait=True)
    assert not isinstance(missing.value, errors.JetStreamNotEnabledError)


async def test_consumer_by_config_object(js: JetStream, stream: str) -> None:
    cfg = ConsumerConfig(durable_name="CFG", filter_subject="a.1", max_ack_pending=5)
    created = await js.consumer_create(stream, cfg, description="kw")
    assert (created.name, created.config.max_ack_pending, created.config.description) == ("CFG", 5, "kw")
    assert created.num_pending == 2
    assert cfg.description is None and cfg.name is None, "the caller's config must not be modified"

"""Publish options over the mock transport: the subject-sequence subject, counters, schedules, TTL
"never", retries, and acks that are not PubAcks."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from unit_support import PUB_ACK, always, mock_js

from jetstream import MessageTTL, Reply, Schedule, errors

UTC = timezone.utc


async def test_expected_last_subject_seq_subject() -> None:
    js, transport = mock_js(always(PUB_ACK))
    await js.publish("a.2", b"x", expected_last_subject_seq=5, expected_last_subject_seq_subject="a.*")
    assert transport.requests[0][2] == {
        "Nats-Expected-Last-Subject-Sequence": "5",
        "Nats-Expected-Last-Subject-Sequence-Subject": "a.*",
    }


async def test_expected_last_subject_seq_subject_needs_the_sequence() -> None:
    js, transport = mock_js(always(PUB_ACK))
    with pytest.raises(errors.InvalidArgumentError, match="expected_last_subject_seq"):
        await js.publish("a.2", b"x", expected_last_subject_seq_subject="a.1")
    with pytest.raises(errors.InvalidNameError):
        await js.publish("a.2", b"x", expected_last_subject_seq=1, expected_last_subject_seq_subject="a..b")
    assert transport.requests == []


@pytest.mark.parametrize("value", [-1, True, "3", 1.0])
async def test_sequence_expectations_must_be_counts(value: object) -> None:
    js, transport = mock_js(always(PUB_ACK))
    with pytest.raises(errors.InvalidArgumentError):
        await js.publish("a.1", b"x", expected_last_seq=value)  # type: ignore[arg-type]
    assert transport.requests == []


async def test_ttl_never() -> None:
    js, transport = mock_js(always(PUB_ACK))
    await js.publish("a.1", b"x", ttl="never")
    assert transport.requests[0][2] == {"Nats-TTL": "never"}
    with pytest.raises(errors.InvalidArgumentError):
        await js.publish("a.1", b"x", ttl="forever")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("delta", "header"), [(1, "+1"), (0, "+0"), (-10, "-10"), (10**30, "+" + "1" + "0" * 30)]
)
async def test_incr_header(delta: int, header: str) -> None:
    js, transport = mock_js(always(b'{"stream":"C","seq":1,"val":"7"}'))
    ack = await js.publish("c.hits", incr=delta)
    assert transport.requests == [("c.hits", b"", {"Nats-Incr": header})]
    assert ack.val == "7"


async def test_counter_add_returns_the_total_as_an_int() -> None:
    big = "123456789012345678901234567890"
    js, transport = mock_js(always(f'{{"stream":"C","seq":4,"val":"{big}"}}'.encode()))
    assert await js.counter_add("c.hits", -3) == int(big)
    assert transport.requests == [("c.hits", b"", {"Nats-Incr": "-3"})]


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (b'{"stream":"C","seq":6,"duplicate": true}', errors.UnexpectedReplyError),
        (b'{"stream":"C","seq":6,"val":"x1"}', errors.UnexpectedReplyError),
        (
            b'{"error":{"code":400,"err_code":10168,"description":"message counters is disabled"},"stream":"N","seq":0}',
            errors.MessageIncrDisabledError,
        ),
    ],
)
async def test_counter_add_without_a_value(reply: bytes, error: type[errors.JetStreamError]) -> None:
    js, _ = mock_js(always(reply))
    with pytest.raises(error):
        await js.counter_add("c.hits", 1)


@pytest.mark.parametrize("delta", [True, 1.5, "1"])
async def test_counter_add_takes_an_int(delta: object) -> None:
    js, transport = mock_js(always(PUB_ACK))
    with pytest.raises(errors.InvalidArgumentError):
        await js.counter_add("c.hits", delta)  # type: ignore[arg-type]
    assert transport.requests == []


def test_schedule_at() -> None:
    when = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    s = Schedule.at(when, "orders.new", ttl=timedelta(minutes=5))
    assert s.headers() == {
        "Nats-Schedule": "@at 2030-01-02T03:04:05Z",
        "Nats-Schedule-Target": "orders.new",
        "Nats-Schedule-TTL": "300s",
    }
    offset = datetime(2030, 1, 2, 3, 4, 5, 250000, tzinfo=timezone(timedelta(hours=2)))
    assert Schedule.at(offset, "t").pattern == "@at 2030-01-02T03:04:05.25+02:00"
    with pytest.raises(errors.InvalidArgumentError, match="timezone-aware"):
        Schedule.at(datetime(2030, 1, 2), "t")


@pytest.mark.parametrize(
    ("interval", "pattern"),
    [
        (1, "@every 1s"),
        (timedelta(minutes=5), "@every 300s"),
        (1.5, "@every 1500ms"),
        (timedelta(hours=2), "@every 7200s"),
    ],
)
def test_schedule_every(interval: timedelta | float, pattern: str) -> None:
    assert Schedule.every(interval, "t").pattern == pattern


@pytest.mark.parametrize("interval", [0.5, 0, timedelta(milliseconds=999)])
def test_schedule_every_needs_a_second(interval: timedelta | float) -> None:
    with pytest.raises(errors.InvalidArgumentError, match="1 second"):
        Schedule.every(interval, "t")


def test_schedule_cron_with_every_option() -> None:
    s = Schedule.cron(
        "0 30 * * * *", "out.x", time_zone="Europe/Amsterdam", source="src.x", ttl="never", rollup=True
    )
    assert s.headers() == {
        "Nats-Schedule": "0 30 * * * *",
        "Nats-Schedule-Target": "out.x",
        "Nats-Schedule-Source": "src.x",
        "Nats-Schedule-TTL": "never",
        "Nats-Schedule-Time-Zone": "Europe/Amsterdam",
        "Nats-Schedule-Rollup": "sub",
    }
    assert Schedule.cron("@hourly", "t", time_zone="UTC").time_zone == "UTC"


@pytest.mark.parametrize(
    "make",
    [
        lambda: Schedule.cron("", "t"),
        lambda: Schedule.cron("@hourly", "t.*"),
        lambda: Schedule.cron("@hourly", ""),
        lambda: Schedule.cron("@hourly", "t", source="s.>"),
        lambda: Schedule.cron("@hourly", "t", ttl=0.5),
        lambda: Schedule.cron("@hourly", "t", time_zone=""),
        lambda: Schedule.every(5, "t", ttl=-1),
        lambda: Schedule("@every 5s", "t", time_zone="UTC"),
        lambda: Schedule(f"@at {datetime.now(UTC).isoformat()}", "t", time_zone="UTC"),
    ],
)
def test_bad_schedules_are_refused(make: object) -> None:
    with pytest.raises(errors.InvalidArgumentError):
        make()  # type: ignore[operator]


async def test_schedule_headers_go_with_the_other_options() -> None:
    js, transport = mock_js(always(PUB_ACK))
    await js.publish(
        "sch.orders.1",
        b"body",
        headers={"X": "1"},
        ttl=60,
        schedule=Schedule.every(10, "orders.1"),
    )
    assert transport.requests == [
        (
            "sch.orders.1",
            b"body",
            {"X": "1", "Nats-TTL": "60s", "Nats-Schedule": "@every 10s", "Nats-Schedule-Target": "orders.1"},
        )
    ]
    with pytest.raises(errors.InvalidArgumentError):
        await js.publish("sch.orders.1", schedule="@hourly")  # type: ignore[arg-type]


def test_message_ttl_type_is_exported() -> None:
    value: MessageTTL = "never"
    assert value == "never"


async def test_status_reply_is_not_a_pub_ack() -> None:
    js, _ = mock_js(
        always(Reply("a.1", b"", {"Status": "408", "Description": "Request Timeout"}, status="408"))
    )
    with pytest.raises(errors.UnexpectedReplyError, match="status 408"):
        await js.publish("a.1", b"x")


async def test_ack_without_a_stream_name_is_refused() -> None:
    js, _ = mock_js(always(b'{"stream":"","seq":1}'))
    with pytest.raises(errors.UnexpectedReplyError, match="stream"):
        await js.publish("a.1", b"x")


async def test_retry_options() -> None:
    calls = 0

    def answer(subject: str, payload: bytes, headers: object) -> bytes:
        nonlocal calls
        calls += 1
        if calls < 4:
            raise errors.NoRespondersError(subject)
        return PUB_ACK

    js, transport = mock_js(lambda s, p, h: answer(s, p, h))
    ack = await js.publish("a.1", b"x", retry_attempts=3, retry_wait=0.01)
    assert ack.seq == 1
    assert len(transport.requests) == 4

    calls = 0
    with pytest.raises(errors.NoStreamResponseError):
        await js.publish("a.1", b"x", retry_attempts=0)
    assert calls == 1


@pytest.mark.parametrize(("attempts", "wait"), [(-1, 0.1), (True, 0.1), (2, 0), (2, -1.0)])
async def test_bad_retry_options(attempts: int, wait: float) -> None:
    js, transport = mock_js(always(PUB_ACK))
    with pytest.raises(errors.InvalidArgumentError):
        await js.publish("a.1", b"x", retry_attempts=attempts, retry_wait=wait)
    assert transport.requests == []

"""Pull-consumer logic that needs no server: status classification, options and their defaults
(ADR-37), pending accounting (P16: never negative, never above the limits), priority checks
(ADR-42), config comparison (P17), the waiting primitive and the connection-callback chaining."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import msgspec
import pytest
from nats.aio.client import Client as NATS
from unit_support import always, consumer_info, mock_js

from jetstream import (
    ConsumerConfig,
    ConsumerInfo,
    JetStream,
    LeadershipChanged,
    PinIdMismatch,
    PullWarning,
    Reconnected,
    errors,
)
from jetstream._consume._fetch import heartbeat_for
from jetstream._consume._manage import config_differences
from jetstream._consume._message import Message
from jetstream._consume._messages import ResetNeeded, _Inbox, _Lifecycle
from jetstream._consume._options import ConsumeOptions, MessagesOptions, Priority
from jetstream._consume._ordered import OrderedConfig
from jetstream._consume._pull import Consumer
from jetstream._consume._status import (
    BYTES_ONLY_BATCH,
    ConsumeEvent,
    Kind,
    Signal,
    classify,
    code_and_description,
    msg_size,
    pending_counts,
)
from jetstream._consume._watch import Watch
from jetstream._time import dec_hook
from jetstream._transport import (
    ConnectionEvent,
    FakeConnection,
    FakeMsg,
    LinkDisconnected,
    LinkReconnected,
    Msg,
    for_client,
)
from jetstream._transport import status_msg as _status_msg
from jetstream._transport._headers import MultiValueDict


def status(code: str, description: str = "", **headers: str) -> Msg:
    """A status message as the connection's parser delivers it (status line, no reply, no data)."""
    return _status_msg("_INBOX.x", int(code), description, **headers)


def user(data: bytes = b"x", headers: dict[str, str] | None = None, reply: str = "") -> Msg:
    reply = reply or "$JS.ACK.S.D.1.1.1.1700000000000000000.0"
    return FakeMsg("s.a", data, reply, headers)


@pytest.mark.parametrize(
    ("msg", "kind"),
    [
        (user(), Kind.USER),
        (user(b"", {"Foo": "bar"}), Kind.USER),  # headers but no status: a user message
        (status("100", "Idle Heartbeat", **{"Nats-Last-Consumer": "0"}), Kind.HEARTBEAT),
        (status("404", "No Messages"), Kind.END),
        (status("408", "Request Timeout"), Kind.END),
        (status("408", "Interest Expired"), Kind.END),
        (status("409", "Message Size Exceeds MaxBytes"), Kind.MAX_BYTES),
        (status("409", "Batch Completed"), Kind.END),
        (status("409", "Consumer Deleted"), Kind.DELETED),
        (status("409", "Consumer is push based"), Kind.PUSH_BASED),
        (status("409", "Leadership Change"), Kind.LEADERSHIP),
        (status("409", "Server Shutdown"), Kind.SHUTDOWN),
        (status("409", "Exceeded MaxWaiting"), Kind.REJECTED),
        (status("409", "Exceeded MaxRequestBatch of 2"), Kind.REJECTED),
        (status("409", "Something New"), Kind.OTHER),
        (status("423", "Nats-Wrong-Pin-Id"), Kind.PIN_MISMATCH),
        (status("423", "Nats-Pin-Id mismatch"), Kind.PIN_MISMATCH),
        (status("400", "Bad Request - Priority Group missing"), Kind.BAD_REQUEST),
        (status("503"), Kind.NO_RESPONDERS),
        (status("418", "teapot"), Kind.OTHER),
    ],
)
def test_classify(msg: Msg, kind: Kind) -> None:
    assert classify(msg) is kind


def test_status_description_is_only_its_first_line() -> None:
    # what nats-py leaves in Description for "NATS/1.0 503\r\nNats-Subject: ...\r\n\r\n"
    msg = status("503", "\nNats-Subject: $JS.API.CONSUMER.MSG.NEXT.S.D")
    assert code_and_description(msg) == (503, "")
    assert code_and_description(status("409", "Consumer Deleted")) == (409, "Consumer Deleted")


def test_pending_counts() -> None:
    msg = status("408", "Request Timeout", **{"Nats-Pending-Messages": "7", "Nats-Pending-Bytes": "1024"})
    assert pending_counts(msg) == (7, 1024)
    assert pending_counts(status("408")) == (0, 0)
    assert pending_counts(status("408", **{"Nats-Pending-Messages": "junk", "Nats-Pending-Bytes": "-5"})) == (
        0,
        0,
    )


def test_msg_size_counts_subject_reply_headers_data() -> None:
    plain = user(b"hello", reply="r")
    assert msg_size(plain) == len("s.a") + len("r") + 5
    with_headers = user(b"hello", {"A": "1"}, reply="r")
    assert msg_size(with_headers) == len("s.a") + 1 + 5 + len("NATS/1.0\r\nA: 1\r\n\r\n")


def test_stream_option_defaults_follow_adr_37() -> None:
    opts = ConsumeOptions.build(
        max_messages=None,
        max_bytes=None,
        expires=30,
        heartbeat=None,
        threshold_messages=None,
        threshold_bytes=None,
    )
    assert (opts.max_messages, opts.threshold_messages, opts.heartbeat) == (500, 250, 15.0)
    long = ConsumeOptions.build(
        max_messages=1,
        max_bytes=None,
        expires=timedelta(minutes=5),
        heartbeat=None,
        threshold_messages=None,
        threshold_bytes=None,
    )
    assert (long.threshold_messages, long.heartbeat) == (1, 30.0)  # max_messages=1 still pulls; hb capped
    short = ConsumeOptions.build(
        max_messages=None,
        max_bytes=4096,
        expires=1,
        heartbeat=None,
        threshold_messages=None,
        threshold_bytes=None,
    )
    assert (short.max_messages, short.threshold_bytes, short.heartbeat) == (BYTES_ONLY_BATCH, 2048, 0.5)


@pytest.mark.parametrize(
    "options",
    [
        {"max_messages": 10, "max_bytes": 10, "threshold_bytes": 5},
        {"stop_after": 0},
        {"max_messages": 0},
        {"max_bytes": -1},
        {"expires": 0.5},
        {"expires": 10, "heartbeat": 6},
        {"expires": 10, "heartbeat": 0.1},
        {"max_messages": 10, "threshold_messages": 0},
        {"max_messages": 10, "threshold_bytes": 5},
        {"max_bytes": 100, "threshold_messages": 5},
    ],
)
def test_stream_options_refused(options: dict[str, Any]) -> None:
    args: dict[str, Any] = {
        "max_messages": None,
        "max_bytes": None,
        "expires": 30,
        "heartbeat": None,
        "threshold_messages": None,
        "threshold_bytes": None,
    }
    args.update(options)
    with pytest.raises(errors.InvalidArgumentError):
        ConsumeOptions.build(**args)


@pytest.mark.parametrize("value", [0, -1, True, float("nan"), "5", timedelta(0), None])
async def test_one_duration_check_for_timeouts_expiries_and_heartbeats(value: Any) -> None:
    """Every duration a call takes is checked the same way, and the error names the argument."""
    js, _ = mock_js(always(b"{}"))
    consumer = Consumer(js, info_with_groups(None))
    calls: list[tuple[str, Any]] = [
        ("expires", lambda: consumer.messages(expires=value)),
        ("expires", lambda: consumer.fetch(1, expires=value)),
        ("heartbeat", lambda: consumer.fetch(1, heartbeat=value or 0)),
        ("heartbeat", lambda: consumer.messages(heartbeat=value or 0)),
    ]
    if value is not None:  # None is "no timeout" for a call
        calls.append(("timeout", lambda: consumer.next(timeout=value)))
        calls.append(("timeout", lambda: js.account_info(timeout=value)))
    for name, call in calls:
        with pytest.raises(errors.InvalidArgumentError, match=name):
            result = call()
            if asyncio.iscoroutine(result):
                await result


def test_fetch_heartbeat_defaults() -> None:
    assert heartbeat_for(5, None, explicit=False) is None
    assert heartbeat_for(30, None, explicit=False) == 5.0
    assert heartbeat_for(30, 2, explicit=True) == 2.0
    assert heartbeat_for(3, 2, explicit=False) is None  # a short final pull of next() drops it
    with pytest.raises(errors.InvalidArgumentError):
        heartbeat_for(3, 2, explicit=True)


def info_with_groups(groups: list[str] | None) -> ConsumerInfo:
    raw = consumer_info("S", "D")
    raw["config"]["priority_groups"] = groups
    return msgspec.convert(raw, ConsumerInfo, dec_hook=dec_hook)


def test_priority_checks() -> None:
    grouped = info_with_groups(["jobs"])
    Priority(group="jobs").check(grouped)
    for bad in (Priority(), Priority(group="other")):
        with pytest.raises(errors.InvalidArgumentError):
            bad.check(grouped)
    plain = info_with_groups(None)
    Priority().check(plain)
    with pytest.raises(errors.InvalidArgumentError):
        Priority(group="jobs").check(plain)
    for bad in (Priority(priority=10), Priority(min_pending=-1), Priority(min_ack_pending=-2)):
        with pytest.raises(errors.InvalidArgumentError):
            bad.check(None)


def test_config_differences_ignore_server_defaults() -> None:
    wanted = ConsumerConfig(
        durable_name="D",
        ack_wait=timedelta(seconds=10),
        filter_subjects=["a"],
        metadata={"owner": "me"},
        max_deliver=3,
    )
    actual = ConsumerConfig(
        durable_name="D",
        name="D",
        ack_wait=timedelta(seconds=10),
        filter_subject="a",  # the server keeps a single filter in either field
        metadata={"owner": "me", "_nats.ver": "2.15.1"},
        max_deliver=3,
        max_ack_pending=1000,
        deliver_policy="all",
    )
    assert config_differences(wanted, actual) == []
    changed = msgspec.structs.replace(actual, max_deliver=4, filter_subject="b", metadata={"owner": "you"})
    assert config_differences(wanted, changed) == ["max_deliver", "filter_subjects", "metadata"]


async def test_signal_wakes_every_waiter_and_remembers_an_early_wake() -> None:
    signal = Signal()
    signal.wake()
    await asyncio.wait_for(signal.wait(None), 1)  # the early wake is not lost
    waiters = [asyncio.ensure_future(signal.wait(5)) for _ in range(3)]
    await asyncio.sleep(0)
    signal.wake()
    await asyncio.wait_for(asyncio.gather(*waiters), 1)
    loop = asyncio.get_running_loop()
    start = loop.time()
    await signal.wait(0.05)
    assert loop.time() - start >= 0.04
    # a cancelled wait leaves nothing behind
    waiter = asyncio.ensure_future(signal.wait(None))
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert signal._waiters == []


def inbox_for(
    max_messages: int | None = 10, max_bytes: int | None = None, ordered: bool = False
) -> tuple[_Inbox, list[ConsumeEvent]]:
    js, _ = mock_js(always(b"{}"))
    consumer = Consumer(js, info_with_groups(None))
    opts = ConsumeOptions.build(
        max_messages=max_messages,
        max_bytes=max_bytes,
        expires=2,
        heartbeat=None,
        threshold_messages=None,
        threshold_bytes=None,
    )
    events: list[ConsumeEvent] = []
    opts = msgspec.structs.replace(opts, on_event=events.append)
    inbox = _Inbox(consumer._pulls, opts, ordered)
    inbox.state = _Lifecycle.OPEN
    return inbox, events


async def test_pending_accounting_stays_within_bounds() -> None:
    """P16: delivered messages and pull-ending statuses never drive the counts negative, and the
    counts follow ADR-37 (raise on pull, lower on take and on Nats-Pending-* of a status)."""
    inbox, _ = inbox_for(max_messages=10)
    inbox.pending_msgs = 10  # as after a pull of 10
    for i in range(3):
        await inbox.on_msg(user(b"%d" % i))
    assert (len(inbox.buffer), inbox.pending_msgs) == (3, 10)
    inbox.take()
    assert inbox.pending_msgs == 9
    # the pull expired owing 7: only the 2 buffered remain
    await inbox.on_msg(
        status("408", "Request Timeout", **{"Nats-Pending-Messages": "7", "Nats-Pending-Bytes": "0"})
    )
    assert inbox.pending_msgs == 2
    # a bogus status claiming more than is pending cannot go below zero
    await inbox.on_msg(status("408", "Request Timeout", **{"Nats-Pending-Messages": "50"}))
    assert inbox.pending_msgs == 0
    inbox.take()
    inbox.take()
    assert (inbox.pending_msgs, inbox.pending_bytes, inbox.buffered_bytes) == (0, 0, 0)


async def test_inbox_status_reactions() -> None:
    inbox, events = inbox_for()
    pulls = inbox.pulls
    await inbox.on_msg(user(b"a", {"Nats-Pin-Id": "PIN1"}))
    assert pulls.pin_id == "PIN1"
    inbox.pending_msgs = 10
    await inbox.on_msg(status("409", "Leadership Change"))
    assert inbox.pending_msgs == 1  # only the buffered one: outstanding pulls are gone
    inbox.pending_msgs = 10
    await inbox.on_msg(status("423", "Nats-Wrong-Pin-Id", **{"Nats-Pending-Messages": "9"}))
    assert pulls.pin_id is None and inbox.pending_msgs == 1
    await inbox.on_msg(status("409", "Exceeded MaxWaiting"))
    assert inbox.retry_at > 0  # refused: the next pull waits a little
    assert [type(e) for e in events] == [LeadershipChanged, PinIdMismatch, PullWarning]
    assert events[2] == PullWarning(409, "Exceeded MaxWaiting")
    assert inbox.terminal is None
    await inbox.on_msg(status("409", "Consumer Deleted"))
    assert isinstance(inbox.terminal, errors.ConsumerDeletedError)
    ordered, _ = inbox_for(ordered=True)
    await ordered.on_msg(status("409", "Consumer Deleted"))
    assert isinstance(ordered.terminal, ResetNeeded) and ordered.terminal.reason == "deleted"
    pushed, _ = inbox_for()
    await pushed.on_msg(status("409", "Consumer is push based"))
    assert isinstance(pushed.terminal, errors.ConsumerIsPushBasedError)


async def test_connection_callbacks_are_chained_not_replaced() -> None:
    """nats-py allows one reconnected callback: ours runs, and the user's still does (P15)."""
    nc = NATS()
    calls: list[str] = []

    async def users_reconnected() -> None:
        calls.append("user reconnected")

    async def users_disconnected() -> None:
        calls.append("user disconnected")

    nc._reconnected_cb = users_reconnected
    nc._disconnected_cb = users_disconnected

    class Listener:
        def connection_event(self, event: ConnectionEvent) -> None:
            assert isinstance(event, (LinkDisconnected, LinkReconnected))
            calls.append("listener")

    conn = for_client(nc)
    assert for_client(nc) is conn  # one per connection
    state = conn.hub
    listener = Listener()
    state.add(listener)
    assert nc._reconnected_cb is not None and nc._disconnected_cb is not None
    await nc._disconnected_cb()
    await nc._reconnected_cb()
    assert calls == ["listener", "user disconnected", "listener", "user reconnected"]
    assert state.generation == 0 and not state.connected


async def test_a_buffered_message_waits_for_what_is_due_first() -> None:
    """`messages()` hands out a buffered message at once only when nothing is due: a pull fallen
    below the threshold is sent, and a reconnect reported and re-pulled, before it."""
    conn = FakeConnection()
    consumer = Consumer(JetStream(transport=conn), info_with_groups(None))
    events: list[ConsumeEvent] = []
    stream = consumer.messages(max_messages=4, expires=30, on_event=events.append)

    def pulls() -> int:
        return sum(1 for published in conn.published if published[0] == consumer._next_subject)

    async with stream:
        for i in range(5):
            await stream._inbox.on_msg(user(b"%d" % i))
        got = [(await stream.__anext__()).data for _ in range(3)]
        assert (got, pulls()) == ([b"0", b"1", b"2"], 1)  # 4 owed, 1 left: above the threshold of 2
        assert ((await stream.__anext__()).data, pulls()) == (b"3", 2)  # below it: pulled first
        conn.disconnect()
        conn.reconnect()
        assert ((await stream.__anext__()).data, pulls()) == (b"4", 3)  # what was owed died with it
        assert [type(e) for e in events] == [Reconnected]


class _Messages(Watch[Message]):
    def _decode(self, msg: Message) -> Message:
        return msg


async def test_a_one_shot_read_bounds_the_wait_for_each_item() -> None:
    """`keys()`/`history()` read through `Watch._initial_values`: an item that does not come within
    the timeout is `errors.TimeoutError`, though no timer runs while items are at hand."""

    def server(subject: str, payload: bytes, headers: object) -> Any:
        if subject.startswith("$JS.API.CONSUMER.CREATE."):
            return msgspec.json.encode(consumer_info("S", "W"))  # 1 pending: an item is due
        if subject.startswith("$JS.API.CONSUMER.DELETE."):
            return b'{"success": true}'
        return errors.TimeoutError(subject, None)  # pulls go unanswered

    js, _ = mock_js(server)
    watch = _Messages(
        js,
        "S",
        OrderedConfig(filter_subjects=("s.>",)),
        updates_only=False,
        not_found=lambda: errors.StreamNotFoundError(404, 10059, "stream not found"),
    )
    loop = asyncio.get_running_loop()
    async with await watch.start():
        started = loop.time()
        with pytest.raises(errors.TimeoutError):
            async for _ in watch._initial_values(0.2):
                pass
        assert 0.2 <= loop.time() - started < 2


def test_help_shows_the_keywords_of_messages_and_consume() -> None:
    """The options are one TypedDict (``**options: Unpack[...]``), and help() still lists them."""
    import inspect

    from jetstream import OrderedConsumer

    common = {
        "max_messages",
        "max_bytes",
        "expires",
        "heartbeat",
        "threshold_messages",
        "stop_after",
        "on_event",
    }
    for method, extra in (
        (Consumer.messages, {"group", "min_pending", "priority"}),
        (Consumer.consume, {"handler", "on_error", "group"}),
        (OrderedConsumer.messages, set()),
        (OrderedConsumer.consume, {"handler", "on_error"}),
    ):
        params = inspect.signature(method).parameters
        assert common | extra <= set(params), method
        assert "options" not in params
        assert params["expires"].default == 30.0
    assert "group" not in inspect.signature(OrderedConsumer.messages).parameters


async def test_ordered_messages_refuse_priority_options() -> None:
    with pytest.raises(TypeError):
        ConsumeOptions.build(None, of=MessagesOptions, group="g")


def test_msg_size_is_the_servers_count() -> None:
    """UTF-8 bytes, every value of a repeated header, and not the Nats-Pin-Id the server adds to
    a pinned client's message after weighing it."""
    plain = msg_size(user(b"hello", reply="r"))
    assert msg_size(FakeMsg("s.é", b"hello", "r", None)) == plain + 1
    repeated = MultiValueDict({"A": "1"}, [("A", "1"), ("A", "22")])
    assert msg_size(user(b"hello", repeated, reply="r")) == plain + len("NATS/1.0\r\nA: 1\r\nA: 22\r\n\r\n")
    assert msg_size(user(b"hello", {"Nats-Pin-Id": "P1"}, reply="r")) == plain
    with_pin = user(b"hello", {"A": "1", "Nats-Pin-Id": "P1"}, reply="r")
    assert msg_size(with_pin) == plain + len("NATS/1.0\r\nA: 1\r\n\r\n")


async def test_capped_pulls_notice_a_cap_used_up_without_a_status() -> None:
    """max_messages with max_bytes: once the byte caps of the outstanding pulls are used up, what
    they owed in messages will not come, and a pull is due again."""
    size = msg_size(user(b"x"))
    inbox, events = inbox_for(max_messages=10, max_bytes=2 * size)
    assert inbox.opts.capped and not inbox.opts.track_bytes
    inbox.pending_msgs, inbox.pending_bytes = 10, 2 * size  # as after a pull of 10, capped
    await inbox.on_msg(user(b"x"))
    assert inbox.pending_msgs == 10 and not inbox.pull_due(inbox.clock())
    await inbox.on_msg(user(b"x"))
    assert (inbox.pending_msgs, inbox.pending_bytes) == (2, 0)
    assert inbox.pull_due(inbox.clock())
    assert events == []


async def test_a_message_larger_than_a_full_pull_pauses_pulling() -> None:
    inbox, events = inbox_for(max_messages=None, max_bytes=100)
    inbox.pending_bytes = 100
    # the rest of a pull did not take the next message: pull again at once
    await inbox.on_msg(status("409", "Message Size Exceeds MaxBytes", **{"Nats-Pending-Bytes": "40"}))
    assert (inbox.retry_at, events) == (0.0, [])
    # a full pull did not: a warning, and a pause before the next pull
    inbox.pending_bytes = 100
    await inbox.on_msg(status("409", "Message Size Exceeds MaxBytes", **{"Nats-Pending-Bytes": "100"}))
    assert inbox.retry_at > 0 and not inbox.pull_due(inbox.clock())
    assert [type(e) for e in events] == [PullWarning]


async def test_stop_after_bounds_what_is_pulled() -> None:
    inbox, _ = inbox_for(max_messages=10)
    inbox.opts = msgspec.structs.replace(inbox.opts, stop_after=3)
    inbox.pending_msgs = 3  # asked for the three
    assert not inbox.pull_due(inbox.clock())
    for i in range(3):
        await inbox.on_msg(user(b"%d" % i))
    assert not inbox.stopped_after()
    for _ in range(3):
        inbox.take()
    assert inbox.stopped_after() and not inbox.pull_due(inbox.clock())

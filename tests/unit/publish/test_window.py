"""The `publish_async` machinery over a fake connection: window, ack timeouts, retries, connection loss."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import pytest
from unit_support import PUB_ACK, always, mock_js

from jetstream import PubAck, errors
from jetstream._publish._window import AsyncPublisher
from jetstream._transport import FakeConnection, FakeMsg, MsgHandler, StatusHeaders, Subscription

ACK = PUB_ACK


class FakeLink(FakeConnection):
    """A connection that records publishes instead of routing them; the test plays the server
    with `reply` and drives the state through ``closed``/``connected``/``reconnects``."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[str, bytes, str, Mapping[str, str] | None]] = []
        self.subscribed: list[str] = []
        self.refuse: BaseException | None = None
        self._inboxes = 0

    closed = property(lambda self: self.is_closed, lambda self, v: setattr(self, "is_closed", v))
    connected = property(lambda self: self.is_connected, lambda self, v: setattr(self, "is_connected", v))
    reconnects_ = property(lambda self: self.reconnects, lambda self, v: setattr(self, "reconnects", v))

    def new_inbox(self) -> str:
        inbox = f"_INBOX.t{self._inboxes}"
        self._inboxes += 1
        return inbox

    async def subscribe(self, subject: str, cb: MsgHandler, *, queue: str = "") -> Subscription:
        self.subscribed.append(subject)
        return await super().subscribe(subject, cb, queue=queue)

    async def _send(self, subject: str, data: bytes, reply: str, headers: Mapping[str, str] | None) -> None:
        if self.refuse is not None:
            raise self.refuse
        self.sent.append((subject, data, reply, headers))

    def reply(self, index: int, data: bytes = ACK, headers: Mapping[str, str] | None = None) -> None:
        """Deliver the ack of the ``index``-th publish now (a status when headers has one)."""
        subject = self.sent[index][2]
        hdrs: dict[str, str] | None = dict(headers) if headers else None
        if hdrs and "Status" in hdrs:
            hdrs = StatusHeaders(hdrs)
        router = self.router
        prefix = router._prefix
        assert prefix is not None
        router._channels[subject[len(prefix)]](FakeMsg(subject, data, "", hdrs))


def publisher(link: FakeLink, **options: float) -> AsyncPublisher:
    return AsyncPublisher(link, **options)  # type: ignore[arg-type]  # float options for int ones


async def test_one_wildcard_subscription_and_a_reply_subject_per_message() -> None:
    link = FakeLink()
    pub = publisher(link)
    futures = [await pub.send("a.1", b"x", {"H": "v"}, 1.0) for _ in range(3)]
    assert link.subscribed == ["_INBOX.t0.*"]  # the connection's one reply inbox
    replies = [reply for _, _, reply, _ in link.sent]
    assert len(set(replies)) == 3
    assert all(r.startswith("_INBOX.t0.a") and r.count(".") == 2 for r in replies)
    assert link.sent[0][:2] == ("a.1", b"x")
    assert link.sent[0][3] == {"H": "v"}
    assert pub.pending == 3
    link.reply(1)
    ack = await futures[1]
    assert isinstance(ack, PubAck)
    assert (ack.stream, ack.seq) == ("MIN", 1)
    assert not futures[0].done()
    assert pub.pending == 2


async def test_full_window_waits_for_an_ack_and_never_exceeds_it() -> None:
    link = FakeLink()
    pub = publisher(link, max_pending=3)
    futures = [await pub.send("a", b"", None, 5.0) for _ in range(3)]
    fourth = asyncio.ensure_future(pub.send("a", b"", None, 5.0))
    await asyncio.sleep(0.01)
    assert not fourth.done()
    assert len(link.sent) == 3
    link.reply(0)
    await futures[0]
    fut4 = await asyncio.wait_for(fourth, 1)
    assert len(link.sent) == 4
    assert pub.pending == 3
    assert pub.max_seen == 3
    for i in (1, 2, 3):
        link.reply(i)
    await asyncio.gather(fut4, *futures[1:])
    assert pub.pending == 0


async def test_waiting_publishers_get_room_in_order() -> None:
    link = FakeLink()
    pub = publisher(link, max_pending=1)
    first = await pub.send("a.0", b"", None, 5.0)
    waiting = [asyncio.ensure_future(pub.send(f"a.{i}", b"", None, 5.0)) for i in (1, 2, 3)]
    await asyncio.sleep(0)
    futures = [first]
    for i in range(3):
        link.reply(i)
        futures.append(await asyncio.wait_for(waiting[i], 1))
    link.reply(3)
    await asyncio.gather(*futures)
    assert [subject for subject, _, _, _ in link.sent] == ["a.0", "a.1", "a.2", "a.3"]
    assert pub.max_seen == 1


async def test_full_window_times_out_with_a_typed_error_and_leaves_no_stale_waiter() -> None:
    link = FakeLink()
    pub = publisher(link, max_pending=1)
    first = await pub.send("a", b"", None, 5.0)
    loop = asyncio.get_running_loop()
    start = loop.time()
    with pytest.raises(errors.TimeoutError, match="window"):
        await pub.send("b", b"", None, 0.05)
    assert 0.04 <= loop.time() - start < 1
    assert len(link.sent) == 1
    link.reply(0)
    await first
    # The expired waiter must not hold the (now free) window.
    second = await asyncio.wait_for(pub.send("c", b"", None, 5.0), 0.5)
    link.reply(1)
    await second


async def test_a_cancelled_waiter_passes_its_slot_on() -> None:
    link = FakeLink()
    pub = publisher(link, max_pending=1)
    first = await pub.send("a", b"", None, 5.0)
    cancelled = asyncio.ensure_future(pub.send("b", b"", None, 5.0))
    later = asyncio.ensure_future(pub.send("c", b"", None, 5.0))
    await asyncio.sleep(0)
    link.reply(0)  # grants the slot to "b" ...
    cancelled.cancel()  # ... which is cancelled before it runs
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    fut = await asyncio.wait_for(later, 1)
    assert [subject for subject, _, _, _ in link.sent] == ["a", "c"]
    link.reply(1)
    await asyncio.gather(first, fut)


async def test_ack_timeout_fails_the_future_and_a_late_ack_is_ignored() -> None:
    link = FakeLink()
    pub = publisher(link)
    fut = await pub.send("a.1", b"", None, 0.05)
    with pytest.raises(errors.TimeoutError) as info:
        await asyncio.wait_for(fut, 1)
    assert isinstance(info.value, TimeoutError)
    assert info.value.subject == "a.1"
    assert "a.1" in str(info.value)
    assert pub.pending == 0
    link.reply(0)  # too late: nothing happens
    assert pub.pending == 0


async def test_no_timeout_waits_for_the_ack() -> None:
    link = FakeLink()
    pub = publisher(link)
    fut = await pub.send("a.1", b"", None, None)
    await asyncio.sleep(0.05)
    assert not fut.done()
    link.reply(0)
    assert (await fut).seq == 1


@pytest.mark.parametrize(
    ("data", "headers", "error"),
    [
        (b"hello", None, errors.MalformedReplyError),  # a core NATS responder answered
        (b"{}", None, errors.UnexpectedReplyError),
        (b'{"stream":"","seq":3}', None, errors.UnexpectedReplyError),
        (b"", {"Status": "408"}, errors.UnexpectedReplyError),
        (
            b'{"error":{"code":400,"err_code":10071,"description":"wrong last sequence: 2"},"stream":"S","seq":0}',
            None,
            errors.StreamWrongLastSequenceError,
        ),
    ],
)
async def test_a_reply_that_is_not_a_pub_ack_fails_the_future(
    data: bytes, headers: Mapping[str, str] | None, error: type[errors.JetStreamError]
) -> None:
    link = FakeLink()
    pub = publisher(link)
    fut = await pub.send("a.1", b"", None, 1.0)
    link.reply(0, data, headers)
    with pytest.raises(error):
        await fut
    assert pub.pending == 0


async def test_no_responders_is_retried_then_no_stream_response() -> None:
    link = FakeLink()
    pub = publisher(link, retry_wait=0.02)
    fut = await pub.send("a.1", b"x", {"Nats-Msg-Id": "m"}, 5.0)
    for attempt in (1, 2):
        link.reply(len(link.sent) - 1, b"", {"Status": "503"})
        for _ in range(50):
            if len(link.sent) > attempt:
                break
            await asyncio.sleep(0.01)
        assert len(link.sent) == attempt + 1
    # every attempt reuses the message and its reply subject
    assert all(sent == link.sent[0] for sent in link.sent)
    link.reply(2, b"", {"Status": "503"})
    with pytest.raises(errors.NoStreamResponseError):
        await asyncio.wait_for(fut, 1)
    assert pub.pending == 0


async def test_a_retry_can_succeed() -> None:
    link = FakeLink()
    pub = publisher(link, retry_wait=0.01)
    fut = await pub.send("a.1", b"x", None, 5.0)
    link.reply(0, b"", {"Status": "503"})
    for _ in range(100):
        if len(link.sent) == 2:
            break
        await asyncio.sleep(0.01)
    link.reply(1)
    assert (await asyncio.wait_for(fut, 1)).stream == "MIN"


async def test_no_retry_past_the_deadline() -> None:
    link = FakeLink()
    pub = publisher(link, retry_wait=0.5)
    fut = await pub.send("a.1", b"x", None, 0.2)
    link.reply(0, b"", {"Status": "503"})
    with pytest.raises(errors.NoStreamResponseError):
        await asyncio.wait_for(fut, 1)
    assert len(link.sent) == 1


async def test_connection_drop_fails_what_was_sent_before_it() -> None:
    link = FakeLink()
    pub = publisher(link, poll=0.01)
    before = [await pub.send("a", b"", None, None) for _ in range(3)]
    link.connected = False
    await asyncio.sleep(0.05)
    for fut in before:
        with pytest.raises(errors.ConnectionClosedError, match="may or may not"):
            await fut
    # Published while reconnecting: nats-py buffers it and sends it on the next connection.
    during = await pub.send("b", b"", None, None)
    link.connected, link.reconnects_ = True, 1
    await asyncio.sleep(0.05)
    assert not during.done()
    after = await pub.send("c", b"", None, None)
    link.reply(3)
    link.reply(4)
    await asyncio.gather(during, after)
    assert pub.pending == 0


async def test_a_reconnect_between_two_looks_is_seen() -> None:
    link = FakeLink()
    pub = publisher(link, poll=0.01)
    fut = await pub.send("a", b"", None, None)
    link.reconnects_ = 1  # dropped and reconnected while nobody looked
    with pytest.raises(errors.ConnectionClosedError):
        await asyncio.wait_for(fut, 1)


async def test_closed_connection_fails_pending_and_new_publishes() -> None:
    link = FakeLink()
    pub = publisher(link, poll=0.01)
    fut = await pub.send("a", b"", None, None)
    link.closed = True
    with pytest.raises(errors.ConnectionClosedError):
        await asyncio.wait_for(fut, 1)
    link.refuse = errors.ConnectionClosedError("closed")
    with pytest.raises(errors.ConnectionClosedError):
        await pub.send("a", b"", None, None)
    assert pub.pending == 0


async def test_close_fails_pending_acks_and_waiting_publishers() -> None:
    link = FakeLink()
    pub = publisher(link, max_pending=1)
    fut = await pub.send("a", b"", None, None)
    waiting = asyncio.ensure_future(pub.send("b", b"", None, None))
    await asyncio.sleep(0)
    await pub.aclose()
    await pub.aclose()
    with pytest.raises(errors.ConnectionClosedError):
        await fut
    with pytest.raises(errors.ConnectionClosedError):
        await waiting
    with pytest.raises(errors.ConnectionClosedError):
        await pub.send("c", b"", None, None)
    assert not link.router._channels  # its ack channel is given back


async def test_a_refused_publish_raises_and_frees_its_slot() -> None:
    link = FakeLink()
    pub = publisher(link, max_pending=1)
    link.refuse = errors.InvalidArgumentError("too big")
    with pytest.raises(errors.InvalidArgumentError):
        await pub.send("a", b"", None, 1.0)
    assert pub.pending == 0
    link.refuse = None
    fut = await asyncio.wait_for(pub.send("a", b"", None, 1.0), 0.5)
    link.reply(0)
    await fut


async def test_complete_waits_for_every_ack() -> None:
    link = FakeLink()
    pub = publisher(link)
    await pub.complete(0.01)  # nothing pending: returns at once
    futures = [await pub.send("a", b"", None, None) for _ in range(5)]
    waiter = asyncio.ensure_future(pub.complete(1.0))
    for i in range(4):
        link.reply(i)
        await asyncio.sleep(0)
        assert not waiter.done()
    link.reply(4)
    await asyncio.wait_for(waiter, 1)
    assert all(f.done() for f in futures)


async def test_complete_times_out_with_a_typed_error() -> None:
    link = FakeLink()
    pub = publisher(link)
    fut = await pub.send("a", b"", None, None)
    with pytest.raises(errors.TimeoutError, match="1 publish acks still pending"):
        await pub.complete(0.05)
    link.reply(0)
    await fut


async def test_a_future_cancelled_by_the_caller_still_frees_its_slot() -> None:
    link = FakeLink()
    pub = publisher(link, max_pending=1)
    fut = await pub.send("a", b"", None, None)
    fut.cancel()
    link.reply(0)
    assert pub.pending == 0
    nxt = await asyncio.wait_for(pub.send("b", b"", None, None), 0.5)
    link.reply(1)
    await nxt


async def test_max_pending_must_be_positive() -> None:
    with pytest.raises(errors.InvalidArgumentError):
        publisher(FakeLink(), max_pending=0)
    with pytest.raises(errors.InvalidArgumentError):
        mock_js(always(ACK), publish_async_max_pending=0)


async def test_publish_async_over_the_fake_connection() -> None:
    js, _ = mock_js(always(ACK))
    assert js.publish_async_pending() == 0
    await js.publish_async_complete()
    ack = await asyncio.wait_for(await js.publish_async("a.1", b"x"), 1)
    assert (ack.stream, ack.seq) == ("MIN", 1)


async def test_a_message_that_cannot_be_sent_takes_no_window_slot() -> None:
    link = FakeLink()
    pub = publisher(link, max_pending=2)
    bad: list[tuple[str, object, dict[str, object] | None]] = [
        ("a", None, None),
        ("a", "text", None),
        ("a", 5, None),
        ("a.\udcff", b"", None),
        ("a b", b"", None),
        ("a", b"", {"X": 5}),
        ("a", b"x" * (1024 * 1024 + 1), None),
        ("a", b"", {"X": "v" * (1024 * 1024)}),  # headers count against max_payload too
    ]
    for _ in range(3):
        for subject, data, headers in bad:
            with pytest.raises(errors.InvalidArgumentError):
                await pub.send(subject, data, headers, 1.0)  # type: ignore[arg-type]
    assert pub.pending == 0
    fut = await asyncio.wait_for(pub.send("a", b"", None, 1.0), 0.5)
    link.reply(0)
    await fut


async def test_a_denied_publish_fails_its_future_at_once() -> None:
    link = FakeLink()
    pub = publisher(link)
    denied = await pub.send("secret.x", b"", None, 30.0)
    other = await pub.send("open.x", b"", None, 30.0)
    link.deny("publish", "secret.x")
    with pytest.raises(errors.PermissionDeniedError) as info:
        await asyncio.wait_for(denied, 1)
    assert (info.value.operation, info.value.subject) == ("publish", "secret.x")
    assert not other.done()
    link.reply(1)
    await other


async def test_publish_async_checks_options_before_anything_is_sent() -> None:
    js, _ = mock_js(always(ACK))
    with pytest.raises(errors.InvalidNameError):
        await js.publish_async("a.*", b"x")
    with pytest.raises(errors.InvalidArgumentError):
        await js.publish_async("a.1", b"x", ttl=0.5)

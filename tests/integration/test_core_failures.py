"""Failure modes over the wire: no JetStream, junk replies, silence, closed connections.

The junk comes from a fake API: a plain nats-py subscriber on ``$JS.API.>`` of a server without
JetStream, answering whatever the test sets.
"""

from __future__ import annotations

import builtins
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import nats
import pytest
import pytest_asyncio
from nats.aio.msg import Msg

from jetstream import Duration, JetStream, StreamConfig, StreamState, Timestamp, errors
from jetstream._generated.api import GeneratedAPI
from jetstream.testing import NatsServer

Call = Callable[[JetStream], Awaitable[Any]]
JetStreamFactory = Callable[..., Awaitable[JetStream]]  # the js_factory fixture (conftest.py)

_T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)

# Every generated endpoint with minimal arguments.
ENDPOINTS: dict[str, Call] = {
    "account_info": lambda c: c.account_info(),
    "stream_create": lambda c: c.stream_create("S", subjects=["a"]),
    "stream_update": lambda c: c.stream_update("S", subjects=["a"]),
    "stream_names": lambda c: c.stream_names(),
    "stream_list": lambda c: c.stream_list(),
    "stream_info": lambda c: c.stream_info("S"),
    "stream_delete": lambda c: c.stream_delete("S"),
    "stream_purge": lambda c: c.stream_purge("S"),
    "stream_snapshot": lambda c: c.stream_snapshot("S", deliver_subject="snap"),
    "stream_restore": lambda c: c.stream_restore(
        "S",
        config=StreamConfig(name="S"),
        state=StreamState(
            messages=0, bytes=0, first_seq=0, first_ts=_T0, last_seq=0, last_ts=_T0, consumer_count=0
        ),
    ),
    "stream_msg_delete": lambda c: c.stream_msg_delete("S", seq=1),
    "stream_msg_get": lambda c: c.stream_msg_get("S", seq=1),
    "direct_get": lambda c: c.direct_get("S", seq=1),
    "direct_get_last_for_subject": lambda c: c.direct_get_last_for_subject("S", "a"),
    "consumer_create_legacy": lambda c: c.consumer_create_legacy("S"),
    "consumer_create": lambda c: c.consumer_create("S", "C"),
    "consumer_durable_create": lambda c: c.consumer_durable_create("S", "C"),
    "consumer_names": lambda c: c.consumer_names("S"),
    "consumer_list": lambda c: c.consumer_list("S"),
    "consumer_info": lambda c: c.consumer_info("S", "C"),
    "consumer_delete": lambda c: c.consumer_delete("S", "C"),
    "consumer_pause": lambda c: c.consumer_pause("S", "C"),
    "consumer_unpin": lambda c: c.consumer_unpin("S", "C", group="g"),
    "consumer_reset": lambda c: c.consumer_reset("S", "C"),
    "consumer_msg_next": lambda c: c.consumer_msg_next("S", "C", no_wait=True),
    "stream_leader_stepdown": lambda c: c.stream_leader_stepdown("S"),
    "consumer_leader_stepdown": lambda c: c.consumer_leader_stepdown("S", "C"),
    "stream_peer_remove": lambda c: c.stream_peer_remove("S", peer="p"),
    "stream_peer_evacuate": lambda c: c.stream_peer_evacuate("S", peer="p"),
    "stream_cancel_move": lambda c: c.stream_cancel_move("S"),
    "meta_leader_stepdown": lambda c: c.meta_leader_stepdown(),
    "server_remove": lambda c: c.server_remove(peer="p"),
    "server_evacuate": lambda c: c.server_evacuate(peer="p"),
    "meta_rescue": lambda c: c.meta_rescue(quorum_needed=1),
    "account_purge": lambda c: c.account_purge("APP"),
    "account_stream_move": lambda c: c.account_stream_move("APP", "S", server="x"),
    "account_stream_cancel_move": lambda c: c.account_stream_cancel_move("APP", "S"),
}


def test_endpoint_table_is_complete() -> None:
    generated = {name for name in vars(GeneratedAPI) if not name.startswith("_")}
    assert set(ENDPOINTS) == generated


RAW_ENDPOINTS = {"direct_get", "direct_get_last_for_subject", "consumer_msg_next"}


@pytest.mark.parametrize("account", ["APP", "SYS"])
async def test_every_endpoint_without_jetstream(
    nats_server_no_js: NatsServer, js_factory: JetStreamFactory, account: str
) -> None:
    url = nats_server_no_js.url if account == "APP" else nats_server_no_js.system_url
    assert url is not None
    # A generous timeout: the point is an immediate, typed answer rather than a timeout.
    client = await js_factory(url, timeout=3.0)
    wrong: dict[str, object] = {}
    for name, call in ENDPOINTS.items():
        start = time.monotonic()
        try:
            result: object = await call(client)
        except Exception as exc:
            result = exc
        # Raw endpoints cannot tell "JetStream off" from "no such stream/consumer".
        expected = errors.NoRespondersError if name in RAW_ENDPOINTS else errors.JetStreamNotEnabledError
        if not isinstance(result, expected) or time.monotonic() - start > 1.0:
            wrong[name] = result
        else:
            assert result.subject.startswith("$JS.API."), name
    assert wrong == {}

    with pytest.raises(errors.NoStreamResponseError):
        await client.publish("a", b"x")


class FakeAPI:
    """Answers every ``$JS.API.>`` request with `reply` (None: stays silent)."""

    def __init__(self) -> None:
        self.reply: bytes | None = b""
        self.requests: list[tuple[str, bytes]] = []

    async def handle(self, msg: Msg) -> None:
        self.requests.append((msg.subject, msg.data))
        if self.reply is not None:
            await msg.respond(self.reply)


@pytest_asyncio.fixture
async def fake_api(nats_server_no_js: NatsServer) -> AsyncIterator[FakeAPI]:
    fake = FakeAPI()
    nc = await nats.connect(nats_server_no_js.url)
    try:
        await nc.subscribe("$JS.API.>", cb=fake.handle)
        await nc.flush()
        yield fake
    finally:
        await nc.close()


@pytest_asyncio.fixture
async def fake_js(
    nats_server_no_js: NatsServer, js_factory: JetStreamFactory, fake_api: FakeAPI
) -> JetStream:
    return await js_factory(nats_server_no_js.url)


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (b"not json", errors.MalformedReplyError),
        (b"", errors.MalformedReplyError),
        (b'{"memory": 1', errors.MalformedReplyError),
        (b'{"memory": "lots"}', errors.UnexpectedReplyError),
        (b"[]", errors.UnexpectedReplyError),
        (b"null", errors.UnexpectedReplyError),
        (b'{"error": "boom"}', errors.UnexpectedReplyError),
        (b'{"type": "io.nats.jetstream.api.v1.account_info_response"}', errors.UnexpectedReplyError),
    ],
)
async def test_junk_reply(
    fake_api: FakeAPI, fake_js: JetStream, reply: bytes, error: type[errors.InvalidReplyError]
) -> None:
    fake_api.reply = reply
    with pytest.raises(error) as exc:
        await fake_js.account_info()
    assert type(exc.value) is error
    assert exc.value.subject == "$JS.API.INFO"
    assert exc.value.data == reply
    assert isinstance(exc.value, errors.JetStreamError)


async def test_error_reply_with_unknown_code(fake_api: FakeAPI, fake_js: JetStream) -> None:
    fake_api.reply = b'{"error": {"code": 418, "err_code": 65000, "description": "teapot", "extra": 1}}'
    with pytest.raises(errors.APIError) as exc:
        await fake_js.stream_info("S")
    assert type(exc.value) is errors.APIError
    assert (exc.value.code, exc.value.err_code, exc.value.description) == (418, 65000, "teapot")


async def test_error_reply_maps_by_err_code(fake_api: FakeAPI, fake_js: JetStream) -> None:
    # matching is by err_code, whatever the status code and description say
    fake_api.reply = b'{"error": {"code": 500, "err_code": 10059, "description": "whatever"}}'
    with pytest.raises(errors.StreamNotFoundError) as exc:
        await fake_js.consumer_info("S", "C")
    assert (exc.value.code, exc.value.description) == (500, "whatever")


async def test_error_reply_without_err_code(fake_api: FakeAPI, fake_js: JetStream) -> None:
    fake_api.reply = b'{"error": {"code": 503, "description": "jetstream not enabled"}}'
    with pytest.raises(errors.APIError) as exc:
        await fake_js.account_info()
    assert (exc.value.code, exc.value.err_code) == (503, 0)


_FUTURE_STREAM_INFO = b"""{
  "type": "io.nats.jetstream.api.v2.stream_info_response",
  "total": 0, "offset": 0, "limit": 0,
  "quantum_entanglement": {"pairs": [1, 2]},
  "config": {
    "name": "S", "subjects": ["a.>"], "retention": "quantum", "storage": "crystal",
    "discard": "sideways", "compression": "zstd", "max_age": 1500000001,
    "duplicate_window": 120000000000, "num_replicas": 1, "future_flag": true,
    "max_consumers": -1, "max_msgs": -1, "max_bytes": -1, "max_msg_size": -1,
    "consumer_limits": {"max_ack_pending": 5, "max_snacks": 3},
    "persist_mode": "telepathic"
  },
  "created": "2024-01-02T03:04:05.123456789Z",
  "state": {
    "messages": 2, "bytes": 10, "first_seq": 1, "first_ts": "2024-01-02T03:04:05Z",
    "last_seq": 2, "last_ts": "2024-01-02T03:04:06.5+02:00", "consumer_count": 0,
    "future_counter": 7
  },
  "sources": [{"name": "SRC", "lag": 0, "active": -1, "seq": 42, "future": {}}],
  "ts": "2024-01-02T03:04:07Z"
}"""


async def test_reply_from_a_newer_server_decodes(fake_api: FakeAPI, fake_js: JetStream) -> None:
    fake_api.reply = _FUTURE_STREAM_INFO
    info = await fake_js.stream_info("S")
    cfg = info.config
    # enums are open: values this SDK does not know pass through as strings
    assert (cfg.retention, cfg.storage, cfg.discard, cfg.compression) == (
        "quantum",
        "crystal",
        "sideways",
        "zstd",
    )
    # typed as the known Literal values: a value from a newer server is compared as an object
    persist_mode: object = cfg.persist_mode
    assert persist_mode == "telepathic"
    assert cfg.consumer_limits is not None
    assert cfg.consumer_limits.max_ack_pending == 5
    assert info.state.messages == 2
    assert info.state.last_ts.utcoffset() == timedelta(hours=2)
    assert isinstance(info.created, Timestamp)
    assert info.created.nanosecond == 789
    assert info.sources is not None
    assert info.sources[0].name == "SRC"
    assert isinstance(info.sources[0].active, Duration)
    assert info.sources[0].active.nanoseconds == -1


async def test_consumer_reply_with_unknown_enums(fake_api: FakeAPI, fake_js: JetStream) -> None:
    fake_api.reply = b"""{
      "stream_name": "S", "name": "C", "ts": "2024-01-01T00:00:00Z", "created": "2024-01-01T00:00:00Z",
      "config": {"durable_name": "C", "deliver_policy": "by_vibes", "ack_policy": "eventually",
                 "replay_policy": "rewind", "priority_policy": "vip", "backoff": [1, 2], "max_deliver": -1},
      "delivered": {"consumer_seq": 0, "stream_seq": 0}, "ack_floor": {"consumer_seq": 0, "stream_seq": 0},
      "num_ack_pending": 0, "num_redelivered": 0, "num_waiting": 0, "num_pending": 0,
      "priority_groups": [{"group": "g", "pinned_ts": "2024-01-01T00:00:00Z", "weight": 3}]
    }"""
    info = await fake_js.consumer_info("S", "C")
    cfg = info.config
    assert (cfg.deliver_policy, cfg.ack_policy, cfg.replay_policy, cfg.priority_policy) == (
        "by_vibes",
        "eventually",
        "rewind",
        "vip",
    )
    assert cfg.backoff is not None
    assert [b.total_seconds() for b in cfg.backoff] == [0.0, 0.0]
    assert info.priority_groups is not None
    assert info.priority_groups[0].group == "g"


async def test_request_body_reaches_the_wire(fake_api: FakeAPI, fake_js: JetStream) -> None:
    # what the fake saw is what the server would see: exact nanoseconds, no client-side defaults
    fake_api.reply = b'{"error": {"code": 404, "err_code": 10059, "description": "stream not found"}}'
    with pytest.raises(errors.StreamNotFoundError):
        await fake_js.stream_purge("S", filter="a.>", keep=3)
    assert fake_api.requests[-1] == ("$JS.API.STREAM.PURGE.S", b'{"filter":"a.>","keep":3}')
    with pytest.raises(errors.StreamNotFoundError):
        await fake_js.stream_info("S")
    assert fake_api.requests[-1] == ("$JS.API.STREAM.INFO.S", b"{}")


async def test_silent_responder_times_out(fake_api: FakeAPI, fake_js: JetStream) -> None:
    fake_api.reply = None
    for timeout in (0.3, timedelta(milliseconds=300)):
        start = time.monotonic()
        with pytest.raises(errors.TimeoutError) as exc:
            await fake_js.stream_info("S", timeout=timeout)
        elapsed = time.monotonic() - start
        assert 0.28 <= elapsed < 1.0, elapsed
        assert exc.value.subject == "$JS.API.STREAM.INFO.S"
        assert exc.value.timeout == pytest.approx(0.3)
        assert isinstance(exc.value, builtins.TimeoutError)
    assert len(fake_api.requests) == 2


async def test_client_default_timeout(
    nats_server_no_js: NatsServer, js_factory: JetStreamFactory, fake_api: FakeAPI
) -> None:
    fake_api.reply = None
    client = await js_factory(nats_server_no_js.url, timeout=0.2)
    start = time.monotonic()
    with pytest.raises(errors.TimeoutError):
        await client.account_info()
    assert 0.18 <= time.monotonic() - start < 1.0


async def test_closed_connection(nats_server: NatsServer, js_factory: JetStreamFactory) -> None:
    client = await js_factory(nats_server.url)
    await client.account_info()
    assert client.nc is not None
    await client.nc.close()
    with pytest.raises(errors.ConnectionClosedError):
        await client.account_info()
    with pytest.raises(errors.ConnectionClosedError):
        await client.publish("a", b"x")


async def test_closed_client(nats_server: NatsServer, js_factory: JetStreamFactory) -> None:
    client = await js_factory(nats_server.url)
    await client.close()
    await client.close()  # idempotent
    with pytest.raises(errors.ConnectionClosedError):
        await client.stream_names()

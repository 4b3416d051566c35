"""ADR-6 names: invalid stream/consumer names and subjects are refused before anything is sent."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from unit_support import CONSUMER_CREATE_DURABLE, always, mock_js

from jetstream import ConsumerConfig, JetStream, Reply, StreamConfig, errors

BAD_NAMES = ["", "a.b", "a*", "a>", "a b", "a/b", "a\\b", "a\tb", "a\nb", "a\x00b", "x" * 256]

Call = Callable[[JetStream, str], Awaitable[object]]

CALLS: dict[str, Call] = {
    "stream_info": lambda js, n: js.stream_info(n),
    "stream_create(name)": lambda js, n: js.stream_create(n, subjects=["a"]),
    "stream_create(config)": lambda js, n: js.stream_create(StreamConfig(name=n)),
    "stream_update": lambda js, n: js.stream_update(StreamConfig(name=n)),
    "stream_delete": lambda js, n: js.stream_delete(n),
    "stream_purge": lambda js, n: js.stream_purge(n, filter="a"),
    "stream_msg_get": lambda js, n: js.stream_msg_get(n, seq=1),
    "direct_get": lambda js, n: js.direct_get(n, seq=1),
    "consumer_names(stream)": lambda js, n: js.consumer_names(n),
    "consumer_list(stream)": lambda js, n: js.consumer_list(n),
    "consumer_info(stream)": lambda js, n: js.consumer_info(n, "c"),
    "consumer_info(consumer)": lambda js, n: js.consumer_info("S", n),
    "consumer_delete(consumer)": lambda js, n: js.consumer_delete("S", n),
    "consumer_create(stream)": lambda js, n: js.consumer_create(n, "c"),
    "consumer_create(name)": lambda js, n: js.consumer_create("S", n),
    "consumer_create(durable_name)": lambda js, n: js.consumer_create("S", ConsumerConfig(durable_name=n)),
    "consumer_create(config name)": lambda js, n: js.consumer_create("S", ConsumerConfig(name=n)),
    "consumer_msg_next(consumer)": lambda js, n: js.consumer_msg_next("S", n, batch=1),
    "account_purge": lambda js, n: js.account_purge(n),
}


@pytest.mark.parametrize("name", BAD_NAMES, ids=repr)
@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
async def test_invalid_name_is_refused_and_nothing_is_sent(call: Call, name: str) -> None:
    js, transport = mock_js(always(b"{}"))
    with pytest.raises(errors.InvalidNameError) as info:
        await call(js, name)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, errors.JetStreamError)
    assert transport.requests == []


@pytest.mark.parametrize("name", ["ORDERS", "a-b_C9", "x" * 255, "ünïcødé", "a=b,c"])
async def test_valid_names_are_sent(name: str) -> None:
    js, transport = mock_js(always(CONSUMER_CREATE_DURABLE))
    await js.consumer_create(name, name)
    assert transport.subjects == [f"$JS.API.CONSUMER.CREATE.{name}.{name}"]


async def test_error_message_names_the_offending_characters() -> None:
    js, _ = mock_js(always(b"{}"))
    with pytest.raises(errors.InvalidNameError, match=r"stream.*'\.'"):
        await js.stream_info("a.b")


BAD_SUBJECTS = ["", "a..b", ".a", "a.", "a b", "a\tb", "a.>.b", ">.a"]


@pytest.mark.parametrize("subject", BAD_SUBJECTS, ids=repr)
async def test_direct_get_last_for_subject_validates_the_subject(subject: str) -> None:
    js, transport = mock_js(always(Reply("_INBOX.1", b"v", {})))
    with pytest.raises(errors.InvalidNameError):
        await js.direct_get_last_for_subject("S", subject)
    assert transport.requests == []


@pytest.mark.parametrize("subject", ["a", "a.b", "a.*", "a.>", "*.b"])
async def test_direct_get_last_for_subject_accepts_subjects(subject: str) -> None:
    js, transport = mock_js(always(Reply("_INBOX.1", b"v", {})))
    await js.direct_get_last_for_subject("S", subject)
    assert transport.subjects == [f"$JS.API.DIRECT.GET.S.{subject}"]


async def test_direct_get_last_for_subject_validates_the_stream() -> None:
    js, transport = mock_js(always(Reply("_INBOX.1", b"v", {})))
    with pytest.raises(errors.InvalidNameError):
        await js.direct_get_last_for_subject("a.b", "x")
    assert transport.requests == []


@pytest.mark.parametrize("subject", [*BAD_SUBJECTS, "a.*", "a.>"], ids=repr)
async def test_publish_validates_the_subject(subject: str) -> None:
    js, transport = mock_js(always(b'{"stream":"S","seq":1}'))
    with pytest.raises(errors.InvalidNameError):
        await js.publish(subject, b"x")
    assert transport.requests == []


@pytest.mark.parametrize("subject", ["", "a..b", "a b", "a.>.b"], ids=repr)
async def test_consumer_filter_subject_is_validated(subject: str) -> None:
    js, transport = mock_js(always(CONSUMER_CREATE_DURABLE))
    with pytest.raises(errors.InvalidNameError):
        await js.consumer_create("S", "c", filter_subject=subject)
    assert transport.requests == []


async def test_a_name_that_is_not_a_str_is_refused() -> None:
    js, transport = mock_js(always(b"{}"))
    with pytest.raises(errors.InvalidNameError, match="str"):
        await js.stream_info(42)  # type: ignore[arg-type]
    assert transport.requests == []

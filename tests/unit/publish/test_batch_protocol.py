"""Atomic batch publish over the mock transport: headers, which messages wait for a reply, commit,
end-of-batch, abandon, and the errors that end a batch."""

from __future__ import annotations

import json
from collections.abc import Mapping

import pytest
from unit_support import Answer, Responder, mock_js

from jetstream import Batch, BatchMessage, Reply, errors
from jetstream._publish._batch import ACK_EVERY

DISABLED = (
    b'{"error":{"code":400,"err_code":10174,"description":"atomic publish is disabled"},"stream":"S","seq":0}'
)
INCOMPLETE = b'{"error":{"code":400,"err_code":10176,"description":"atomic publish batch is incomplete"},"stream":"S","seq":0}'


def server(answers: Mapping[int, Answer] | None = None) -> Responder:
    """Answers like nats-server: empty confirmations, and the batch PubAck on commit. `answers`
    overrides the reply by batch sequence."""

    def answer(subject: str, payload: bytes, headers: Mapping[str, str] | None) -> Answer:
        assert headers is not None
        seq = int(headers["Nats-Batch-Sequence"])
        if answers and seq in answers:
            return answers[seq]
        commit = headers.get("Nats-Batch-Commit")
        if commit is None:
            return b""
        count = seq if commit == "1" else seq - 1
        return json.dumps(
            {"stream": "S", "seq": 10 + count, "batch": headers["Nats-Batch-Id"], "count": count}
        ).encode()

    return answer


def batch_headers(batch_id: str, seq: int, **extra: str) -> dict[str, str]:
    return {"Nats-Batch-Id": batch_id, "Nats-Batch-Sequence": str(seq), **extra}


async def test_publish_batch_headers_and_replies() -> None:
    js, transport = mock_js(server())
    ack = await js.publish_batch(
        [
            BatchMessage("b.1", b"1", expected_last_seq=0, msg_id="m1"),
            BatchMessage("b.2", b"2", headers={"X": "y"}),
            BatchMessage("b.3", b"3", expected_last_subject_seq=0),
        ],
        batch_id="batch-1",
    )
    assert (ack.stream, ack.seq, ack.batch, ack.count) == ("S", 13, "batch-1", 3)
    # the first message and the commit wait for the server, the middle one does not
    assert transport.requests == [
        (
            "b.1",
            b"1",
            batch_headers("batch-1", 1, **{"Nats-Msg-Id": "m1", "Nats-Expected-Last-Sequence": "0"}),
        ),
        (
            "b.3",
            b"3",
            {
                "Nats-Expected-Last-Subject-Sequence": "0",
                **batch_headers("batch-1", 3),
                "Nats-Batch-Commit": "1",
            },
        ),
    ]
    assert transport.published == [("b.2", b"2", "", {"X": "y", **batch_headers("batch-1", 2)})]


async def test_every_ack_every_th_message_waits_for_a_confirmation() -> None:
    js, transport = mock_js(server())
    n = 2 * ACK_EVERY + 5
    ack = await js.publish_batch([BatchMessage(f"b.{i}", b"x") for i in range(n)])
    assert ack.count == n
    asked = [int(h["Nats-Batch-Sequence"]) for _, _, h in transport.requests if h is not None]
    assert asked == [1, ACK_EVERY, 2 * ACK_EVERY, n]
    assert len(transport.published) == n - 4


async def test_batch_context_manager_commits_with_an_end_of_batch_marker() -> None:
    js, transport = mock_js(server())
    async with js.batch("b-eob") as b:
        assert isinstance(b, Batch)
        await b.add("b.1", b"1")
        await b.add("b.2", b"2")
        assert b.count == 2
    assert b.ack is not None
    assert (b.ack.batch, b.ack.count) == ("b-eob", 2)
    assert b.count == 2
    assert transport.requests[-1] == (
        "b.2",
        b"",
        {"Nats-Batch-Id": "b-eob", "Nats-Batch-Commit": "eob", "Nats-Batch-Sequence": "3"},
    )


async def test_explicit_commit_inside_the_context_manager() -> None:
    js, transport = mock_js(server())
    async with js.batch() as b:
        await b.add("b.1", b"1")
        ack = await b.commit("b.2", b"2", ttl=5)
    assert ack is b.ack
    assert len(b.id) <= 64
    assert ack.batch == b.id
    assert ack.count == 2
    assert transport.requests[-1][2] == {"Nats-TTL": "5s", **batch_headers(b.id, 2), "Nats-Batch-Commit": "1"}
    with pytest.raises(errors.InvalidArgumentError, match="committed"):
        await b.add("b.3")


async def test_exception_in_the_block_abandons_the_batch_with_a_gap() -> None:
    js, transport = mock_js(server({4: INCOMPLETE}))
    with pytest.raises(RuntimeError, match="boom"):
        async with js.batch("gone") as b:
            await b.add("b.1", b"1")
            await b.add("b.2", b"2")
            raise RuntimeError("boom")
    assert b.ack is None
    # the server drops a batch whose sequence jumps: 2 sent, 4 announced
    assert transport.requests[-1] == ("b.2", b"", batch_headers("gone", 4))
    with pytest.raises(errors.InvalidArgumentError, match="abandoned"):
        await b.add("b.3")


async def test_abandon_before_anything_was_sent_sends_nothing() -> None:
    js, transport = mock_js(server())
    b = js.batch()
    await b.abandon()
    await b.abandon()
    assert transport.requests == [] and transport.published == []


async def test_refusal_of_the_first_message_ends_the_batch() -> None:
    js, transport = mock_js(server({1: DISABLED}))
    b = js.batch()
    with pytest.raises(errors.AtomicPublishDisabledError):
        await b.add("b.1", b"1")
    with pytest.raises(errors.InvalidArgumentError):
        await b.add("b.2", b"2")
    await b.abandon()  # the server already dropped it: nothing more is sent
    assert len(transport.requests) == 1


async def test_publish_batch_raises_the_commit_error() -> None:
    wrong = (
        b'{"error":{"code":400,"err_code":10071,"description":"wrong last sequence: 8"},"stream":"S","seq":0}'
    )
    js, transport = mock_js(server({2: wrong}))
    with pytest.raises(errors.StreamWrongLastSequenceError):
        await js.publish_batch([BatchMessage("b.1", expected_last_seq=1), BatchMessage("b.2")])
    assert len(transport.requests) == 2  # no abandon after the server's own refusal


async def test_a_core_responder_is_not_a_batch_server() -> None:
    js, _ = mock_js(server({1: b"hello"}))
    with pytest.raises(errors.UnexpectedReplyError, match="empty confirmation"):
        await js.publish_batch([BatchMessage("b.1"), BatchMessage("b.2")])
    js, _ = mock_js(server({2: b'{"stream":"S","seq":3}'}))
    with pytest.raises(errors.UnexpectedReplyError, match="batch"):
        await js.publish_batch([BatchMessage("b.1"), BatchMessage("b.2")], batch_id="x")


async def test_no_stream_for_the_subject() -> None:
    js, _ = mock_js(server({1: errors.NoRespondersError("b.1")}))
    with pytest.raises(errors.NoStreamResponseError):
        await js.publish_batch([BatchMessage("b.1")])


async def test_client_side_checks() -> None:
    js, transport = mock_js(server())
    with pytest.raises(errors.InvalidArgumentError, match="at least one"):
        await js.publish_batch([])
    with pytest.raises(errors.InvalidArgumentError):
        js.batch("x" * 65)
    with pytest.raises(errors.InvalidArgumentError):
        js.batch("has space")
    with pytest.raises(errors.InvalidArgumentError):
        await js.publish_batch([("b.1", b"x")])  # type: ignore[list-item]
    b = js.batch()
    with pytest.raises(errors.InvalidArgumentError, match="at least one message"):
        await b.commit()
    await b.add("b.1", b"x", expected_last_seq=0)
    with pytest.raises(errors.InvalidArgumentError, match="first message"):
        await b.add("b.2", b"x", expected_last_seq=1)
    with pytest.raises(errors.InvalidArgumentError, match="give a subject"):
        await b.commit(data=b"x")
    for option in (
        {"msg_id": "m"},
        {"expected_stream": "S"},
        {"expected_last_seq": 0},
        {"expected_last_subject_seq": 0},
        {"expected_last_subject_seq_subject": "b.1"},
        {"ttl": 5},
    ):
        with pytest.raises(errors.InvalidArgumentError, match="give a subject"):
            await b.commit(**option)
    with pytest.raises(errors.InvalidNameError):
        await b.add("b.*", b"x")
    # none of the refusals broke the batch
    ack = await b.commit("b.2", b"y")
    assert ack.count == 2
    assert len(transport.requests) == 2


async def test_status_reply_to_a_staged_message() -> None:
    js, _ = mock_js(server({1: Reply("b.1", b"", {"Status": "408"}, status="408")}))
    with pytest.raises(errors.UnexpectedReplyError):
        await js.publish_batch([BatchMessage("b.1"), BatchMessage("b.2")])

"""Stream endpoints against one real nats-server: a success case and the main error case each.

Memory storage everywhere: the behaviour under test is the API, not the store.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta, timezone

import pytest

from jetstream import Duration, JetStream, StreamConfig, Timestamp, errors


async def _stream_with_messages(js: JetStream, *, allow_direct: bool = False) -> None:
    """Stream S on ``a.>`` holding a.0 (seq 1), a.1 (2), a.0 (3), a.1 (4), a.0 (5)."""
    await js.stream_create("S", subjects=["a.>"], storage="memory", allow_direct=allow_direct)
    for i in range(5):
        await js.publish(f"a.{i % 2}", b"m%d" % i, headers={"h": f"v{i}"})


async def test_account_info(js: JetStream, sys_js: JetStream) -> None:
    info = await js.account_info()
    assert (info.streams, info.consumers, info.memory) == (0, 0, 0)
    assert info.limits.max_streams == -1
    assert info.api.level >= 1
    await js.stream_create("S", subjects=["a"], storage="memory")
    info = await js.account_info()
    assert info.streams == 1

    # The system account has no JetStream of its own; the server answers (it is not a no-responders).
    with pytest.raises(errors.NotEnabledForAccountError) as exc:
        await sys_js.account_info()
    assert (exc.value.code, exc.value.err_code) == (503, 10039)


async def test_stream_create_kwargs(js: JetStream) -> None:
    created = await js.stream_create("S", subjects=["a.>"], storage="memory", max_msgs=10)
    assert created.did_create is True
    assert created.config.name == "S"
    assert created.config.subjects == ["a.>"]
    assert (created.config.storage, created.config.max_msgs) == ("memory", 10)
    assert created.state.messages == 0
    assert created.created.tzinfo is not None

    # Creating the identical stream again is idempotent: same stream (same creation time). The
    # single-node server (2.15.1) sets did_create=true unconditionally, so it cannot tell the two apart.
    again = await js.stream_create("S", subjects=["a.>"], storage="memory", max_msgs=10)
    assert again.created == created.created
    assert again.did_create is True


async def test_stream_create_config_with_overrides(js: JetStream) -> None:
    cfg = StreamConfig(name="S", subjects=["a"], storage="memory", description="from config")
    created = await js.stream_create(cfg, description="from kwarg")
    assert created.config.description == "from kwarg"
    assert created.config.subjects == ["a"]
    assert cfg.description == "from config", "the caller's config must not be modified"


async def test_stream_create_server_defaults(js: JetStream) -> None:
    created = await js.stream_create("S", subjects=["a"], storage="memory")
    cfg = created.config
    assert (cfg.retention, cfg.discard, cfg.compression, cfg.num_replicas) == ("limits", "old", "none", 1)
    assert (cfg.max_msgs, cfg.max_bytes, cfg.max_consumers, cfg.max_msg_size) == (-1, -1, -1, -1)
    assert isinstance(cfg.duplicate_window, Duration)
    assert cfg.duplicate_window.nanoseconds == 120 * 10**9
    assert isinstance(cfg.max_age, Duration)
    assert cfg.max_age.nanoseconds == 0
    # The server stamps its own metadata keys into every config it returns.
    assert cfg.metadata is not None
    assert {"_nats.level", "_nats.req.level", "_nats.ver"} <= cfg.metadata.keys()


async def test_stream_create_conflicts(js: JetStream) -> None:
    await js.stream_create("S", subjects=["a.>"], storage="memory")
    with pytest.raises(errors.StreamNameExistError) as exc:
        await js.stream_create("S", subjects=["a.>", "b"], storage="memory")
    assert (exc.value.code, exc.value.err_code) == (400, 10058)
    with pytest.raises(errors.StreamSubjectOverlapError) as overlap:
        await js.stream_create("OTHER", subjects=["a.b"], storage="memory")
    assert overlap.value.err_code == 10065


async def test_stream_create_pedantic(js: JetStream) -> None:
    # Without pedantic the server silently lowers duplicate_window (default 2 min) to max_age ...
    lenient = await js.stream_create("L", subjects=["l"], storage="memory", max_age=timedelta(seconds=1))
    assert isinstance(lenient.config.duplicate_window, Duration)
    assert lenient.config.duplicate_window.nanoseconds == 10**9
    # ... pedantic mode refuses to change the request instead.
    with pytest.raises(errors.PedanticError) as exc:
        await js.stream_create(
            "P", subjects=["p"], storage="memory", max_age=timedelta(seconds=1), pedantic=True
        )
    assert exc.value.err_code == 10157
    ok = await js.stream_create(
        "P",
        subjects=["p"],
        storage="memory",
        max_age=timedelta(seconds=1),
        duplicate_window=timedelta(seconds=1),
        pedantic=True,
    )
    assert ok.did_create is True


async def test_stream_create_invalid_config(js: JetStream) -> None:
    with pytest.raises(errors.StreamInvalidConfigFError) as exc:
        await js.stream_create("S", subjects=["a"], storage="memory", max_age=Duration(1))
    assert "max age" in exc.value.description


async def test_stream_update_round_trip(js: JetStream) -> None:
    await js.stream_create("S", subjects=["a.>"], storage="memory")
    cfg = (await js.stream_info("S")).config
    cfg.max_age = Duration(1_500_000_001)
    cfg.duplicate_window = Duration(1_000_000_001)
    cfg.description = "updated"
    updated = await js.stream_update(cfg)
    assert updated.config == cfg
    # `==` on durations compares microseconds only; the nanoseconds must survive too.
    assert isinstance(updated.config.max_age, Duration)
    assert updated.config.max_age.nanoseconds == 1_500_000_001
    assert isinstance(updated.config.duplicate_window, Duration)
    assert updated.config.duplicate_window.nanoseconds == 1_000_000_001
    fetched = (await js.stream_info("S")).config
    assert isinstance(fetched.max_age, Duration)
    assert fetched.max_age.nanoseconds == 1_500_000_001


async def test_stream_update_errors(js: JetStream) -> None:
    with pytest.raises(errors.StreamNotFoundError):
        await js.stream_update("NOPE", subjects=["x"])
    await js.stream_create("S", subjects=["a"], storage="memory")
    with pytest.raises(errors.StreamInvalidConfigFError) as exc:
        await js.stream_update("S", subjects=["a"], storage="file")
    assert "storage" in exc.value.description


async def test_stream_names_and_list_page(js: JetStream) -> None:
    # More than one page of each: STREAM.NAMES pages by 1024, STREAM.LIST by 256.
    count = 1030
    sem = asyncio.Semaphore(32)

    async def create(i: int) -> None:
        async with sem:
            await js.stream_create(f"L{i:04d}", subjects=[f"l.{i}"], storage="memory")

    await asyncio.gather(*(create(i) for i in range(count)))
    expected = [f"L{i:04d}" for i in range(count)]

    names = await js.stream_names()
    assert sorted(names) == expected
    infos = await js.stream_list()
    assert sorted(i.config.name for i in infos) == expected

    assert await js.stream_names(subject="l.7") == ["L0007"]
    filtered = await js.stream_list(subject="l.12")
    assert [i.config.name for i in filtered] == ["L0012"]
    # An empty result: the server sends "streams": null for names.
    assert await js.stream_names(subject="nothing") == []
    assert await js.stream_list(subject="nothing") == []


async def test_stream_info(js: JetStream) -> None:
    await _stream_with_messages(js)
    await js.stream_msg_delete("S", seq=2)
    info = await js.stream_info("S")
    assert (info.state.messages, info.state.first_seq, info.state.last_seq) == (4, 1, 5)
    assert info.state.num_deleted == 1
    assert info.state.deleted is None
    assert info.state.subjects is None
    assert isinstance(info.state.last_ts, Timestamp)

    detailed = await js.stream_info("S", deleted_details=True, subjects_filter="a.*")
    assert detailed.state.deleted == [2]
    assert detailed.state.subjects == {"a.0": 3, "a.1": 1}
    only = await js.stream_info("S", subjects_filter="a.1")
    assert only.state.subjects == {"a.1": 1}

    with pytest.raises(errors.StreamNotFoundError) as exc:
        await js.stream_info("NOPE")
    assert (exc.value.code, exc.value.err_code) == (404, 10059)


async def test_stream_delete(js: JetStream) -> None:
    await js.stream_create("S", subjects=["a"], storage="memory")
    deleted = await js.stream_delete("S")
    assert deleted.success is True
    assert await js.stream_names() == []
    with pytest.raises(errors.StreamNotFoundError):
        await js.stream_delete("S")


async def test_stream_purge(js: JetStream) -> None:
    await _stream_with_messages(js)
    # keep the newest a.0 only: seqs 1 and 3 go
    purged = await js.stream_purge("S", filter="a.0", keep=1)
    assert (purged.success, purged.purged) == (True, 2)
    # everything below seq 5: 2 and 4 remain below it
    purged = await js.stream_purge("S", seq=5)
    assert purged.purged == 2
    state = (await js.stream_info("S")).state
    assert (state.messages, state.first_seq) == (1, 5)
    purged = await js.stream_purge("S")
    assert purged.purged == 1

    # seq and keep together are refused
    with pytest.raises(errors.BadRequestError) as exc:
        await js.stream_purge("S", seq=5, keep=1)
    assert exc.value.err_code == 10003
    with pytest.raises(errors.StreamNotFoundError):
        await js.stream_purge("NOPE")


async def test_stream_msg_get(js: JetStream) -> None:
    await _stream_with_messages(js)
    msg = await js.stream_msg_get("S", seq=1)
    assert (msg.subject, msg.seq, msg.data) == ("a.0", 1, b"m0")
    # data and headers arrive base64 on the wire and are decoded to bytes
    assert msg.hdrs == b"NATS/1.0\r\nh: v0\r\n\r\n"
    assert msg.time.tzinfo is not None
    assert msg.time.utcoffset() == timezone.utc.utcoffset(None)

    last = await js.stream_msg_get("S", last_by_subj="a.1")
    assert (last.seq, last.data) == (4, b"m3")
    nxt = await js.stream_msg_get("S", next_by_subj="a.0", seq=2)
    assert (nxt.seq, nxt.subject) == (3, "a.0")

    with pytest.raises(errors.NoMessageFoundError) as exc:
        await js.stream_msg_get("S", seq=99)
    assert (exc.value.code, exc.value.err_code) == (404, 10037)
    with pytest.raises(errors.NoMessageFoundError):
        await js.stream_msg_get("S", last_by_subj="a.nothing")
    with pytest.raises(errors.StreamNotFoundError):
        await js.stream_msg_get("NOPE", seq=1)


async def test_stream_msg_get_without_headers(js: JetStream) -> None:
    await js.stream_create("S", subjects=["a"], storage="memory")
    await js.publish("a", b"")
    msg = await js.stream_msg_get("S", seq=1)
    assert msg.hdrs is None
    assert msg.data in (None, b"")


async def test_stream_msg_delete(js: JetStream) -> None:
    await _stream_with_messages(js)
    assert (await js.stream_msg_delete("S", seq=2, no_erase=True)).success is True
    assert (await js.stream_msg_delete("S", seq=3)).success is True
    info = await js.stream_info("S", deleted_details=True)
    assert info.state.deleted == [2, 3]
    with pytest.raises(errors.NoMessageFoundError):
        await js.stream_msg_get("S", seq=2)

    with pytest.raises(errors.SequenceNotFoundError) as exc:
        await js.stream_msg_delete("S", seq=2)
    assert (exc.value.code, exc.value.err_code) == (400, 10043)
    with pytest.raises(errors.StreamNotFoundError):
        await js.stream_msg_delete("NOPE", seq=1)


async def test_direct_get(js: JetStream) -> None:
    await _stream_with_messages(js, allow_direct=True)
    msg = await js.direct_get("S", seq=1)
    assert msg.data == b"m0"
    assert (msg.stream, msg.seq, msg.original_subject) == ("S", 1, "a.0")
    assert msg.headers["h"] == "v0"
    assert isinstance(msg.time, Timestamp)

    last = await js.direct_get("S", last_by_subj="a.1")
    assert (last.seq, last.data, last.original_subject) == (4, b"m3", "a.1")
    nxt = await js.direct_get("S", next_by_subj="a.1", seq=3)
    assert (nxt.seq, nxt.data) == (4, b"m3")

    # Direct get answers with a bare status, not JSON: 404 is still the typed error.
    with pytest.raises(errors.NoMessageFoundError) as exc:
        await js.direct_get("S", seq=99)
    assert (exc.value.code, exc.value.err_code) == (404, 10037)
    with pytest.raises(errors.NoMessageFoundError):
        await js.direct_get("S", last_by_subj="a.nothing")


async def test_direct_get_last_for_subject(js: JetStream) -> None:
    await _stream_with_messages(js, allow_direct=True)
    msg = await js.direct_get_last_for_subject("S", "a.0")
    assert (msg.seq, msg.data, msg.original_subject) == (5, b"m4", "a.0")
    with pytest.raises(errors.NoMessageFoundError):
        await js.direct_get_last_for_subject("S", "a.nothing")


async def test_direct_get_without_allow_direct(js: JetStream) -> None:
    # Nobody subscribes DIRECT.GET for a stream without allow_direct (or a missing stream), so
    # the request meets "no responders": a NoRespondersError that does not blame JetStream.
    await _stream_with_messages(js)
    with pytest.raises(errors.NoRespondersError) as exc:
        await js.direct_get("S", seq=1)
    assert exc.value.subject == "$JS.API.DIRECT.GET.S"
    assert not isinstance(exc.value, errors.JetStreamNotEnabledError)
    with pytest.raises(errors.NoRespondersError):
        await js.direct_get_last_for_subject("NOPE", "a.0")


async def test_stream_snapshot_request(js: JetStream) -> None:
    await _stream_with_messages(js)
    assert js.nc is not None
    sub = await js.nc.subscribe("snap.S")
    try:
        snap = await js.stream_snapshot("S", deliver_subject="snap.S", chunk_size=1024)
        assert snap.config.name == "S"
        assert snap.state.messages == 5
        chunk = await sub.next_msg(timeout=2)
        assert len(chunk.data) > 0
    finally:
        await sub.unsubscribe()

    with pytest.raises(errors.StreamNotFoundError):
        await js.stream_snapshot("NOPE", deliver_subject="snap.N")
    with pytest.raises(errors.SnapshotDeliverSubjectInvalidError) as exc:
        await js.stream_snapshot("S", deliver_subject="snap.*")
    assert exc.value.err_code == 10015


async def test_stream_restore_request(js: JetStream) -> None:
    await _stream_with_messages(js)
    info = await js.stream_info("S")
    restore = await js.stream_restore(
        "R", config=StreamConfig(name="R", subjects=["r"], storage="memory"), state=info.state
    )
    assert restore.deliver_subject.startswith("$JS.SNAPSHOT.RESTORE.R.")
    # An empty chunk is EOF: the server ends the restore (failing: no data was sent). A pending
    # restore would otherwise hold up the server's shutdown for seconds.
    assert js.nc is not None
    eof = await js.nc.request(restore.deliver_subject, b"", timeout=2)
    assert b'"err_code":10062' in eof.data

    with pytest.raises(errors.StreamNameExistRestoreFailedError) as exc:
        await js.stream_restore("S", config=info.config, state=info.state)
    assert exc.value.err_code == 10130

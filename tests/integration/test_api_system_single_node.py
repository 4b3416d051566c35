"""Cluster-only and system-account endpoints on a single, non-clustered nats-server 2.15.1.

What the server does here is not uniform: stream/consumer cluster operations answer with
ClusterRequiredError, while the meta-group and system endpoints drop the request silently (the
handlers return before replying when there is no cluster, or when the caller is not the system
account), which a client can only see as a timeout. Those calls use a short timeout and run
concurrently to keep the test fast.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from jetstream import JetStream, errors

SHORT = 0.3

Call = Callable[[JetStream], Awaitable[Any]]


async def _timed(call: Awaitable[Any]) -> tuple[object, float]:
    start = time.monotonic()
    try:
        result: object = await call
    except Exception as exc:
        result = exc
    return result, time.monotonic() - start


async def test_cluster_operations_need_a_cluster(js: JetStream) -> None:
    await js.stream_create("S", subjects=["a"], storage="memory")
    await js.consumer_create("S", "C")
    calls: dict[str, Call] = {
        "stream_leader_stepdown": lambda c: c.stream_leader_stepdown("S"),
        "consumer_leader_stepdown": lambda c: c.consumer_leader_stepdown("S", "C"),
        "stream_peer_remove": lambda c: c.stream_peer_remove("S", peer="other"),
        "stream_peer_evacuate": lambda c: c.stream_peer_evacuate("S", peer="other"),
        "stream_cancel_move": lambda c: c.stream_cancel_move("S"),
        # checked before the stream is looked up
        "stream_leader_stepdown of a missing stream": lambda c: c.stream_leader_stepdown("NOPE"),
    }
    for label, call in calls.items():
        with pytest.raises(errors.ClusterRequiredError) as exc:
            await call(js)
        assert (exc.value.code, exc.value.err_code) == (503, 10010), label


def _system_calls() -> dict[str, Call]:
    return {
        "meta_leader_stepdown": lambda c: c.meta_leader_stepdown(timeout=SHORT),
        "server_remove": lambda c: c.server_remove(peer="other", timeout=SHORT),
        "server_evacuate": lambda c: c.server_evacuate(peer="other", timeout=SHORT),
        "account_stream_move": lambda c: c.account_stream_move("APP", "S", server="other", timeout=SHORT),
        "account_stream_cancel_move": lambda c: c.account_stream_cancel_move("APP", "S", timeout=SHORT),
    }


@pytest.mark.parametrize("account", ["SYS", "APP"])
async def test_meta_endpoints_are_dropped(js: JetStream, sys_js: JetStream, account: str) -> None:
    # From SYS there is no meta group to answer; from APP the server ignores system-only requests.
    client = sys_js if account == "SYS" else js
    await js.stream_create("S", subjects=["a"], storage="memory")
    calls = _system_calls()
    results = await asyncio.gather(*(_timed(call(client)) for call in calls.values()))
    for label, (result, elapsed) in zip(calls, results, strict=True):
        assert isinstance(result, errors.TimeoutError), (label, result)
        assert result.timeout == SHORT
        assert SHORT * 0.9 <= elapsed < SHORT + 1.0, (label, elapsed)


@pytest.mark.parametrize("account", ["SYS", "APP"])
async def test_meta_rescue_without_meta_group(js: JetStream, sys_js: JetStream, account: str) -> None:
    # A broadcast: replies are collected for the whole timeout, and here nobody replies.
    client = sys_js if account == "SYS" else js
    result, elapsed = await _timed(client.meta_rescue(quorum_needed=1, timeout=SHORT))
    assert isinstance(result, errors.TimeoutError)
    assert SHORT * 0.9 <= elapsed < SHORT + 1.0


async def test_account_purge(js: JetStream, sys_js: JetStream) -> None:
    await js.stream_create("S1", subjects=["a"], storage="memory")
    await js.stream_create("S2", subjects=["b"], storage="memory")
    purged = await sys_js.account_purge("APP")
    assert purged.initiated is True
    assert await js.stream_names() == []
    assert (await js.account_info()).streams == 0


async def test_account_purge_of_unknown_account(sys_js: JetStream) -> None:
    # The single-node server does not check that the account exists.
    purged = await sys_js.account_purge("NO_SUCH_ACCOUNT")
    assert purged.initiated is True


async def test_account_purge_from_app_is_dropped(js: JetStream) -> None:
    await js.stream_create("S", subjects=["a"], storage="memory")
    with pytest.raises(errors.TimeoutError):
        await js.account_purge("APP", timeout=SHORT)
    assert await js.stream_names() == ["S"]


async def test_system_account_has_no_jetstream(sys_js: JetStream) -> None:
    with pytest.raises(errors.NotEnabledForAccountError):
        await sys_js.stream_create("S", subjects=["a"], storage="memory")
    with pytest.raises(errors.NotEnabledForAccountError):
        await sys_js.stream_names()

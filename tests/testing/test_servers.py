"""Tests for jetstream.testing against real nats-server processes, via raw nats-py."""

from __future__ import annotations

import asyncio
import json
import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import nats
import nats.errors
import pytest
from nats.aio.client import Client
from nats.errors import NoRespondersError

import jetstream.testing._server as server_module
from jetstream.testing import (
    HubAndLeaf,
    NatsCluster,
    NatsServer,
    NatsServerError,
    PortInUseError,
    free_ports,
    start_hub_and_leaf,
)
from jetstream.testing.pytest_plugin import NatsServerFactory

pytestmark = pytest.mark.asyncio


@asynccontextmanager
async def connect(url: str | list[str]) -> AsyncIterator[Client]:
    nc = await nats.connect(url, allow_reconnect=False, connect_timeout=2)
    try:
        yield nc
    finally:
        await nc.close()


async def request_json(nc: Client, subject: str, payload: Any = None, timeout: float = 5.0) -> Any:
    data = b"" if payload is None else json.dumps(payload).encode()
    reply = await nc.request(subject, data, timeout=timeout)
    return json.loads(reply.data)


async def create_stream(
    nc: Client, name: str, *, replicas: int = 1, prefix: str = "$JS.API", timeout: float = 5.0
) -> Any:
    config = {"name": name, "subjects": [f"{name.lower()}.>"], "num_replicas": replicas}
    response = await request_json(nc, f"{prefix}.STREAM.CREATE.{name}", config, timeout=timeout)
    assert "error" not in response, response
    return response


def assert_gone(pid: int) -> None:
    # The process must be reaped, not a zombie: its pid no longer exists.
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


# ---------------------------------------------------------------- single node


async def test_single_node_jetstream_account_info(nats_server: NatsServer) -> None:
    assert nats_server.running
    assert nats_server.url == f"nats://127.0.0.1:{nats_server.port}"
    assert nats_server.store_dir.parent == nats_server.directory
    assert nats_server.config_path.is_file()
    assert f'"127.0.0.1:{nats_server.port}"' in nats_server.config_path.read_text()
    assert "Server is ready" in nats_server.read_log()

    async with connect(nats_server.url) as nc:
        info = await request_json(nc, "$JS.API.INFO")
    assert info["type"] == "io.nats.jetstream.api.v1.account_info_response"
    assert "error" not in info


async def test_start_stop_lifecycle_cleans_up() -> None:
    server = NatsServer()
    await server.start()
    await server.start()  # already running: no-op
    assert server.process is not None
    pid = server.process.pid
    directory = server.directory

    await server.stop()
    await server.stop()  # idempotent
    assert not server.running
    assert server.process.returncode is not None
    assert_gone(pid)
    assert not directory.exists()
    # The log outlives the directory for post-mortem debugging.
    assert "Server Exiting" in server.read_log()


async def test_restart_keeps_stored_data(nats_server: NatsServer) -> None:
    port, store = nats_server.port, nats_server.store_dir
    assert nats_server.process is not None
    old_pid = nats_server.process.pid
    async with connect(nats_server.url) as nc:
        await create_stream(nc, "ORDERS")

    await nats_server.restart()

    assert nats_server.port == port and nats_server.store_dir == store
    assert nats_server.process is not None and nats_server.process.pid != old_pid
    assert_gone(old_pid)
    async with connect(nats_server.url) as nc:
        info = await request_json(nc, "$JS.API.STREAM.INFO.ORDERS")
    assert info["config"]["name"] == "ORDERS"


async def test_kill_then_restart(nats_server: NatsServer) -> None:
    async with connect(nats_server.url) as nc:
        await create_stream(nc, "EVENTS")
        ack = await request_json(nc, "events.created", {"id": 1})
        assert ack["stream"] == "EVENTS" and ack["seq"] == 1

    await nats_server.kill()
    assert not nats_server.running
    assert nats_server.process is not None
    assert nats_server.process.returncode == -9
    assert nats_server.store_dir.exists()

    await nats_server.restart()
    async with connect(nats_server.url) as nc:
        info = await request_json(nc, "$JS.API.STREAM.INFO.EVENTS")
    assert info["state"]["messages"] == 1


async def test_system_account(nats_server: NatsServer) -> None:
    assert nats_server.system_url == f"nats://sys:sys@127.0.0.1:{nats_server.port}"
    async with connect(nats_server.system_url) as sys_nc:
        pong = await request_json(sys_nc, "$SYS.REQ.SERVER.PING")
        jsz = await request_json(sys_nc, "$SYS.REQ.SERVER.PING.JSZ")
    assert pong["server"]["name"] == nats_server.name
    assert jsz["data"]["config"]["store_dir"].startswith(str(nats_server.store_dir))

    # The credential-less URL lands in APP, which cannot see system subjects.
    async with connect(nats_server.url) as nc:
        with pytest.raises(NoRespondersError):
            await nc.request("$SYS.REQ.SERVER.PING", b"", timeout=2)


async def test_no_jetstream_server(nats_server_no_js: NatsServer) -> None:
    assert "jetstream {" not in nats_server_no_js.config_path.read_text()
    assert "jetstream: enabled" not in nats_server_no_js.config_text()
    async with connect(nats_server_no_js.url) as nc:
        with pytest.raises(NoRespondersError):
            await nc.request("$JS.API.INFO", b"", timeout=2)


async def test_options_domain_max_payload_no_accounts(nats_server_factory: NatsServerFactory) -> None:
    server = await nats_server_factory(domain="d1", max_payload=2048, system_account=False)
    assert server.system_url is None
    async with connect(server.url) as nc:
        assert nc.max_payload == 2048
        info = await request_json(nc, "$JS.API.INFO")
        assert info["domain"] == "d1"
        assert (await request_json(nc, "$JS.d1.API.INFO"))["domain"] == "d1"


async def test_start_failure_reports_log_and_cleans_up() -> None:
    server = NatsServer(extra_config="this is { not valid", start_timeout=5)
    with pytest.raises(NatsServerError) as excinfo:
        await server.start()
    assert "exited with code" in str(excinfo.value)
    assert "tail of" in str(excinfo.value)
    assert not server.running
    assert not server.directory.exists()
    assert server.read_log()


async def test_fixed_port_in_use_raises() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        server = NatsServer(port=busy.getsockname()[1], start_timeout=5)
        with pytest.raises(PortInUseError):
            await server.start()
    assert not server.running


async def test_auto_ports_retry_on_address_in_use(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[int]] = []

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]

        def flaky_free_ports(count: int) -> list[int]:
            # Simulate losing the race for the first pick of ports.
            ports = [taken, *free_ports(count - 1)] if not calls else free_ports(count)
            calls.append(ports)
            return ports

        monkeypatch.setattr(server_module, "free_ports", flaky_free_ports)
        async with NatsServer(jetstream=False) as server:
            assert server.port != taken
    assert len(calls) == 2
    assert "address already in use" in server.read_log()


async def test_leafnode_port_requires_listen(nats_server: NatsServer) -> None:
    with pytest.raises(RuntimeError):
        _ = nats_server.leafnode_port


# -------------------------------------------------------------------- cluster


@pytest.mark.cluster
async def test_cluster_meta_leader_and_r3_stream(nats_cluster: NatsCluster) -> None:
    assert len(nats_cluster.servers) == 3
    assert len(set(nats_cluster.urls)) == 3
    assert nats_cluster.url == nats_cluster.urls[0]
    assert nats_cluster.system_url is not None
    leader = await nats_cluster.meta_leader()
    assert leader in {s.name for s in nats_cluster.servers}
    assert len({s.store_dir for s in nats_cluster.servers}) == 3

    async with connect(nats_cluster.urls) as nc:
        # Answered by the group's first leader: an election that misses a peer is retried after
        # a raft election timeout (4-9 s).
        created = await create_stream(nc, "R3", replicas=3, timeout=20.0)
        assert created["config"]["num_replicas"] == 3
        assert len(created["cluster"]["replicas"]) == 2

    # Crash a follower and bring it back: the cluster settles again and the
    # replicated stream is intact.
    follower = next(i for i, s in enumerate(nats_cluster.servers) if s.name != leader)
    await nats_cluster.kill(follower)
    await nats_cluster.restart(follower)
    async with connect(nats_cluster.servers[follower].url) as nc:
        # The restarted node may still be catching up with the meta group: retry, bounded.
        deadline = asyncio.get_running_loop().time() + 20
        while True:
            try:
                info = await request_json(nc, "$JS.API.STREAM.INFO.R3", timeout=2.0)
                if "error" not in info:
                    break
            except nats.errors.TimeoutError:
                pass
            assert asyncio.get_running_loop().time() < deadline, "stream info never answered after restart"
            await asyncio.sleep(0.25)
    assert info["config"]["num_replicas"] == 3

    async with connect(nats_cluster.system_url) as sys_nc:
        # One PING, one PONG per node: collect replies on a private inbox.
        sub = await sys_nc.subscribe(sys_nc.new_inbox())
        await sys_nc.publish("$SYS.REQ.SERVER.PING", b"", reply=sub.subject)
        names = {json.loads((await sub.next_msg(timeout=10)).data)["server"]["name"] for _ in range(3)}
    assert names == {s.name for s in nats_cluster.servers}


async def test_cluster_names_are_unique() -> None:
    assert NatsCluster().name != NatsCluster().name


@pytest.mark.cluster
async def test_cluster_ready_routes_api_replies_and_waits_for_interest(nats_cluster: NatsCluster) -> None:
    # Ready means every node has subscribed the wildcard its JetStream API replies come back on
    # (``_R_.<prefix>.>`` in the system account) and every other node has learnt of it.
    wildcards: dict[str, str] = {}
    for server in nats_cluster.servers:
        subsz = await server.monitor("/subsz?subs=1&limit=100000&acc=SYS")
        [wildcard] = [
            sub["subject"] for sub in subsz["subscriptions_list"] if sub["subject"].startswith("_R_.")
        ]
        wildcards[server.name] = wildcard
    for server in nats_cluster.servers:
        routez = await server.monitor("/routez?subs=1")
        learnt = {
            r["remote_name"]: set(r.get("subscriptions_list") or [])
            for r in routez["routes"]
            if r.get("account")
        }
        for other, wildcard in wildcards.items():
            if other != server.name:
                assert wildcard in learnt[other], (server.name, other)

    # A client's subscription: known on every node once wait_for_interest returns.
    async with connect(nats_cluster.servers[0].url) as nc:
        await nc.subscribe("interest.*")
        await nats_cluster.wait_for_interest("interest.a", timeout=10)
        with pytest.raises(NatsServerError, match="no interest"):
            await nats_cluster.wait_for_interest("nobody.listens", timeout=0.3)


# ------------------------------------------------------------------ hub/leaf


async def test_hub_and_leaf_domains(nats_hub_leaf: HubAndLeaf) -> None:
    async with connect(nats_hub_leaf.leaf_url) as nc:
        hub_info = await request_json(nc, "$JS.hub.API.INFO")
        leaf_info = await request_json(nc, "$JS.leaf.API.INFO")
        local_info = await request_json(nc, "$JS.API.INFO")
        # A stream created through the hub domain lives on the hub.
        await create_stream(nc, "HUBSTREAM", prefix="$JS.hub.API")
    assert hub_info["domain"] == "hub"
    assert leaf_info["domain"] == "leaf"
    assert local_info["domain"] == "leaf"

    async with connect(nats_hub_leaf.hub_url) as nc:
        info = await request_json(nc, "$JS.API.STREAM.INFO.HUBSTREAM")
        assert info["config"]["name"] == "HUBSTREAM"
        assert (await request_json(nc, "$JS.API.INFO"))["domain"] == "hub"


async def test_start_hub_and_leaf_helper() -> None:
    pair = await start_hub_and_leaf(hub_domain="center", leaf_domain="edge")
    try:
        assert pair.hub.domain == "center" and pair.leaf.domain == "edge"
        async with connect(pair.leaf_url) as nc:
            assert (await request_json(nc, "$JS.center.API.INFO"))["domain"] == "center"
    finally:
        await pair.stop()
    await pair.stop()
    assert not pair.hub.running

"""A JetStream cluster of ``nats-server`` processes on loopback."""

from __future__ import annotations

import asyncio
import functools
import json
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .._transport._checks import matches
from ._config import SYS_ACCOUNT
from ._errors import NatsServerError, PortInUseError
from ._http import http_get
from ._lifecycle import wait_for
from ._ports import LOOPBACK, free_ports, loopback_connection
from ._server import DEFAULT_STOP_TIMEOUT, NatsServer, ServerGroup

_CLUSTER_ATTEMPTS = 3
# Any JetStream API request through a node makes it subscribe its reply wildcard (see
# `_reply_routes_problem`); account info changes nothing.
_PRIME_SUBJECT = "$JS.API.INFO"
# Seconds for one monitoring request or one priming exchange while polling.
_PROBE_TIMEOUT = 2.0


class NatsCluster(ServerGroup):
    """A JetStream cluster (3 nodes by default) for tests.

    Every node is a :class:`NatsServer` with its own ports, store dir and
    log, JetStream enabled and the same ``APP``/``SYS`` accounts layout
    (nats-server requires identical account config on all nodes).  Routes
    listen on free loopback ports and every node lists every route; the
    cluster name is random so concurrent clusters never merge.

    :meth:`start` returns once :meth:`wait_ready` succeeds: a JetStream
    meta leader is elected and has taken over, every running node agrees on
    it, reports ``/healthz`` ok and is current on the leader, and every node
    knows where the other nodes' JetStream API replies go.

    Args:
        size: number of nodes.
        name: cluster name (random when omitted).
        domain: JetStream domain for all nodes.
        system_account: accounts layout, see :class:`NatsServer`.
        extra_config: raw config appended to every node's config.
        max_payload: server ``max_payload`` in bytes.
        start_timeout: seconds to wait for the cluster to be ready.
        stop_timeout: per-node seconds between SIGTERM and SIGKILL.
        keep_dirs: keep node temp directories after :meth:`stop`.
        debug: enable server debug logging.
    """

    def __init__(
        self,
        size: int = 3,
        *,
        name: str | None = None,
        domain: str | None = None,
        system_account: bool = True,
        extra_config: str = "",
        max_payload: int | None = None,
        start_timeout: float = 30.0,
        stop_timeout: float = DEFAULT_STOP_TIMEOUT,
        keep_dirs: bool = False,
        base_dir: str | Path | None = None,
        debug: bool = False,
    ) -> None:
        if size < 1:
            raise ValueError("a cluster needs at least one node")
        self._size = size
        self._name = name or f"jsc-{secrets.token_hex(4)}"
        self._system_account = system_account
        super().__init__(start_timeout, stop_timeout, keep_dirs, base_dir, debug)
        # What every node's config says besides its name, ports and routes.
        self._node_settings = functools.partial(
            self._new_server,
            domain=domain,
            system_account=system_account,
            extra_config=extra_config,
            max_payload=max_payload,
        )
        self.servers: list[NatsServer] = []
        """The nodes, in order; empty until :meth:`start`, kept after :meth:`stop` (for logs)."""
        self._active = False

    def __repr__(self) -> str:
        return f"<NatsCluster {self._name} size={self._size} nodes={self.servers!r}>"

    @property
    def name(self) -> str:
        """The cluster name."""
        return self._name

    @property
    def size(self) -> int:
        """Configured number of nodes."""
        return self._size

    @property
    def urls(self) -> list[str]:
        """Client URLs of all nodes (pass the list to ``nats.connect(servers=...)``)."""
        self._require_started()
        return [server.url for server in self.servers]

    @property
    def url(self) -> str:
        """Client URL of the first node.

        nats-py does not split comma-separated URL strings, so this is a
        single URL; the client learns the other nodes from the server.
        Prefer :attr:`urls` to survive the first node being down.
        """
        return self.urls[0]

    @property
    def system_url(self) -> str | None:
        """System-account URL of the first node, or ``None``."""
        self._require_started()
        return self.servers[0].system_url

    @property
    def system_urls(self) -> list[str]:
        """System-account URLs of all nodes (empty without the accounts layout)."""
        self._require_started()
        return [url for url in (server.system_url for server in self.servers) if url]

    # ------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Start all nodes in parallel and wait for :meth:`wait_ready`.

        A port clash (another process grabbed a chosen port) restarts the
        whole cluster on fresh ports, because every node's config lists
        every route port.

        Raises:
            NatsServerError: the cluster did not form in ``start_timeout``.
        """
        if self._active:
            # Bring back nodes that were killed or shut down.
            await asyncio.gather(*(server.start() for server in self.servers))
            await self.wait_ready()
            return
        for attempt in range(_CLUSTER_ATTEMPTS):
            self.servers = self._build_nodes()
            try:
                results = await asyncio.gather(
                    *(server.start() for server in self.servers), return_exceptions=True
                )
                errors = [r for r in results if isinstance(r, BaseException)]
                if errors:
                    if all(isinstance(e, PortInUseError) for e in errors) and attempt + 1 < _CLUSTER_ATTEMPTS:
                        await self.stop()
                        continue
                    raise errors[0]
                self._active = True
                await self.wait_ready()
                return
            except BaseException:
                await self.stop()
                raise

    async def stop(self) -> None:
        """Stop every node and delete their temp dirs.  Idempotent.

        :attr:`servers` keeps the stopped nodes so their logs stay readable;
        a later :meth:`start` builds a fresh cluster.
        """
        self._active = False
        results = await asyncio.gather(*(server.stop() for server in self.servers), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result

    async def kill(self, index: int) -> None:
        """SIGKILL node ``index``; its store is kept for :meth:`restart`."""
        await self._node(index).kill()

    async def stop_node(self, index: int) -> None:
        """Gracefully stop node ``index`` but keep its store for :meth:`restart`."""
        await self._node(index).shutdown()

    async def restart(self, index: int, *, timeout: float | None = None) -> None:
        """Restart node ``index`` (same ports and store), then :meth:`wait_ready`."""
        await self._node(index).restart()
        await self.wait_ready(timeout=timeout)

    async def wait_ready(self, *, timeout: float | None = None) -> None:
        """Wait until the JetStream meta layer is settled and API replies route.

        Considers only running nodes:

        * each reports ``/healthz`` ok and the same meta leader in ``/jsz``;
        * the leader lists every other running node as ``current`` (followers
          do not track each other, so only the leader's view is meaningful);
        * the leader has finished taking over (``/jsz?leader-only=true``
          answers): until then it ignores JetStream API requests although
          every node already names it;
        * every node has subscribed the wildcard its JetStream API replies
          travel back on, and every other node has learnt of it (see
          :meth:`_reply_routes_problem`).

        Raises:
            NatsServerError: not ready within ``timeout`` (default
                ``start_timeout``); includes the last observed state.
        """
        self._require_started()
        limit = self.start_timeout if timeout is None else timeout
        errors = (OSError, asyncio.TimeoutError, ValueError)
        last = await wait_for(self._readiness_problem, timeout=limit, errors=errors, interval=0.1)
        if last is not None:
            tails = "\n".join(f"--- tail of {s.name} log ---\n{s.log_tail(15)}" for s in self.servers)
            raise NatsServerError(f"cluster {self._name} not ready after {limit:.1f}s: {last}\n{tails}")

    async def wait_for_interest(self, subject: str, *, timeout: float | None = None) -> None:
        """Wait until every running node knows of a subscription matching ``subject``.

        A node knows of it when one of its own clients subscribed it or another node announced
        it over a route.  Interest spreads over the routes asynchronously, so a reply sent by a
        third node right after a client subscribed may find no interest and be dropped.  Pass
        a literal subject the subscription must match (e.g. ``<inbox prefix>.1`` for a client's
        wildcard reply inbox).

        Raises:
            NatsServerError: some node did not learn of it within ``timeout`` (default
                ``start_timeout``).
        """
        self._require_started()
        limit = self.start_timeout if timeout is None else timeout

        async def problem() -> str | None:
            running = [s for s in self.servers if s.running]
            known = await asyncio.gather(*(_knows_interest(s, subject) for s in running))
            unaware = [s.name for s, ok in zip(running, known, strict=True) if not ok]
            return f"no interest in {subject!r} known on {unaware}" if unaware else None

        errors = (OSError, asyncio.TimeoutError, ValueError)
        last = await wait_for(problem, timeout=limit, errors=errors, interval=0.05)
        if last is not None:
            raise NatsServerError(f"cluster {self._name}: {last} after {limit:.1f}s")

    async def meta_leader(self) -> str | None:
        """Name of the current JetStream meta leader as seen by the first running node."""
        for server in self.servers:
            if server.running:
                jsz = await server.monitor("/jsz")
                leader = (jsz.get("meta_cluster") or {}).get("leader") if isinstance(jsz, dict) else None
                return str(leader) if leader else None
        return None

    # --------------------------------------------------------------- helpers

    def _require_started(self) -> None:
        if not self._active:
            raise RuntimeError(f"cluster {self._name} is not started")

    def _node(self, index: int) -> NatsServer:
        self._require_started()
        return self.servers[index]

    def _build_nodes(self) -> list[NatsServer]:
        ports = free_ports(3 * self._size)
        client, http, route = (ports[i * self._size : (i + 1) * self._size] for i in range(3))
        routes = [f"nats-route://{LOOPBACK}:{port}" for port in route]
        return [
            self._node_settings(
                name=f"{self._name}-n{i}",
                port=client[i],
                http_port=http[i],
                cluster_name=self._name,
                cluster_port=route[i],
                routes=routes,
                start_timeout=self.start_timeout,
            )
            for i in range(self._size)
        ]

    async def _readiness_problem(self) -> str | None:
        running = [s for s in self.servers if s.running]
        if not running:
            return "no node is running"
        healthy = await asyncio.gather(*(s.is_healthy() for s in running))
        unhealthy = [s.name for s, ok in zip(running, healthy, strict=True) if not ok]
        if unhealthy:
            return f"/healthz not ok on {unhealthy}"
        metas: dict[str, dict[str, Any]] = {}
        for server, jsz in zip(
            running, await asyncio.gather(*(s.monitor("/jsz") for s in running)), strict=True
        ):
            meta = jsz.get("meta_cluster") if isinstance(jsz, dict) else None
            metas[server.name] = meta if isinstance(meta, dict) else {}
        if self._size == 1:
            return None
        leaders = {name: meta.get("leader") for name, meta in metas.items()}
        distinct = set(leaders.values())
        if len(distinct) != 1 or None in distinct or "" in distinct:
            return f"no agreed meta leader: {leaders}"
        leader = str(distinct.pop())
        if leader not in metas:
            return f"meta leader {leader} is not a running node"
        current = {str(r.get("name")) for r in metas[leader].get("replicas") or [] if r.get("current")}
        lagging = [s.name for s in running if s.name != leader and s.name not in current]
        if lagging:
            return f"nodes not current on meta leader {leader}: {lagging}"
        # Every node names the leader as soon as it is elected, but the leader acts on API
        # requests only once it has applied its first entry of the new term; until then a
        # request (a stream create...) is dropped and the client times out.  That is exactly
        # when the leader-only /jsz stops refusing with 400.
        leader_node = next(s for s in running if s.name == leader)
        status, _ = await http_get(leader_node.http_port, "/jsz?leader-only=true", timeout=_PROBE_TIMEOUT)
        if status != 200:
            return f"meta leader {leader} has not taken over yet (/jsz?leader-only=true -> {status})"
        return await self._reply_routes_problem(running)

    @property
    def _system_account_name(self) -> str:
        return SYS_ACCOUNT if self._system_account else "$SYS"

    async def _reply_routes_problem(self, running: list[NatsServer]) -> str | None:
        """Whether each node's JetStream API replies can reach it from every other node.

        A client's API request (``$JS.API.>``) is a service import from the system account:
        the node the client is connected to rewrites the reply subject to
        ``_R_.<node prefix>.<token>`` in the system account, and subscribes the wildcard
        ``_R_.<node prefix>.>`` on the first such request it ever forwards.  That
        subscription reaches the other nodes over the routes asynchronously, while the request
        itself may reach the node that answers by another path: in a stream create the meta
        leader assigns the stream, and the stream's new leader - a third node - sends the
        reply.  When the reply gets there before the subscription does, the node drops it and
        the client times out ("no reply on $JS.API.STREAM.CREATE...") although the stream was
        created.  So each node gets one harmless API request here, and readiness waits until
        every other node lists the node's reply wildcard among the route's subscriptions.
        """
        if len(running) < 2:
            return None
        account = self._system_account_name
        wildcards: dict[str, set[str]] = {}
        for server in running:
            found = await _reply_wildcards(server, account)
            if not found:
                problem = await _prime_api_replies(server)
                if problem is not None:
                    return problem
                found = await _reply_wildcards(server, account)
                if not found:
                    return f"{server.name} has no JetStream API reply subscription yet"
            wildcards[server.name] = found
        for server in running:
            learnt = await _route_subscriptions(server)
            for other in running:
                if other is not server and not wildcards[other.name] & learnt.get(other.name, set()):
                    return f"{server.name} has not learnt {other.name}'s API reply subscription yet"
        return None


async def _reply_wildcards(server: NatsServer, account: str) -> set[str]:
    """The node's own ``_R_.<prefix>.>`` subscriptions in ``account``."""
    path = f"/subsz?subs=1&limit=100000&acc={quote(account, safe='')}"
    status, body = await http_get(server.http_port, path, timeout=_PROBE_TIMEOUT)
    document = json.loads(body) if status == 200 and body.strip() else {}
    subs = document.get("subscriptions_list") or [] if isinstance(document, dict) else []
    return {
        str(sub.get("subject"))
        for sub in subs
        if isinstance(sub, dict) and str(sub.get("subject", "")).startswith("_R_.")
    }


async def _route_subscriptions(server: NatsServer) -> dict[str, set[str]]:
    """Subjects each remote node has announced to ``server`` over the routes, by node name."""
    status, body = await http_get(server.http_port, "/routez?subs=1", timeout=_PROBE_TIMEOUT)
    document = json.loads(body) if status == 200 and body.strip() else {}
    learnt: dict[str, set[str]] = {}
    for route in document.get("routes") or [] if isinstance(document, dict) else []:
        if isinstance(route, dict):
            subjects = learnt.setdefault(str(route.get("remote_name")), set())
            subjects.update(str(subject) for subject in route.get("subscriptions_list") or [])
    return learnt


async def _knows_interest(server: NatsServer, subject: str) -> bool:
    """Whether ``server`` has a local or a route subscription matching the literal ``subject``."""
    path = f"/subsz?subs=1&limit=100000&test={quote(subject, safe='')}"
    status, body = await http_get(server.http_port, path, timeout=_PROBE_TIMEOUT)
    document = json.loads(body) if status == 200 and body.strip() else {}
    if isinstance(document, dict) and document.get("subscriptions_list"):
        return True
    learnt = await _route_subscriptions(server)
    # A route subscription is listed as "<subject> <queue>"; the queue name does not match.
    return any(
        matches(pattern.split(" ")[0], subject) for subjects in learnt.values() for pattern in subjects
    )


async def _prime_api_replies(server: NatsServer) -> str | None:
    """Send one JetStream API request through ``server``'s client port, as the user a client
    without credentials becomes; ``None`` once the server has processed it, else the problem.

    Raw protocol over a socket: ``PONG`` answers the ``PING`` sent after the request, and a
    server handles a connection's protocol in order, so by then it has subscribed its reply
    wildcard and queued the announcement to the routes.
    """
    inbox = f"_INBOX.jetstream-testing.{secrets.token_hex(8)}"
    connect = {"verbose": False, "pedantic": False, "name": "jetstream.testing readiness", "protocol": 1}
    frames = f"CONNECT {json.dumps(connect)}\r\nPUB {_PRIME_SUBJECT} {inbox} 0\r\n\r\nPING\r\n"

    async def exchange() -> str | None:
        async with loopback_connection(server.port) as (reader, writer):
            info = await reader.readline()
            if not info.startswith(b"INFO "):
                return f"{server.name}: unexpected greeting {info[:80]!r}"
            writer.write(frames.encode())
            await writer.drain()
            while True:
                line = await reader.readline()
                if not line:
                    return f"{server.name} closed the readiness connection"
                if line.startswith(b"PONG"):
                    return None
                if line.startswith(b"PING"):
                    writer.write(b"PONG\r\n")
                elif line.startswith(b"-ERR"):
                    return f"{server.name} refused the readiness request: {line.strip().decode(errors='replace')}"

    return await asyncio.wait_for(exchange(), _PROBE_TIMEOUT)

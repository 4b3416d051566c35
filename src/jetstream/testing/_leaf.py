"""A hub server plus a leafnode server, each with its own JetStream domain."""

from __future__ import annotations

import asyncio
import json
import secrets
from pathlib import Path
from typing import Any

import nats
from nats.errors import Error as NatsError

from ._config import APP_ACCOUNT
from ._errors import NatsServerError
from ._lifecycle import wait_for
from ._server import DEFAULT_STOP_TIMEOUT, NatsServer, ServerGroup


async def _ignore_error(_: Exception) -> None:
    # Probe connections are short-lived; nats-py's default error callback
    # would only log expected noise while the leaf link comes up.
    return None


async def _js_domain(url: str, api_prefix: str, timeout: float) -> str | None:
    """Ask ``<api_prefix>.INFO`` through ``url``; return the reported domain."""
    nc = await nats.connect(
        url,
        allow_reconnect=False,
        connect_timeout=max(1, int(timeout)),
        error_cb=_ignore_error,
    )
    try:
        reply = await nc.request(f"{api_prefix}.INFO", b"", timeout=timeout)
    finally:
        await nc.close()
    info: Any = json.loads(reply.data)
    if not isinstance(info, dict) or "error" in info:
        raise NatsServerError(f"{api_prefix}.INFO via {url} answered {info!r}")
    domain = info.get("domain")
    return None if domain is None else str(domain)


class HubAndLeaf(ServerGroup):
    """A hub server and a leaf server connected by a leafnode link.

    * ``hub``: JetStream domain ``hub_domain`` (default ``"hub"``), listens
      for leafnode connections.
    * ``leaf``: JetStream domain ``leaf_domain`` (default ``"leaf"``), with a
      leafnode remote to the hub binding its ``APP`` account to the hub's
      ``APP`` account (the remote authenticates as ``app``).

    Both use the ``APP``/``SYS`` accounts layout of :class:`NatsServer`, so
    a client connected to ``leaf.url`` reaches the hub's JetStream through
    ``$JS.<hub_domain>.API.>`` and its local one through ``$JS.API.>`` or
    ``$JS.<leaf_domain>.API.>``.

    :meth:`start` returns once the link is up (``/leafz`` on both sides)
    and both domains answer ``INFO`` requests from a client on the leaf.
    """

    def __init__(
        self,
        *,
        hub_domain: str = "hub",
        leaf_domain: str = "leaf",
        hub_extra_config: str = "",
        leaf_extra_config: str = "",
        start_timeout: float = 30.0,
        stop_timeout: float = DEFAULT_STOP_TIMEOUT,
        keep_dirs: bool = False,
        base_dir: str | Path | None = None,
        debug: bool = False,
    ) -> None:
        if hub_domain == leaf_domain:
            raise ValueError("hub and leaf need different JetStream domains")
        super().__init__(start_timeout, stop_timeout, keep_dirs, base_dir, debug)
        token = secrets.token_hex(4)
        self.hub_domain = hub_domain
        self.leaf_domain = leaf_domain
        self._leaf_name = f"leaf-{token}"
        self._leaf_extra_config = leaf_extra_config
        self.hub: NatsServer = self._new_server(
            name=f"hub-{token}",
            domain=hub_domain,
            leafnode_listen=True,
            extra_config=hub_extra_config,
            start_timeout=start_timeout,
        )
        """The hub server."""
        self._leaf: NatsServer | None = None
        self._leaf_remote: str | None = None

    def __repr__(self) -> str:
        return f"<HubAndLeaf hub={self.hub!r} leaf={self._leaf!r}>"

    @property
    def leaf(self) -> NatsServer:
        """The leaf server (exists once :meth:`start` has run)."""
        if self._leaf is None:
            raise RuntimeError("the leaf server is created by start()")
        return self._leaf

    @property
    def hub_url(self) -> str:
        """Client URL of the hub."""
        return self.hub.url

    @property
    def leaf_url(self) -> str:
        """Client URL of the leaf."""
        return self.leaf.url

    async def start(self) -> None:
        """Start the hub, then the leaf, then :meth:`wait_ready`."""
        try:
            await self.hub.start()
            remote = self.hub.leafnode_url
            if self._leaf is None or self._leaf_remote != remote:
                # The remote URL needs the hub's leafnode port, known only
                # once the hub has picked its ports (fresh on every start
                # after stop()), so the leaf is (re)created here.
                self._leaf = self._new_server(
                    name=self._leaf_name,
                    domain=self.leaf_domain,
                    extra_config=self._leaf_extra_config,
                    leaf_remotes=[remote],
                    start_timeout=self.start_timeout,
                )
                self._leaf_remote = remote
            await self._leaf.start()
            await self.wait_ready()
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        """Stop both servers and delete their temp dirs.  Idempotent."""
        # The stopped leaf object is kept so its log stays readable.
        if self._leaf is not None:
            await self._leaf.stop()
        await self.hub.stop()

    async def wait_ready(self, *, timeout: float | None = None) -> None:
        """Wait for the leafnode link and both JetStream domains.

        Checks ``/leafz`` on both servers (the leaf side must be bound to
        ``APP``), then from a client on the leaf requests
        ``$JS.<hub_domain>.API.INFO`` and ``$JS.<leaf_domain>.API.INFO`` and
        checks the domains they report.  Interest for the hub's API subjects
        propagates shortly after the link is up, hence the retries.
        """
        limit = self.start_timeout if timeout is None else timeout
        errors = (OSError, asyncio.TimeoutError, ValueError, NatsError, NatsServerError)
        last = await wait_for(self._readiness_problem, timeout=limit, errors=errors, interval=0.1)
        if last is not None:
            logs = "\n".join(
                f"--- tail of {s.name} log ---\n{s.log_tail(15)}"
                for s in (self.hub, self._leaf)
                if s is not None
            )
            raise NatsServerError(f"hub/leaf not ready after {limit:.1f}s: {last}\n{logs}")

    async def _readiness_problem(self) -> str | None:
        leaf = self.leaf
        for server in (self.hub, leaf):
            if not await server.is_healthy():
                return f"/healthz not ok on {server.name}"
        hub_leafz = await self.hub.monitor("/leafz")
        if not hub_leafz.get("leafnodes"):
            return f"hub {self.hub.name} has no leafnode connection"
        leaf_leafz = await leaf.monitor("/leafz")
        accounts = [link.get("account") for link in leaf_leafz.get("leafs") or []]
        if APP_ACCOUNT not in accounts:
            return f"leaf {leaf.name} has no leafnode link bound to {APP_ACCOUNT}: {accounts}"
        for domain in (self.hub_domain, self.leaf_domain):
            got = await _js_domain(leaf.url, f"$JS.{domain}.API", timeout=1.0)
            if got != domain:
                return f"$JS.{domain}.API.INFO via leaf reported domain {got!r}"
        return None


async def start_hub_and_leaf(
    *,
    hub_domain: str = "hub",
    leaf_domain: str = "leaf",
    start_timeout: float = 30.0,
    keep_dirs: bool = False,
) -> HubAndLeaf:
    """Create and start a :class:`HubAndLeaf`; the caller must ``await .stop()`` it."""
    pair = HubAndLeaf(
        hub_domain=hub_domain,
        leaf_domain=leaf_domain,
        start_timeout=start_timeout,
        keep_dirs=keep_dirs,
    )
    await pair.start()
    return pair

"""One ``nats-server`` process with its own ports, config, store and log."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import json
import secrets
import shutil
import ssl
import subprocess
import tempfile
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

from ._auth import Account, NkeyUser, Operator, TLSCertificates, TLSFiles, User
from ._binary import find_nats_server
from ._config import (
    APP_ACCOUNT,
    APP_PASSWORD,
    APP_USER,
    SYS_PASSWORD,
    SYS_USER,
    OperatorConfig,
    ServerConfig,
    TLSConfig,
)
from ._errors import NatsServerError, PortInUseError
from ._http import http_get_json
from ._lifecycle import StartStop
from ._ports import LOOPBACK, free_ports, loopback_connection

#: Seconds to wait for a server to accept clients and report healthy.
DEFAULT_START_TIMEOUT = 15.0
#: Seconds to wait after SIGTERM before escalating to SIGKILL.
DEFAULT_STOP_TIMEOUT = 5.0

_T = TypeVar("_T")

_PORT_ATTEMPTS = 5
_LOG_TAIL_LINES = 40
_ADDR_IN_USE = "address already in use"


class _AddressInUse(Exception):
    """Internal: the server died because a listen port was taken."""


class _Resources:
    """What the last-resort finalizer must clean up.

    Kept separate from :class:`NatsServer` because a ``weakref.finalize``
    callback must not hold a reference to the object it finalizes.
    """

    __slots__ = ("directory", "keep_dir", "process")

    def __init__(self, keep_dir: bool) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.directory: Path | None = None
        self.keep_dir = keep_dir


def _reap(res: _Resources) -> None:
    # Runs when a NatsServer is garbage collected or at interpreter exit
    # without having been stopped (test crashed, Ctrl-C, forgotten stop()):
    # never leave a nats-server process or a temp dir behind.
    proc = res.process
    if proc is not None and proc.poll() is None:
        with contextlib.suppress(OSError):
            proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)
    if res.directory is not None and not res.keep_dir:
        shutil.rmtree(res.directory, ignore_errors=True)
    res.directory = None


async def _wait_exit(proc: subprocess.Popen[bytes], timeout: float) -> bool:
    """Poll until ``proc`` exits (reaping it); False if ``timeout`` passed.

    Polling ``Popen`` instead of using asyncio subprocesses keeps servers
    independent of any particular event loop, so a session-scoped fixture
    created on one loop can be stopped/restarted from tests on another.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    delay = 0.005
    while proc.poll() is None:
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.05)
    return True


async def _probe_client_port(port: int, server_name: str, timeout: float) -> None:
    """Connect to the client port and expect our server's ``INFO`` line.

    Checking ``server_name`` guards against talking to whatever else may
    hold the port after our process lost the bind race.
    """

    async def _probe() -> bytes:
        async with loopback_connection(port) as (reader, _):
            return await reader.readline()

    line = await asyncio.wait_for(_probe(), timeout)
    if not line.startswith(b"INFO "):
        raise ConnectionError(f"unexpected greeting on client port {port}: {line[:80]!r}")
    info = json.loads(line[5:])
    if not isinstance(info, dict) or info.get("server_name") != server_name:
        raise ConnectionError(f"port {port} is served by {info.get('server_name')!r}, not {server_name!r}")


class NatsServer(StartStop):
    """A real ``nats-server`` process for tests, bound to 127.0.0.1 only.

    Every instance gets free ports (client, monitoring and, if requested,
    leafnode), a private temporary directory holding the generated config,
    the JetStream store and the server log.

    With ``system_account=True`` (the default) the server runs with two
    accounts: ``APP`` (user ``app``/``app``, JetStream enabled) and ``SYS``
    (user ``sys``/``sys``, the system account).  ``no_auth_user: app`` makes
    :attr:`url` connect as ``APP`` without credentials, while
    :attr:`system_url` authenticates as the system user.

    Use it as an async context manager::

        async with NatsServer() as server:
            nc = await nats.connect(server.url)

    Lifecycle:

    * :meth:`start` launches the process and waits until it is ready;
    * :meth:`restart` stops gracefully and starts again with the same ports,
      config and store (data survives);
    * :meth:`kill` sends SIGKILL and keeps the store for :meth:`restart`;
    * :meth:`stop` terminates the process and deletes the temp directory.

    Instances are not bound to an event loop: all waiting is done by polling,
    so the same server may be driven from different loops.

    Args:
        jetstream: enable JetStream.
        domain: JetStream domain name.
        system_account: use the ``APP``/``SYS`` accounts layout described
            above.  When false the server runs with the default global
            account and :attr:`system_url` is ``None``.
        extra_config: raw config text appended to the generated file.
        max_payload: server ``max_payload`` in bytes.
        leafnode_listen: accept leafnode connections (see
            :attr:`leafnode_url`).
        leaf_remotes: leafnode remote URLs to connect to.  With the accounts
            layout the local ``APP`` account is bound to each remote.
        name: ``server_name``; random when omitted.
        port, http_port, leafnode_port: fixed ports instead of free ones
            (a port clash then raises :class:`PortInUseError`).
        cluster_name, cluster_port, routes: cluster membership; used by
            :class:`~jetstream.testing.NatsCluster`.
        debug, trace: enable server debug / protocol trace logging.
        start_timeout: seconds :meth:`start` waits for readiness.
        stop_timeout: seconds to wait after SIGTERM before SIGKILL.
        keep_dir: keep the temp directory (config, store, log) after
            :meth:`stop` for post-mortem debugging.
        base_dir: parent for the temp directory (default: system temp).
        binary: ``nats-server`` executable (default: :func:`find_nats_server`).

    Authorization and TLS (all keyword options; without them the server runs
    the default layout above):

        users: users (:class:`User` with a password, :class:`NkeyUser`), each
            with optional :class:`Permissions`, of the ``APP`` account, which
            replace the default ``app`` user; clients must then authenticate
            (no ``no_auth_user`` unless given).  Shortcut for
            ``accounts=[Account("APP", users)]``.
        accounts: :class:`Account` definitions replacing the default ``APP``
            account (e.g. two isolated accounts).  With ``system_account``
            the ``SYS`` account (user ``sys``/``sys``) is added unless one of
            that name is given.
        no_auth_user: with ``users``/``accounts``: the user that clients
            connecting without credentials become.
        token: token authentication; clients use ``token=...``.  The server
            then runs the global account only (nats-server cannot combine a
            token with accounts), so :attr:`system_url` is ``None``.
        operator: an :class:`Operator`: operator (JWT) mode with a memory
            resolver preloaded with the JWTs of the operator's accounts as
            they are at start; clients use ``user_credentials=`` with a
            ``.creds`` file of a :class:`JWTUser`.
        tls: ``True`` (a fresh throwaway CA, see :attr:`tls_certificates`)
            or a :class:`TLSCertificates`: the client port requires TLS.
            :meth:`tls_context` gives a client ``ssl.SSLContext`` trusting
            the CA.  :attr:`url` keeps the ``nats://`` scheme (nats-py
            upgrades to TLS when the server asks for it).
        tls_verify: mutual TLS: clients must present a certificate signed by
            the CA (implies ``tls=True`` when ``tls`` is not given).

    The readiness check needs no credentials: the server's ``INFO`` line is
    sent before authentication (and before the TLS upgrade), and
    ``/healthz`` is served on the plain-HTTP monitoring port.
    """

    def __init__(
        self,
        *,
        jetstream: bool = True,
        domain: str | None = None,
        system_account: bool = True,
        extra_config: str = "",
        max_payload: int | None = None,
        leafnode_listen: bool = False,
        leaf_remotes: Sequence[str] = (),
        name: str | None = None,
        port: int | None = None,
        http_port: int | None = None,
        leafnode_port: int | None = None,
        cluster_name: str | None = None,
        cluster_port: int | None = None,
        routes: Sequence[str] = (),
        debug: bool = False,
        trace: bool = False,
        start_timeout: float = DEFAULT_START_TIMEOUT,
        stop_timeout: float = DEFAULT_STOP_TIMEOUT,
        keep_dir: bool = False,
        base_dir: str | Path | None = None,
        binary: str | None = None,
        users: Sequence[User | NkeyUser] | None = None,
        accounts: Sequence[Account] | None = None,
        no_auth_user: str | None = None,
        token: str | None = None,
        operator: Operator | None = None,
        tls: bool | TLSCertificates = False,
        tls_verify: bool = False,
    ) -> None:
        if (cluster_name is None) != (cluster_port is None):
            raise ValueError("cluster_name and cluster_port must be given together")
        if users is not None and accounts is not None:
            raise ValueError("give users (of the APP account) or accounts, not both")
        if users is not None:
            accounts = [Account(APP_ACCOUNT, users=tuple(users))]
        # The config file's settings but for the ports, paths, TLS files and the operator's JWTs,
        # which `_config` fills in at each start; refuses impossible combinations (token + accounts
        # ...) now.
        self._accounts = None if accounts is None else tuple(accounts)
        self._settings = ServerConfig(
            name=name or f"nats-{secrets.token_hex(4)}",
            port=0,
            http_port=0,
            store_dir="",
            jetstream=jetstream,
            domain=domain,
            system_account=system_account,
            max_payload=max_payload,
            leaf_remotes=tuple(leaf_remotes),
            cluster_name=cluster_name,
            cluster_port=cluster_port,
            routes=tuple(routes),
            debug=debug,
            trace=trace,
            extra_config=extra_config,
            accounts=self._accounts,
            no_auth_user=no_auth_user,
            token=token,
            operator=None if operator is None else OperatorConfig("", ""),
        )
        self._operator = operator
        if tls_verify and tls is False:
            tls = True
        self._tls_certs: TLSCertificates | None = (
            TLSCertificates() if tls is True else (tls if isinstance(tls, TLSCertificates) else None)
        )
        self._tls_verify = tls_verify
        self._tls_files: TLSFiles | None = None
        self._leafnode_listen = leafnode_listen or leafnode_port is not None
        self._fixed_port = port
        self._fixed_http_port = http_port
        self._fixed_leafnode_port = leafnode_port
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self._base_dir = None if base_dir is None else Path(base_dir)
        self._binary = binary

        self._port: int | None = None
        self._http_port: int | None = None
        self._leafnode_port: int | None = None
        self._dir: Path | None = None  # last temp dir; stays set after stop()
        self._log_offset = 0  # log size when the current process was spawned
        self._log_snapshot: str | None = None  # log text saved by stop()
        self._res = _Resources(keep_dir)
        self._finalizer = weakref.finalize(self, _reap, self._res)

    # ------------------------------------------------------------------ info

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        where = f" {self.url}" if self._port is not None else ""
        return f"<NatsServer {self.name}{where} {state}>"

    @property
    def name(self) -> str:
        """The ``server_name``."""
        return self._settings.name

    @property
    def jetstream(self) -> bool:
        """Whether JetStream is enabled."""
        return self._settings.jetstream

    @property
    def domain(self) -> str | None:
        """The JetStream domain, if any."""
        return self._settings.domain

    @property
    def port(self) -> int:
        """Client port (available once started)."""
        return self._require(self._port, "port")

    @property
    def http_port(self) -> int:
        """Monitoring (HTTP) port on 127.0.0.1."""
        return self._require(self._http_port, "http_port")

    @property
    def leafnode_port(self) -> int:
        """Port accepting leafnode connections (requires ``leafnode_listen``)."""
        if not self._leafnode_listen:
            raise RuntimeError(f"{self.name} was not created with leafnode_listen=True")
        return self._require(self._leafnode_port, "leafnode_port")

    @property
    def cluster_port(self) -> int | None:
        """Route (cluster) port, or ``None`` when not clustered."""
        return self._settings.cluster_port

    @property
    def url(self) -> str:
        """Client URL; connects as ``APP`` (or the global account) without credentials."""
        return f"nats://{LOOPBACK}:{self.port}"

    @property
    def system_url(self) -> str | None:
        """Client URL authenticating as the system-account user, or ``None``.

        ``None`` also in token and operator mode, and when a custom ``SYS``
        account was given (its users are the caller's).
        """
        if self._settings.system_account_name is None:
            return None
        if self._accounts is not None and any(a.name == "SYS" for a in self._accounts):
            return None
        return f"nats://{SYS_USER}:{SYS_PASSWORD}@{LOOPBACK}:{self.port}"

    @property
    def token(self) -> str | None:
        """The authentication token, if the server uses one."""
        return self._settings.token

    @property
    def operator(self) -> Operator | None:
        """The :class:`Operator` of an operator (JWT) mode server."""
        return self._operator

    @property
    def accounts(self) -> tuple[Account, ...] | None:
        """The custom accounts (from ``users`` or ``accounts``), or ``None``."""
        return self._accounts

    @property
    def tls_certificates(self) -> TLSCertificates | None:
        """The CA and certificates of a TLS server, or ``None``."""
        return self._tls_certs

    @property
    def tls_verify(self) -> bool:
        """Whether clients must present a certificate (mutual TLS)."""
        return self._tls_verify

    def tls_context(self, *, client_cert: bool = True) -> ssl.SSLContext:
        """A client ``ssl.SSLContext`` trusting this server's CA (see :meth:`TLSCertificates.client_context`)."""
        if self._tls_certs is None:
            raise RuntimeError(f"{self.name} was not created with tls")
        return self._tls_certs.client_context(client_cert=client_cert)

    @property
    def leafnode_url(self) -> str:
        """URL for a leafnode remote pointing at this server.

        Carries the ``app`` credentials when the accounts layout is used so
        the remote binds to this server's ``APP`` account.
        """
        creds = f"{APP_USER}:{APP_PASSWORD}@" if self._settings.uses_default_accounts else ""
        return f"nats://{creds}{LOOPBACK}:{self.leafnode_port}"

    @property
    def monitor_url(self) -> str:
        """Base URL of the HTTP monitoring endpoint."""
        return f"http://{LOOPBACK}:{self.http_port}"

    @property
    def directory(self) -> Path:
        """The server's private temp directory."""
        return self._require(self._dir, "directory")

    @property
    def store_dir(self) -> Path:
        """JetStream ``store_dir`` (inside :attr:`directory`)."""
        return self.directory / "store"

    @property
    def config_path(self) -> Path:
        """Path of the generated config file."""
        return self.directory / "nats-server.conf"

    @property
    def log_path(self) -> Path:
        """Path of the server log (stdout and stderr of every run, appended)."""
        return self.directory / "nats-server.log"

    @property
    def process(self) -> subprocess.Popen[bytes] | None:
        """The current (or last) ``nats-server`` process."""
        return self._res.process

    @property
    def running(self) -> bool:
        """Whether the process is alive."""
        proc = self._res.process
        return proc is not None and proc.poll() is None

    def read_log(self) -> str:
        """Return the whole server log.

        Still works after :meth:`stop` deleted the directory: the log is
        captured just before deletion.
        """
        if self._dir is not None and self.log_path.exists():
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        return self._log_snapshot or ""

    def log_tail(self, lines: int = _LOG_TAIL_LINES) -> str:
        """Return the last ``lines`` lines of the server log."""
        return "\n".join(self.read_log().splitlines()[-lines:])

    def config_text(self) -> str:
        """Render the config file this server runs (or will run) with."""
        return self._config().render()

    async def monitor(self, path: str, *, timeout: float = 5.0) -> Any:
        """GET a monitoring endpoint (e.g. ``"/jsz"``) and return the decoded JSON.

        The document is returned whatever the HTTP status (``/healthz``
        answers 503 with a JSON error body when unhealthy).
        """
        _, document = await http_get_json(self.http_port, path, timeout=timeout)
        return document

    async def is_healthy(self, *, timeout: float = 2.0) -> bool:
        """Whether ``/healthz`` currently reports ``ok``."""
        try:
            status, document = await http_get_json(self.http_port, "/healthz", timeout=timeout)
        except (OSError, asyncio.TimeoutError, ValueError):
            return False
        return status == 200 and isinstance(document, dict) and document.get("status") == "ok"

    # ------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Start the server and wait until it is ready.

        Ready means the client port answers with ``INFO`` and ``/healthz``
        reports ok (for JetStream servers this includes JetStream being
        up and, in a cluster, a meta leader being known).  No-op when
        already running.  After :meth:`kill` this behaves like
        :meth:`restart`.

        Raises:
            NatsServerError: the server exited or did not become ready in
                ``start_timeout`` seconds; the message has the log tail.
        """
        if self.running:
            return
        fresh = self._res.directory is None
        if fresh:
            self._create_directory()
        try:
            await self._launch(allow_new_ports=fresh)
        except BaseException:
            await self._terminate(graceful=False)
            if fresh:
                # The caller never got a started server (``async with`` body
                # not entered), so nobody else will clean up.
                self._cleanup_directory()
            raise

    async def stop(self) -> None:
        """Terminate the server and delete its temp directory.  Idempotent.

        Sends SIGTERM, escalates to SIGKILL after ``stop_timeout`` seconds
        and always reaps the process.  The log stays readable through
        :meth:`read_log`.
        """
        await self._terminate(graceful=True)
        self._cleanup_directory()

    async def shutdown(self) -> None:
        """Gracefully stop the process but keep ports, config and store for :meth:`restart`."""
        await self._terminate(graceful=True)

    async def kill(self) -> None:
        """SIGKILL the server (simulating a crash); the store is kept for :meth:`restart`."""
        await self._terminate(graceful=False)

    async def restart(self) -> None:
        """Stop gracefully (if running) and start again with the same ports, config and store."""
        await self._terminate(graceful=True)
        await self.start()

    # --------------------------------------------------------------- helpers

    @staticmethod
    def _require(value: _T | None, what: str) -> _T:
        if value is None:
            raise RuntimeError(f"{what} is not available before the server is started")
        return value

    def _tls_config(self) -> TLSConfig | None:
        if self._tls_certs is None:
            return None
        files = self._tls_files
        if files is None:  # rendered before start: show where the files will be
            d = self.directory / "tls"
            return TLSConfig(
                str(d / "server-cert.pem"), str(d / "server-key.pem"), str(d / "ca.pem"), self._tls_verify
            )
        return TLSConfig(
            cert_file=str(files.server_cert_file),
            key_file=str(files.server_key_file),
            ca_file=str(files.ca_file),
            verify=self._tls_verify,
        )

    def _operator_config(self) -> OperatorConfig | None:
        if self._operator is None:
            return None
        return OperatorConfig(
            operator_jwt_file=str(self.directory / "operator.jwt"),
            system_account=self._operator.system_account.public_key,
            resolver_preload=self._operator.resolver_preload(),
        )

    def _write_auth_files(self) -> None:
        # Certificates and the operator JWT live in the server's directory,
        # written before each launch (the operator may have new accounts).
        if self._tls_certs is not None:
            self._tls_files = self._tls_certs.write(self.directory / "tls")
        if self._operator is not None:
            (self.directory / "operator.jwt").write_text(self._operator.jwt + "\n", encoding="utf-8")

    def _config(self) -> ServerConfig:
        return dataclasses.replace(
            self._settings,
            port=self.port,
            http_port=self.http_port,
            store_dir=str(self.store_dir),
            leafnode_port=self._leafnode_port if self._leafnode_listen else None,
            tls=self._tls_config(),
            operator=self._operator_config(),
        )

    def _create_directory(self) -> None:
        base = None if self._base_dir is None else str(self._base_dir)
        self._dir = Path(tempfile.mkdtemp(prefix=f"jetstream-testing-{self.name}-", dir=base))
        self._res.directory = self._dir
        self._log_offset = 0
        self._log_snapshot = None

    def _cleanup_directory(self) -> None:
        if self._res.directory is not None:
            with contextlib.suppress(OSError):
                self._log_snapshot = self.read_log()
            if not self._res.keep_dir:
                shutil.rmtree(self._res.directory, ignore_errors=True)
            self._res.directory = None
        self._tls_files = None
        # A later start() is a fresh start: pick new free ports then.
        self._port = self._fixed_port
        self._http_port = self._fixed_http_port
        self._leafnode_port = self._fixed_leafnode_port

    def _allocate_ports(self) -> None:
        need = [self._fixed_port is None, self._fixed_http_port is None]
        need.append(self._leafnode_listen and self._fixed_leafnode_port is None)
        ports = iter(free_ports(sum(need)))
        self._port = self._fixed_port or next(ports)
        self._http_port = self._fixed_http_port or next(ports)
        if self._leafnode_listen:
            self._leafnode_port = self._fixed_leafnode_port or next(ports)

    @property
    def _ports_are_auto(self) -> bool:
        return (
            self._fixed_port is None
            and self._fixed_http_port is None
            and self._fixed_leafnode_port is None
            and self._settings.cluster_port is None
        )

    async def _launch(self, *, allow_new_ports: bool) -> None:
        repick = allow_new_ports and self._ports_are_auto
        last_error = ""
        for attempt in range(_PORT_ATTEMPTS):
            if allow_new_ports and (attempt == 0 or repick):
                self._allocate_ports()
            elif attempt:
                # Same ports are required (restart or fixed ports): give
                # whoever holds the port a moment to let go.
                await asyncio.sleep(0.2 * attempt)
            self._write_auth_files()
            self.config_path.write_text(self.config_text(), encoding="utf-8")
            self._spawn()
            try:
                await self._wait_ready()
                return
            except _AddressInUse as exc:
                last_error = str(exc)
                await self._terminate(graceful=False)
                if not repick and attempt >= 2:
                    break
        raise PortInUseError(
            f"nats-server {self.name}: listen port already in use after retries\n{last_error}"
        )

    def _spawn(self) -> None:
        binary = self._binary or find_nats_server()
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        # Server output (including config errors printed before logging is
        # set up) goes to one append-mode file that survives restarts.
        with self.log_path.open("ab") as log:
            self._res.process = subprocess.Popen(
                [binary, "-c", str(self.config_path)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=str(self.directory),
            )

    def _log_since_spawn(self) -> str:
        try:
            with self.log_path.open("rb") as log:
                log.seek(self._log_offset)
                return log.read().decode("utf-8", errors="replace")
        except OSError:
            return ""

    def _failure(self, headline: str) -> str:
        tail = "\n".join(self._log_since_spawn().splitlines()[-_LOG_TAIL_LINES:])
        return f"{headline}\n--- tail of {self.log_path} ---\n{tail}"

    async def _wait_ready(self) -> None:
        proc = self._res.process
        assert proc is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.start_timeout
        client_ok = False
        last = "no readiness check completed"
        # Short probe timeouts, growing on each timeout, keep noticing a
        # dead process quickly while still tolerating a very slow machine.
        per_try = 0.25
        while True:
            code = proc.poll()
            if code is not None:
                message = self._failure(f"nats-server {self.name} exited with code {code} during startup")
                if _ADDR_IN_USE in self._log_since_spawn():
                    raise _AddressInUse(message)
                raise NatsServerError(message)
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise NatsServerError(
                    self._failure(
                        f"nats-server {self.name} not ready after {self.start_timeout:.1f}s "
                        f"(last check: {last})"
                    )
                )
            timeout = min(per_try, remaining)
            try:
                if not client_ok:
                    await _probe_client_port(self.port, self.name, timeout)
                    client_ok = True
                status, document = await http_get_json(self.http_port, "/healthz", timeout=timeout)
                if status == 200 and isinstance(document, dict) and document.get("status") == "ok":
                    return
                last = f"/healthz -> {status} {document}"
            except asyncio.TimeoutError:
                last = f"no answer within {timeout:.2f}s"
                per_try = min(per_try * 2, 2.0)
                continue
            except (OSError, ValueError) as exc:
                last = f"{type(exc).__name__}: {exc}"
            # Unhealthy polls log a warning in the server; don't spam it.
            await asyncio.sleep(0.05)

    async def _terminate(self, *, graceful: bool) -> None:
        proc = self._res.process
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            if graceful:
                proc.terminate()
            else:
                proc.kill()
        if graceful and not await _wait_exit(proc, self.stop_timeout):
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
        if not await _wait_exit(proc, 10.0):
            # SIGKILL cannot be ignored; this only guards against a wedged
            # kernel.  Block rather than leave a zombie behind.
            proc.wait()


class ServerGroup(StartStop):
    """What the groups of test servers (`NatsCluster`, `HubAndLeaf`) share: the options every
    server of the group gets. ``start_timeout`` also bounds the group's own readiness wait."""

    def __init__(
        self,
        start_timeout: float,
        stop_timeout: float,
        keep_dirs: bool,
        base_dir: str | Path | None,
        debug: bool,
        /,
    ) -> None:
        # Positional, in the order of the groups' own signatures.
        self.start_timeout = start_timeout
        # `NatsServer` with the group's options: the caller adds the server's own settings.
        self._new_server = functools.partial(
            NatsServer, stop_timeout=stop_timeout, keep_dir=keep_dirs, base_dir=base_dir, debug=debug
        )

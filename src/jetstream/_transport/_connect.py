"""Opening a nats-py connection, with every failure typed and no secret in any message.

The first connect fails fast by default: each server of the list is tried (twice at most, without
waiting in between; shuffled unless ``dont_randomize``), and the first that answers and accepts the
credentials is used; nats-py alone would retry each up to 60 times, 2 s apart, logging a traceback
each time. A server that refused the TCP connection at that point leaves nats-py's server pool, as
it does after failed reconnects (a cluster's gossip adds it back once it is up). ``retry_on_failed_connect=True`` hands the
first connect to nats-py's retry loop instead (as nats.go's ``RetryOnFailedConnect``). Once
connected, reconnects follow the caller's options as before.
"""

from __future__ import annotations

import asyncio
import logging
import random
import ssl
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import nats.errors
from nats.aio.client import Client as NATS

from .._exceptions import (
    AuthorizationError,
    ConnectError,
    NoServersError,
    ServerUnreachableError,
    TLSError,
)
from ._nats import NatsConnection

logger = logging.getLogger("jetstream")

_CALLBACKS = {
    "error_cb": "on_error",
    "disconnected_cb": "on_disconnected",
    "reconnected_cb": "on_reconnected",
    "closed_cb": "on_closed",
    "lame_duck_mode_cb": "on_lame_duck",
}
# nats-py's own defaults for the options the first connect overrides.
_RECONNECT_DEFAULTS: dict[str, Any] = {
    "allow_reconnect": True,
    "dont_randomize": False,
    "max_reconnect_attempts": 60,
    "reconnect_time_wait": 2,
}
_AUTH_WORDS = ("authorization violation", "authentication", "authorization", "user credentials")
_TLS_WORDS = ("tls", "ssl", "certificate", "handshake")


def redact(url: str) -> str:
    """A server URL without its user info (``nats://user:pass@host`` -> ``nats://host``)."""
    try:
        parts = urlsplit(url if "://" in url else f"nats://{url}")
        host = parts.hostname or ""
        netloc = f"[{host}]" if ":" in host else host
        if parts.port is not None:
            netloc += f":{parts.port}"
        return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    except ValueError:
        return "<unparsable server URL>"


def _kind(exc: BaseException, tls: bool) -> tuple[type[ConnectError], str]:
    """The ConnectError class for one failed attempt, and a reason safe to show."""
    text = str(exc).lower()
    if isinstance(exc, _PlaintextOnly):
        return TLSError, ("TLS was asked for but the server does not offer it; nothing was sent in plaintext")
    if isinstance(exc, nats.errors.AuthorizationError) or any(w in text for w in _AUTH_WORDS):
        return AuthorizationError, "the server refused the credentials (authorization violation)"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return TLSError, f"the server's TLS certificate was not accepted ({exc.verify_message})"
    if isinstance(exc, ssl.SSLError):
        return TLSError, f"the TLS handshake failed ({exc.reason or type(exc).__name__})"
    if any(w in text for w in _TLS_WORDS):
        return TLSError, f"TLS failed: {_safe(exc)}"
    if tls and isinstance(exc, (ConnectionResetError, nats.errors.UnexpectedEOF, BrokenPipeError)):
        return TLSError, (
            "the server closed the connection during the TLS handshake (does it require a client"
            " certificate?)"
        )
    if isinstance(exc, ConnectionRefusedError):
        return ServerUnreachableError, "connection refused"
    if isinstance(exc, (asyncio.TimeoutError, nats.errors.TimeoutError)):
        return ServerUnreachableError, "no answer in time"
    if isinstance(exc, OSError):
        return ServerUnreachableError, f"unreachable ({type(exc).__name__})"
    if isinstance(exc, (nats.errors.UnexpectedEOF, nats.errors.StaleConnectionError)):
        return ServerUnreachableError, "the server closed the connection"
    return ConnectError, _safe(exc)


def _safe(exc: BaseException) -> str:
    # nats-py and OS errors name hosts and protocol errors, never the credentials given to them;
    # the text is still cut short so no unexpected payload is echoed at length.
    text = str(exc).strip() or type(exc).__name__
    return text[:200]


def _uses_tls(servers: list[str], options: dict[str, Any]) -> bool:
    return bool(options.get("tls")) or any(s.startswith(("tls://", "wss://")) for s in servers)


def _callbacks(
    conn_ref: list[NatsConnection], options: dict[str, Any], live: list[bool], failures: list[BaseException]
) -> dict[str, Callable[..., Awaitable[None]]]:
    """nats-py callbacks feeding the hub first, then the caller's (once connected)."""
    out: dict[str, Callable[..., Awaitable[None]]] = {}
    for option, method in _CALLBACKS.items():
        user = options.get(option)

        async def callback(
            *args: Any, _method: str = method, _user: Any = user, _option: str = option
        ) -> None:
            if _option == "error_cb" and not live[0] and args:
                failures.append(args[0])
                logger.debug("connect attempt failed: %s", type(args[0]).__name__)
                return
            await getattr(conn_ref[0], _method)(*args)
            if _user is not None and live[0]:
                await _user(*args)

        out[option] = callback
    return out


async def open_connection(
    servers: str | list[str], *, retry_on_failed_connect: bool = False, **options: Any
) -> NatsConnection:
    """Connect to NATS: a `NatsConnection` whose client and events are this SDK's.

    Raises `errors.AuthorizationError`, `errors.TLSError`, `errors.ServerUnreachableError` or,
    when the servers of a list failed differently, `errors.NoServersError` - all `ConnectError`.
    """
    urls = [servers] if isinstance(servers, str) else list(servers)
    shown = tuple(redact(u) for u in urls)
    tls = _uses_tls(urls, options)
    if retry_on_failed_connect:
        orders = [urls]
    else:
        if not options.get("dont_randomize", False):
            urls = random.sample(urls, len(urls))
        orders = [urls[i:] + urls[:i] for i in range(len(urls))] or [urls]
    failures: list[tuple[str, BaseException]] = []
    for order in orders:
        nc = NATS()
        conn = NatsConnection(nc, own_callbacks=True)
        live = [False]
        attempt_errors: list[BaseException] = []
        opts = dict(options)
        opts.update(_callbacks([conn], options, live, attempt_errors))
        if not retry_on_failed_connect:
            # nats-py's first connect honours these: a refused credential or TLS handshake raises
            # at once (allow_reconnect), a refused TCP connection is tried once more without a pause.
            opts.update(
                allow_reconnect=False, dont_randomize=True, max_reconnect_attempts=1, reconnect_time_wait=0
            )
        try:
            if tls and not options.get("tls_handshake_first"):
                await _refuse_plaintext(order[0], options)
            await nc.connect(order, **opts)
        except Exception as exc:  # every nats-py, ssl and OS failure is translated below
            best = exc if not attempt_errors else _best(exc, attempt_errors, tls)
            failures.append((redact(order[0]), best))
            if isinstance(exc, nats.errors.NoServersError):
                break  # nats-py went through the whole list itself
            continue
        live[0] = True
        if not retry_on_failed_connect:
            # Reconnects after this first success follow the caller's options (nats-py's defaults).
            for name, default in _RECONNECT_DEFAULTS.items():
                nc.options[name] = options.get(name, default)
        return conn
    raise _connect_error(failures, shown, tls)


class _PlaintextOnly(Exception):
    """The server does not offer TLS although the client asked for it."""


async def _refuse_plaintext(url: str, options: dict[str, Any]) -> None:
    """Read the server's INFO before nats-py sends anything: a server that does not require TLS
    would get the credentials in plaintext (nats-py upgrades only when the server demands it)."""
    parts = urlsplit(url if "://" in url else f"nats://{url}")
    if parts.scheme in ("ws", "wss") or not parts.hostname:
        return
    timeout = float(options.get("connect_timeout", 2))
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(parts.hostname, parts.port or 4222), timeout
        )
    except (OSError, asyncio.TimeoutError):
        return  # unreachable: nats-py reports it in its own way
    try:
        line = await asyncio.wait_for(reader.readline(), timeout)
    except (OSError, asyncio.TimeoutError):
        return
    finally:
        writer.close()
    if line.startswith(b"INFO ") and b'"tls_required":true' not in line.replace(b" ", b""):
        raise _PlaintextOnly("the server does not require TLS")


def _best(final: BaseException, attempts: list[BaseException], tls: bool) -> BaseException:
    """The most telling failure of an attempt: a refusal of credentials or of TLS over the
    generic "no servers" nats-py ends with."""
    for exc in [*attempts, final]:
        if _kind(exc, tls)[0] in (AuthorizationError, TLSError):
            return exc
    return final if not isinstance(final, nats.errors.NoServersError) else attempts[-1]


def _connect_error(
    failures: list[tuple[str, BaseException]], shown: tuple[str, ...], tls: bool
) -> ConnectError:
    kinds = [(url, exc, *_kind(exc, tls)) for url, exc in failures]
    if not kinds:
        return NoServersError("no server to connect to", servers=shown)
    classes = {cls for _, _, cls, _ in kinds}
    if len(shown) <= 1 or (len(classes) == 1 and classes <= {AuthorizationError, TLSError}):
        # One server, or every server refused the same credentials or TLS setup: that is the cause.
        url, exc, cls, reason = kinds[-1]
        where = url if len(shown) <= 1 else ", ".join(shown)
        err = cls(f"cannot connect to {where}: {reason}", servers=shown)
    else:
        detail = "; ".join(f"{url}: {reason}" for url, _, _, reason in kinds)
        err = NoServersError(f"no server could be used ({detail})", servers=shown)
        exc = kinds[-1][1]
    err.__cause__ = exc
    err.__suppress_context__ = True
    return err

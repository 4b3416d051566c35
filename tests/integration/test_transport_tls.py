"""TLS and mutual TLS against real nats-server processes (certificates from a throwaway trustme CA).

Contract (DESIGN.md, errors): `jetstream.connect(url, tls=ssl_context)` passes the context to
nats-py; a TLS failure raises `errors.TLSError` (a `ConnectError`) in under a second with default
options: an untrusted or mismatched server certificate, mutual TLS without (or with a foreign)
client certificate, and a TLS client meeting a server that does not speak TLS. Credentials over TLS
that the server refuses are an `AuthorizationError`, not a TLS problem.

Every failure case prints its time to error (``pytest -s``): ``[time-to-error] <case>: <ms>``.
"""

from __future__ import annotations

import logging
import secrets
import ssl
import traceback
from typing import Any

import pytest
import pytest_asyncio
from security_support import FAST, connect_must_fail, connected, report

from jetstream import errors
from jetstream.testing import NatsServer, TLSCertificates, User
from jetstream.testing.pytest_plugin import NatsServerFactory

pytestmark = pytest.mark.asyncio


# ------------------------------------------------------------------------- helpers


def assert_tls_error(case: str, exc: errors.ConnectError, elapsed: float) -> None:
    report(case, elapsed)
    assert isinstance(exc, errors.TLSError) and isinstance(exc, errors.ConnectError)
    assert isinstance(exc, errors.JetStreamError)
    assert str(exc)
    assert elapsed < FAST, f"{case}: {elapsed:.3f}s to error (contract: < {FAST}s)"


async def client_tls_versions(server: NatsServer) -> list[str]:
    """The TLS version of every client connection the server has (empty string: plaintext)."""
    connz = await server.monitor("/connz")
    return [str(c.get("tls_version", "")) for c in connz.get("connections", [])]


@pytest_asyncio.fixture
async def tls_server(nats_server_factory: NatsServerFactory) -> NatsServer:
    return await nats_server_factory(tls=True)


@pytest_asyncio.fixture
async def mtls_server(nats_server_factory: NatsServerFactory) -> NatsServer:
    return await nats_server_factory(tls=True, tls_verify=True)


# ------------------------------------------------------------------ server TLS only


async def test_tls_with_a_trusted_ca_connects(tls_server: NatsServer) -> None:
    async with connected(tls_server.url, tls=tls_server.tls_context(client_cert=False)) as js:
        await js.stream_create("SECURE", subjects=["secure.>"])
        assert (await js.publish("secure.x", b"over tls")).seq == 1
        versions = await client_tls_versions(tls_server)
        assert versions and all(v.startswith("1.") for v in versions), versions
    # the tls:// scheme with the same context
    tls_url = tls_server.url.replace("nats://", "tls://")
    async with connected(tls_url, tls=tls_server.tls_context(client_cert=False)) as js:
        await js.account_info()


@pytest.mark.parametrize(
    "case",
    [
        "system CAs only (untrusted server certificate)",
        "context trusting another CA",
        "no tls option (nats-py's default context)",
        "hostname mismatch",
    ],
)
async def test_untrusted_server_certificate_raises_tls_error_fast(tls_server: NatsServer, case: str) -> None:
    options: dict[str, Any]
    if case.startswith("system CAs"):
        options = {"tls": ssl.create_default_context()}
    elif case == "context trusting another CA":
        options = {"tls": TLSCertificates().client_context(client_cert=False)}
    elif case.startswith("no tls option"):
        options = {}
    else:  # the certificate names 127.0.0.1 and localhost only
        options = {"tls": tls_server.tls_context(client_cert=False), "tls_hostname": "other.example"}
    exc, elapsed = await connect_must_fail(errors.TLSError, tls_server.url, **options)
    assert_tls_error(f"TLS: {case}", exc, elapsed)


# ---------------------------------------------------------------------- mutual TLS


async def test_mutual_tls_with_client_certificate_connects(mtls_server: NatsServer) -> None:
    async with connected(mtls_server.url, tls=mtls_server.tls_context()) as js:
        await js.stream_create("MUTUAL", subjects=["mutual.>"])
        assert (await js.publish("mutual.x", b"1")).seq == 1


@pytest.mark.parametrize("case", ["no client certificate", "client certificate of another CA"])
async def test_mutual_tls_refusing_the_client_raises_tls_error_fast(
    mtls_server: NatsServer, case: str
) -> None:
    certs = mtls_server.tls_certificates
    assert certs is not None
    ctx = certs.client_context(client_cert=False)
    if case == "client certificate of another CA":
        foreign = TLSCertificates()
        foreign_files = foreign.write(mtls_server.directory / "foreign")
        ctx.load_cert_chain(foreign_files.client_cert_file, foreign_files.client_key_file)
    exc, elapsed = await connect_must_fail(errors.TLSError, mtls_server.url, tls=ctx)
    assert_tls_error(f"mutual TLS: {case}", exc, elapsed)


# ------------------------------------------------------------ TLS vs. plain servers


@pytest.mark.parametrize("case", ["tls context", "tls:// URL", "TLS handshake first"])
async def test_tls_client_against_a_plain_server_raises_tls_error_fast(
    nats_server: NatsServer, case: str
) -> None:
    """The client asked for TLS and the server does not offer it: an error, never a silent
    plaintext connection (nats-py alone only upgrades when the server's INFO requires TLS)."""
    ctx = TLSCertificates().client_context(client_cert=False)
    url = nats_server.url
    options: dict[str, Any] = {"tls": ctx}
    if case == "tls:// URL":
        url, options = url.replace("nats://", "tls://"), {}
    elif case == "TLS handshake first":
        options["tls_handshake_first"] = True
    exc, elapsed = await connect_must_fail(errors.TLSError, url, **options)
    assert_tls_error(f"plain server: {case}", exc, elapsed)


# ------------------------------------------------------- credentials over TLS


async def test_refused_password_over_tls_is_an_authorization_error(
    nats_server_factory: NatsServerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="jetstream")
    caplog.set_level(logging.DEBUG, logger="nats")
    password = secrets.token_hex(12)
    wrong = secrets.token_hex(12)
    server = await nats_server_factory(tls=True, users=[User("alice", password)])
    ctx = server.tls_context(client_cert=False)
    async with connected(server.url, tls=ctx, user="alice", password=password) as js:
        await js.account_info()
    exc, elapsed = await connect_must_fail(
        errors.AuthorizationError, server.url, tls=ctx, user="alice", password=wrong
    )
    report("TLS + wrong password", elapsed)
    assert not isinstance(exc, errors.TLSError)
    assert elapsed < FAST
    shown = ["".join(traceback.format_exception(exc)), repr(exc), caplog.text]
    shown += [r.getMessage() for r in caplog.records] + [r.exc_text or "" for r in caplog.records]
    assert not [text for text in shown if password in text or wrong in text], "a password leaked"

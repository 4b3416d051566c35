"""The authorization and TLS options of jetstream.testing.NatsServer against real nats-server
processes, checked with raw nats-py (independent of the SDK's own connect/error handling)."""

from __future__ import annotations

import asyncio
import json
import secrets
import ssl
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import nats
import nats.errors
import pytest
from nats.aio.client import Client

from jetstream.testing import (
    Account,
    NatsServer,
    NkeyUser,
    Operator,
    Permissions,
    TLSCertificates,
    User,
)

pytestmark = pytest.mark.asyncio


@asynccontextmanager
async def connect(url: str, **options: Any) -> AsyncIterator[Client]:
    nc = await nats.connect(url, allow_reconnect=False, connect_timeout=2, **options)
    try:
        yield nc
    finally:
        await nc.close()


async def account_info(nc: Client) -> dict[str, Any]:
    reply = await nc.request("$JS.API.INFO", b"", timeout=5)
    info: dict[str, Any] = json.loads(reply.data)
    return info


async def assert_refused(url: str, **options: Any) -> BaseException:
    """The server refuses the connection (raw nats-py reports it its own way)."""
    with pytest.raises((nats.errors.Error, OSError, asyncio.TimeoutError)) as info:
        async with connect(url, **options):
            pass
    return info.value


async def test_password_users_and_nkey_users(tmp_path: Path) -> None:
    password = secrets.token_hex(8)
    nkey_user = NkeyUser.generate()
    async with NatsServer(users=[User("alice", password), nkey_user]) as server:
        async with connect(server.url, user="alice", password=password) as nc:
            assert "error" not in await account_info(nc)
        async with connect(server.url, nkeys_seed_str=nkey_user.seed) as nc:
            assert "error" not in await account_info(nc)
        seed_file = nkey_user.key.write_seed(tmp_path / "user.nk")
        async with connect(server.url, nkeys_seed=str(seed_file)) as nc:
            assert "error" not in await account_info(nc)
        # The system user still exists, in the SYS account.
        assert server.system_url is not None
        async with connect(server.system_url) as nc:
            assert (await account_info(nc))["error"]["err_code"] == 10039  # JetStream not enabled
        err = await assert_refused(server.url, user="alice", password="wrong")
        assert "Authorization Violation" in str(err)
        await assert_refused(server.url)  # no no_auth_user: credentials are required
        await assert_refused(server.url, nkeys_seed_str=NkeyUser.generate().seed)


async def test_no_auth_user_with_custom_accounts() -> None:
    async with (
        NatsServer(users=[User("alice", "pw")], no_auth_user="alice") as server,
        connect(server.url) as nc,
    ):
        assert "error" not in await account_info(nc)


async def test_permissions_are_enforced() -> None:
    denied: asyncio.Queue[Exception] = asyncio.Queue()

    async def error_cb(exc: Exception) -> None:
        denied.put_nowait(exc)

    perms = Permissions(publish_deny=["$JS.API.STREAM.DELETE.>"], subscribe_allow=["_MY.INBOX.>"])
    async with (
        NatsServer(users=[User("limited", "pw", perms)]) as server,
        connect(server.url, user="limited", password="pw", inbox_prefix="_MY.INBOX", error_cb=error_cb) as nc,
    ):
        assert "error" not in await account_info(nc)
        await nc.publish("$JS.API.STREAM.DELETE.X", b"")
        await nc.subscribe("_INBOX.x")
        first, second = await denied.get(), await denied.get()
        # (nats-py lower-cases the server's -ERR text)
        text = f"{first} {second}".lower()
        assert 'permissions violation for publish to "$js.api.stream.delete.x"' in text
        assert 'permissions violation for subscription to "_inbox.x"' in text


async def test_token() -> None:
    token = secrets.token_hex(8)
    async with NatsServer(token=token) as server:
        assert server.token == token and server.system_url is None
        async with connect(server.url, token=token) as nc:
            assert "error" not in await account_info(nc)  # JetStream in the global account
        await assert_refused(server.url, token="wrong")
        await assert_refused(server.url)


async def test_two_accounts_are_isolated() -> None:
    accounts = [Account("A", [User("a", "pa")]), Account("B", [User("b", "pb")])]
    async with (
        NatsServer(accounts=accounts) as server,
        connect(server.url, user="a", password="pa") as nc_a,
        connect(server.url, user="b", password="pb") as nc_b,
    ):
        sub = await nc_b.subscribe("shared.subject")
        await nc_b.flush()
        await nc_a.publish("shared.subject", b"from A")
        await nc_a.flush()  # the server has routed A's message (to nobody in B)
        await nc_b.publish("shared.subject", b"from B")
        # Had A's message crossed over, it would be delivered to B first.
        assert (await sub.next_msg(timeout=5)).data == b"from B"
        assert "error" not in await account_info(nc_a)
        assert "error" not in await account_info(nc_b)


async def test_operator_mode(tmp_path: Path) -> None:
    op = Operator()
    app = op.create_account("APP")
    async with NatsServer(operator=op) as server:
        assert server.operator is op and server.system_url is None
        assert server.config_path.with_name("operator.jwt").read_text().strip() == op.jwt
        creds = app.create_user("bob").write_creds(tmp_path / "bob.creds")
        async with connect(server.url, user_credentials=str(creds)) as nc:
            info = await account_info(nc)
            assert "error" not in info, info
        sys_creds = op.system_account.create_user("sys").write_creds(tmp_path / "sys.creds")
        async with connect(server.url, user_credentials=str(sys_creds)) as nc:
            assert (await account_info(nc))["error"]["err_code"] == 10039

        expired = app.create_user("old", expires=time.time() - 60).write_creds(tmp_path / "old.creds")
        await assert_refused(server.url, user_credentials=str(expired))
        # Signed by a key the account does not know.
        rogue = app.create_user("eve", signer=Operator().create_account("X").key)
        await assert_refused(server.url, user_credentials=str(rogue.write_creds(tmp_path / "eve.creds")))
        # An account the server was not started with.
        late = op.create_account("LATE").create_user("late").write_creds(tmp_path / "late.creds")
        await assert_refused(server.url, user_credentials=str(late))

        # A restart rewrites the preload: the new account is known now.
        await server.restart()
        async with connect(server.url, user_credentials=str(late)) as nc:
            assert "error" not in await account_info(nc)


async def test_tls_and_mutual_tls() -> None:
    async with NatsServer(tls=True) as server:
        assert server.tls_certificates is not None and not server.tls_verify
        async with connect(server.url, tls=server.tls_context(client_cert=False)) as nc:
            assert "error" not in await account_info(nc)
        err = await assert_refused(server.url, tls=ssl.create_default_context())
        assert isinstance(err, ssl.SSLCertVerificationError)

    certs = TLSCertificates()
    async with NatsServer(tls=certs, tls_verify=True) as server:
        assert server.tls_certificates is certs and server.tls_verify
        async with connect(server.url, tls=certs.client_context()) as nc:
            assert "error" not in await account_info(nc)
        err = await assert_refused(server.url, tls=certs.client_context(client_cert=False))
        # TLS 1.3: the client's handshake completes before the server checks the certificate;
        # the refusal is an alert on the first read, or a reset or broken pipe if a write comes
        # first (whichever the socket reports first: both are ConnectionError).
        assert isinstance(err, (ssl.SSLError, ConnectionError)), repr(err)
        # restart keeps the same certificates (rewritten into the same directory)
        await server.restart()
        async with connect(server.url, tls=certs.client_context()) as nc:
            assert "error" not in await account_info(nc)

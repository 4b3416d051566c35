"""Authentication against real nats-server processes: user/password, token, nkey and JWT users.

Contract (DESIGN.md, errors): a wrong setup makes `jetstream.connect` raise a subclass of
`errors.ConnectError` in under a second with default options - `AuthorizationError` for refused
credentials, `ServerUnreachableError` when nothing listens, `NoServersError` when every server of a
list failed - and no password, token, seed or JWT appears in the exception, its chained causes or
any log record (DEBUG on the "jetstream" and "nats" loggers).

Every failure case prints its time to error (``pytest -s``): ``[time-to-error] <case>: <ms>``.
Secrets are generated at run time (never literals in this file), so a traceback quoting a source
line cannot produce a false leak.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
import traceback
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from security_support import FAST, connect_must_fail, connected, report

from jetstream import JetStream, errors
from jetstream.testing import NatsServer, NkeyUser, Operator, User, free_ports
from jetstream.testing.pytest_plugin import NatsServerFactory

pytestmark = pytest.mark.asyncio


# ------------------------------------------------------------------------- helpers


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG, logger="jetstream")
    caplog.set_level(logging.DEBUG, logger="nats")
    return caplog


def exception_texts(exc: BaseException) -> list[tuple[str, str]]:
    """Everything an exception shows: str/repr/args of it and of every chained cause/context,
    the formatted traceback, and a ConnectError's ``servers``."""
    texts = [("formatted traceback", "".join(traceback.format_exception(exc)))]
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        name = type(current).__name__
        texts += [(f"str({name})", str(current)), (f"repr({name})", repr(current))]
        texts += [(f"{name}.args", repr(current.args))]
        texts += [(f"{name}.__dict__", repr(vars(current)))]
        todo += [e for e in (current.__cause__, current.__context__) if e is not None]
    return texts


def log_texts(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str]]:
    texts = [("captured log text", caplog.text)]
    for record in caplog.records:
        where = f"log record {record.name}:{record.levelname}"
        texts.append((where, record.getMessage()))
        if record.exc_text:
            texts.append((f"{where} exc_text", record.exc_text))
        if record.exc_info and record.exc_info[1] is not None:
            texts.append((f"{where} exc_info", "".join(traceback.format_exception(record.exc_info[1]))))
    return texts


def assert_no_secrets(
    exc: BaseException, caplog: pytest.LogCaptureFixture, secret_values: Iterable[str]
) -> None:
    texts = exception_texts(exc) + log_texts(caplog)
    for number, secret in enumerate(secret_values):
        assert len(secret) >= 8, "a secret this short could match by chance"
        for where, text in texts:
            if secret in text:
                # Do not print the secret or the text: the message names the place only.
                pytest.fail(f"secret #{number} appears in {where}")


def assert_connect_error(exc: errors.ConnectError) -> None:
    assert isinstance(exc, errors.ConnectError)
    assert isinstance(exc, errors.JetStreamError)
    assert str(exc), "the error says what went wrong"


def assert_fast(case: str, elapsed: float) -> None:
    report(case, elapsed)
    assert elapsed < FAST, f"{case}: {elapsed:.3f}s to error (contract: < {FAST}s)"


async def works(js: JetStream) -> None:
    """The connection can use JetStream."""
    info = await js.account_info()
    assert info.limits is not None


def dead_urls(count: int) -> list[str]:
    # Free ports (bound and released just now): nothing listens there.
    return [f"nats://127.0.0.1:{port}" for port in free_ports(count)]


def dead_url() -> str:
    return dead_urls(1)[0]


# ------------------------------------------------------------------- user/password


async def password_server(factory: NatsServerFactory) -> tuple[NatsServer, str]:
    password = secrets.token_hex(12)
    server = await factory(users=[User("alice", password)])
    return server, password


async def test_user_password_connects(nats_server_factory: NatsServerFactory) -> None:
    server, password = await password_server(nats_server_factory)
    async with connected(server.url, user="alice", password=password) as js:
        await works(js)
        await js.stream_create("AUTHED", subjects=["authed.>"])
        assert (await js.publish("authed.x", b"1")).seq == 1
    url = f"nats://alice:{password}@127.0.0.1:{server.port}"
    async with connected(url) as js:
        await works(js)


@pytest.mark.parametrize(
    "case", ["wrong password", "no credentials", "unknown user", "wrong password in URL"]
)
async def test_refused_password_raises_authorization_error_fast(
    nats_server_factory: NatsServerFactory, debug_logs: pytest.LogCaptureFixture, case: str
) -> None:
    server, password = await password_server(nats_server_factory)
    wrong = secrets.token_hex(12)
    options: dict[str, Any] = {
        "wrong password": {"user": "alice", "password": wrong},
        "no credentials": {},
        "unknown user": {"user": "mallory", "password": password},
        "wrong password in URL": {},
    }[case]
    url = server.url
    if case == "wrong password in URL":
        url = f"nats://alice:{wrong}@127.0.0.1:{server.port}"
    exc, elapsed = await connect_must_fail(errors.AuthorizationError, url, **options)
    assert_fast(f"user/password: {case}", elapsed)
    assert_connect_error(exc)
    assert_no_secrets(exc, debug_logs, [password, wrong])
    assert all("@" not in s for s in exc.servers), "servers are listed without credentials"


# --------------------------------------------------------------------------- token


async def test_token_connects(nats_server_factory: NatsServerFactory) -> None:
    token = secrets.token_hex(16)
    server = await nats_server_factory(token=token)
    async with connected(server.url, token=token) as js:
        await works(js)


@pytest.mark.parametrize("case", ["wrong token", "no token", "token in URL"])
async def test_refused_token_raises_authorization_error_fast(
    nats_server_factory: NatsServerFactory, debug_logs: pytest.LogCaptureFixture, case: str
) -> None:
    token = secrets.token_hex(16)
    wrong = secrets.token_hex(16)
    server = await nats_server_factory(token=token)
    url, options = server.url, {}
    if case == "wrong token":
        options = {"token": wrong}
    elif case == "token in URL":
        url = f"nats://{wrong}@127.0.0.1:{server.port}"
    exc, elapsed = await connect_must_fail(errors.AuthorizationError, url, **options)
    assert_fast(f"token: {case}", elapsed)
    assert_connect_error(exc)
    assert_no_secrets(exc, debug_logs, [token, wrong])


# ---------------------------------------------------------------------------- nkey


async def test_nkey_user_connects(nats_server_factory: NatsServerFactory, tmp_path: Path) -> None:
    user = NkeyUser.generate()
    server = await nats_server_factory(users=[user])
    async with connected(server.url, nkeys_seed_str=user.seed) as js:
        await works(js)
    seed_file = user.key.write_seed(tmp_path / "user.nk")
    async with connected(server.url, nkeys_seed=str(seed_file)) as js:
        await works(js)


@pytest.mark.parametrize("case", ["unknown nkey (seed string)", "unknown nkey (seed file)", "no credentials"])
async def test_refused_nkey_raises_authorization_error_fast(
    nats_server_factory: NatsServerFactory,
    debug_logs: pytest.LogCaptureFixture,
    tmp_path: Path,
    case: str,
) -> None:
    known = NkeyUser.generate()
    stranger = NkeyUser.generate()
    server = await nats_server_factory(users=[known])
    options: dict[str, Any] = {}
    if case == "unknown nkey (seed string)":
        options = {"nkeys_seed_str": stranger.seed}
    elif case == "unknown nkey (seed file)":
        options = {"nkeys_seed": str(stranger.key.write_seed(tmp_path / "stranger.nk"))}
    exc, elapsed = await connect_must_fail(errors.AuthorizationError, server.url, **options)
    assert_fast(f"nkey: {case}", elapsed)
    assert_connect_error(exc)
    assert_no_secrets(exc, debug_logs, [known.seed, stranger.seed])


# ----------------------------------------------------------------------------- JWT


async def operator_server(factory: NatsServerFactory) -> tuple[NatsServer, Operator]:
    operator = Operator()
    operator.create_account("APP")
    return await factory(operator=operator), operator


async def test_jwt_creds_connect(nats_server_factory: NatsServerFactory, tmp_path: Path) -> None:
    server, operator = await operator_server(nats_server_factory)
    creds = operator.accounts["APP"].create_user("bob").write_creds(tmp_path / "bob.creds")
    async with connected(server.url, user_credentials=str(creds)) as js:
        await works(js)
        await js.stream_create("JWT", subjects=["jwt.>"])
        assert (await js.publish("jwt.x", b"1")).seq == 1


@pytest.mark.parametrize(
    "case", ["expired JWT", "JWT signed by an unknown key", "account unknown to the server", "no credentials"]
)
async def test_refused_jwt_raises_authorization_error_fast(
    nats_server_factory: NatsServerFactory,
    debug_logs: pytest.LogCaptureFixture,
    tmp_path: Path,
    case: str,
) -> None:
    server, operator = await operator_server(nats_server_factory)
    app = operator.accounts["APP"]
    if case == "expired JWT":
        user = app.create_user("old", expires=time.time() - 60)
    elif case == "JWT signed by an unknown key":
        user = app.create_user("eve", signer=Operator().create_account("ROGUE").key)
    else:  # an account created after the server started is not in its resolver
        user = operator.create_account("LATE").create_user("late")
    options: dict[str, Any] = {}
    if case != "no credentials":
        options = {"user_credentials": str(user.write_creds(tmp_path / "user.creds"))}
    exc, elapsed = await connect_must_fail(errors.AuthorizationError, server.url, **options)
    assert_fast(f"JWT: {case}", elapsed)
    assert_connect_error(exc)
    _, claims, signature = user.jwt.split(".")
    assert_no_secrets(exc, debug_logs, [user.seed, user.jwt, f"{claims}.{signature}", signature])


# --------------------------------------------------------------- nobody listening


async def test_nothing_listening_raises_server_unreachable_fast(debug_logs: pytest.LogCaptureFixture) -> None:
    password = secrets.token_hex(12)
    url = dead_url()
    exc, elapsed = await connect_must_fail(errors.ServerUnreachableError, url)
    assert_fast("unreachable: nothing listening", elapsed)
    assert_connect_error(exc)
    # credentials in the URL of an unreachable server stay out of the error and the logs
    with_creds = url.replace("nats://", f"nats://alice:{password}@")
    exc, elapsed = await connect_must_fail(errors.ServerUnreachableError, with_creds)
    assert_fast("unreachable: nothing listening, credentials in URL", elapsed)
    assert_no_secrets(exc, debug_logs, [password])


async def test_every_server_of_a_list_failing_raises_no_servers_fast(
    debug_logs: pytest.LogCaptureFixture,
) -> None:
    password = secrets.token_hex(12)
    first, second = dead_urls(2)
    urls = [first, second.replace("nats://", f"nats://alice:{password}@")]
    exc, elapsed = await connect_must_fail(errors.NoServersError, urls)
    assert_fast("no servers: 2 URLs, nothing listening", elapsed)
    assert_connect_error(exc)
    assert_no_secrets(exc, debug_logs, [password])


@pytest.mark.parametrize("case", ["refused password", "nothing listening"])
async def test_failed_connect_leaves_no_background_work(
    nats_server_factory: NatsServerFactory, case: str
) -> None:
    """A failed connect() gives up for good: no nats-py reconnect loop or reader keeps running."""
    server, password = await password_server(nats_server_factory)
    before = set(asyncio.all_tasks())
    if case == "refused password":
        await connect_must_fail(errors.AuthorizationError, server.url, user="alice", password=password + "x")
    else:
        await connect_must_fail(errors.ServerUnreachableError, dead_url())
    left = [t for t in asyncio.all_tasks() - before if t is not asyncio.current_task()]
    if left:
        _, pending = await asyncio.wait(left, timeout=FAST)  # closing tasks may need a moment
        names = sorted(getattr(t.get_coro(), "__qualname__", repr(t)) for t in pending)
        assert not pending, f"tasks still running after a failed connect: {names}"

"""Unit tests of the authorization/TLS config rendering and the credential helpers of
jetstream.testing (no server processes here; test_auth_servers.py runs them)."""

from __future__ import annotations

import base64
import hashlib
import json
import ssl
import stat
import time
from pathlib import Path
from typing import Any

import nkeys  # type: ignore[import-untyped]
import pytest

from jetstream.testing import (
    Account,
    NatsServer,
    NKey,
    NkeyUser,
    Operator,
    Permissions,
    TLSCertificates,
    User,
    creds_text,
    decode_jwt_claims,
    encode_jwt,
)
from jetstream.testing._config import OperatorConfig, ServerConfig, TLSConfig


def config(**options: Any) -> ServerConfig:
    return ServerConfig(name="n1", port=4222, http_port=8222, store_dir="/tmp/store", **options)


def b64url_json(part: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


# ------------------------------------------------------------------ rendering


def test_default_layout_is_unchanged() -> None:
    text = config().render()
    assert 'APP { jetstream: enabled, users: [ { user: "app", password: "app" } ] }' in text
    assert 'SYS { users: [ { user: "sys", password: "sys" } ] }' in text
    assert "system_account: SYS" in text
    assert 'no_auth_user: "app"' in text
    assert "authorization" not in text and "tls {" not in text and "operator" not in text


def test_users_with_permissions() -> None:
    perms = Permissions(
        publish_allow=["orders.>"],
        publish_deny=["$JS.API.STREAM.DELETE.>"],
        subscribe_allow=["_MY.INBOX.>"],
        subscribe_deny=["secret.>"],
        allow_responses=True,
    )
    nk = NkeyUser(NKey.generate("user"))
    text = config(accounts=[Account("APP", users=[User("alice", "pw1", perms), nk])]).render()
    app_line = next(line for line in text.splitlines() if line.strip().startswith('"APP"'))
    app = json.loads(app_line.split(":", 1)[1])
    assert app == {
        "jetstream": "enabled",
        "users": [
            {
                "user": "alice",
                "password": "pw1",
                "permissions": {
                    "publish": {"allow": ["orders.>"], "deny": ["$JS.API.STREAM.DELETE.>"]},
                    "subscribe": {"allow": ["_MY.INBOX.>"], "deny": ["secret.>"]},
                    "allow_responses": True,
                },
            },
            {"nkey": nk.public_key},
        ],
    }
    # SYS is added for the system account; nobody lands anywhere without credentials.
    assert '"SYS": {"users": [{"user": "sys", "password": "sys"}]}' in text
    assert 'system_account: "SYS"' in text
    assert "no_auth_user" not in text


def test_custom_accounts_options() -> None:
    accounts = [Account("A", [User("a", "pa")]), Account("B", [User("b", "pb")], jetstream=False)]
    text = config(accounts=accounts, no_auth_user="a").render()
    assert '"A": {"jetstream": "enabled", "users": [{"user": "a", "password": "pa"}]}' in text
    assert '"B": {"users": [{"user": "b", "password": "pb"}]}' in text
    assert 'no_auth_user: "a"' in text
    # no system account: no SYS added
    text = config(accounts=accounts, system_account=False).render()
    assert "SYS" not in text and "system_account" not in text
    # JetStream off on the server: accounts do not ask for it
    assert '"jetstream"' not in config(accounts=accounts, jetstream=False).render()
    # a caller's own SYS is kept as the system account, not duplicated
    text = config(accounts=[*accounts, Account("SYS", [User("admin", "x")], jetstream=False)]).render()
    assert text.count('"SYS": {') == 1 and '"SYS": {"users": [{"user": "admin", "password": "x"}]}' in text


def test_token() -> None:
    text = config(token="t0k3n").render()
    assert 'authorization { token: "t0k3n" }' in text
    assert "accounts" not in text and "no_auth_user" not in text
    assert "t0k3n" not in repr(config(token="t0k3n"))


def test_tls_block() -> None:
    text = config(tls=TLSConfig("/d/cert.pem", "/d/key.pem", "/d/ca.pem", verify=True)).render()
    assert (
        'tls {\n  cert_file: "/d/cert.pem"\n  key_file: "/d/key.pem"\n  ca_file: "/d/ca.pem"\n'
        "  verify: true\n  timeout: 2\n}"
    ) in text
    assert "verify" not in config(tls=TLSConfig("/c", "/k")).render()


def test_operator_block() -> None:
    op = OperatorConfig("/d/op.jwt", "ASYS", {"AB": "jwt-b", "AA": "jwt-a"})
    text = config(operator=op).render()
    assert (
        'operator: "/d/op.jwt"\nsystem_account: "ASYS"\nresolver: MEMORY\n'
        'resolver_preload: {\n  "AA": "jwt-a"\n  "AB": "jwt-b"\n}'
    ) in text
    assert "accounts {" not in text and "no_auth_user" not in text


def test_leafnode_remotes_bind_app_only_when_it_exists() -> None:
    remote = "nats://hub:7422"
    assert "account: APP" in config(leaf_remotes=[remote]).render()
    assert "account: APP" in config(leaf_remotes=[remote], accounts=[Account("APP")]).render()
    assert ", account: " not in config(leaf_remotes=[remote], accounts=[Account("X")]).render()
    assert ", account: " not in config(leaf_remotes=[remote], token="t").render()


@pytest.mark.parametrize(
    "options",
    [
        {"token": "t", "accounts": [Account("A")]},
        {"token": "t", "no_auth_user": "a"},
        {"no_auth_user": "a"},
        {"accounts": [Account("A"), Account("A")]},
        {"operator": OperatorConfig("/op", "A"), "token": "t"},
        {"operator": OperatorConfig("/op", "A"), "accounts": [Account("A")]},
    ],
)
def test_impossible_combinations_are_refused(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        config(**options)


def test_nats_server_refuses_impossible_combinations_at_construction() -> None:
    with pytest.raises(ValueError):
        NatsServer(token="t", users=[User("a", "b")])
    with pytest.raises(ValueError):
        NatsServer(users=[User("a", "b")], accounts=[Account("A")])
    with pytest.raises(ValueError):
        NatsServer(operator=Operator(), token="t")


def test_nats_server_auth_properties() -> None:
    server = NatsServer(users=[User("a", "b")])
    assert server.accounts == (Account("APP", (User("a", "b"),)),)
    assert server.token is None and server.operator is None and server.tls_certificates is None
    assert NatsServer(tls_verify=True).tls_certificates is not None
    with pytest.raises(RuntimeError):
        server.tls_context()


# ---------------------------------------------------------------- secrets in repr


def test_reprs_hide_secrets() -> None:
    user = User("alice", "pw-very-secret")
    key = NKey.generate("user")
    op = Operator()
    account = op.create_account("APP")
    jwt_user = account.create_user("bob")
    for obj, secret in [
        (user, "pw-very-secret"),
        (NkeyUser(key), key.seed),
        (key, key.seed),
        (jwt_user, jwt_user.seed),
        (jwt_user, jwt_user.jwt),
        (account, account.jwt),
        (op, op.key.seed),
        (config(accounts=[Account("A", [user])]), "pw-very-secret"),
    ]:
        assert secret not in repr(obj), obj
    assert key.public_key in repr(key)


# ------------------------------------------------------------------------ nkeys


@pytest.mark.parametrize(("kind", "prefix"), [("operator", "O"), ("account", "A"), ("user", "U")])
def test_nkey_roles(kind: Any, prefix: str) -> None:
    key = NKey.generate(kind)
    assert key.kind == kind
    assert key.public_key.startswith(prefix) and len(key.public_key) == 56
    assert key.seed.startswith("S" + prefix)
    assert NKey(key.seed).public_key == key.public_key
    assert nkeys.from_seed(bytearray(key.seed.encode())).verify(b"x", key.sign(b"x"))


def test_write_seed_and_creds_are_private(tmp_path: Path) -> None:
    key = NKey.generate("user")
    seed_file = key.write_seed(tmp_path / "user.nk")
    assert seed_file.read_text().strip() == key.seed
    assert stat.S_IMODE(seed_file.stat().st_mode) == 0o600
    user = Operator().create_account("APP").create_user("bob")
    creds = user.write_creds(tmp_path / "sub" / "bob.creds")
    assert stat.S_IMODE(creds.stat().st_mode) == 0o600
    assert creds.read_text() == user.creds() == creds_text(user.jwt, user.seed)


def test_creds_layout() -> None:
    lines = creds_text("JWT.TEXT.HERE", "SUSEED").splitlines()
    assert lines[0] == "-----BEGIN NATS USER JWT-----"
    assert lines[1] == "JWT.TEXT.HERE"
    assert lines[2] == "------END NATS USER JWT------"
    seed_at = lines.index("-----BEGIN USER NKEY SEED-----")
    assert lines[seed_at + 1] == "SUSEED"
    assert lines[seed_at + 2] == "------END USER NKEY SEED------"


# ------------------------------------------------------------------------- JWTs


def test_encode_jwt_layout_and_signature() -> None:
    issuer = NKey.generate("account")
    subject = NKey.generate("user")
    token = encode_jwt({"name": "u", "sub": subject.public_key, "nats": {"type": "user"}}, issuer)
    header, payload, signature = token.split(".")
    assert "=" not in token
    assert b64url_json(header) == {"typ": "JWT", "alg": "ed25519-nkey"}
    claims = b64url_json(payload)
    assert claims == decode_jwt_claims(token)
    assert claims["iss"] == issuer.public_key
    assert claims["sub"] == subject.public_key
    assert abs(claims["iat"] - time.time()) < 60
    base = {k: claims[k] for k in ("iat", "iss", "name", "sub")}
    digest = hashlib.new("sha512_256", json.dumps(base, separators=(",", ":")).encode()).digest()
    assert claims["jti"] == base64.b32encode(digest).decode().rstrip("=")
    raw_signature = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    verifier = nkeys.from_seed(bytearray(issuer.seed.encode()))
    assert verifier.verify(f"{header}.{payload}".encode(), raw_signature)


def test_decode_jwt_claims_refuses_garbage() -> None:
    with pytest.raises(ValueError):
        decode_jwt_claims("not-a-jwt")
    with pytest.raises(ValueError):
        decode_jwt_claims("a.W10.c")  # claims are a JSON list


def test_operator_account_and_user_claims() -> None:
    op = Operator("TESTOP")
    op_claims = decode_jwt_claims(op.jwt)
    assert op_claims["iss"] == op_claims["sub"] == op.public_key
    assert op_claims["nats"] == {
        "system_account": op.system_account.public_key,
        "type": "operator",
        "version": 2,
    }

    account = op.create_account("APP")
    with pytest.raises(ValueError):
        op.create_account("APP")
    assert set(op.accounts) == {"SYS", "APP"}
    assert op.resolver_preload() == {
        op.system_account.public_key: op.system_account.jwt,
        account.public_key: account.jwt,
    }
    acc_claims = decode_jwt_claims(account.jwt)
    assert acc_claims["iss"] == op.public_key
    assert acc_claims["sub"] == account.public_key and acc_claims["name"] == "APP"
    limits = acc_claims["nats"]["limits"]
    assert limits["mem_storage"] == limits["disk_storage"] == -1  # JetStream enabled
    assert "mem_storage" not in decode_jwt_claims(op.system_account.jwt)["nats"]["limits"]
    assert acc_claims["nats"]["type"] == "account" and acc_claims["nats"]["version"] == 2

    perms = Permissions(publish_deny=["x.>"], subscribe_allow=["_MY.INBOX.>"], allow_responses=True)
    user = account.create_user("bob", permissions=perms, expires=1234, bearer_token=True)
    user_claims = decode_jwt_claims(user.jwt)
    assert user_claims["iss"] == account.public_key
    assert user_claims["sub"] == user.public_key and user_claims["exp"] == 1234
    assert user_claims["nats"] == {
        "subs": -1,
        "data": -1,
        "payload": -1,
        "type": "user",
        "version": 2,
        "pub": {"deny": ["x.>"]},
        "sub": {"allow": ["_MY.INBOX.>"]},
        "resp": {"max": 1, "ttl": 0},
        "bearer_token": True,
    }
    rogue = NKey.generate("account")
    assert decode_jwt_claims(account.create_user("eve", signer=rogue).jwt)["iss"] == rogue.public_key


# -------------------------------------------------------------------------- TLS


def test_tls_certificates(tmp_path: Path) -> None:
    certs = TLSCertificates()
    files = certs.write(tmp_path / "tls")
    assert files.ca_file.read_bytes() == certs.ca_pem
    for path in (files.server_cert_file, files.client_cert_file):
        assert path.read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")
    for path in (files.server_key_file, files.client_key_file):
        assert b"PRIVATE KEY" in path.read_bytes()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    ctx = certs.client_context()
    assert isinstance(ctx, ssl.SSLContext)
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    assert certs.client_context(client_cert=False).verify_mode == ssl.CERT_REQUIRED

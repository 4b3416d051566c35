"""Credentials for auth-enabled test servers: users, permissions, nkeys, JWTs and TLS.

Everything here is test material: keys are generated on the fly, nothing is
stored outside the directories the caller chooses, and ``repr()`` of every
object shows public parts only (user names, public keys), never a password,
token, seed or private key.

The optional packages are imported on first use only: ``nkeys`` for
:class:`NKey`, :class:`NkeyUser` and the JWT helpers, ``trustme`` for
:class:`TLSCertificates`.

JWTs follow the NATS JWT v2 layout: a ``{"typ": "JWT", "alg": "ed25519-nkey"}``
header, the claims (``jti``, ``iat``, ``iss``, ``name``, ``sub``, optional
``exp``, and the type-specific ``nats`` object), each base64url-encoded
without padding, and an ed25519 signature of ``header.claims`` made with the
issuer's nkey.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import ssl
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import trustme


NKeyKind = Literal["operator", "account", "user"]

# nkeys prefix bytes (public key role), as in the nkeys package.
_PREFIXES: dict[str, int] = {"operator": 14 << 3, "account": 0, "user": 20 << 3}
_JWT_HEADER = {"typ": "JWT", "alg": "ed25519-nkey"}
_JWT_VERSION = 2
# The base claims whose JSON is hashed into ``jti`` (the v2 ClaimsData fields, in their order).
_BASE_CLAIMS = ("aud", "exp", "iat", "iss", "name", "nbf", "sub")
_UNLIMITED_NATS = {"subs": -1, "data": -1, "payload": -1}
_UNLIMITED_ACCOUNT = {"imports": -1, "exports": -1, "wildcards": True, "conn": -1, "leaf": -1}
_UNLIMITED_JETSTREAM = {"mem_storage": -1, "disk_storage": -1, "streams": -1, "consumer": -1}


# ------------------------------------------------------------------ permissions


@dataclass(frozen=True)
class Permissions:
    """Publish/subscribe allow and deny lists of one user.

    An empty allow list means "everything not denied"; a non-empty one means
    "only these".  Deny wins over allow.  ``allow_responses`` lets the user
    publish replies to requests it received even when its publish
    permissions would not allow the reply subject.
    """

    publish_allow: Sequence[str] = ()
    publish_deny: Sequence[str] = ()
    subscribe_allow: Sequence[str] = ()
    subscribe_deny: Sequence[str] = ()
    allow_responses: bool = False

    def to_config(self) -> dict[str, Any]:
        """The ``permissions`` map of a nats-server config user."""
        out: dict[str, Any] = {}
        for key, allow, deny in (
            ("publish", self.publish_allow, self.publish_deny),
            ("subscribe", self.subscribe_allow, self.subscribe_deny),
        ):
            rule = _rule(allow, deny)
            if rule:
                out[key] = rule
        if self.allow_responses:
            out["allow_responses"] = True
        return out

    def to_jwt(self) -> dict[str, Any]:
        """The permission members of a user JWT's ``nats`` object (``pub``, ``sub``, ``resp``)."""
        out: dict[str, Any] = {}
        for key, allow, deny in (
            ("pub", self.publish_allow, self.publish_deny),
            ("sub", self.subscribe_allow, self.subscribe_deny),
        ):
            out[key] = _rule(allow, deny)
        if self.allow_responses:
            # max 1 reply per request, no time limit (ttl 0)
            out["resp"] = {"max": 1, "ttl": 0}
        return out


def _rule(allow: Sequence[str], deny: Sequence[str]) -> dict[str, list[str]]:
    """An ``allow``/``deny`` subject rule with the non-empty lists only."""
    rule: dict[str, list[str]] = {}
    if allow:
        rule["allow"] = list(allow)
    if deny:
        rule["deny"] = list(deny)
    return rule


# ------------------------------------------------------------------------ nkeys


def _nkeys() -> Any:
    try:
        import nkeys  # type: ignore[import-untyped]
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError("nkey and JWT helpers need the 'nkeys' package (pip install nkeys)") from exc
    return nkeys


class NKey:
    """An nkey pair (operator, account or user) made from a fresh random seed.

    ``repr()`` shows the role and the public key only.
    """

    __slots__ = ("_kind", "_pair", "_public_key", "_seed")

    def __init__(self, seed: str | bytes) -> None:
        raw = seed.encode() if isinstance(seed, str) else bytes(seed)
        self._pair = _nkeys().from_seed(bytearray(raw))
        self._seed = raw.decode()
        self._public_key: str = self._pair.public_key.decode()
        self._kind = {"O": "operator", "A": "account", "U": "user"}.get(self._public_key[:1], "other")

    @classmethod
    def generate(cls, kind: NKeyKind = "user") -> NKey:
        """A new random key pair of the given role."""
        seed: bytes = _nkeys().encode_seed(os.urandom(32), _PREFIXES[kind])
        return cls(seed)

    def __repr__(self) -> str:
        return f"<NKey {self._kind} {self._public_key}>"

    @property
    def kind(self) -> str:
        """``operator``, ``account`` or ``user`` (from the public key's prefix)."""
        return self._kind

    @property
    def public_key(self) -> str:
        """The public key (``O...``, ``A...`` or ``U...``)."""
        return self._public_key

    @property
    def seed(self) -> str:
        """The secret seed (``SO...``, ``SA...``, ``SU...``). Keep it out of logs."""
        return self._seed

    def sign(self, data: bytes) -> bytes:
        """The raw ed25519 signature of ``data``."""
        signature: bytes = self._pair.sign(data)
        return signature

    def write_seed(self, path: str | Path) -> Path:
        """Write the seed to ``path`` (mode 0600), as nats-py's ``nkeys_seed`` option expects."""
        target = Path(path)
        _write_secret(target, self._seed + "\n")
        return target


def _write_secret(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)


# --------------------------------------------------------------- config users


@dataclass(frozen=True)
class User:
    """A config-file user authenticating with a name and a password."""

    name: str
    password: str = field(repr=False)
    permissions: Permissions | None = None

    def to_config(self) -> dict[str, Any]:
        """The entry of an account's ``users`` list."""
        out: dict[str, Any] = {"user": self.name, "password": self.password}
        if self.permissions is not None:
            out["permissions"] = self.permissions.to_config()
        return out


class _UserKey:
    """A user's nkey, shown as the user's own."""

    key: NKey

    @property
    def public_key(self) -> str:
        """The user's public key (``U...``)."""
        return self.key.public_key

    @property
    def seed(self) -> str:
        """The user's secret seed (``SU...``)."""
        return self.key.seed


@dataclass(frozen=True)
class NkeyUser(_UserKey):
    """A config-file user authenticating with an nkey (the server knows the public key).

    Connect with nats-py's ``nkeys_seed`` (a path, see :meth:`NKey.write_seed`)
    or ``nkeys_seed_str`` (``user.seed``).
    """

    key: NKey
    permissions: Permissions | None = None

    @classmethod
    def generate(cls, permissions: Permissions | None = None) -> NkeyUser:
        """A user with a fresh user nkey."""
        return cls(NKey.generate("user"), permissions)

    def to_config(self) -> dict[str, Any]:
        """The entry of an account's ``users`` list."""
        out: dict[str, Any] = {"nkey": self.public_key}
        if self.permissions is not None:
            out["permissions"] = self.permissions.to_config()
        return out


@dataclass(frozen=True)
class Account:
    """A config-file account: isolated subject space, its own JetStream streams."""

    name: str
    users: Sequence[User | NkeyUser] = ()
    jetstream: bool = True

    def to_config(self, *, jetstream_available: bool = True) -> dict[str, Any]:
        """The value of this account in the ``accounts`` map."""
        out: dict[str, Any] = {}
        if self.jetstream and jetstream_available:
            out["jetstream"] = "enabled"
        if self.users:
            out["users"] = [u.to_config() for u in self.users]
        return out


# ------------------------------------------------------------------------- JWTs


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def encode_jwt(claims: Mapping[str, Any], issuer: NKey) -> str:
    """Sign ``claims`` with ``issuer`` into a NATS v2 JWT.

    ``iss`` is set to the issuer's public key, ``iat`` to now unless given,
    and ``jti`` to the unpadded base32 SHA-512/256 of the base claims.
    """
    body = {k: v for k, v in claims.items() if k != "jti"}
    body["iss"] = issuer.public_key
    body.setdefault("iat", int(time.time()))
    base = {k: body[k] for k in _BASE_CLAIMS if body.get(k)}
    digest = hashlib.new("sha512_256", _json(base)).digest()
    body["jti"] = base64.b32encode(digest).rstrip(b"=").decode("ascii")
    signing_input = f"{_b64url(_json(_JWT_HEADER))}.{_b64url(_json(body))}"
    return f"{signing_input}.{_b64url(issuer.sign(signing_input.encode('ascii')))}"


def decode_jwt_claims(token: str) -> dict[str, Any]:
    """The claims of a JWT, without verifying anything (for assertions in tests)."""
    try:
        _, payload, _ = token.split(".")
        claims = json.loads(_b64url_decode(payload))
    except ValueError as exc:
        raise ValueError("not a JWT") from exc
    if not isinstance(claims, dict):
        raise ValueError("not a JWT")
    return claims


def creds_text(jwt: str, seed: str) -> str:
    """A ``.creds`` file (user JWT + user seed), the format nats-py's ``user_credentials`` reads."""
    return (
        "-----BEGIN NATS USER JWT-----\n"
        f"{jwt}\n"
        "------END NATS USER JWT------\n"
        "\n"
        "************************* IMPORTANT *************************\n"
        "NKEY Seed printed below can be used to sign and prove identity.\n"
        "NKEYs are sensitive and should be treated as secrets.\n"
        "\n"
        "-----BEGIN USER NKEY SEED-----\n"
        f"{seed}\n"
        "------END USER NKEY SEED------\n"
        "\n"
        "*************************************************************\n"
    )


class JWTUser(_UserKey):
    """A user of an operator-mode account: its nkey and its user JWT.

    Connect with nats-py's ``user_credentials`` pointing at :meth:`write_creds`.
    """

    def __init__(self, name: str, key: NKey, jwt: str, account: JWTAccount) -> None:
        self.name = name
        self.key = key
        self.jwt = jwt
        self.account = account

    def __repr__(self) -> str:
        return f"<JWTUser {self.name} {self.key.public_key} of {self.account.name}>"

    def creds(self) -> str:
        """The ``.creds`` file text (JWT and seed)."""
        return creds_text(self.jwt, self.key.seed)

    def write_creds(self, path: str | Path) -> Path:
        """Write the ``.creds`` file to ``path`` (mode 0600) and return the path."""
        target = Path(path)
        _write_secret(target, self.creds())
        return target


class JWTAccount:
    """An account signed by an :class:`Operator`; it signs its users' JWTs."""

    def __init__(self, name: str, key: NKey, operator: Operator, *, jetstream: bool) -> None:
        self.name = name
        self.key = key
        self.operator = operator
        self.jetstream = jetstream
        limits: dict[str, Any] = {**_UNLIMITED_NATS, **_UNLIMITED_ACCOUNT}
        if jetstream:
            limits.update(_UNLIMITED_JETSTREAM)
        claims = {
            "name": name,
            "sub": key.public_key,
            "nats": {
                "limits": limits,
                "default_permissions": {"pub": {}, "sub": {}},
                "type": "account",
                "version": _JWT_VERSION,
            },
        }
        self.jwt: str = encode_jwt(claims, operator.key)

    def __repr__(self) -> str:
        return f"<JWTAccount {self.name} {self.key.public_key}>"

    @property
    def public_key(self) -> str:
        """The account's public key (``A...``), its id on the server."""
        return self.key.public_key

    def create_user(
        self,
        name: str,
        *,
        permissions: Permissions | None = None,
        expires: float | None = None,
        bearer_token: bool = False,
        signer: NKey | None = None,
    ) -> JWTUser:
        """A new user with a fresh nkey and a JWT signed by this account.

        Args:
            permissions: publish/subscribe limits written into the JWT.
            expires: Unix time (seconds) after which the JWT is expired.
            bearer_token: the server then skips the nonce signature check.
            signer: sign with this key instead of the account's (e.g. a key
                the server does not know, to test a rejected JWT).
        """
        key = NKey.generate("user")
        nats: dict[str, Any] = {**_UNLIMITED_NATS, "type": "user", "version": _JWT_VERSION}
        nats.update((permissions or Permissions()).to_jwt())
        if bearer_token:
            nats["bearer_token"] = True
        claims: dict[str, Any] = {"name": name, "sub": key.public_key, "nats": nats}
        if expires is not None:
            claims["exp"] = int(expires)
        return JWTUser(name, key, encode_jwt(claims, signer or self.key), self)


class Operator:
    """An operator with a system account, for operator (JWT) mode servers.

    Accounts are created with :meth:`create_account`; a server started with
    ``NatsServer(operator=op)`` preloads the JWTs of every account existing
    at start (a memory resolver), so create accounts before starting it.
    Users can be created at any time: the server only needs their accounts.
    """

    def __init__(self, name: str = "OP", *, system_account_name: str = "SYS") -> None:
        self.name = name
        self.key: NKey = NKey.generate("operator")
        self._accounts: dict[str, JWTAccount] = {}
        # The system account's key must be known before the operator JWT names it.
        sys_key = NKey.generate("account")
        claims = {
            "name": name,
            "sub": self.key.public_key,
            "nats": {
                "system_account": sys_key.public_key,
                "type": "operator",
                "version": _JWT_VERSION,
            },
        }
        self.jwt: str = encode_jwt(claims, self.key)
        self.system_account: JWTAccount = JWTAccount(system_account_name, sys_key, self, jetstream=False)
        self._accounts[system_account_name] = self.system_account

    def __repr__(self) -> str:
        return f"<Operator {self.name} {self.key.public_key} accounts={sorted(self._accounts)}>"

    @property
    def public_key(self) -> str:
        """The operator's public key (``O...``)."""
        return self.key.public_key

    @property
    def accounts(self) -> Mapping[str, JWTAccount]:
        """Accounts by name, the system account included."""
        return dict(self._accounts)

    def create_account(self, name: str, *, jetstream: bool = True) -> JWTAccount:
        """A new account signed by this operator (JetStream limits unlimited when enabled)."""
        if name in self._accounts:
            raise ValueError(f"account {name!r} exists")
        account = JWTAccount(name, NKey.generate("account"), self, jetstream=jetstream)
        self._accounts[name] = account
        return account

    def resolver_preload(self) -> dict[str, str]:
        """Account public key -> account JWT, for a memory resolver."""
        return {a.public_key: a.jwt for a in self._accounts.values()}


# -------------------------------------------------------------------------- TLS


@dataclass(frozen=True)
class TLSFiles:
    """PEM files written by :meth:`TLSCertificates.write`."""

    ca_file: Path
    server_cert_file: Path
    server_key_file: Path
    client_cert_file: Path
    client_key_file: Path


class TLSCertificates:
    """A throwaway CA (made with ``trustme``) with a server and a client certificate.

    The server certificate is valid for ``127.0.0.1`` and ``localhost``; the
    client certificate, signed by the same CA, is what a mutual-TLS server
    (``NatsServer(tls=..., tls_verify=True)``) accepts.  Use
    :meth:`client_context` for the ``tls=`` option of nats-py / ``jetstream.connect``.
    """

    def __init__(
        self,
        *,
        server_names: Sequence[str] = ("127.0.0.1", "localhost"),
        client_name: str = "client.jetstream.test",
    ) -> None:
        try:
            import trustme
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise RuntimeError("TLS helpers need the 'trustme' package (pip install trustme)") from exc
        self._ca: trustme.CA = trustme.CA()
        self._server: trustme.LeafCert = self._ca.issue_cert(*server_names)
        self._client: trustme.LeafCert = self._ca.issue_cert(client_name)
        self.server_names: tuple[str, ...] = tuple(server_names)
        self.client_name = client_name

    def __repr__(self) -> str:
        return f"<TLSCertificates server={list(self.server_names)} client={self.client_name!r}>"

    @property
    def ca_pem(self) -> bytes:
        """The CA certificate (PEM)."""
        return self._ca.cert_pem.bytes()

    def write(self, directory: str | Path) -> TLSFiles:
        """Write CA, server and client certificates and keys (keys mode 0600) under ``directory``."""
        base = Path(directory)
        base.mkdir(parents=True, exist_ok=True)
        files = TLSFiles(
            ca_file=base / "ca.pem",
            server_cert_file=base / "server-cert.pem",
            server_key_file=base / "server-key.pem",
            client_cert_file=base / "client-cert.pem",
            client_key_file=base / "client-key.pem",
        )
        files.ca_file.write_bytes(self.ca_pem)
        files.server_cert_file.write_bytes(b"".join(b.bytes() for b in self._server.cert_chain_pems))
        _write_secret(files.server_key_file, self._server.private_key_pem.bytes().decode())
        files.client_cert_file.write_bytes(b"".join(b.bytes() for b in self._client.cert_chain_pems))
        _write_secret(files.client_key_file, self._client.private_key_pem.bytes().decode())
        return files

    def client_context(self, *, client_cert: bool = True) -> ssl.SSLContext:
        """An ``ssl.SSLContext`` trusting this CA, presenting the client certificate unless told not to."""
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
        self._ca.configure_trust(ctx)
        if client_cert:
            self._client.configure_cert(ctx)
        return ctx

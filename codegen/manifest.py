"""The endpoint manifest (schemas/endpoints.toml) -> Endpoint records, checked against the types."""

from __future__ import annotations

import enum
import re
import sys
from pathlib import Path
from typing import Any, TypeVar

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from .load import PROJECT_SCHEMAS
from .model import Body, Endpoint, Inbox, ReplyMode, Token, TokenKind
from .problems import Problems

MANIFEST = PROJECT_SCHEMAS / "endpoints.toml"
KEYS = {
    "name", "subject", "tokens", "server_const", "request", "body", "response", "result", "paged",
    "config", "fill", "name_fields", "defaults", "generate_name", "system", "reply", "since", "doc",
    "merge_pages", "inbox",
}  # fmt: skip
# Local names of the generated method bodies; a token of the same name would shadow them.
RESERVED = {"self", "suffix", "cfg", "body", "pages", "reply", "timeout", "config"}
REQUIRED_KEYS = ("name", "subject", "response")
_TOKEN = re.compile(r"\{(\w+)(\.\.\.)?\}")


E = TypeVar("E", bound=enum.Enum)


def _member(kind: type[E], value: object) -> E | None:
    """The member of `kind` whose value is `value`, or None."""
    return next((m for m in kind if m.value == value), None)


def _values(kind: type[enum.Enum]) -> list[str]:
    return sorted(str(m.value) for m in kind)


def label(path: Path) -> str:
    """How problems name the manifest: the project's by its repository path, others in full."""
    return "schemas/endpoints.toml" if path.resolve() == MANIFEST.resolve() else str(path)


def read(path: Path = MANIFEST, problems: Problems | None = None) -> list[Endpoint]:
    """Every entry, in file order (so `/endpoint/<i>` pointers stay valid for later stages)."""
    own = problems or Problems()
    data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    file = label(path)
    endpoints: list[Endpoint] = []
    for i, entry in enumerate(data.get("endpoint", [])):
        pointer = f"/endpoint/{i}"
        unknown = set(entry) - KEYS
        if unknown:
            own.add(file, pointer, f"unknown keys {sorted(unknown)}")
        for key in REQUIRED_KEYS:
            if key not in entry:
                own.add(file, f"{pointer}/{key}", "missing")
        kinds: dict[str, str] = dict(entry.get("tokens", {}))
        tokens: list[Token] = []
        for m in _TOKEN.finditer(entry.get("subject", "")):
            tname, tail = m.group(1), bool(m.group(2))
            if tname in RESERVED:
                own.add(file, pointer, f"token name {tname!r} is reserved by the generated code")
            kind = _member(TokenKind, kinds.pop(tname, None))
            if kind is None:
                own.add(
                    file,
                    f"{pointer}/tokens/{tname}",
                    f"token {tname!r} needs a kind in `tokens` (one of {_values(TokenKind)})",
                )
            tokens.append(Token(tname, kind or TokenKind.NAME, tail))
        if kinds:
            own.add(file, f"{pointer}/tokens", f"`tokens` names tokens not in the subject: {sorted(kinds)}")
        body = _member(Body, entry.get("body"))
        if body is None:
            own.add(file, f"{pointer}/body", f"body must be one of {_values(Body)}")
        reply = _member(ReplyMode, entry.get("reply", ReplyMode.SINGLE.value))
        if reply is None:
            own.add(file, f"{pointer}/reply", f"reply must be one of {_values(ReplyMode)}")
        inbox = _member(Inbox, entry.get("inbox", Inbox.SHARED.value))
        if inbox is None:
            own.add(file, f"{pointer}/inbox", f"inbox must be one of {_values(Inbox)}")
        elif reply is ReplyMode.MULTI and inbox is not Inbox.PRIVATE:
            own.add(file, f"{pointer}/inbox", 'several replies to one request need inbox = "private"')
        endpoints.append(
            Endpoint(
                name=entry.get("name", ""),
                subject=entry.get("subject", ""),
                tokens=tuple(tokens),
                server_const=entry.get("server_const", ""),
                request=entry.get("request", ""),
                body=body or Body.NONE,
                response=entry.get("response", ""),
                result=entry.get("result", ""),
                paged=entry.get("paged", ""),
                config=entry.get("config", ""),
                fill=tuple(sorted(entry.get("fill", {}).items())),
                name_fields=tuple(entry.get("name_fields", ())),
                defaults=tuple(sorted(entry.get("defaults", {}).items())),
                generate_name=bool(entry.get("generate_name", False)),
                merge_pages=entry.get("merge_pages", ""),
                system=bool(entry.get("system", False)),
                reply=reply or ReplyMode.SINGLE,
                inbox=inbox or Inbox.SHARED,
                since=entry.get("since", ""),
                doc=entry.get("doc", ""),
            )
        )
    names = [e.name for e in endpoints]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        own.add(file, "", f"duplicate endpoint name {dup!r}")
    if problems is None:
        own.raise_if_any()
    return endpoints

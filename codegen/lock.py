"""`schemas/lock.toml`: the one place that names the upstream inputs of codegen.

- `[schemas]`: the jsm.go ref codegen reads. `ref` is its name (a tag or a short commit SHA; the folder
  name under `jsm.go/`, and what the generated headers say), `commit` the full SHA it stands for (what
  `make schemas` fetches), `[schemas.files]` the sha256 of each file codegen reads (`schema_source/jetstream/api/v1/`, the
  advisory and metric folders, `schema_source/definitions.json`).
- `[errors]`: nats-server's `server/errors.json` at `ref` / `commit`, and its sha256.
- `[previous."<ref>"]`: earlier jsm.go refs, read only by `codegen diff` (docs/schema-diffs/) and
  tests/codegen. They are pinned like the locked one so that they are fetched and verified the same way.

Written by `python -m codegen lock`; every file is checked against it whichever way it came (download,
`$JETSTREAM_SCHEMAS`, the cache, `--schemas`).
"""

from __future__ import annotations

import hashlib
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

from .load import PROJECT_SCHEMAS, schema_files
from .problems import Problems

LOCK_FILE = PROJECT_SCHEMAS / "lock.toml"
COMMIT = re.compile(r"[0-9a-f]{40}")


@dataclass(frozen=True)
class SchemaPin:
    """One jsm.go ref: its name, the commit it stands for, sha256 per file (keyed by repo path)."""

    ref: str
    commit: str
    files: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ErrorsPin:
    ref: str
    commit: str
    sha256: str


@dataclass(frozen=True)
class Lock:
    schemas: SchemaPin
    errors: ErrorsPin
    previous: tuple[SchemaPin, ...] = ()
    schemas_repo: str = "nats-io/jsm.go"
    errors_repo: str = "nats-io/nats-server"
    errors_path: str = "server/errors.json"

    @property
    def pins(self) -> tuple[SchemaPin, ...]:
        """Every jsm.go ref the lock knows: the locked one first."""
        return (self.schemas, *self.previous)

    def pin(self, ref: str) -> SchemaPin | None:
        return next((p for p in self.pins if p.ref == ref), None)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def hashes(schema_set: Path) -> dict[str, str]:
    """sha256 of each file codegen reads from a schema set, keyed as in the lock."""
    return {p.relative_to(schema_set).as_posix(): sha256(p) for p in schema_files(schema_set)}


def check_commit(ref: str, commit: str) -> str | None:
    """What is wrong with pinning `ref` to `commit`, if anything."""
    if not COMMIT.fullmatch(commit):
        return f"commit {commit!r} of {ref} is not a full 40-hex-digit SHA"
    if re.fullmatch(r"[0-9a-f]{7,39}", ref) and not commit.startswith(ref):
        return f"ref {ref} looks like a short SHA but commit {commit} does not start with it"
    return None


def read_lock(path: Path = LOCK_FILE) -> Lock:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    s, e = data["schemas"], data["errors"]
    return Lock(
        schemas=SchemaPin(s["ref"], s["commit"], dict(s["files"])),
        errors=ErrorsPin(e["ref"], e["commit"], e["sha256"]),
        previous=tuple(
            SchemaPin(ref, p["commit"], dict(p["files"])) for ref, p in data.get("previous", {}).items()
        ),
        schemas_repo=s["repo"],
        errors_repo=e["repo"],
        errors_path=e["path"],
    )


def _files(pin: SchemaPin) -> list[str]:
    return [f'"{name}" = "{digest}"' for name, digest in sorted(pin.files.items())]


def write_lock(lock: Lock, path: Path = LOCK_FILE) -> None:
    lines = [
        "# The upstream inputs of codegen, and the one place that names them. `make schemas` fetches these",
        "# commits (or finds them under $JETSTREAM_SCHEMAS) and codegen refuses any file whose sha256 differs.",
        "# Written by `python -m codegen lock`; see codegen/lock.py for the layout.",
        "",
        "[schemas]",
        f'repo = "{lock.schemas_repo}"',
        f'ref = "{lock.schemas.ref}"',
        f'commit = "{lock.schemas.commit}"',
        "",
        "[schemas.files]",
        *_files(lock.schemas),
        "",
        "[errors]",
        f'repo = "{lock.errors_repo}"',
        f'path = "{lock.errors_path}"',
        f'ref = "{lock.errors.ref}"',
        f'commit = "{lock.errors.commit}"',
        f'sha256 = "{lock.errors.sha256}"',
    ]
    if lock.previous:
        lines += [
            "",
            "# Earlier jsm.go refs: read by `make diff` (docs/schema-diffs/) and tests/codegen, never generated from.",
        ]
    for pin in sorted(lock.previous, key=lambda p: p.ref):
        lines += [
            "",
            f'[previous."{pin.ref}"]',
            f'commit = "{pin.commit}"',
            "",
            f'[previous."{pin.ref}".files]',
        ]
        lines += _files(pin)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def check_set(schema_set: Path, pin: SchemaPin, problems: Problems, *, is_locked: bool = False) -> None:
    """Add a problem for every file of `schema_set` that differs from `pin`.

    When `pin` is the locked ref and the set is named otherwise, the closing hint says how to adopt it.
    """
    now = hashes(schema_set)
    start = len(problems.items)
    for name in sorted(set(pin.files) | set(now)):
        label = str(Path(name))
        if name not in now:
            problems.add(label, "", "locked file is missing from the schema set")
        elif name not in pin.files:
            problems.add(label, "", "file is not in the lock")
        elif pin.files[name] != now[name]:
            problems.add(
                label, "", f"sha256 {now[name][:12]}… differs from the lock ({pin.files[name][:12]}…)"
            )
    if len(problems.items) == start:
        return
    name = schema_set.resolve().name
    if is_locked and name != pin.ref:
        hint = f"locked ref {pin.ref}; to adopt {name}, run `python -m codegen lock --ref {name} --commit <full SHA>`"
    else:
        hint = (
            f"{schema_set} is not jsm.go {pin.ref} as locked (commit {pin.commit}): use unmodified upstream "
            f"files (`make schemas` fetches them); to adopt other files, `python -m codegen lock`"
        )
    problems.add(str(LOCK_FILE), "", hint)


def check_errors(errors: Path, lock: Lock, problems: Problems) -> None:
    if sha256(errors) != lock.errors.sha256:
        problems.add(
            str(errors),
            "",
            f"sha256 differs from the lock (nats-server {lock.errors.ref}, commit {lock.errors.commit})",
        )


def verify_set(schema_set: Path, pin: SchemaPin, *, is_locked: bool = False) -> None:
    """Raise InputError listing every file that differs from `pin`."""
    problems = Problems()
    check_set(schema_set, pin, problems, is_locked=is_locked)
    problems.raise_if_any()


def verify_lock(schema_set: Path, errors: Path, path: Path = LOCK_FILE) -> None:
    """Raise InputError listing every file that differs from the locked ref and error table."""
    lock = read_lock(path)
    problems = Problems()
    check_set(schema_set, lock.schemas, problems, is_locked=True)
    check_errors(errors, lock, problems)
    problems.raise_if_any()

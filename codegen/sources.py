"""Where the upstream schema sets come from, and how a missing one is fetched.

A folder of schemas is laid out as

    jsm.go/<ref>/schema_source/jetstream/api/v1/*.json
    nats-server/<ref>/errors.json

and two of them are searched, in this order: `$JETSTREAM_SCHEMAS` (an existing copy of unmodified upstream
files, e.g. `../shared/schemas` on a machine without internet) and the cache (`.cache/schemas` in the
repository, git-ignored; `$JETSTREAM_SCHEMAS_CACHE` moves it). `python -m codegen schemas` (`make schemas`)
fills the cache from GitHub at the commits in schemas/lock.toml: one source archive per jsm.go ref, of which
only what codegen reads is kept (`schema_source/jetstream/{api,advisory,metric}/v1/*.json` and
`schema_source/definitions.json`), and nats-server's `server/errors.json` as a raw file.
Every file is checked against the lock whichever way it came; a download reaches the cache only once it
matches.
"""

from __future__ import annotations

import http.client
import os
import shutil
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from .load import API_DIR, COMMON_DEFINITIONS, EVENT_DIRS, ROOT
from .lock import Lock, SchemaPin, check_errors, check_set, hashes, sha256
from .problems import Problems

ENV_VAR = "JETSTREAM_SCHEMAS"
CACHE_VAR = "JETSTREAM_SCHEMAS_CACHE"
DEFAULT_CACHE = ROOT / ".cache" / "schemas"
ARCHIVE_URL = "https://github.com/{repo}/archive/{commit}.tar.gz"
RAW_URL = "https://raw.githubusercontent.com/{repo}/{commit}/{path}"
TIMEOUT = 60.0  # seconds: to connect, and for each read
MAX_BYTES = 64 * 2**20  # jsm.go's archive is a few MB; errors.json ~100 kB
USER_AGENT = "jetstream-py-codegen (+https://github.com/nats-io/jsm.go schemas)"

Log = Callable[[str], None]


class SchemasError(Exception):
    """A schema set that is not at hand or could not be fetched; the message says what to do."""


class DownloadError(SchemasError):
    pass


@dataclass(frozen=True)
class Places:
    """The folders searched for schema sets: `$JETSTREAM_SCHEMAS` (if set), then the cache."""

    env: Path | None
    cache: Path

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Places:
        environ = os.environ if environ is None else environ
        env = environ.get(ENV_VAR, "")
        cache = environ.get(CACHE_VAR, "")
        return cls(
            Path(env).expanduser().absolute() if env else None,
            Path(cache).expanduser().absolute() if cache else DEFAULT_CACHE,
        )

    @property
    def roots(self) -> tuple[Path, ...]:
        return (self.cache,) if self.env is None else (self.env, self.cache)


def set_folder(root: Path, ref: str) -> Path:
    return root / "jsm.go" / ref


def errors_file(root: Path, ref: str) -> Path:
    return root / "nats-server" / ref / "errors.json"


def _show(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def find_set(ref: str, places: Places | None = None) -> Path | None:
    for root in (places or Places.from_environ()).roots:
        folder = set_folder(root, ref)
        if (folder / API_DIR).is_dir():
            return folder
    return None


def find_errors(ref: str, places: Places | None = None) -> Path | None:
    for root in (places or Places.from_environ()).roots:
        path = errors_file(root, ref)
        if path.is_file():
            return path
    return None


def how_to_get(lock: Lock, places: Places | None = None) -> str:
    places = places or Places.from_environ()
    return (
        f"run `make schemas` (fetches them from GitHub into {_show(places.cache)}), or set {ENV_VAR} to a "
        f"folder holding jsm.go/{lock.schemas.ref}/ and nats-server/{lock.errors.ref}/errors.json"
    )


def _looked_in(places: Places, rel: str) -> str:
    where = ", ".join(_show(root / rel) for root in places.roots)
    return where if places.env is not None else f"{where}; {ENV_VAR} is not set"


def require_set(ref: str, lock: Lock, places: Places | None = None) -> Path:
    places = places or Places.from_environ()
    folder = find_set(ref, places)
    if folder is not None:
        return folder
    if lock.pin(ref) is None:
        todo = (
            f"{ref} is not in schemas/lock.toml either: pass a folder, or lock it first "
            f"(`python -m codegen lock --ref {ref} --commit <full SHA>` fetches it)"
        )
    else:
        todo = how_to_get(lock, places)
    raise SchemasError(
        f"jsm.go {ref} schemas not found (looked in {_looked_in(places, f'jsm.go/{ref}')}): {todo}"
    )


def require_errors(lock: Lock, places: Places | None = None) -> Path:
    places = places or Places.from_environ()
    path = find_errors(lock.errors.ref, places)
    if path is not None:
        return path
    rel = f"nats-server/{lock.errors.ref}/errors.json"
    raise SchemasError(
        f"nats-server {lock.errors.ref} errors.json not found (looked in {_looked_in(places, rel)}): "
        + how_to_get(lock, places)
    )


def missing_locked(lock: Lock, places: Places | None = None) -> list[str]:
    """What codegen needs to generate and is not at hand, e.g. `["jsm.go caea3c5"]`."""
    places = places or Places.from_environ()
    missing = [] if find_set(lock.schemas.ref, places) else [f"jsm.go {lock.schemas.ref}"]
    return missing + ([] if find_errors(lock.errors.ref, places) else [f"nats-server {lock.errors.ref}"])


# --- downloads ----------------------------------------------------------------------------------


class _Capped:
    """A response body that refuses to grow past `limit` bytes."""

    def __init__(self, stream: Any, url: str, limit: int) -> None:
        self._stream = stream
        self._url = url
        self._limit = limit
        self._count = 0

    def read(self, size: int = -1) -> bytes:
        if size < 0:
            chunks = []
            while chunk := self.read(2**20):
                chunks.append(chunk)
            return b"".join(chunks)
        data: bytes = self._stream.read(size)
        self._count += len(data)
        if self._count > self._limit:
            raise DownloadError(f"{self._url} is larger than {self._limit} bytes: refused")
        return data


def _offline_hint(what: str) -> str:
    return (
        f"Without internet, set {ENV_VAR} to a folder holding {what} (unmodified upstream files; "
        f"their sha256 are checked against schemas/lock.toml)."
    )


def _reason(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        return str(exc.reason)
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _open(url: str, timeout: float) -> Any:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    return urllib.request.urlopen(request, timeout=timeout)


# What a failed download can raise: network and HTTP errors, a bad URL, a truncated or corrupt archive.
_FAILURES = (OSError, http.client.HTTPException, ValueError, tarfile.TarError, zlib.error, EOFError)


# The folders of a schema set whose JSON files codegen reads, and its one file outside them.
KEPT_FOLDERS = frozenset(PurePosixPath(d.as_posix()) for d in (API_DIR, *EVENT_DIRS))
KEPT_FILES = frozenset({PurePosixPath(COMMON_DEFINITIONS.as_posix())})


def _extract_api_files(url: str, out: Path, timeout: float, limit: int) -> int:
    """Stream the archive at `url`, writing the regular files codegen reads (`<top>/` + `KEPT_FOLDERS`
    `*.json` and `KEPT_FILES`) into `out` under the same paths; return how many API files it held.
    Nothing else is written: no other paths, links or folders, whatever the archive holds."""
    (out / API_DIR).mkdir(parents=True)
    with _open(url, timeout) as response:
        body: Any = _Capped(response, url, limit)  # reads only: all that a "r|gz" stream needs
        with tarfile.open(fileobj=body, mode="r|gz") as tar:
            count = _write_api_members(tar, out)
    return count


def _write_api_members(tar: tarfile.TarFile, out: Path) -> int:
    api = PurePosixPath(API_DIR.as_posix())
    count = 0
    for member in tar:
        parts = PurePosixPath(member.name).parts
        if len(parts) < 2 or not member.isfile():
            continue
        rel = PurePosixPath(*parts[1:])
        kept = rel in KEPT_FILES or (rel.parent in KEPT_FOLDERS and rel.suffix == ".json")
        if not kept or rel.name.startswith("."):
            continue
        data = tar.extractfile(member)
        if data is not None:
            dest = out.joinpath(*rel.parts)
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data.read())
            count += rel.parent == api
    return count


def _differing(found: Mapping[str, str], expected: Mapping[str, str]) -> list[str]:
    return sorted(name for name in set(found) | set(expected) if found.get(name) != expected.get(name))


def _install(staged: Path, dest: Path) -> None:
    """Move a verified folder or file into the cache, replacing whatever incomplete thing was there."""
    if dest.is_dir():
        shutil.rmtree(dest)
    elif dest.exists():
        dest.unlink()
    try:
        os.replace(staged, dest)
    except OSError:
        if not dest.exists():  # else another run installed it meanwhile: it is verified when used
            raise


def download_set(
    pin: SchemaPin,
    repo: str,
    dest: Path,
    *,
    verify: bool = True,
    url_template: str = ARCHIVE_URL,
    timeout: float = TIMEOUT,
    limit: int = MAX_BYTES,
) -> str:
    """Fetch jsm.go `pin.commit` into `dest` (a `jsm.go/<ref>` folder); return the URL.

    With `verify` (always, except when locking a new ref) every file must match `pin.files`.
    """
    url = url_template.format(repo=repo, commit=pin.commit, ref=pin.ref)
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{pin.ref}.download-", dir=dest.parent))
    try:
        staged = work / pin.ref
        try:
            count = _extract_api_files(url, staged, timeout, limit)
        except _FAILURES as exc:
            raise DownloadError(
                f"could not download jsm.go {pin.ref} (commit {pin.commit}) from {url}: {_reason(exc)}. "
                + _offline_hint(f"jsm.go/{pin.ref}/{API_DIR.as_posix()}/*.json")
            ) from exc
        if count == 0:
            raise DownloadError(
                f"{url} holds no {API_DIR.as_posix()}/*.json: is {pin.commit} a commit of {repo}?"
            )
        if verify:
            differing = _differing(hashes(staged), pin.files)
            if differing:
                shown = ", ".join(differing[:5]) + (", …" if len(differing) > 5 else "")
                raise DownloadError(
                    f"jsm.go {pin.ref} from {url} does not match schemas/lock.toml ({len(differing)} "
                    f"file(s) differ: {shown}); nothing was written to {_show(dest.parent)}"
                )
        _install(staged, dest)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return url


def download_errors(
    lock: Lock,
    dest: Path,
    *,
    ref: str | None = None,
    commit: str | None = None,
    verify: bool = True,
    url_template: str = RAW_URL,
    timeout: float = TIMEOUT,
    limit: int = MAX_BYTES,
) -> str:
    """Fetch nats-server's errors.json (the locked one, or `ref`/`commit` when locking another) into
    `dest`; return the URL."""
    ref = ref or lock.errors.ref
    url = url_template.format(
        repo=lock.errors_repo, commit=commit or lock.errors.commit, path=lock.errors_path
    )
    try:
        with _open(url, timeout) as response:
            data = _Capped(response, url, limit).read()
    except _FAILURES as exc:
        raise DownloadError(
            f"could not download nats-server {ref} errors.json from {url}: {_reason(exc)}. "
            + _offline_hint(f"nats-server/{ref}/errors.json")
        ) from exc
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=".errors.json.", dir=dest.parent)
    staged = Path(name)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        if verify and sha256(staged) != lock.errors.sha256:
            raise DownloadError(
                f"nats-server {ref} errors.json from {url} does not match schemas/lock.toml (sha256 "
                f"{sha256(staged)[:12]}…, locked {lock.errors.sha256[:12]}…); nothing was written"
            )
        _install(staged, dest)
    finally:
        staged.unlink(missing_ok=True)
    return url


def copy_set(source: Path, pin: SchemaPin, dest: Path) -> None:
    """Copy the files codegen reads from a local schema set into `dest`, if they match `pin`."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{pin.ref}.copy-", dir=dest.parent))
    try:
        staged = work / pin.ref
        for folder in (API_DIR, *EVENT_DIRS):
            if (source / folder).is_dir():
                shutil.copytree(source / folder, staged / folder)
        if (source / COMMON_DEFINITIONS).is_file():
            shutil.copyfile(source / COMMON_DEFINITIONS, staged / COMMON_DEFINITIONS)
        problems = Problems()
        check_set(staged, pin, problems)
        problems.raise_if_any()
        _install(staged, dest)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def copy_errors(source: Path, lock: Lock, dest: Path) -> None:
    problems = Problems()
    check_errors(source, lock, problems)
    problems.raise_if_any()
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=".errors.json.", dir=dest.parent)
    os.close(fd)
    shutil.copyfile(source, name)
    _install(Path(name), dest)


# --- make schemas -------------------------------------------------------------------------------


def obtain(
    lock: Lock,
    *,
    places: Places | None = None,
    offline: bool = False,
    seed: Path | None = None,
    archive_url: str = ARCHIVE_URL,
    raw_url: str = RAW_URL,
    timeout: float = TIMEOUT,
    log: Log | None = None,
) -> list[str]:
    """Make every set the lock names (its ref, the previous ones, the error table) be at hand and match.

    Each is looked for in `$JETSTREAM_SCHEMAS`, then the cache; one that is in neither is copied from
    `seed` (a folder laid out the same way) into the cache when `seed` has it, else downloaded there
    (unless `offline`). Return what is still missing (only when `offline`); raise InputError when files
    at hand differ from the lock, SchemasError when a download fails.
    """
    places = places or Places.from_environ()
    say: Log = log or (lambda line: print(line, file=sys.stderr))
    problems = Problems()
    missing: list[str] = []
    for pin in lock.pins:
        label = f"jsm.go {pin.ref}"
        folder = find_set(pin.ref, places)
        dest = set_folder(places.cache, pin.ref)
        if folder is not None:
            before = len(problems.items)
            check_set(folder, pin, problems, is_locked=pin is lock.schemas)
            if len(problems.items) == before:
                say(f"{label}: {len(pin.files)} files match the lock ({_show(folder)})")
        elif seed is not None and (set_folder(seed, pin.ref) / API_DIR).is_dir():
            copy_set(set_folder(seed, pin.ref), pin, dest)
            say(f"{label}: copied from {_show(set_folder(seed, pin.ref))} to {_show(dest)}, matches the lock")
        elif offline:
            missing.append(label)
        else:
            url = download_set(pin, lock.schemas_repo, dest, url_template=archive_url, timeout=timeout)
            say(f"{label}: downloaded {url} to {_show(dest)}, {len(pin.files)} files match the lock")
    label = f"nats-server {lock.errors.ref}"
    path = find_errors(lock.errors.ref, places)
    dest = errors_file(places.cache, lock.errors.ref)
    if path is not None:
        before = len(problems.items)
        check_errors(path, lock, problems)
        if len(problems.items) == before:
            say(f"{label}: errors.json matches the lock ({_show(path)})")
    elif seed is not None and errors_file(seed, lock.errors.ref).is_file():
        copy_errors(errors_file(seed, lock.errors.ref), lock, dest)
        say(f"{label}: copied errors.json from {_show(errors_file(seed, lock.errors.ref))}, matches the lock")
    elif offline:
        missing.append(label)
    else:
        url = download_errors(lock, dest, url_template=raw_url, timeout=timeout)
        say(f"{label}: downloaded {url} to {_show(dest)}, matches the lock")
    problems.raise_if_any()
    return missing

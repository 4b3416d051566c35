"""Where codegen finds the upstream schemas ($JETSTREAM_SCHEMAS, the cache) and how `make schemas` fetches
them: over a local HTTP server and file:// URLs shaped like GitHub's, since tests have no internet."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import tarfile
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import codegen_support as support
import pytest

from codegen import sources
from codegen.cli import main
from codegen.diff import diff_sets
from codegen.load import API_DIR, schema_files
from codegen.lock import ErrorsPin, Lock, SchemaPin, hashes, sha256
from codegen.problems import InputError

COMMIT = "a" * 40
ERRORS_COMMIT = "b" * 40
GITHUB = "https://github.com"
RAW = "https://raw.githubusercontent.com"


def _lock_of(inputs: support.Inputs) -> Lock:
    return Lock(
        SchemaPin("tinyref", COMMIT, hashes(inputs.schemas)),
        ErrorsPin("errref", ERRORS_COMMIT, sha256(inputs.errors)),
        schemas_repo="test/jsm.go",
        errors_repo="test/nats-server",
        errors_path="server/errors.json",
    )


def _add(tar: tarfile.TarFile, name: str, data: bytes = b"", **attrs: object) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    for key, value in attrs.items():
        setattr(info, key, value)
    tar.addfile(info, io.BytesIO(data) if data else None)


def archive(schema_set: Path, commit: str, *, tamper: str = "") -> bytes:
    """A source archive as GitHub serves it: everything under `<repo>-<commit>/`, and more than codegen reads."""
    top = f"jsm.go-{commit}"
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        _add(tar, top, type=tarfile.DIRTYPE)
        _add(tar, f"{top}/README.md", b"# jsm.go\n")
        for path in schema_files(schema_set) if (schema_set / API_DIR).is_dir() else []:
            data = path.read_bytes()
            if path.name == tamper:
                data += b" "
            _add(tar, f"{top}/{path.relative_to(schema_set).as_posix()}", data)
        # What must never be written: files elsewhere, deeper, hidden, links, paths climbing out.
        _add(tar, f"{top}/schema_source/jetstream/api/v2/new.json", b"{}")
        _add(tar, f"{top}/{API_DIR.as_posix()}/sub/deeper.json", b"{}")
        _add(tar, f"{top}/{API_DIR.as_posix()}/.hidden.json", b"{}")
        _add(tar, f"{top}/{API_DIR.as_posix()}/link.json", type=tarfile.SYMTYPE, linkname="/etc/passwd")
        _add(tar, f"{top}/../../escaped.json", b"{}")
        _add(tar, f"{top}/{API_DIR.as_posix()}/../../../../../escaped.json", b"{}")
    return buffer.getvalue()


class Server:
    """Serves `files` (URL path -> bytes) on 127.0.0.1; `delay` seconds before each answer."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.requests: list[str] = []
        self.delay = 0.0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(self.path)
                time.sleep(server.delay)
                body = server.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.archive_url = sources.ARCHIVE_URL.replace(GITHUB, self.base)
        self.raw_url = sources.RAW_URL.replace(RAW, self.base)

    def serve(self, lock: Lock, schema_set: Path, errors: Path, *, tamper: str = "") -> None:
        """Put the lock's set and error table where GitHub has them."""
        self.files[f"/{lock.schemas_repo}/archive/{lock.schemas.commit}.tar.gz"] = archive(
            schema_set, lock.schemas.commit, tamper=tamper
        )
        self.files[f"/{lock.errors_repo}/{lock.errors.commit}/{lock.errors_path}"] = errors.read_bytes()


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server()
    thread = threading.Thread(target=s.httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield s
    finally:
        s.httpd.shutdown()
        s.httpd.server_close()


@pytest.fixture
def tiny(tmp_path: Path) -> support.Inputs:
    return support.write_inputs(tmp_path / "upstream")


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if not p.is_dir())


def _obtain(
    server: Server, lock: Lock, places: sources.Places, timeout: float = sources.TIMEOUT
) -> tuple[list[str], list[str]]:
    said: list[str] = []
    missing = sources.obtain(
        lock,
        places=places,
        archive_url=server.archive_url,
        raw_url=server.raw_url,
        timeout=timeout,
        log=said.append,
    )
    return missing, said


def test_places_from_the_environment(tmp_path: Path) -> None:
    assert sources.Places.from_environ({}) == sources.Places(None, sources.DEFAULT_CACHE)
    assert sources.DEFAULT_CACHE == support.ROOT / ".cache" / "schemas"
    places = sources.Places.from_environ({"JETSTREAM_SCHEMAS": str(tmp_path), "JETSTREAM_SCHEMAS_CACHE": "c"})
    assert places == sources.Places(tmp_path, Path.cwd() / "c")
    assert places.roots == (tmp_path, Path.cwd() / "c")


def test_download_into_the_cache(server: Server, tiny: support.Inputs, tmp_path: Path) -> None:
    lock = _lock_of(tiny)
    server.serve(lock, tiny.schemas, tiny.errors)
    cache = tmp_path / "cache"
    places = sources.Places(None, cache)

    missing, said = _obtain(server, lock, places)
    assert missing == []
    assert said == [
        f"jsm.go tinyref: downloaded {server.base}/test/jsm.go/archive/{COMMIT}.tar.gz to {cache / 'jsm.go/tinyref'}, "
        f"{len(lock.schemas.files)} files match the lock",
        f"nats-server errref: downloaded {server.base}/test/nats-server/{ERRORS_COMMIT}/server/errors.json to "
        f"{cache / 'nats-server/errref/errors.json'}, matches the lock",
    ]
    # Only the files codegen reads, and nothing outside the cache.
    assert _files(cache) == sorted(
        [f"jsm.go/tinyref/{name}" for name in lock.schemas.files] + ["nats-server/errref/errors.json"]
    )
    assert not list(tmp_path.rglob("escaped.json"))
    assert sources.find_set("tinyref", places) == cache / "jsm.go" / "tinyref"
    assert sources.find_errors("errref", places) == cache / "nats-server" / "errref" / "errors.json"

    # Once there, it is verified, not fetched again.
    fetched = len(server.requests)
    missing, said = _obtain(server, lock, places)
    assert missing == [] and len(server.requests) == fetched
    assert (
        said[0]
        == f"jsm.go tinyref: {len(lock.schemas.files)} files match the lock ({cache / 'jsm.go/tinyref'})"
    )


def test_a_download_that_differs_from_the_lock_is_not_kept(
    server: Server, tiny: support.Inputs, tmp_path: Path
) -> None:
    lock = _lock_of(tiny)
    server.serve(lock, tiny.schemas, tiny.errors, tamper="widget_info_response.json")
    cache = tmp_path / "cache"
    with pytest.raises(sources.DownloadError) as info:
        _obtain(server, lock, sources.Places(None, cache))
    assert str(info.value) == (
        f"jsm.go tinyref from {server.base}/test/jsm.go/archive/{COMMIT}.tar.gz does not match "
        f"schemas/lock.toml (1 file(s) differ: {API_DIR.as_posix()}/widget_info_response.json); nothing was "
        f"written to {cache / 'jsm.go'}"
    )
    assert _files(cache) == [] and list((cache / "jsm.go").iterdir()) == []


def test_an_error_table_that_differs_from_the_lock_is_not_kept(
    server: Server, tiny: support.Inputs, tmp_path: Path
) -> None:
    lock = _lock_of(tiny)
    server.serve(lock, tiny.schemas, tiny.errors)
    server.files[f"/test/nats-server/{ERRORS_COMMIT}/server/errors.json"] += b"\n"
    cache = tmp_path / "cache"
    with pytest.raises(
        sources.DownloadError, match=r"nats-server errref errors\.json from .* does not match"
    ):
        _obtain(server, lock, sources.Places(None, cache))
    assert _files(cache / "nats-server") == []


def test_http_error_names_the_url_and_the_env_var(
    server: Server, tiny: support.Inputs, tmp_path: Path
) -> None:
    lock = _lock_of(tiny)
    with pytest.raises(sources.DownloadError) as info:
        _obtain(server, lock, sources.Places(None, tmp_path / "cache"))
    url = f"{server.base}/test/jsm.go/archive/{COMMIT}.tar.gz"
    assert str(info.value) == (
        f"could not download jsm.go tinyref (commit {COMMIT}) from {url}: HTTP 404 Not Found. Without internet, "
        f"set JETSTREAM_SCHEMAS to a folder holding jsm.go/tinyref/{API_DIR.as_posix()}/*.json (unmodified "
        "upstream files; their sha256 are checked against schemas/lock.toml)."
    )


def test_unreachable_host(tiny: support.Inputs, tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again before the download: nothing listens there
    url = f"http://127.0.0.1:{port}/{{repo}}/archive/{{commit}}.tar.gz"
    with pytest.raises(sources.DownloadError) as info:
        sources.obtain(
            _lock_of(tiny), places=sources.Places(None, tmp_path / "cache"), archive_url=url, log=print
        )
    message = str(info.value)
    assert message.startswith(
        f"could not download jsm.go tinyref (commit {COMMIT}) from http://127.0.0.1:{port}/"
    )
    assert "refused" in message.lower() and "set JETSTREAM_SCHEMAS to a folder" in message


def test_a_server_that_does_not_answer_times_out(
    server: Server, tiny: support.Inputs, tmp_path: Path
) -> None:
    lock = _lock_of(tiny)
    server.serve(lock, tiny.schemas, tiny.errors)
    server.delay = 3.0
    started = time.monotonic()
    with pytest.raises(sources.DownloadError, match=r"from http://127\.0\.0\.1:\d+/test/jsm\.go/.*timed out"):
        _obtain(server, lock, sources.Places(None, tmp_path / "cache"), timeout=0.3)
    assert time.monotonic() - started < 2.5


def test_not_an_archive(server: Server, tiny: support.Inputs, tmp_path: Path) -> None:
    lock = _lock_of(tiny)
    server.files[f"/test/jsm.go/archive/{COMMIT}.tar.gz"] = b"<html>a login page</html>"
    with pytest.raises(sources.DownloadError, match=r"could not download jsm\.go tinyref .*ReadError"):
        _obtain(server, lock, sources.Places(None, tmp_path / "cache"))


def test_an_archive_without_schemas(server: Server, tiny: support.Inputs, tmp_path: Path) -> None:
    lock = _lock_of(tiny)
    server.files[f"/test/jsm.go/archive/{COMMIT}.tar.gz"] = archive(tmp_path / "nothing", COMMIT)
    with pytest.raises(
        sources.DownloadError, match=f"holds no {API_DIR.as_posix()}/\\*.json: is {COMMIT} a commit"
    ):
        _obtain(server, lock, sources.Places(None, tmp_path / "cache"))


def test_size_limit(server: Server, tiny: support.Inputs, tmp_path: Path) -> None:
    lock = _lock_of(tiny)
    server.serve(lock, tiny.schemas, tiny.errors)
    with pytest.raises(sources.DownloadError, match="is larger than 100 bytes: refused"):
        sources.download_set(
            lock.schemas,
            lock.schemas_repo,
            tmp_path / "jsm.go" / "tinyref",
            url_template=server.archive_url,
            limit=100,
        )


def test_file_urls(tiny: support.Inputs, tmp_path: Path) -> None:
    """A mirror on disk works as well (file:// URLs laid out like GitHub's)."""
    lock = _lock_of(tiny)
    mirror = tmp_path / "mirror"
    (mirror / "test/jsm.go/archive").mkdir(parents=True)
    (mirror / f"test/jsm.go/archive/{COMMIT}.tar.gz").write_bytes(archive(tiny.schemas, COMMIT))
    (mirror / f"test/nats-server/{ERRORS_COMMIT}/server").mkdir(parents=True)
    (mirror / f"test/nats-server/{ERRORS_COMMIT}/server/errors.json").write_bytes(tiny.errors.read_bytes())
    cache = tmp_path / "cache"
    missing = sources.obtain(
        lock,
        places=sources.Places(None, cache),
        archive_url=sources.ARCHIVE_URL.replace(GITHUB, mirror.as_uri()),
        raw_url=sources.RAW_URL.replace(RAW, mirror.as_uri()),
        log=lambda line: None,
    )
    assert missing == []
    assert hashes(cache / "jsm.go" / "tinyref") == lock.schemas.files


def _layout(root: Path, inputs: support.Inputs) -> Path:
    """A folder laid out as $JETSTREAM_SCHEMAS wants it."""
    support.copy_schema_set(inputs.schemas, root / "jsm.go" / "tinyref")
    (root / "nats-server" / "errref").mkdir(parents=True)
    (root / "nats-server" / "errref" / "errors.json").write_bytes(inputs.errors.read_bytes())
    return root


def test_env_folder_is_used_in_place(tiny: support.Inputs, tmp_path: Path) -> None:
    lock = _lock_of(tiny)
    env = _layout(tmp_path / "env", tiny)
    cache = tmp_path / "cache"
    places = sources.Places(env, cache)
    said: list[str] = []
    assert sources.obtain(lock, places=places, offline=True, log=said.append) == []
    assert (
        said[0]
        == f"jsm.go tinyref: {len(lock.schemas.files)} files match the lock ({env / 'jsm.go/tinyref'})"
    )
    assert not cache.exists()
    assert sources.find_set("tinyref", places) == env / "jsm.go" / "tinyref"

    # Hashes are checked whichever way the files come.
    edited = env / "jsm.go" / "tinyref" / API_DIR / "widget_config.json"
    edited.write_text(edited.read_text() + " ")
    (env / "nats-server" / "errref" / "errors.json").write_text("[]")
    with pytest.raises(InputError) as info:
        sources.obtain(lock, places=places, offline=True, log=said.append)
    messages = [str(p) for p in info.value.problems]
    assert messages[0].startswith(f"{API_DIR / 'widget_config.json'}#: sha256 ")
    assert "is not jsm.go tinyref as locked (commit aaaa" in messages[1]
    assert (
        messages[2]
        == f"{env / 'nats-server/errref/errors.json'}#: sha256 differs from the lock (nats-server errref, commit {ERRORS_COMMIT})"
    )


def test_offline_reports_what_is_missing(tiny: support.Inputs, tmp_path: Path) -> None:
    places = sources.Places(tmp_path / "env", tmp_path / "cache")
    lock = _lock_of(tiny)
    assert sources.obtain(lock, places=places, offline=True, log=print) == [
        "jsm.go tinyref",
        "nats-server errref",
    ]
    assert sources.missing_locked(lock, places) == ["jsm.go tinyref", "nats-server errref"]
    with pytest.raises(sources.SchemasError) as info:
        sources.require_set("tinyref", lock, places)
    assert str(info.value) == (
        f"jsm.go tinyref schemas not found (looked in {tmp_path / 'env/jsm.go/tinyref'}, "
        f"{tmp_path / 'cache/jsm.go/tinyref'}): run `make schemas` (fetches them from GitHub into "
        f"{tmp_path / 'cache'}), or set JETSTREAM_SCHEMAS to a folder holding jsm.go/tinyref/ and "
        "nats-server/errref/errors.json"
    )
    with pytest.raises(sources.SchemasError, match=r"looked in .*; JETSTREAM_SCHEMAS is not set\)"):
        sources.require_errors(lock, sources.Places(None, tmp_path / "cache"))
    with pytest.raises(sources.SchemasError, match=r"v9 is not in schemas/lock\.toml either"):
        sources.require_set("v9", lock, places)


def test_seed_copies_into_the_cache(tiny: support.Inputs, tmp_path: Path) -> None:
    lock = _lock_of(tiny)
    seed = _layout(tmp_path / "seed", tiny)
    cache = tmp_path / "cache"
    assert sources.obtain(lock, places=sources.Places(None, cache), seed=seed, log=print) == []
    assert hashes(cache / "jsm.go" / "tinyref") == lock.schemas.files
    assert sha256(cache / "nats-server" / "errref" / "errors.json") == lock.errors.sha256


@support.needs_locked
def test_the_real_lock_over_github_shaped_urls(server: Server, tmp_path: Path) -> None:
    """The locked set and error table, served where GitHub has them at the locked commits."""
    lock = Lock(
        support.LOCK.schemas,
        support.LOCK.errors,
        schemas_repo=support.LOCK.schemas_repo,
        errors_repo=support.LOCK.errors_repo,
        errors_path=support.LOCK.errors_path,
    )
    server.serve(lock, support.LOCKED, support.ERRORS_JSON)
    cache = tmp_path / "cache"
    assert _obtain(server, lock, sources.Places(None, cache))[0] == []
    assert server.requests == [
        f"/nats-io/jsm.go/archive/{lock.schemas.commit}.tar.gz",
        f"/nats-io/nats-server/{lock.errors.commit}/server/errors.json",
    ]
    assert hashes(cache / "jsm.go" / lock.schemas.ref) == lock.schemas.files


# --- the commands -----------------------------------------------------------------------------------


def _cli(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """The CLI with no schemas anywhere: an empty $JETSTREAM_SCHEMAS and cache."""
    env = {
        **os.environ,
        "JETSTREAM_SCHEMAS": str(tmp_path / "env"),
        "JETSTREAM_SCHEMAS_CACHE": str(tmp_path / "cache"),
    }
    return subprocess.run(
        [support.PYTHON, "-m", "codegen", *args],
        cwd=support.ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )


def test_make_test_skips_the_codegen_checks_in_one_line(tmp_path: Path) -> None:
    result = _cli("check", "--skip-if-absent", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lock = support.LOCK
    assert result.stdout == (
        "codegen checks skipped (check-generated and the tests/codegen that read upstream schemas): "
        f"jsm.go {lock.schemas.ref} and nats-server {lock.errors.ref} not at hand; to enable them, run "
        f"`make schemas` (fetches them from GitHub into {tmp_path / 'cache'}), or set JETSTREAM_SCHEMAS to a "
        f"folder holding jsm.go/{lock.schemas.ref}/ and nats-server/{lock.errors.ref}/errors.json\n"
    )


def test_generate_without_schemas_says_how_to_get_them(tmp_path: Path) -> None:
    result = _cli("generate", "--output", str(tmp_path / "out"), tmp_path=tmp_path)
    assert result.returncode == 2
    ref = support.LOCK.schemas.ref
    assert result.stderr.startswith(f"error: jsm.go {ref} schemas not found (looked in {tmp_path / 'env'}")
    assert "run `make schemas`" in result.stderr and "set JETSTREAM_SCHEMAS to a folder" in result.stderr
    assert "shared" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_schemas_offline_exits_3(tmp_path: Path) -> None:
    result = _cli("schemas", "--offline", tmp_path=tmp_path)
    assert result.returncode == 3
    assert result.stdout.startswith(f"not at hand: jsm.go {support.LOCK.schemas.ref}, ")


def test_diff_needs_both_sides(tmp_path: Path) -> None:
    result = _cli("diff", "v0.4.1", tmp_path=tmp_path)
    assert result.returncode == 2
    assert "give OLD and NEW" in result.stderr


@support.needs("v0.4.1", "caea3c5")
def test_diff_takes_refs(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["diff", "v0.4.1", "caea3c5"]) == 0
    out, err = capsys.readouterr()
    assert out == diff_sets(support.V041, support.CAEA3C5) + "\n"
    assert err == ""

    unknown = support.copy_schema_set(support.CAEA3C5, tmp_path / "unlocked")
    assert main(["diff", str(unknown), "caea3c5"]) == 0
    assert (
        capsys.readouterr().err
        == "warning: jsm.go unlocked is not in schemas/lock.toml: its files are not verified\n"
    )

"""schemas/lock.toml pins the upstream inputs: any other schema set or error table is refused, and
`python -m codegen lock` moves the pin."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import codegen_support as support
import pytest

from codegen.load import API_DIR, EVENT_DIRS
from codegen.lock import LOCK_FILE, check_commit, hashes, read_lock, verify_lock, verify_set, write_lock
from codegen.problems import InputError

STREAM_INFO = str(API_DIR / "stream_info_response.json")
ADVISORY_DIR = next(iter(EVENT_DIRS))
LOCK = support.LOCK
OTHER = LOCK.previous[-1].ref  # any ref but the locked one


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [support.PYTHON, "-m", "codegen", *args],
        cwd=support.ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=None if env is None else {**os.environ, **env},
    )


@pytest.fixture
def one_byte_off(tmp_path: Path) -> Path:
    """The locked set with one byte of one file changed."""
    copy = support.copy_schema_set(support.LOCKED, tmp_path / LOCK.schemas.ref)
    path = copy / STREAM_INFO
    data = bytearray(path.read_bytes())
    i = data.index(b"STREAM.INFO")
    data[i] = ord("s")
    path.write_bytes(bytes(data))
    return copy


# --- the lock itself --------------------------------------------------------------------------------


def test_written_lock_is_the_committed_one(tmp_path: Path) -> None:
    path = tmp_path / "lock.toml"
    write_lock(read_lock(), path)
    assert path.read_bytes() == LOCK_FILE.read_bytes()


def test_lock_names_full_commits_and_the_sets_tests_use() -> None:
    assert (LOCK.schemas_repo, LOCK.errors_repo, LOCK.errors_path) == (
        "nats-io/jsm.go",
        "nats-io/nats-server",
        "server/errors.json",
    )
    refs = [pin.ref for pin in LOCK.pins]
    assert len(refs) == len(set(refs))
    for pin in LOCK.pins:
        assert check_commit(pin.ref, pin.commit) is None
        assert pin.files and all(name.startswith("schema_source/") for name in pin.files)
        assert any(name.startswith(API_DIR.as_posix() + "/") for name in pin.files)
        assert any(name.startswith(ADVISORY_DIR.as_posix() + "/") for name in pin.files)
    assert check_commit(LOCK.errors.ref, LOCK.errors.commit) is None
    # Tests about history read these: they stay pinned (so fetched by `make schemas`) after any bump.
    assert set(support.HISTORICAL) <= set(refs)


def test_check_commit() -> None:
    assert check_commit("caea3c5", "caea3c5" + "0" * 33) is None
    assert check_commit("v1.2.3", "a" * 40) is None
    assert "does not start with it" in (check_commit("caea3c5", "b" * 40) or "")
    assert "not a full 40-hex-digit SHA" in (check_commit("v1.2.3", "caea3c5") or "")
    assert "not a full 40-hex-digit SHA" in (check_commit("v1.2.3", "A" * 40) or "")


# --- the files against it ---------------------------------------------------------------------------


@support.needs_locked
def test_locked_set_passes() -> None:
    verify_lock(support.LOCKED, support.ERRORS_JSON)
    assert hashes(support.LOCKED) == LOCK.schemas.files


@pytest.mark.parametrize("ref", [pin.ref for pin in LOCK.previous])
def test_previous_sets_pass(ref: str) -> None:
    if not support.jsm(ref).is_dir():
        pytest.skip(support.SKIP_REASON)
    pin = LOCK.pin(ref)
    assert pin is not None
    verify_set(support.jsm(ref), pin)


@support.needs_locked
def test_one_byte_differs(one_byte_off: Path) -> None:
    with pytest.raises(InputError) as info:
        verify_lock(one_byte_off, support.ERRORS_JSON)
    files = [p.file for p in info.value.problems]
    assert files == [STREAM_INFO, str(LOCK_FILE)]
    assert "differs from the lock" in info.value.problems[0].message
    assert f"is not jsm.go {LOCK.schemas.ref} as locked (commit {LOCK.schemas.commit})" in (
        info.value.problems[1].message
    )
    assert "use unmodified upstream files (`make schemas` fetches them)" in info.value.problems[1].message


@support.needs_locked
def test_missing_and_extra_files(tmp_path: Path) -> None:
    copy = support.copy_schema_set(support.LOCKED, tmp_path / LOCK.schemas.ref)
    (copy / API_DIR / "pub_ack_response.json").unlink()
    (copy / API_DIR / "stream_extra_response.json").write_text("{}")
    with pytest.raises(InputError) as info:
        verify_lock(copy, support.ERRORS_JSON)
    problems = {p.file: p.message for p in info.value.problems}
    assert problems[str(API_DIR / "pub_ack_response.json")] == "locked file is missing from the schema set"
    assert problems[str(API_DIR / "stream_extra_response.json")] == "file is not in the lock"
    assert len(problems) == 3  # and the hint naming the lock


@support.needs_locked
def test_other_error_table(tmp_path: Path) -> None:
    errors = tmp_path / LOCK.errors.ref / "errors.json"
    errors.parent.mkdir()
    errors.write_bytes(support.ERRORS_JSON.read_bytes() + b"\n")
    with pytest.raises(InputError) as info:
        verify_lock(support.LOCKED, errors)
    assert info.value.problems[0].file == str(errors)
    assert f"nats-server {LOCK.errors.ref}, commit {LOCK.errors.commit}" in info.value.problems[0].message


@support.needs(OTHER, errors=True)
def test_other_ref_is_refused() -> None:
    with pytest.raises(InputError) as info:
        verify_lock(support.jsm(OTHER), support.ERRORS_JSON)
    flagged = {p.file for p in info.value.problems}
    assert str(API_DIR / "definitions.json") in flagged
    assert info.value.problems[-1].message == (
        f"locked ref {LOCK.schemas.ref}; to adopt {OTHER}, run `python -m codegen lock --ref {OTHER} "
        "--commit <full SHA>`"
    )


@support.needs_locked
def test_generate_refuses_without_writing(one_byte_off: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = _cli("generate", "--schemas", str(one_byte_off), "--output", str(out))
    assert result.returncode == 2
    assert STREAM_INFO in result.stderr
    assert result.stderr.startswith("error: ")
    assert not out.exists()


@support.needs(OTHER, errors=True)
def test_check_refuses_another_ref(tmp_path: Path) -> None:
    result = _cli("check", "--schemas", str(support.jsm(OTHER)), "--output", str(tmp_path))
    assert result.returncode == 2
    assert f"locked ref {LOCK.schemas.ref}; to adopt {OTHER}" in result.stderr


# --- python -m codegen lock ------------------------------------------------------------------------


@support.needs(LOCK.schemas.ref, OTHER)
def test_lock_moves_the_pin_and_back(tmp_path: Path) -> None:
    path = tmp_path / "lock.toml"
    shutil.copyfile(LOCK_FILE, path)
    result = _cli("lock", "--lock", str(path), "--ref", OTHER)  # a known ref: its commit comes from the lock
    assert result.returncode == 0, result.stderr
    moved = read_lock(path)
    assert moved.schemas == LOCK.pin(OTHER)
    assert moved.errors == LOCK.errors
    assert sorted(p.ref for p in moved.previous) == sorted(p.ref for p in LOCK.pins if p.ref != OTHER)
    assert moved.pin(LOCK.schemas.ref) == LOCK.schemas
    assert f"next: `make diff OLD={LOCK.schemas.ref} NEW={OTHER}`" in result.stdout

    result = _cli("lock", "--lock", str(path), "--ref", LOCK.schemas.ref)
    assert result.returncode == 0, result.stderr
    assert path.read_bytes() == LOCK_FILE.read_bytes()


@support.needs_locked
def test_lock_a_new_ref_from_a_folder(tmp_path: Path) -> None:
    """A new ref given as a local folder: hashed, copied into the cache under its ref, locked."""
    path = tmp_path / "lock.toml"
    shutil.copyfile(LOCK_FILE, path)
    folder = support.copy_schema_set(support.LOCKED, tmp_path / "somewhere")
    errors = tmp_path / "errors.json"
    errors.write_bytes(support.ERRORS_JSON.read_bytes() + b"\n")
    cache = tmp_path / "cache"
    commit, errors_commit = "1" * 40, "abcdef0" + "3" * 33
    result = _cli(
        "lock", "--lock", str(path), "--ref", "v9.9.9", "--commit", commit, "--schemas", str(folder),
        "--errors-ref", "abcdef0", "--errors-commit", errors_commit, "--errors", str(errors),
        env={"JETSTREAM_SCHEMAS": str(tmp_path / "nothing"), "JETSTREAM_SCHEMAS_CACHE": str(cache)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    new = read_lock(path)
    assert (new.schemas.ref, new.schemas.commit, new.schemas.files) == ("v9.9.9", commit, LOCK.schemas.files)
    assert new.pin(LOCK.schemas.ref) == LOCK.schemas
    assert (new.errors.ref, new.errors.commit) == ("abcdef0", errors_commit)
    assert new.errors.sha256 != LOCK.errors.sha256
    assert hashes(cache / "jsm.go" / "v9.9.9") == LOCK.schemas.files
    assert (cache / "nats-server" / "abcdef0" / "errors.json").read_bytes() == errors.read_bytes()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "nothing to lock"),
        (("--ref", "v9.9.9"), "--commit <full SHA> is needed to lock v9.9.9"),
        (("--ref", "v9.9.9", "--commit", "abc"), "commit 'abc' of v9.9.9 is not a full 40-hex-digit SHA"),
        (("--errors-ref", "abcdef0"), "--errors-commit <full SHA> is needed"),
    ],
)
def test_lock_refuses_incomplete_arguments(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    path = tmp_path / "lock.toml"
    shutil.copyfile(LOCK_FILE, path)
    result = _cli("lock", "--lock", str(path), *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert path.read_bytes() == LOCK_FILE.read_bytes()

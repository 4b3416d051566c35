"""schemas/lock.toml pins the upstream inputs: any other schema set or error table is refused."""

from __future__ import annotations

import subprocess
from pathlib import Path

import codegen_support as support
import pytest

from codegen.load import API_DIR, LOCK_FILE, current_lock, read_lock, verify_lock, write_lock
from codegen.problems import InputError

STREAM_INFO = str(API_DIR / "stream_info_response.json")


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [support.PYTHON, "-m", "codegen", *args],
        cwd=support.ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def one_byte_off(tmp_path: Path) -> Path:
    """caea3c5 with one byte of one file changed."""
    copy = support.copy_schema_set(support.CAEA3C5, tmp_path / "caea3c5")
    path = copy / STREAM_INFO
    data = bytearray(path.read_bytes())
    i = data.index(b"STREAM.INFO")
    data[i] = ord("s")
    path.write_bytes(bytes(data))
    return copy


def test_locked_set_passes() -> None:
    verify_lock(support.CAEA3C5, support.ERRORS_JSON)
    lock = read_lock()
    assert (lock.schemas_ref, lock.errors_ref) == ("caea3c5", "1787eee")
    assert lock.files == current_lock(support.CAEA3C5, support.ERRORS_JSON).files


def test_written_lock_is_the_committed_one(tmp_path: Path) -> None:
    path = tmp_path / "lock.toml"
    write_lock(current_lock(support.CAEA3C5, support.ERRORS_JSON), path)
    assert path.read_bytes() == LOCK_FILE.read_bytes()


def test_one_byte_differs(one_byte_off: Path) -> None:
    with pytest.raises(InputError) as info:
        verify_lock(one_byte_off, support.ERRORS_JSON)
    files = [p.file for p in info.value.problems]
    assert files == [STREAM_INFO, str(LOCK_FILE)]
    assert "differs from the lock" in info.value.problems[0].message
    assert "run `python -m codegen lock --schemas ...`" in info.value.problems[1].message


def test_missing_and_extra_files(tmp_path: Path) -> None:
    copy = support.copy_schema_set(support.CAEA3C5, tmp_path / "caea3c5")
    (copy / API_DIR / "pub_ack_response.json").unlink()
    (copy / API_DIR / "stream_extra_response.json").write_text("{}")
    with pytest.raises(InputError) as info:
        verify_lock(copy, support.ERRORS_JSON)
    problems = {p.file: p.message for p in info.value.problems}
    assert problems[str(API_DIR / "pub_ack_response.json")] == "locked file is missing from the schema set"
    assert problems[str(API_DIR / "stream_extra_response.json")] == "file is not in the lock"
    assert len(problems) == 3  # and the hint naming the lock


def test_other_error_table(tmp_path: Path) -> None:
    errors = tmp_path / "1787eee" / "errors.json"
    errors.parent.mkdir()
    errors.write_bytes(support.ERRORS_JSON.read_bytes() + b"\n")
    with pytest.raises(InputError) as info:
        verify_lock(support.CAEA3C5, errors)
    assert info.value.problems[0].file == str(errors)


def test_other_tag_is_refused() -> None:
    with pytest.raises(InputError) as info:
        verify_lock(support.V041, support.ERRORS_JSON)
    flagged = {p.file for p in info.value.problems}
    assert str(API_DIR / "definitions.json") in flagged
    assert "to adopt v0.4.1" in info.value.problems[-1].message


def test_generate_refuses_without_writing(one_byte_off: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = _cli("generate", "--schemas", str(one_byte_off), "--output", str(out))
    assert result.returncode == 2
    assert STREAM_INFO in result.stderr
    assert result.stderr.startswith("error: ")
    assert not out.exists()


def test_check_refuses_v041(tmp_path: Path) -> None:
    result = _cli("check", "--schemas", str(support.V041), "--output", str(tmp_path))
    assert result.returncode == 2
    assert "locked ref caea3c5; to adopt v0.4.1" in result.stderr

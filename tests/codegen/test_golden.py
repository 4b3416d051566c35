"""Golden check: a fresh generation equals the committed src/jetstream/_generated, byte for byte."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import codegen_support as support

pytestmark = support.needs_locked


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [support.PYTHON, "-m", "codegen", *args],
        cwd=support.ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.py"))}


def test_fresh_generation_equals_committed_tree(tmp_path: Path) -> None:
    out = tmp_path / "generated"
    result = _cli("generate", "--output", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"wrote 6 files to {out}"
    assert result.stderr == ""  # the locked set needs no B6 repair, and every patch applies
    committed = _tree(support.GENERATED)
    assert set(committed) == {
        "__init__.py",
        "advisories.py",
        "api.py",
        "errors.py",
        "models.py",
        "toplevel.py",
    }
    fresh = _tree(out)
    assert fresh.keys() == committed.keys()
    for name in committed:
        assert fresh[name] == committed[name], f"{name} is stale: run `python -m codegen generate`"


def test_check_passes() -> None:
    result = _cli("check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "generated code is current"


def test_check_finds_an_edit_and_a_stray_file(tmp_path: Path) -> None:
    tree = tmp_path / "generated"
    shutil.copytree(support.GENERATED, tree, ignore=shutil.ignore_patterns("__pycache__"))
    models = tree / "models.py"
    models.write_text(models.read_text().replace("class StreamInfo(", "class StreamInfoX(", 1))
    (tree / "handwritten.py").write_text("x = 1\n")

    result = _cli("check", "--output", str(tree))
    assert result.returncode == 1
    assert f"{tree / 'handwritten.py'}: not produced by the generator" in result.stdout
    assert "-class StreamInfoX(" in result.stdout
    assert "+class StreamInfo(" in result.stdout
    assert "generated code is stale" in result.stderr


def test_generate_replaces_stale_files(tmp_path: Path) -> None:
    out = tmp_path / "generated"
    out.mkdir()
    (out / "old_module.py").write_text("x = 1\n")
    (out / "notes.txt").write_text("kept: not a Python module\n")
    assert _cli("generate", "--output", str(out)).returncode == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "__init__.py",
        "advisories.py",
        "api.py",
        "errors.py",
        "models.py",
        "notes.txt",
        "toplevel.py",
    ]

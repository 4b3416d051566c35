"""The package layout of docs/architecture.md holds: rooms by feature, imports pointing one way."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import jetstream

ROOT = Path(__file__).resolve().parents[3]
PACKAGE = Path(jetstream.__file__).parent

# What may sit at the top of the package. A new entry is a design decision: say in
# docs/architecture.md which layer it belongs to (and in pyproject's import contract).
TOP_LEVEL = {
    # public
    "__init__.py",
    "errors.py",
    "models.py",
    "advisories.py",
    "testing",
    "py.typed",
    # the composition root and the stream handle
    "_client.py",
    "_stream.py",
    # leaves: import no feature
    "_exceptions.py",
    "_time.py",
    "_validate.py",
    "_numbers.py",
    "_public.py",
    "_reprs.py",
    "_typing.py",
    # rooms
    "_transport",
    "_generated",
    "_core",
    "_publish",
    "_consume",
    "_kv",
    "_objectstore",
    "_advisories",
    "_backup",
}


def test_the_top_of_the_package_holds_only_the_planned_modules() -> None:
    found = {p.name for p in PACKAGE.iterdir() if p.name != "__pycache__"}
    assert found - TOP_LEVEL == set(), "new top-level modules: put them in their feature's package"
    assert {"_client.py", "_transport", "_core", "_consume", "_kv"} <= found


def test_the_import_contracts_hold() -> None:
    # The contracts live in pyproject.toml ([tool.importlinter]); imports under TYPE_CHECKING count.
    lint_imports = Path(sys.executable).parent / "lint-imports"
    if sys.version_info < (3, 11) and not lint_imports.exists():
        pytest.skip("import-linter needs Python >= 3.11 (the full suite runs this check)")
    proc = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "broken" not in proc.stdout.lower().replace("0 broken", ""), proc.stdout

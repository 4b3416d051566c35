"""The tests mirror the package (docs/architecture.md, "Tests"): unit tests in a folder per feature,
integration tests named after their feature, and no two test files with one basename (pytest's
default import mode imports them by it)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parents[2]
UNIT_FOLDERS = {
    "advisories",
    "api",
    "consume",
    "core",
    "kv",
    "objectstore",
    "project",
    "publish",
    "stream",
    "transport",
    "values",
}
FEATURES = {"advisories", "api", "consume", "core", "kv", "objectstore", "publish", "stream", "transport"}


def test_unit_tests_sit_in_a_folder_per_feature() -> None:
    assert {p.parent.name for p in (TESTS / "unit").rglob("test_*.py")} <= UNIT_FOLDERS
    assert [p.name for p in (TESTS / "unit").glob("test_*.py")] == []


def test_integration_tests_are_named_after_their_feature() -> None:
    files = sorted(p.name for p in (TESTS / "integration").glob("test_*.py"))
    assert files
    assert [name for name in files if name.split("_")[1] not in FEATURES] == []


def test_no_prefixes_that_say_where_a_test_runs() -> None:
    names = [p.name for p in TESTS.rglob("test_*.py")]
    assert [n for n in names if n.startswith(("test_unit_", "test_single_")) or n.endswith("_unit.py")] == []


def test_test_file_names_are_unique() -> None:
    counts = Counter(p.name for p in TESTS.rglob("*.py") if p.name not in {"__init__.py", "conftest.py"})
    assert [name for name, n in counts.items() if n > 1] == []

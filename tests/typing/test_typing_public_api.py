"""mypy --strict over user code: the public API is precisely typed, leaks no Any, and rejects misuse.

The user code lives in `*.py.txt` data files (so the project-wide mypy run does not report their
`reveal_type` notes); they are copied to temporary `.py` files and checked in one mypy run, with the
project's configuration plus `--disallow-any-expr` (no expression in user code may be Any).
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
USER_CODE = "user_code"
WRONG_USAGE = "wrong_usage"

_LINE = re.compile(
    r"^(?P<path>.+?):(?P<line>\d+): (?P<severity>error|note): (?P<message>.*?)(?:  \[(?P<code>[a-z0-9-]+)\])?$"
)
_REVEALED = re.compile(r'^Revealed type is "(?P<type>.*)"$')
_EXPECT_REVEALED = re.compile(r"#\s*revealed:\s*(?P<type>.+?)\s*$")
_EXPECT_ERROR = re.compile(r"#\s*E:\s*(?P<code>[a-z0-9-]+)\s*$")


@dataclass
class Report:
    """What mypy said about one file: errors as (line, code, message), revealed types by line."""

    errors: list[tuple[int, str, str]] = field(default_factory=list)
    revealed: dict[int, list[str]] = field(default_factory=dict)


@dataclass
class MypyRun:
    output: str
    reports: dict[str, Report]


@pytest.fixture(scope="module")
def mypy_run(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> MypyRun:
    work = tmp_path_factory.mktemp("typing")
    paths = []
    for stem in (USER_CODE, WRONG_USAGE):
        path = work / f"{stem}.py"
        path.write_text((HERE / f"{stem}.py.txt").read_text())
        paths.append(str(path))
    # A cache of its own, kept between runs: the project's .mypy_cache belongs to `make typecheck`.
    store = getattr(pytestconfig, "cache", None)  # absent under -p no:cacheprovider
    cache = store.mkdir("mypy-typing") if store is not None else work / "mypy-cache"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--strict",
            "--disallow-any-expr",
            "--show-error-codes",
            "--hide-error-context",
            "--no-pretty",
            "--no-error-summary",
            "--cache-dir",
            str(cache),
            *paths,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=100,
    )
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    reports = {USER_CODE: Report(), WRONG_USAGE: Report()}
    for line in proc.stdout.splitlines():
        m = _LINE.match(line)
        if m is None:
            continue
        stem = Path(m["path"]).stem
        report = reports.get(stem)
        assert report is not None, f"mypy reported on another file:\n{proc.stdout}"
        lineno = int(m["line"])
        if m["severity"] == "error":
            report.errors.append((lineno, m["code"] or "", m["message"]))
        elif revealed := _REVEALED.match(m["message"]):
            report.revealed.setdefault(lineno, []).append(revealed["type"])
    return MypyRun(proc.stdout + proc.stderr, reports)


def _source_lines(stem: str) -> list[str]:
    return (HERE / f"{stem}.py.txt").read_text().splitlines()


def test_user_code_type_checks_cleanly(mypy_run: MypyRun) -> None:
    assert mypy_run.reports[USER_CODE].errors == [], mypy_run.output


def test_revealed_types_are_the_expected_ones(mypy_run: MypyRun) -> None:
    expected: dict[int, list[str]] = {}
    for lineno, text in enumerate(_source_lines(USER_CODE), start=1):
        if "reveal_type(" in text:
            m = _EXPECT_REVEALED.search(text)
            assert m is not None, f"line {lineno} has reveal_type but no '# revealed:' comment"
            expected[lineno] = [m["type"]]
    assert len(expected) >= 40
    assert mypy_run.reports[USER_CODE].revealed == expected, mypy_run.output


def test_no_revealed_type_is_or_contains_any(mypy_run: MypyRun) -> None:
    revealed = [t for types in mypy_run.reports[USER_CODE].revealed.values() for t in types]
    assert revealed
    leaking = [t for t in revealed if re.search(r"\bAny\b", t)]
    assert leaking == []


def test_wrong_usage_is_rejected_exactly_where_marked(mypy_run: MypyRun) -> None:
    expected: set[tuple[int, str]] = set()
    for lineno, text in enumerate(_source_lines(WRONG_USAGE), start=1):
        m = _EXPECT_ERROR.search(text)
        if m is not None:
            expected.add((lineno, m["code"]))
    assert len(expected) >= 20
    reported = {(lineno, code) for lineno, code, _ in mypy_run.reports[WRONG_USAGE].errors}
    assert reported == expected, mypy_run.output

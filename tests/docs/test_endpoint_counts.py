"""Where the README counts the API's endpoints, the count is the manifest's (schemas/endpoints.toml),
so a schema update that adds endpoints cannot leave a stale number behind."""

from __future__ import annotations

import re
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
COUNTS = re.compile(r"all (\d+) endpoint subjects|server subject form, (\d+) in all")


def test_the_readme_counts_the_endpoints_of_the_manifest() -> None:
    endpoints = tomllib.loads((ROOT / "schemas" / "endpoints.toml").read_text())["endpoint"]
    text = " ".join((ROOT / "README.md").read_text().split())
    counts = [int(a or b) for a, b in COUNTS.findall(text)]
    assert len(counts) == 2, "the README's endpoint counts moved: update COUNTS"
    assert counts == [len(endpoints)] * len(counts)

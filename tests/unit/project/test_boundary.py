"""The boundary to NATS is one package: only `jetstream._transport` (and `jetstream.testing`, which
runs servers for tests) may import nats-py; every feature talks to the `Connection` protocol."""

from __future__ import annotations

import ast
from pathlib import Path

import jetstream

PACKAGE = Path(jetstream.__file__).parent
ALLOWED = ("_transport", "testing")


def _nats_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name == "nats" or a.name.startswith("nats.")]
        elif (
            isinstance(node, ast.ImportFrom)
            and node.level == 0
            and node.module
            and (node.module == "nats" or node.module.startswith("nats."))
        ):
            found.append(node.module)
    return found


def test_only_the_transport_package_imports_nats_py() -> None:
    offenders: dict[str, list[str]] = {}
    importers: list[str] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        names = _nats_imports(path)
        if not names:
            continue
        if rel.parts[0] in ALLOWED:
            importers.append(str(rel))
        else:
            offenders[str(rel)] = names
    assert offenders == {}, f"nats-py imported outside the seam: {offenders}"
    assert any(p.startswith("_transport") for p in importers)


def test_nats_py_private_attributes_are_used_only_in_the_seam() -> None:
    """Private nats-py internals (``nc._pending``, ``nc._send_publish`` ...) are named only inside
    `_transport`, where each is checked once and has a behaviour test."""
    private = (
        "_send_publish",
        "_process_headers",
        "_flush_queue",
        "_pending_data_size",
        "_error_cb",
        "_disconnected_cb",
        "_reconnected_cb",
        "_closed_cb",
        "_lame_duck_mode_cb",
        "_max_pending_size",
    )
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] in ALLOWED:
            continue
        text = path.read_text(encoding="utf-8")
        offenders += [f"{rel}: {name}" for name in private if name in text]
    assert offenders == []

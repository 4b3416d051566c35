"""The server's error table (nats-server server/errors.json) -> ErrorCode records."""

from __future__ import annotations

import json
import re
from pathlib import Path

from .model import ErrorCode
from .problems import Problems


def class_name(constant: str) -> str:
    """`JSStreamNotFoundErr` -> `StreamNotFoundError`; the `F` of formatted variants is dropped too."""
    name = constant.removeprefix("JS")
    name = re.sub(r"ErrF?$", "", name)
    return name + "Error"


def member_name(constant: str) -> str:
    base = class_name(constant).removesuffix("Error")
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", base).upper()


def read(path: Path, problems: Problems) -> list[ErrorCode]:
    label = str(path)
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        problems.add(label, "", f"cannot read the error table: {exc}")
        return []
    out: list[ErrorCode] = []
    seen: dict[str, str] = {}
    for i, row in enumerate(rows):
        constant = row.get("constant", "")
        if not constant.startswith("JS"):
            problems.add(label, f"/{i}", f"unexpected constant {constant!r}")
            continue
        cls = class_name(constant)
        if cls in seen:
            problems.add(label, f"/{i}", f"{constant} and {seen[cls]} map to the same class {cls}")
            continue
        seen[cls] = constant
        out.append(
            ErrorCode(
                constant=constant,
                class_name=cls,
                member=member_name(constant),
                code=int(row["code"]),
                err_code=int(row["error_code"]),
                description=row.get("description", ""),
                deprecates=row.get("deprecates", ""),
            )
        )
    codes = [e.err_code for e in out]
    for dup in sorted({c for c in codes if codes.count(c) > 1}):
        problems.add(label, "", f"err_code {dup} appears twice")
    return sorted(out, key=lambda e: e.err_code)

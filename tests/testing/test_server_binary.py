"""Tests for locating the nats-server binary and picking ports (no server needed)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from jetstream.testing import find_nats_server, free_ports


def test_find_nats_server_default() -> None:
    path = Path(find_nats_server())
    assert path.name.startswith("nats-server")
    assert os.access(path, os.X_OK)


def test_find_nats_server_env_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NATS_SERVER_BIN", find_nats_server())
    assert find_nats_server() == os.environ["NATS_SERVER_BIN"]
    monkeypatch.setenv("NATS_SERVER_BIN", str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError):
        find_nats_server()


def test_free_ports_are_distinct() -> None:
    ports = free_ports(20)
    assert len(set(ports)) == 20
    assert all(0 < port < 65536 for port in ports)

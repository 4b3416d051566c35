"""The benchmarks still run: a tiny version of every workload, every client available here.

Not a timing test: it checks that each script runs, each client finishes its work (the scripts
verify message counts themselves) and the table names every workload.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"
sys.path.insert(0, str(BENCH))

from _harness import NATS_PY, RAW, SDK, ClientResult, Sample, Workload, WorkloadResult  # noqa: E402
from run import WORKLOADS  # noqa: E402

OFFICIAL_VENV = ROOT / ".venv-bench-official"
OFFICIAL_PYTHON = OFFICIAL_VENV / "bin" / "python"


def _official_venv_current() -> bool:
    """`make bench` made the venv and it holds what bench/requirements-official.txt asks for now
    (an older one lacks packages added since: its column would fail, not the SDK)."""
    stamp = OFFICIAL_VENV / ".installed"
    requirements = BENCH / "requirements-official.txt"
    return stamp.exists() and stamp.stat().st_mtime >= requirements.stat().st_mtime


@pytest.mark.slow
def test_every_workload_runs_in_smoke_mode() -> None:
    cmd = [sys.executable, str(BENCH / "run.py"), "--smoke"]
    if _official_venv_current():  # CI machines usually have none
        cmd += ["--official-python", str(OFFICIAL_PYTHON)]
    env = {**os.environ, "JETSTREAM_BENCH_OFFICIAL_PYTHON": ""}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=env, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    table = proc.stdout
    for wl in WORKLOADS:
        for phase in wl.phases:
            row = wl.name if phase == "main" else f"{wl.name} {phase}"
            assert f"| {row} |" in table, f"no row for {row!r}"
    assert "failed" not in table


def _result(unit: str, seconds: dict[str, float], n: int = 1000, size: int = 0) -> WorkloadResult:
    wl = Workload("w", "w.py", n=n, smoke_n=1, size=size, unit=unit, clients=(SDK, NATS_PY, RAW))
    results = {
        client: ClientResult(client, [Sample({"main": secs}, {"main": secs}, 30.0)])
        for client, secs in seconds.items()
    }
    return WorkloadResult(wl, n, size, results)


def test_throughput_ratio_is_how_many_times_faster() -> None:
    res = _result("ops", {SDK: 1.0, NATS_PY: 2.5})
    assert res.figure(SDK, "main") == 1000.0
    assert res.speedup(SDK, NATS_PY, "main") == 2.5
    assert res.speedup(SDK, RAW, "main") is None  # a client that did not run


def test_per_op_units_invert_the_ratio() -> None:
    res = _result("us", {SDK: 0.01, NATS_PY: 0.06})
    assert res.figure(SDK, "main") == pytest.approx(10.0)
    assert res.speedup(SDK, NATS_PY, "main") == pytest.approx(6.0)


def test_mib_per_second_counts_the_object_size() -> None:
    res = _result("MiB", {SDK: 0.5, NATS_PY: 2.0}, n=1, size=100 << 20)
    assert res.figure(SDK, "main") == pytest.approx(200.0)
    assert res.speedup(SDK, NATS_PY, "main") == pytest.approx(4.0)

"""Plumbing shared by the benchmark scripts: the per-run child and the interleaving orchestrator.

Every measured run is its own process (`python bench/<workload>.py --child CLIENT ...`) so that peak
RSS is the client's own and no client warms caches for another. The child imports only the standard
library before it calls the client function: the official `nats-jetstream` package cannot share a
venv with nats-py (both install a top-level `nats`), so its runs use another interpreter.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import statistics
import subprocess
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent

SDK = "jetstream-py"
NATS_PY = "nats-py"
OFFICIAL = "nats-jetstream"
RAW = "raw nats-py core"


@dataclass
class Ctx:
    """What a client function gets: where to connect, how much to do, and where to put its timings.

    A client does its setup (connect, create stream, ...) outside `timed()`; only the work inside
    counts. Runs of different clients may share a server, so names carry `tag`.
    """

    url: str
    n: int
    size: int
    tag: str
    phases: dict[str, float] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    count: int = 0

    @contextmanager
    def timed(self, phase: str = "main") -> Iterator[None]:
        started, cpu_started = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.phases[phase] = self.phases.get(phase, 0.0) + time.perf_counter() - started
            # The client's own CPU: steadier than wall time on a busy machine, and free of the server's.
            self.cpu[phase] = self.cpu.get(phase, 0.0) + time.process_time() - cpu_started

    def payload(self) -> bytes:
        return os.urandom(self.size)


Client = Callable[[Ctx], Coroutine[Any, Any, None]]


def child(clients: Mapping[str, Client], argv: Sequence[str] | None = None) -> None:
    """Entry point of one measured run; prints one JSON line on stdout."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", required=True, choices=sorted(clients))
    parser.add_argument("--url", default="")
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--size", type=int, default=0)
    parser.add_argument("--tag", default="run")
    args = parser.parse_args(argv)
    ctx = Ctx(url=args.url, n=args.n, size=args.size, tag=args.tag)
    asyncio.run(clients[args.child](ctx))
    if not ctx.phases:
        raise SystemExit(f"{args.child}: the client timed nothing")
    # ru_maxrss is KiB on Linux.
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lat = sorted(ctx.latencies)
    out: dict[str, Any] = {"phases": ctx.phases, "cpu": ctx.cpu, "rss_mib": rss_mib, "count": ctx.count}
    if lat:
        out["p50"] = lat[len(lat) // 2]
        out["p99"] = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
    print(json.dumps(out))


@dataclass(frozen=True)
class Workload:
    """One row group of the table.

    `unit` is how a phase's time turns into the figure shown: "ops" -> operations/s (n / seconds),
    "MiB" -> MiB/s (n * size / seconds), "us" -> µs per operation.
    """

    name: str
    script: str
    n: int
    smoke_n: int
    size: int = 0
    smoke_size: int | None = None
    unit: str = "ops"
    phases: tuple[str, ...] = ("main",)
    server: bool = True
    clients: tuple[str, ...] = (SDK, NATS_PY, OFFICIAL, RAW)
    setup: Callable[[str, int, int], Awaitable[None]] | None = None
    #: Run every client once, unmeasured, before the rounds (fills the bytecode cache for imports).
    warmup: bool = False
    #: At least this many rounds: short CPU-bound workloads need more to get a steady median.
    min_rounds: int = 1


@dataclass
class Sample:
    phases: dict[str, float]
    cpu: dict[str, float]
    rss_mib: float
    p50: float | None = None
    p99: float | None = None


@dataclass
class ClientResult:
    client: str
    samples: list[Sample] = field(default_factory=list)
    error: str | None = None

    def seconds(self, phase: str) -> float:
        return statistics.median(s.phases[phase] for s in self.samples)

    def cpu(self, phase: str) -> float:
        return statistics.median(s.cpu[phase] for s in self.samples)

    def rss(self) -> float:
        return statistics.median(s.rss_mib for s in self.samples)

    def latency(self) -> tuple[float, float] | None:
        with_lat = [s for s in self.samples if s.p50 is not None and s.p99 is not None]
        if not with_lat:
            return None
        return (
            statistics.median(s.p50 for s in with_lat if s.p50 is not None),
            statistics.median(s.p99 for s in with_lat if s.p99 is not None),
        )


@dataclass
class WorkloadResult:
    workload: Workload
    n: int
    size: int
    results: dict[str, ClientResult]

    def figure(self, client: str, phase: str) -> float | None:
        """The headline number (higher is better for ops and MiB, lower for µs)."""
        res = self.results.get(client)
        if res is None or res.error or not res.samples:
            return None
        secs = res.seconds(phase)
        unit = self.workload.unit
        if unit == "ops":
            return self.n / secs
        if unit == "MiB":
            return self.n * self.size / secs / (1 << 20)
        return secs / self.n * (1e6 if unit == "us" else 1e3)

    def speedup(self, client: str, base: str, phase: str) -> float | None:
        """How many times faster `client` is than `base` (> 1: faster)."""
        mine, theirs = self.figure(client, phase), self.figure(base, phase)
        if mine is None or theirs is None:
            return None
        return theirs / mine if self.workload.unit in ("us", "ms") else mine / theirs


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    # Bytecode is cached in one place for every interpreter, so no run pays for compiling sources
    # (an editable install has no .pyc of its own, and PYTHONDONTWRITEBYTECODE would keep it so).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(BENCH_DIR / ".pycache")
    return env


def _run_child(python: str, wl: Workload, client: str, url: str, n: int, size: int, tag: str) -> Sample:
    cmd = [python, str(BENCH_DIR / wl.script), "--child", client, "--url", url]
    cmd += ["--n", str(n), "--size", str(size), "--tag", tag]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False, env=_child_env())
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-6:]
        raise RuntimeError(f"{client} failed (rc {proc.returncode}): " + " | ".join(tail))
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    return Sample(data["phases"], data["cpu"], data["rss_mib"], data.get("p50"), data.get("p99"))


async def run_workload(
    wl: Workload, pythons: dict[str, str], rounds: int, smoke: bool, log: Callable[[str], None]
) -> WorkloadResult:
    """Runs every available client `rounds` times, interleaved (A B C A B C ...), on one fresh server."""
    n = wl.smoke_n if smoke else wl.n
    if not smoke:
        rounds = max(rounds, wl.min_rounds)
    size = wl.smoke_size if smoke and wl.smoke_size is not None else wl.size
    clients = [c for c in wl.clients if c in pythons]
    results = {c: ClientResult(c) for c in clients}

    async def rounds_on(url: str) -> None:
        if wl.warmup:
            for client in clients:
                with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                    await asyncio.to_thread(
                        _run_child, pythons[client], wl, client, url, n, size, f"warm_{client.split()[0]}"
                    )
        for r in range(rounds):
            # The order rotates: whoever runs first on a fresh server pays for its warm-up.
            for client in clients[r % len(clients) :] + clients[: r % len(clients)]:
                res = results[client]
                if res.error:
                    continue
                tag = f"{client.split()[0].replace('-', '_')}_{r}"
                try:
                    sample = await asyncio.to_thread(
                        _run_child, pythons[client], wl, client, url, n, size, tag
                    )
                except (RuntimeError, subprocess.TimeoutExpired) as exc:
                    res.error = str(exc)
                    log(f"  {wl.name} / {client}: {exc}")
                    continue
                res.samples.append(sample)
                shown = ", ".join(
                    f"{k} {v:.3f}s (cpu {sample.cpu[k]:.3f}s)" for k, v in sample.phases.items()
                )
                log(f"  {wl.name} / {client} round {r + 1}: {shown}, {sample.rss_mib:.0f} MiB")

    if not wl.server:
        await rounds_on("")
        return WorkloadResult(wl, n, size, results)

    from jetstream.testing import NatsServer

    # No accounts: every client connects the same way, without credentials.
    async with NatsServer(system_account=False) as server:
        if wl.setup is not None:
            await wl.setup(server.url, n, size)
        await rounds_on(server.url)
    return WorkloadResult(wl, n, size, results)

"""`make bench`: every workload, every client, interleaved, on fresh servers; a Markdown table of ratios.

    python bench/run.py                       # all workloads, 3 rounds, table on stdout
    python bench/run.py --write               # also bench/RESULTS.md, bench/results.json, bench/ratios.png
    python bench/run.py --only kv,decode --rounds 5
    python bench/run.py --smoke               # tiny sizes, 1 round: proves every script still runs
    python bench/run.py --official-python .venv-bench-official/bin/python   # adds nats-jetstream

Each figure is the median of the rounds (at least 7 for the short CPU-bound ones); each round runs every client once, in turn, in its own
process (peak RSS is that process's). "×" columns say how many times faster jetstream-py is (> 1:
faster); "of raw" is jetstream-py's figure as a share of the raw nats-py core client doing the same
work with no JetStream code at all, the ceiling of any client built on nats-py (for decode: plain
`json.loads`, the floor of anything that builds Python objects from JSON).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

from _common import fill_kv, prefill
from _harness import NATS_PY, OFFICIAL, RAW, SDK, Workload, WorkloadResult, run_workload

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent

WORKLOADS = [
    Workload(
        "decode 1 KB StreamInfo",
        "decode.py",
        n=20_000,
        smoke_n=200,
        unit="us",
        server=False,
        clients=(SDK, NATS_PY, OFFICIAL, RAW),
        min_rounds=7,
    ),
    Workload(
        "import",
        "import_time.py",
        n=1,
        smoke_n=1,
        unit="ms",
        server=False,
        clients=(SDK, NATS_PY, OFFICIAL),
        warmup=True,
        min_rounds=7,
    ),
    Workload("stream_info round trip", "api_round_trip.py", n=2_000, smoke_n=20),
    Workload("publish, awaited", "publish_awaited.py", n=10_000, smoke_n=20, size=128),
    Workload("publish, 4,000 in flight", "publish_window.py", n=200_000, smoke_n=200, size=128),
    Workload("fetch 500 + ack", "fetch_ack.py", n=200_000, smoke_n=1_000, size=128, setup=prefill),
    Workload("fetch 500, ack none", "fetch_no_ack.py", n=200_000, smoke_n=1_000, size=128, setup=prefill),
    Workload("messages() + ack", "messages_ack.py", n=200_000, smoke_n=1_000, size=128, setup=prefill),
    Workload(
        "KV",
        "kv.py",
        n=20_000,
        smoke_n=20,
        size=128,
        phases=("put", "get"),
        clients=(SDK, NATS_PY, OFFICIAL, RAW),
    ),
    Workload(
        "KV 5,000 keys:",
        "kv_read.py",
        n=5_000,
        smoke_n=20,
        size=128,
        phases=("keys()", "watch replay"),
        clients=(SDK, NATS_PY, OFFICIAL),
        setup=fill_kv,
        min_rounds=5,
    ),
    Workload(
        "KV 1,000 keys:",
        "kv_get_many.py",
        n=1_000,
        smoke_n=20,
        size=128,
        phases=("get_many", "1,000 gets"),
        clients=(SDK, NATS_PY, OFFICIAL),
        setup=fill_kv,
        min_rounds=5,
    ),
    Workload(
        "Object Store 100 MiB",
        "object_store.py",
        n=1,
        smoke_n=1,
        size=100 << 20,
        smoke_size=1 << 20,
        unit="MiB",
        phases=("put", "get"),
        clients=(SDK, NATS_PY, RAW),
    ),
]

#: What issue 5 asks of jetstream-py against nats-py (× faster); checked in the summary.
TARGETS = {
    ("decode 1 KB StreamInfo", "main"): 6.0,
    ("stream_info round trip", "main"): 1.2,
    ("publish, 4,000 in flight", "main"): 1.8,
    ("fetch 500 + ack", "main"): 2.0,
    ("fetch 500, ack none", "main"): 2.0,
    ("KV", "get"): 1.3,
    ("KV", "put"): 1.1,
    ("KV 1,000 keys:", "get_many"): 10.0,
    ("Object Store 100 MiB", "get"): 3.0,
}

UNITS = {"ops": "msg/s", "MiB": "MiB/s", "us": "µs", "ms": "ms"}


def label(wl: Workload, phase: str) -> str:
    return wl.name if phase == "main" else f"{wl.name} {phase}"


def fmt_figure(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "ops":
        return f"{value / 1000:.1f}k/s" if value >= 1000 else f"{value:.0f}/s"
    if unit == "MiB":
        return f"{value:.0f} MiB/s"
    if unit == "ms":
        return f"{value:.0f} ms"
    return f"{value:.1f} µs"


def fmt_ratio(value: float | None) -> str:
    return "—" if value is None else f"**{value:.2f}×**" if value >= 1 else f"{value:.2f}×"


def table(results: list[WorkloadResult], official: bool) -> str:
    others = [NATS_PY] + ([OFFICIAL] if official else []) + [RAW]
    head = ["workload", SDK, *[c if c != RAW else "raw (ceiling)" for c in others], "× nats-py"]
    if official:
        head.append("× nats-jetstream")
    head += ["of raw", "target"]
    lines = ["| " + " | ".join(head) + " |", "|---" + "|---:" * (len(head) - 1) + "|"]
    for res in results:
        wl = res.workload
        for phase in wl.phases:
            row = [label(wl, phase), fmt_figure(res.figure(SDK, phase), wl.unit)]
            row += [fmt_figure(res.figure(c, phase), wl.unit) for c in others]
            row.append(fmt_ratio(res.speedup(SDK, NATS_PY, phase)))
            if official:
                row.append(fmt_ratio(res.speedup(SDK, OFFICIAL, phase)))
            raw = res.speedup(SDK, RAW, phase)
            row.append("—" if raw is None else f"{raw:.0%}")
            target = TARGETS.get((wl.name, phase))
            row.append("—" if target is None else f"≥ {target:g}×")
            lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def details(results: list[WorkloadResult]) -> str:
    head = "| workload | client | client CPU per op | p50 | p99 | peak RSS |"
    lines = [head, "|---|---|---:|---:|---:|---:|"]
    for res in results:
        for client, cres in res.results.items():
            if cres.error or not cres.samples:
                lines.append(f"| {res.workload.name} | {client} | failed: {cres.error} | | | |")
                continue
            lat = cres.latency()
            p50, p99 = ("—", "—") if lat is None else (f"{lat[0] * 1e6:.0f} µs", f"{lat[1] * 1e6:.0f} µs")
            cpu = " / ".join(_per_op(cres.cpu(phase), res) for phase in res.workload.phases)
            lines.append(f"| {res.workload.name} | {client} | {cpu} | {p50} | {p99} | {cres.rss():.0f} MiB |")
    return "\n".join(lines)


def _per_op(seconds: float, res: WorkloadResult) -> str:
    if res.workload.unit == "MiB":
        return f"{seconds:.2f} s"
    return f"{seconds / res.n * 1e6:.1f} µs"


def _version_of(python: str, dist: str) -> str:
    code = f"import importlib.metadata as m; print(m.version({dist!r}))"
    proc = subprocess.run([python, "-c", code], capture_output=True, text=True, check=False)
    return proc.stdout.strip() or "not installed"


def _python_of(python: str) -> str:
    code = "import platform; print(platform.python_version())"
    return subprocess.run([python, "-c", code], capture_output=True, text=True, check=False).stdout.strip()


def environment(pythons: dict[str, str]) -> list[str]:
    from jetstream.testing import find_nats_server

    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    server = subprocess.run([find_nats_server(), "--version"], capture_output=True, text=True, check=False)
    me = sys.executable
    lines = [
        f"- machine: {cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}",
        f"- {SDK} {_version_of(me, 'jetstream-py')}, nats-py {_version_of(me, 'nats-py')}, "
        f"msgspec {_version_of(me, 'msgspec')}, on Python {platform.python_version()}",
        f"- nats-server {server.stdout.strip()} (one per workload, loopback, file storage)",
    ]
    if OFFICIAL in pythons:
        off = pythons[OFFICIAL]
        lines.append(
            f"- nats-jetstream {_version_of(off, 'nats-jetstream')} (nats-core {_version_of(off, 'nats-core')}; "
            f"Key/Value: nats-key-value {_version_of(off, 'nats-key-value')}) "
            f"on Python {_python_of(off)}, in its own venv (it cannot share one with nats-py)"
        )
    else:
        lines.append(
            "- nats-jetstream: not run (needs Python ≥ 3.13 and its own venv: `make bench` builds one)"
        )
    return lines


def chart(results: list[WorkloadResult], official: bool, path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no chart", file=sys.stderr)
        return False
    rows: list[tuple[str, float | None, float | None, float | None]] = []
    for res in results:
        for phase in res.workload.phases:
            rows.append(
                (
                    label(res.workload, phase),
                    res.speedup(SDK, NATS_PY, phase),
                    res.speedup(SDK, OFFICIAL, phase) if official else None,
                    res.speedup(RAW, NATS_PY, phase),
                )
            )
    rows.reverse()
    fig, ax = plt.subplots(figsize=(9, 0.55 * len(rows) + 1.5))
    height = 0.27
    ys = range(len(rows))
    series = [
        ("jetstream-py vs nats-py", 1, "#2b7bba", height),
        ("jetstream-py vs nats-jetstream", 2, "#f28e2b", 0.0),
        ("raw nats-py core vs nats-py (ceiling)", 3, "#bbbbbb", -height),
    ]
    for name, index, color, offset in series:
        if index == 2 and not official:
            continue
        # Bars grow from 1 (parity) toward the ratio, left when slower; missing ratios are not drawn.
        values = [r[1] if index == 1 else r[2] if index == 2 else r[3] for r in rows]
        at = [y + offset for y, v in zip(ys, values, strict=True) if v]
        widths = [v - 1.0 for v in values if v]
        bars = ax.barh(at, widths, left=1.0, height=height, color=color, label=name)
        if index == 1:
            ax.bar_label(bars, labels=[f"{v:.2f}×" for v in values if v], padding=3, fontsize=7)
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_xscale("log")
    ax.set_yticks(list(ys))
    ax.set_yticklabels([r[0] for r in rows])
    ax.set_xlabel("times faster (log scale; right of the line = jetstream-py ahead)")
    ax.set_title("jetstream-py speed relative to the other Python JetStream clients")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.07), ncol=3, fontsize=8, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return True


def write(results: list[WorkloadResult], official: bool, env: list[str], command: str, took: float) -> None:
    data = [
        {
            "workload": r.workload.name,
            "n": r.n,
            "size": r.size,
            "unit": r.workload.unit,
            "results": {c: asdict(cr) for c, cr in r.results.items()},
        }
        for r in results
    ]
    (BENCH / "results.json").write_text(json.dumps(data, indent=1) + "\n")
    has_chart = chart(results, official, BENCH / "ratios.png")
    body = [
        "# Benchmark results",
        "",
        f"Produced by `{command}` ({took / 60:.0f} min), {time.strftime('%Y-%m-%d')}.",
        "",
        *env,
        "",
        "Median of the rounds (7 for decode and import); clients interleaved, one process per run. `×` = times faster than that",
        "client (> 1: jetstream-py ahead); raw = the same work on nats-py's core connection with no",
        "JetStream code (for decode: plain `json.loads`); `of raw` = jetstream-py's share of that figure.",
        "",
        table(results, official),
        "",
        "## Latency and memory",
        "",
        details(results),
        "",
    ]
    if has_chart:
        body[3:3] = ["", "![ratios](ratios.png)"]
    (BENCH / "RESULTS.md").write_text("\n".join(body))


def redraw() -> None:
    """ratios.png again from results.json (the chart's look changed, the numbers did not)."""
    from _harness import ClientResult, Sample

    by_name = {w.name: w for w in WORKLOADS}
    results = []
    for item in json.loads((BENCH / "results.json").read_text()):
        wl = by_name[item["workload"]]
        clients = {
            name: ClientResult(name, [Sample(**sample) for sample in res["samples"]], res["error"])
            for name, res in item["results"].items()
        }
        results.append(WorkloadResult(wl, item["n"], item.get("size", wl.size), clients))
    official = any(OFFICIAL in r.results for r in results)
    chart(results, official, BENCH / "ratios.png")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", default="", help="comma-separated script names (e.g. kv,decode)")
    parser.add_argument("--official-python", default=os.environ.get("JETSTREAM_BENCH_OFFICIAL_PYTHON", ""))
    parser.add_argument("--write", action="store_true", help="write RESULTS.md, results.json, ratios.png")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every workload's n (profiling)")
    parser.add_argument("--clients", default="", help="comma-separated clients to run (default: all)")
    parser.add_argument("--chart-only", action="store_true", help="redraw ratios.png from results.json")
    args = parser.parse_args()
    if args.chart_only:
        redraw()
        return

    here = sys.executable
    pythons = {SDK: here, NATS_PY: here, RAW: here}
    if args.official_python:
        if not Path(args.official_python).exists():
            raise SystemExit(f"no interpreter at {args.official_python}")
        pythons[OFFICIAL] = args.official_python
    only = {s.strip().removesuffix(".py") for s in args.only.split(",") if s.strip()}
    workloads = [w for w in WORKLOADS if not only or w.script.removesuffix(".py") in only]
    if args.scale != 1.0:
        workloads = [dataclasses.replace(w, n=max(1, round(w.n * args.scale))) for w in workloads]
    if args.clients:
        keep = {c.strip() for c in args.clients.split(",")}
        pythons = {c: p for c, p in pythons.items() if c in keep}
    rounds = 1 if args.smoke else args.rounds

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    started = time.perf_counter()
    results: list[WorkloadResult] = []
    for wl in workloads:
        log(f"{wl.name}:")
        results.append(asyncio.run(run_workload(wl, pythons, rounds, args.smoke, log)))
    took = time.perf_counter() - started
    official = OFFICIAL in pythons
    env = environment(pythons)
    print("\n".join(env) + "\n")
    print(table(results, official) + "\n")
    print(details(results))
    failed = [f"{r.workload.name} / {c}" for r in results for c, cr in r.results.items() if cr.error]
    if args.write and not args.smoke:
        command = "make bench" if not (args.only or args.scale != 1.0 or args.clients) else " ".join(sys.argv)
        write(results, official, env, command, took)
    if failed:
        raise SystemExit("failed: " + ", ".join(failed))


if __name__ == "__main__":
    main()

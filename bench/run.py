"""`make bench`: run every workload and print a Markdown table of ratios against nats-py.

Only the decode workload exists so far (the others arrive with the data plane); `--smoke` runs a tiny
version, used by the test suite to prove the bench still runs.
"""

from __future__ import annotations

import argparse
import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import decode


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke", action="store_true", help="tiny run, only proves the bench works")
    args = parser.parse_args()
    rounds, number = (1, 200) if args.smoke else (5, 20_000)
    results = decode.run(rounds, number)
    base = results["nats-py"]
    print(
        f"Python {platform.python_version()} on {platform.machine()}, median of {rounds} interleaved rounds\n"
    )
    print("| workload | client | µs/op | speed vs nats-py |")
    print("|---|---|---:|---:|")
    for name, us in results.items():
        print(f"| decode 1 KB StreamInfo | {name} | {us:.2f} | {base / us:.2f}× |")


if __name__ == "__main__":
    main()

"""Benchmark: demo data generation speed against a plain CSV-writing floor.

Generates N intelligence items (default 1,000,000) with their tasking
history through ``triage.demo.generator.write_demo_files``; in the same run writes the
same number of rows of the same width with ``csv.writer`` and constant cells
(the floor: what writing alone costs). Prints rows/second for both, the ratio,
and the peak memory of the process.

    .venv/bin/python benchmarks/bench_demo.py [--intel N]
"""

from __future__ import annotations

import argparse
import csv
import resource
import tempfile
import time
from datetime import date
from pathlib import Path

from triage.demo import calibration, extracts
from triage.demo import generator as demo


def floor(path: Path, n: int) -> float:
    row = ["x" * 8] * len(extracts.INTEL_COLUMNS)
    began = time.perf_counter()
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(extracts.INTEL_COLUMNS)
        for _ in range(n):
            writer.writerow(row)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--intel", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-demo-") as folder:
        base = floor(Path(folder) / "floor.csv", args.intel)
        began = time.perf_counter()
        cpu = time.process_time()
        files = demo.write_demo_files(
            Path(folder) / "demo",
            intel=args.intel,
            em=calibration.DEFAULT_EM,
            end=date(2026, 11, 20),
        )
        wall = time.perf_counter() - began
        cpu = time.process_time() - cpu
        size = files.paths["intel"].stat().st_size + files.paths["outcomes"].stat().st_size
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    outcomes = files.counts["outcomes"]
    print(f"items: {args.intel:,}  outcome rows: {outcomes:,}  ({size / 1e6:.0f} MB)")
    print(f"floor (csv.writer, constant rows): {args.intel / base:,.0f} rows/s ({base:.1f} s)")
    print(f"demo generator: {args.intel / wall:,.0f} items/s ({wall:.1f} s wall, {cpu:.1f} s CPU)")
    print(f"ratio generator/floor: {base / wall:.3f}")
    print(f"peak memory: {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()

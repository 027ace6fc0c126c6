"""The demo sweep on a quiet machine and beside two busy-looping processes, side by side (issue 17).

Each timing is a fresh ``scaletime run configs/demo.toml`` in a child process (``--no-progress``,
a new folder each time, dataset already cached), wall time from start to exit:

* ``quiet``: nothing else started by the benchmark;
* ``busy``: two ``while True: pass`` processes at the same nice level run beside it, with the
  default thread choice (the cores other processes leave free, ``scaletime.engine.threads``);
* ``busy, 2 threads``: the same load with ``SCALETIME_THREADS=2`` — the thread count used before,
  once, cut off after ``--cap`` seconds.

The target (issue 17): busy ≤ 3× quiet, min of 3 runs each. The machine is shared, so every
number is printed (min and median) and written to ``benchmarks/results/busy.json``.

Usage::

    python benchmarks/bench_busy.py [--repeats 3] [--cap 180]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "configs" / "demo.toml"
OUT = ROOT / "benchmarks" / "results" / "busy.json"
BUSY = "while True: pass"


def _sweep(env: dict[str, str], cap: float) -> float:
    """Wall seconds of one demo sweep in a fresh folder (``inf`` if cut off at ``cap``)."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "scaletime", "run", str(SPEC), "--out", tmp + "/s"]
        t0 = time.perf_counter()
        try:
            subprocess.run(
                [*cmd, "--no-progress"],
                env=env,
                check=True,
                timeout=cap,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            return float("inf")
        return time.perf_counter() - t0


def _with_load(n: int, fn):
    procs = [subprocess.Popen([sys.executable, "-c", BUSY]) for _ in range(n)]
    try:
        time.sleep(1.0)  # let the loops take their cores
        return fn()
    finally:
        for p in procs:
            p.kill()
            p.wait()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--cap", type=float, default=180.0, help="Cut-off of the 2-thread run (s).")
    args = ap.parse_args()
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "SCALETIME_THREADS")}
    _sweep(env, 600)  # warm the page cache and the imports
    quiet = [_sweep(env, 600) for _ in range(args.repeats)]
    busy = _with_load(2, lambda: [_sweep(env, 600) for _ in range(args.repeats)])
    fixed = _with_load(2, lambda: _sweep({**env, "SCALETIME_THREADS": "2"}, args.cap))
    result = {
        "machine_cores": os.cpu_count(),
        "repeats": args.repeats,
        "quiet_s": quiet,
        "busy_s": busy,
        "busy_two_threads_s": None if fixed == float("inf") else fixed,
        "busy_two_threads_cut_off_at_s": args.cap if fixed == float("inf") else None,
        "ratio_min": min(busy) / min(quiet),
        "ratio_median": statistics.median(busy) / statistics.median(quiet),
        "target": "busy ≤ 3× quiet (min of 3 each)",
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=1) + "\n")
    two = f"{fixed:.1f} s" if fixed != float("inf") else f"> {args.cap:.0f} s (cut off)"
    print(f"quiet:  min {min(quiet):.1f} s, median {statistics.median(quiet):.1f} s")
    print(f"busy:   min {min(busy):.1f} s, median {statistics.median(busy):.1f} s")
    print(f"busy with 2 fixed threads: {two}")
    print(
        f"busy / quiet: {result['ratio_min']:.2f}× (min), {result['ratio_median']:.2f}× (median)"
        " — target ≤ 3×"
    )
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()

"""Large tables (issue 15, item 9): ``fit`` (Chinchilla form), ``analyze`` and ``evaluate`` on a
table of 1,000 runs × 1,000 checkpoints over 20 sizes (10⁶ rows), each command in its own
process, timed (wall and CPU, min and median over repeats) with its peak memory (max RSS).

    python benchmarks/bench_large_tables.py                 # 1000 runs × 1000 checkpoints
    python benchmarks/bench_large_tables.py --runs 100 --checkpoints 100 --repeats 1

Targets on 2 cores: fit ≤ 10 s, analyze ≤ 15 s, evaluate ≤ 60 s, peak memory ≤ 1 GB; every
command runs with its defaults (``fit`` also with ``--bootstrap 0``, its point estimate). The table
is synthetic (``E = 0.05 + 3 N^-0.3 + 2 t^-0.5`` with 2% log-normal noise per run) and written
as Parquet once. Results: ``benchmarks/results/large_tables.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
TARGETS = {"fit": 10.0, "fit-bootstrap": 10.0, "analyze": 15.0, "evaluate": 60.0}
MEMORY_TARGET_MB = 1024.0


def make_table(runs: int, checkpoints: int, sizes: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    size_values = np.geomspace(1e3, 1e7, sizes)
    run = np.repeat(np.arange(runs), checkpoints)
    n = np.repeat(size_values[np.arange(runs) % sizes], checkpoints)
    t = np.tile(np.geomspace(1.0, 1e4, checkpoints), runs)
    noise = np.repeat(rng.normal(0.0, 0.02, runs), checkpoints)
    error = (0.05 + 3 * n**-0.3 + 2 * t**-0.5) * np.exp(noise)
    return pd.DataFrame(
        {
            "run_id": run,
            "n_params": n,
            "epoch": t,
            "seed": np.arange(runs).repeat(checkpoints) // sizes,
            "test_error": error,
        }
    )


#: Every command with its defaults, writing its output file; the fit also without its bootstrap.
COMMANDS = {
    "fit": lambda t, d: [
        "fit",
        t,
        "--law",
        "chinchilla-time",
        "--bootstrap",
        "0",
        "-o",
        d / "fit.json",
    ],
    "fit-bootstrap": lambda t, d: ["fit", t, "--law", "chinchilla-time", "-o", d / "fit.json"],
    "analyze": lambda t, d: ["analyze", t, "--json", d / "a.json"],
    "evaluate": lambda t, d: ["evaluate", t, "-o", d / "e.csv"],
}


def run_command(args: list[object]) -> dict[str, float]:
    """Run ``scaletime ARGS`` in a child process: wall, CPU (user + system) and max RSS."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "scaletime", *map(str, args)], capture_output=True, text=True
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"scaletime {' '.join(map(str, args))} failed:\n{proc.stderr[-2000:]}")
    return {
        "wall_s": wall,
        "cpu_s": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        "max_rss_mb": after.ru_maxrss / 1024,  # the largest child so far (Linux: KiB)
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--checkpoints", type=int, default=1000)
    parser.add_argument("--sizes", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--commands", default=",".join(COMMANDS))
    parser.add_argument("--update", action="store_true", help="write the results JSON")
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        table = folder / "large.parquet"
        frame = make_table(opts.runs, opts.checkpoints, opts.sizes)
        frame.to_parquet(table, index=False)
        print(
            f"table: {len(frame):,} rows ({opts.runs} runs × {opts.checkpoints} checkpoints, "
            f"{opts.sizes} sizes), {table.stat().st_size / 1e6:.1f} MB Parquet",
            flush=True,
        )
        results: dict[str, dict[str, float]] = {}
        for name in opts.commands.split(","):
            samples = []
            for _ in range(opts.repeats):
                # each repeat in a fresh process: max RSS is per child, so measure one at a time
                sample = _isolated(COMMANDS[name](table, folder))
                samples.append(sample)
            walls = [s["wall_s"] for s in samples]
            results[name] = {
                "wall_min_s": min(walls),
                "wall_median_s": statistics.median(walls),
                "cpu_min_s": min(s["cpu_s"] for s in samples),
                "max_rss_mb": max(s["max_rss_mb"] for s in samples),
                "target_s": TARGETS[name],
            }
            r = results[name]
            print(
                f"{name:9s} wall min {r['wall_min_s']:6.1f} s · median {r['wall_median_s']:6.1f}"
                f" s · cpu {r['cpu_min_s']:6.1f} s · peak {r['max_rss_mb']:6.0f} MB   "
                f"(target ≤ {TARGETS[name]:g} s, ≤ {MEMORY_TARGET_MB:g} MB)",
                flush=True,
            )
    out = {
        "rows": opts.runs * opts.checkpoints,
        "runs": opts.runs,
        "checkpoints": opts.checkpoints,
        "sizes": opts.sizes,
        "repeats": opts.repeats,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "memory_target_mb": MEMORY_TARGET_MB,
        "results": results,
    }
    if opts.update:
        path = HERE / "results" / "large_tables.json"
        path.write_text(json.dumps(out, indent=1))
        print(f"wrote {path}")


def _isolated(args: list[object]) -> dict[str, float]:
    """One measurement in a fresh interpreter, so ``ru_maxrss`` is this command's alone."""
    code = (
        f"import json, sys; sys.path.insert(0, {str(HERE)!r}); "
        "from bench_large_tables import run_command; "
        "print(json.dumps(run_command(json.loads(sys.argv[1]))))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, json.dumps([str(a) for a in args])],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-3000:] or proc.stdout[-3000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()

"""Benchmark the Ray executor against the local one on this machine, side by side.

The demo sweep (``configs/demo.toml``: MNIST MLP, widths 1–100, 2 seeds, 10,000 examples, so two
work units of 7 members) is run, into a fresh folder each time, by:

* ``local_1thread``         the local executor, torch on one thread;
* ``ray_1worker_1thread``   a private local Ray instance with one CPU: one worker process, one
  unit at a time on one thread: the same computation as ``local_1thread``, so
  ``overhead_ratio = ray_1worker_1thread / local_1thread`` is what Ray itself costs (start-up,
  the dataset put in the object store, worker start-up and imports, shutdown). Target: ≤ 1.10;
* ``ray_2workers_1thread``  two CPUs: two worker processes of one thread each, two units at
  once; ``speedup_2_vs_1_workers = ray_1worker_1thread / ray_2workers_1thread``;
* ``local``                 the local executor with torch's default threads (all cores): with
  ``ray_2workers_1thread`` on a 2-core machine, each executor's default (``scaletime run`` vs
  ``scaletime run --executor ray``): ``ray_default_vs_local_default``.

``machine_2_vs_1_processes`` is this machine's own ceiling for the speed-up: the throughput of two
concurrent single-threaded matrix-product loops over that of one (2.0 on two free cores).

Every wall time is the whole ``run_sweep`` call (Ray's start and stop included). The configurations
are interleaved, in a rotated order, ``--repeats`` times, and medians are reported; the load average
is recorded around each run (the machine may be shared). Each run's measurements are compared with
the first local run's (``max_abs_diff``: 0 means identical numbers).

``--epochs`` shortens the demo's 40-epoch budget for a quicker run; since Ray's cost is mostly
fixed, a shorter sweep gives a larger (conservative) overhead ratio.

Usage::

    python benchmarks/bench_ray.py                       # → benchmarks/results/ray.json
    python benchmarks/bench_ray.py --epochs 10 --repeats 2 --out benchmarks/results/ray-e10.json
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import shutil
import signal
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rich.console import Console

from scaletime import __version__
from scaletime.cli.sweep_cmd import config_path
from scaletime.sweep.executor import Executor, LocalExecutor, run_sweep
from scaletime.sweep.export import load_table
from scaletime.sweep.plan import plan_runs, plan_units
from scaletime.sweep.ray_executor import RayExecutor, import_ray
from scaletime.sweep.spec import SweepSpec, load_spec

RESULTS = Path(__file__).resolve().parent / "results"
VALUES = ["train_loss", "test_loss", "train_error", "test_error"]


def _processes_naming(text: str) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    if text.encode() in f.read():
                        pids.append(int(entry))
            except OSError:
                continue
    return pids


def configurations(temp_root: Path) -> dict[str, tuple[int, Callable[[], Executor]]]:
    """Name → (torch threads of this process, a fresh executor). Each Ray executor starts and
    stops its own local instance."""

    def ray(num_cpus: int, name: str) -> Callable[[], Executor]:
        return lambda: RayExecutor(num_cpus=num_cpus, temp_dir=str(temp_root / name))

    cores = os.cpu_count() or 1
    return {
        "local_1thread": (1, lambda: LocalExecutor("cpu")),
        "ray_1worker_1thread": (1, ray(1, "one")),
        "ray_2workers_1thread": (1, ray(2, "two")),
        "local": (cores, lambda: LocalExecutor("cpu")),
    }


def _matmul_loop(seconds: float) -> int:
    torch.set_num_threads(1)
    a, b = torch.randn(256, 256), torch.randn(256, 256)
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        a @ b
        n += 1
    return n


def machine_parallel_ceiling(seconds: float = 8.0) -> float:
    """Throughput of two concurrent single-threaded matmul processes over that of one."""
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        one = pool.apply(_matmul_loop, (seconds,))
    with ctx.Pool(2) as pool:
        two = sum(pool.map(_matmul_loop, [seconds, seconds]))
    return two / one


def timed_sweep(spec: SweepSpec, executor: Executor, out: Path) -> dict[str, Any]:
    load_before = os.getloadavg()
    start = time.perf_counter()
    run_sweep(spec, out, executor=executor, console=Console(quiet=True), show_progress=False)
    wall = time.perf_counter() - start
    return {"wall_s": wall, "loadavg_before": load_before, "loadavg_after": os.getloadavg()}


def ray_start_stop_s(temp_dir: Path, repeats: int = 3) -> float:
    """Median seconds to start and stop an empty one-CPU local Ray instance (Ray's fixed cost)."""
    ray = import_ray()
    times = []
    for i in range(repeats):
        start = time.perf_counter()
        ray.init(address="local", num_cpus=1, include_dashboard=False, log_to_driver=False,
                 _temp_dir=str(temp_dir / f"empty{i}"))  # fmt: skip
        ray.shutdown()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _ratio(median: dict[str, float], a: str, b: str) -> float | None:
    """median[a] / median[b], or None when either configuration was not run."""
    return median[a] / median[b] if a in median and b in median else None


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--spec", type=Path, default=None, help="spec (default: the demo)")
    parser.add_argument("--epochs", type=float, default=None, help="override the budget")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--out", type=Path, default=RESULTS / "ray.json")
    parser.add_argument(
        "--configs",
        default="local_1thread,ray_1worker_1thread,ray_2workers_1thread,local",
        help="comma-separated subset of the configurations to run",
    )
    args = parser.parse_args(argv)

    import_ray()
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # no ~/.ray/auth_token side effect
    os.environ.pop("RAY_ADDRESS", None)  # private local instances only

    spec = load_spec(args.spec or config_path("demo"))
    if args.epochs is not None:
        train = spec.train.model_copy(update={"epochs": args.epochs})
        spec = spec.model_copy(update={"train": train})
    spec = spec.model_copy(
        update={"execution": spec.execution.model_copy(update={"device": "cpu"})}
    )

    work = Path(tempfile.mkdtemp(prefix="st-bench-ray-", dir="/tmp"))
    configs = configurations(work)
    names = [name for name in args.configs.split(",") if name]
    unknown = set(names) - set(configs)
    if unknown:
        parser.error(f"unknown configurations {sorted(unknown)}; known: {', '.join(configs)}")
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    reference = None
    try:
        for rep in range(args.repeats):
            order = names[rep % len(names) :] + names[: rep % len(names)]
            for name in order:
                out = work / f"{name}-{rep}"
                threads, make_executor = configs[name]
                torch.set_num_threads(threads)
                result = timed_sweep(spec, make_executor(), out)
                table = load_table(out).sort_values(["run_key", "step"])[VALUES].to_numpy(float)
                if reference is None and name.startswith("local"):
                    reference = table
                if reference is not None:
                    result["max_abs_diff"] = float(np.nanmax(np.abs(table - reference)))
                runs[name].append(result)
                load = result["loadavg_before"][0]
                print(
                    f"rep {rep} {name:24s} {result['wall_s']:8.1f} s  load {load:.1f}", flush=True
                )
        ceiling = machine_parallel_ceiling()
        start_stop = ray_start_stop_s(work)
    finally:
        left = _processes_naming(str(work))
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        shutil.rmtree(work, ignore_errors=True)

    median = {name: statistics.median(r["wall_s"] for r in runs[name]) for name in names}
    summary = {
        "spec": spec.name,
        "spec_hash": spec.spec_hash(),
        "epochs": spec.train.epochs,
        "units": len(plan_units(spec, plan_runs(spec))),
        "members_per_unit": len(spec.model.widths),
        "cpu_count": os.cpu_count(),
        "repeats": args.repeats,
        "median_wall_s": median,
        "overhead_ratio": _ratio(median, "ray_1worker_1thread", "local_1thread"),
        "overhead_target": 1.10,
        "speedup_2_vs_1_workers": _ratio(median, "ray_1worker_1thread", "ray_2workers_1thread"),
        "machine_2_vs_1_processes": ceiling,
        "ray_start_stop_s": start_stop,
        "ray_default_vs_local_default": _ratio(median, "ray_2workers_1thread", "local"),
        "leftover_processes_killed": len(left),
        "runs": runs,
        "versions": {
            "scaletime": __version__,
            "torch": torch.__version__,
            "ray": import_ray().__version__,
            "python": platform.python_version(),
        },
        "machine": platform.platform(),
        "note": "wall times on a machine shared with other work: see each run's loadavg",
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2) + "\n")
    keys = ("median_wall_s", "overhead_ratio", "speedup_2_vs_1_workers",
            "machine_2_vs_1_processes", "ray_start_stop_s", "ray_default_vs_local_default")  # fmt: skip
    print(json.dumps({k: summary[k] for k in keys}, indent=2))
    return summary


if __name__ == "__main__":
    main()

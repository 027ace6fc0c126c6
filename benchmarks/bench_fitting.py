"""Benchmarks of scaletime.fitting (issue 7); results in benchmarks/results/fitting*.json.

Sections (``--only NAME`` runs one; all by default):

* ``bootstrap``: the unified law with 200 bootstrap resamples on 10^4 points (target < 60 s on
  2 cores), with 1 and 2 worker processes.
* ``starts``: share of 20 single random starts of the unified law that reach the best optimum
  (demo-shaped synthetic sweep), and the grid procedure's time.
* ``coverage``: calibration by simulation (chinchilla-time law, run + point noise): coverage of
  90% new-run prediction intervals, 90% mean intervals and 90% parameter intervals.
* ``chinchilla``: Epoch AI's refit reproduced, with the 4,000-resample bootstrap.
* ``evaluate``: the held-out table (size and time) of every law on the demo-shaped sweep.
* ``evaluate_speed``: ``evaluate`` on the demo's committed tidy table (every law, default
  options, size hold-out), CPU time, this tree side by side with the laws issue's starting commit
  (a git worktree), median of 3, with every law's held-out RMSLE in both.
* ``alabdulmohsin``: the 92-curve extrapolation benchmark, scored per curve, summarised per
  domain (slow: ~20 min on 2 cores; ``--curves N`` takes the first N curves of each file).

Run: ``OMP_NUM_THREADS=1 python benchmarks/bench_fitting.py [--only SECTION]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scaletime.fitting import (
    FitConvergenceWarning,
    ScalingLawRegressor,
    evaluate_holdout,
    load_alabdulmohsin,
    load_chinchilla,
    load_fit_table,
    score_alabdulmohsin,
    summarize_by_domain,
    synthetic_sweep,
)
from scaletime.fitting.external import EPOCH_REFIT, fit_chinchilla_epoch
from scaletime.fitting.synthetic import (
    CHINCHILLA_TIME_TRUTH,
    ROLE_NAMES,
    UNIFIED_TRUTH,
    unified_truth_law,
)

ROOT = Path(__file__).resolve().parents[1]
EXTERNAL = ROOT.parent / "shared" / "data" / "external"
RESULTS = ROOT / "benchmarks" / "results"


def demo_sweep(n_times: int = 16, seeds: tuple[int, ...] = (0, 1), random_state: int = 0):
    """Demo-shaped synthetic sweep from the unified law (7 sizes, 3 data sizes, 2 noise rates)."""
    return synthetic_sweep(
        unified_truth_law(),
        UNIFIED_TRUTH,
        sizes=np.geomspace(1e3, 1e6, 7),
        times=np.geomspace(0.05, 50, n_times),
        data_sizes=(1000.0, 4000.0, 16000.0),
        label_noises=(0.0, 0.2),
        seeds=seeds,
        random_state=random_state,
        include_init=True,
    )


def bench_bootstrap() -> dict[str, Any]:
    df = demo_sweep(n_times=60, seeds=(0, 1, 2, 3)).rename(columns=ROLE_NAMES)
    df = df[df["time"] > 0]
    out: dict[str, Any] = {
        "n_points": len(df),
        "n_runs": int(df["run_id"].nunique()),
        "n_bootstrap": 200,
        "target_s": 60.0,
    }
    for jobs in (1, 2):
        start = time.perf_counter()
        est = ScalingLawRegressor("unified", n_bootstrap=200, n_jobs=jobs).fit(
            df, groups=df["run_id"]
        )
        out[f"seconds_jobs{jobs}"] = round(time.perf_counter() - start, 2)
        out["n_failed"] = est.n_bootstrap_failed_
    out["params_interval"] = est.params_interval_
    return out


def bench_starts() -> dict[str, Any]:
    df = demo_sweep().rename(columns=ROLE_NAMES)
    start = time.perf_counter()
    grid = ScalingLawRegressor("unified", n_starts=8).fit(df, groups=df["run_id"])
    grid_s = time.perf_counter() - start
    start = time.perf_counter()
    rand = ScalingLawRegressor("unified", start="random", n_starts=20, random_state=1).fit(
        df, groups=df["run_id"]
    )
    losses = np.array([s["loss"] for s in rand.starts_])
    best = min(losses.min(), grid.loss_)
    return {
        "n_points": len(df),
        "grid_fit_seconds": round(grid_s, 2),
        "grid_starts_at_optimum": f"{grid.n_at_optimum_}/{len(grid.starts_)}",
        "random_fit_seconds": round(time.perf_counter() - start, 2),
        "random_starts_at_optimum": int(np.sum(np.abs(losses / best - 1) < 1e-4)),
        "random_starts": len(losses),
        "params": grid.params_,
        "derived": grid.derived_,
        "truth": UNIFIED_TRUTH,
        "truth_derived": unified_truth_law().derived(UNIFIED_TRUTH),
    }


def bench_coverage(n_sims: int = 40, n_boot: int = 200) -> dict[str, Any]:
    grid = {"sizes": (1e3, 3e3, 1e4, 3e4, 1e5), "times": tuple(np.geomspace(0.5, 200.0, 10))}
    noise = {"run_sd": 0.03, "point_sd": 0.04}
    new_hits = new_total = mean_hits = mean_total = 0
    param_hits = {k: 0 for k in CHINCHILLA_TIME_TRUTH}
    from scaletime.fitting import get_law

    law = get_law("chinchilla-time")
    for sim in range(n_sims):
        fitted = synthetic_sweep(
            "chinchilla-time",
            CHINCHILLA_TIME_TRUTH,
            **grid,
            **noise,
            seeds=(0, 1, 2, 3),
            random_state=sim,
        ).rename(columns=ROLE_NAMES)
        est = ScalingLawRegressor(
            "chinchilla-time", n_bootstrap=n_boot, random_state=sim, n_starts=2
        ).fit(fitted, groups=fitted["run_id"])
        fresh = synthetic_sweep(
            "chinchilla-time",
            CHINCHILLA_TIME_TRUTH,
            **grid,
            **noise,
            seeds=(10, 11),
            random_state=1000 + sim,
        ).rename(columns=ROLE_NAMES)
        lo, hi = est.predict_interval(fresh, "new-run")
        y = fresh["metric"].to_numpy()
        new_hits += int(np.sum((y >= lo) & (y <= hi)))
        new_total += len(y)
        design = fitted.drop_duplicates(["size", "time"])
        truth = law.predict({"size": design["size"], "time": design["time"]}, CHINCHILLA_TIME_TRUTH)
        lo, hi = est.predict_interval(design, "mean")
        mean_hits += int(np.sum((truth >= lo) & (truth <= hi)))
        mean_total += len(truth)
        for k, v in CHINCHILLA_TIME_TRUTH.items():
            a, b = est.params_interval_[k]
            param_hits[k] += int(a <= v <= b)
    return {
        "n_simulations": n_sims,
        "n_bootstrap": n_boot,
        "nominal": 0.9,
        "new_run_interval_coverage": new_hits / new_total,
        "mean_interval_coverage": mean_hits / mean_total,
        "parameter_interval_coverage": {k: v / n_sims for k, v in param_hits.items()},
    }


def bench_chinchilla() -> dict[str, Any]:
    df = load_chinchilla(EXTERNAL / "chinchilla_epoch_svg_extracted.csv")
    start = time.perf_counter()
    est = ScalingLawRegressor("chinchilla", n_bootstrap=4000, random_state=0).fit(
        {"size": df["n_params"], "data": df["tokens"]}, df["loss"]
    )
    seconds = time.perf_counter() - start
    se = dict(zip(est.param_names_, est.bootstrap_params_.std(axis=0, ddof=1), strict=True))
    start = time.perf_counter()
    epoch = fit_chinchilla_epoch(
        df["n_params"].to_numpy(), df["tokens"].to_numpy(), df["loss"].to_numpy()
    )
    return {
        "n_points": len(df),
        "ours": est.params_,
        "ours_bootstrap_se": se,
        "ours_interval_90": est.params_interval_,
        "ours_seconds_with_4000_resamples": round(seconds, 2),
        "epoch_protocol_full_grid": epoch["params"],
        "epoch_protocol_seconds": round(time.perf_counter() - start, 2),
        "epoch_published": {k: {"value": v, "se": s} for k, (v, s) in EPOCH_REFIT.items()},
    }


def bench_evaluate() -> dict[str, Any]:
    table = load_fit_table(demo_sweep())
    out = {}
    for axis in ("size", "time"):
        result, threshold = evaluate_holdout(table, axis=axis, fit_options={"n_starts": 4})
        out[axis] = {
            "threshold": threshold,
            "rows": result[
                [
                    "law",
                    "status",
                    "rmsle",
                    "mdare",
                    "n_train",
                    "n_test",
                    "n_curves",
                    "seconds",
                    "note",
                ]
            ].to_dict(orient="records"),
        }
    return out


#: The commit the laws issue started from: the "today" of its speed target.
BASE_REV = "1db5792"
DEMO_TABLE = ROOT / "benchmarks" / "data" / "demo-mnist-mlp.parquet"
_EVALUATE_SNIPPET = """
import json, sys, time, warnings
warnings.simplefilter("ignore")
from scaletime.fitting import evaluate_holdout, load_fit_table
table = load_fit_table(sys.argv[1])
t0 = time.process_time()
result, threshold = evaluate_holdout(table, axis="size")
cpu = time.process_time() - t0
rows = result[result["status"] == "ok"]
print(json.dumps({"cpu_s": cpu, "rmsle": dict(zip(rows["law"], rows["rmsle"]))}))
"""


def _evaluate_in(src: Path, repeats: int) -> dict[str, Any]:
    import subprocess
    import sys

    runs = []
    for _ in range(repeats):
        env = {**os.environ, "PYTHONPATH": str(src), "OMP_NUM_THREADS": "1"}
        proc = subprocess.run(
            [sys.executable, "-c", _EVALUATE_SNIPPET, str(DEMO_TABLE)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    cpu = sorted(r["cpu_s"] for r in runs)
    return {"cpu_s": cpu, "median_cpu_s": cpu[len(cpu) // 2], "rmsle": runs[0]["rmsle"]}


def bench_evaluate_speed(repeats: int = 3, base_repeats: int = 3) -> dict[str, Any]:
    """``evaluate`` on the demo's tidy table (size hold-out, every law, default options), CPU
    time of the evaluation in a fresh process, this tree beside :data:`BASE_REV` (a git worktree),
    median of ``repeats``; and each law's held-out RMSLE in both."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(base), BASE_REV],
            check=True,
            capture_output=True,
        )
        try:
            old = _evaluate_in(base / "src", base_repeats)
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base)],
                check=False,
                capture_output=True,
            )
    new = _evaluate_in(ROOT / "src", repeats)
    return {
        "table": str(DEMO_TABLE.relative_to(ROOT)),
        "base_rev": BASE_REV,
        "base": old,
        "now": new,
        "speedup": old["median_cpu_s"] / new["median_cpu_s"],
    }


def bench_alabdulmohsin(n_curves: int | None) -> dict[str, Any]:
    files = [EXTERNAL / f"alabdulmohsin_benchmark_{k}.csv" for k in ("vision", "lang")]
    curves = load_alabdulmohsin(files)
    if n_curves is not None:
        keys = curves[["Domain", "Task", "Model"]].drop_duplicates()
        keys = keys.groupby("Domain").head(n_curves)
        curves = curves.merge(keys, on=["Domain", "Task", "Model"])
    start = time.perf_counter()
    scores = score_alabdulmohsin(
        curves, laws=("m4", "bnsl", "unified-time", "power"), fit_options={"n_starts": 4}
    )
    summary = summarize_by_domain(scores)
    return {
        "n_curves": int(curves.groupby(["Domain", "Task", "Model"]).ngroups),
        "seconds": round(time.perf_counter() - start, 1),
        "summary": summary.to_dict(orient="records"),
        "per_curve": scores.to_dict(orient="records"),
    }


SECTIONS = (
    "bootstrap",
    "starts",
    "coverage",
    "chinchilla",
    "evaluate",
    "evaluate_speed",
    "alabdulmohsin",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=SECTIONS, action="append")
    parser.add_argument(
        "--curves", type=int, default=None, help="alabdulmohsin: first N curves per domain"
    )
    args = parser.parse_args()
    warnings.simplefilter("ignore", FitConvergenceWarning)
    RESULTS.mkdir(parents=True, exist_ok=True)
    machine = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "omp_threads": os.environ.get("OMP_NUM_THREADS"),
    }
    for name in args.only or SECTIONS:
        start = time.perf_counter()
        if name == "alabdulmohsin":
            result = bench_alabdulmohsin(args.curves)
        else:
            result = globals()[f"bench_{name}"]()
        result["wall_seconds"] = round(time.perf_counter() - start, 1)
        result["machine"] = machine
        path = RESULTS / f"fitting_{name}.json"
        path.write_text(json.dumps(result, indent=1, default=_plain))
        print(f"{name}: {result['wall_seconds']} s -> {path.relative_to(ROOT)}")
        if name == "alabdulmohsin":
            print(pd.DataFrame(result["summary"]).round(4).to_string(index=False))


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


if __name__ == "__main__":
    main()

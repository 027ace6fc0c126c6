"""Benchmark and accuracy report of scaletime.theory; writes benchmarks/results/theory.json.

Run: ``OMP_NUM_THREADS=1 python benchmarks/bench_theory.py`` (single thread, like CI's share).

Targets (issue 5): the law on 10^5 points in < 1 s; the exact model at p = n = 1000 in < 5 s.
Also records the accuracy figures the docs quote: (a) vs (c), (b) vs (a), the subspace slope.

``python benchmarks/bench_theory.py --tempering`` instead scans the law's fixed tempering ρ
(``law.TEMPERING``): for each ρ, the RMS log error of the law fitted to the standard linear
problem (``curves.fit_matched_law``), written to ``benchmarks/results/theory_tempering.json``
(docs/theory.md, L4).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np

from scaletime.theory import curves, law, linear, subspace

RESULTS = Path(__file__).parent / "results" / "theory.json"


def _best_of(function, repeats: int = 3) -> float:
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def bench_law() -> dict:
    rng = np.random.default_rng(0)
    points = 100_000
    size, time_, data = (10 ** rng.uniform(0, 6, points) for _ in range(3))
    noise = rng.uniform(0, 0.5, points)
    seconds = _best_of(lambda: law.unified_error(size, time_, data, noise))
    return {"points": points, "seconds": seconds, "target_seconds": 1.0}


def bench_exact() -> dict:
    problem = linear.LinearProblem(dim=2000, noise=0.3)
    times = np.geomspace(1e-3, 1e4, 50)
    seconds = _best_of(lambda: linear.exact_error(problem, 1000, 1000, times), repeats=2)
    dual = _best_of(lambda: linear.exact_error(problem, 4000, 1000, times), repeats=2)
    limit = _best_of(lambda: linear.deterministic_error(problem, 1000, 1000, times), repeats=2)
    return {
        "dim": 2000,
        "times": times.size,
        "exact_p1000_n1000_seconds": seconds,
        "exact_p4000_n1000_seconds (dual path)": dual,
        "deterministic_p1000_n1000_seconds": limit,
        "target_seconds": 5.0,
    }


def accuracy_gd() -> dict:
    """(a) vs (c): the 24 points of tests/theory/test_theory_linear.py."""
    settings = [
        (linear.LinearProblem(dim=200, spectrum="isotropic", noise=0.5), 40, 50, (0.5, 100.0)),
        (linear.LinearProblem(dim=200, spectrum="isotropic", noise=0.5), 60, 50, (0.5, 100.0)),
        (linear.LinearProblem(dim=300, noise=0.3), 30, 100, (0.01, 10.0)),
        (linear.LinearProblem(dim=300, noise=0.3), 200, 100, (0.01, 10.0)),
    ]
    deviations = []
    for problem, size, data, span in settings:
        draw = linear.draw_realisation(problem, size, data, seed=5)
        reached, simulated = linear.simulate_gd(
            problem, size, data, np.geomspace(*span, 6), realisation=draw, step_fraction=0.02
        )
        exact = linear.exact_error(
            problem, size, data, reached, realisation=draw, noise_averaged=False
        )
        deviations.extend(np.abs(simulated / exact - 1).tolist())
    return {"points": len(deviations), "max_relative_deviation": max(deviations)}


def accuracy_limit() -> dict:
    """(b) vs mean of (a) over 8 realisations, p, n ≥ 500 away from the peak, and at the peak."""
    cases = {
        "isotropic p=500 n=1000": (linear.LinearProblem(1500, "isotropic", noise=0.3), 500, 1000),
        "power p=1000 n=500": (linear.LinearProblem(1500, noise=0.3), 1000, 500),
        "power p=500 n=1500": (linear.LinearProblem(1500, noise=0.3), 500, 1500),
        "power p=500 n=500 (peak)": (linear.LinearProblem(1500, noise=0.3), 500, 500),
    }
    out = {}
    for label, (problem, size, data) in cases.items():
        times = (
            np.geomspace(0.3, 1e4, 8) if problem.spectrum == "power" else np.geomspace(0.01, 100, 8)
        )
        mean, sem = linear.exact_error_mean(problem, size, data, times, realisations=8)
        limit = linear.deterministic_error(problem, size, data, times)
        out[label] = {
            "max_relative_deviation": float(np.max(np.abs(limit / mean - 1))),
            "max_relative_sem": float(np.max(sem / mean)),
        }
    return out


def accuracy_subspace() -> dict:
    model = subspace.SubspaceModel(full_dim=2000)
    taus = np.array([0.5, 1.0, 2.0])
    table = subspace.equivalence_gap(model, np.array([32, 64, 128, 256, 512, 1024]), taus, seeds=8)
    return {"taus": taus.tolist(), "slopes": subspace.gap_slope(table).tolist()}


def tempering_scan(values: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75)) -> dict:
    """RMS log error of the law fitted to the standard problem, for each fixed tempering ρ."""
    original, rows = law.TEMPERING, []
    try:
        for rho in values:
            law.TEMPERING = rho  # read by law.unified_error at call time
            params, rms = curves.fit_matched_law()
            rows.append({"tempering": rho, "rms_log_error": rms, "params": params})
    finally:
        law.TEMPERING = original
    return {"problem": "curves.STANDARD_PROBLEM, grid of curves.fit_matched_law", "scan": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tempering", action="store_true", help="only the ρ scan")
    if parser.parse_args().tempering:
        scan = tempering_scan()
        path = RESULTS.with_name("theory_tempering.json")
        path.write_text(json.dumps(scan, indent=2) + "\n")
        for row in scan["scan"]:
            print(f"rho = {row['tempering']:.2f}: RMS log error {row['rms_log_error']:.3f}")
        return
    report = {
        "machine": platform.platform(),
        "python": platform.python_version(),
        "law": bench_law(),
        "exact": bench_exact(),
        "accuracy_gd_vs_exact": accuracy_gd(),
        "accuracy_limit_vs_exact": accuracy_limit(),
        "subspace_slope": accuracy_subspace(),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

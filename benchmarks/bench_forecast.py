"""The forecast benchmark (docs/forecast.md, "Benchmark"): ``ScalingForecaster`` on the law
benchmark's fixed cases (``benchmarks/bench_laws.py``), its backtests seeing only each case's
training part, scored on the held-out part against the best single law of
``benchmarks/results/laws.json``; its 80% intervals' coverage and median width per case, beside
the unified law's own bootstrap (new-run) intervals measured the same way.

    python benchmarks/bench_forecast.py                  # all cases
    python benchmarks/bench_forecast.py --cases demo     # names containing the string

Results: ``benchmarks/results/forecast.json``. Each case's backtest and held-out predictions are
also cached under ``runs/forecast-cache/`` (npz) so that combination settings can be compared
without refitting (``--recombine``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from bench_laws import (
    HERE,
    ONE_VARIABLE,
    SHARED,
    _clean,
    _lm_table,
    _sweep_table,
    case_names,
)

from scaletime.fitting.errors import FitConvergenceWarning, FittingError
from scaletime.fitting.estimator import ScalingLawRegressor
from scaletime.fitting.evaluate import BASELINES, holdout_split, rmsle
from scaletime.fitting.external import load_alabdulmohsin
from scaletime.forecasting import ScalingForecaster
from scaletime.table import CurveTable

CACHE = HERE.parent / "runs" / "forecast-cache"
CONFIDENCE = 0.8


def _coverage(y: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[float, float]:
    """Share of ``y`` inside ``[lo, hi]`` and the median log width (an unbounded band counts as
    covering, with infinite width); NaN bounds (no interval) are left out."""
    ok = ~(np.isnan(lo) | np.isnan(hi))
    if not ok.any():
        return float("nan"), float("nan")
    inside = (y[ok] >= lo[ok]) & (y[ok] <= hi[ok])
    with np.errstate(divide="ignore", invalid="ignore"):
        width = float(np.median(np.log(hi[ok] / lo[ok])))
    return float(np.mean(inside)), width


def _save(
    name: str, model: ScalingForecaster, test_log_pred: np.ndarray, y: np.ndarray, ratio: np.ndarray
) -> None:
    CACHE.mkdir(parents=True, exist_ok=True)
    bt = model.backtest_
    np.savez(
        CACHE / f"{name.replace('/', '__')}.npz",
        names=np.array(bt.names),
        fitted=np.array(sorted(model.predictors_)),
        bt_origin=bt.points["origin"].to_numpy(),
        bt_cut=bt.points["cut"].to_numpy(float),
        bt_row=bt.points["row"].to_numpy(),
        bt_ratio=bt.points["ratio"].to_numpy(float),
        bt_y=bt.points["y"].to_numpy(float),
        bt_log_pred=bt.log_pred,
        cuts=np.array(bt.cuts, float),
        cut=model.cut_,
        axis=model.axis,
        test_log_pred=test_log_pred,
        test_y=y,
        test_ratio=ratio,
    )


def _unified_bootstrap(train: CurveTable, test: pd.DataFrame) -> tuple[float, float]:
    rows = train.frame.loc[train.frame["metric"] > 0]
    try:
        est = ScalingLawRegressor("unified", n_bootstrap=50).fit(
            rows, groups=rows["run"].to_numpy()
        )
        lo, hi = est.predict_interval(test, "new-run", CONFIDENCE)
    except FittingError:
        return float("nan"), float("nan")
    return _coverage(test["metric"].to_numpy(float), lo, hi)


def forecast_part(
    name: str,
    train: CurveTable,
    test: pd.DataFrame,
    axis: str,
    *,
    candidates: list[str] | None = None,
    fit_options: dict[str, Any] | None = None,
    bootstrap: bool = True,
) -> dict[str, Any]:
    t0 = time.process_time()
    model = ScalingForecaster(
        axis, candidates=candidates, confidence=CONFIDENCE, fit_options=fit_options
    ).fit(train)
    test = test.reset_index(drop=True)
    frame = model.predict_frame(test)
    y = test["metric"].to_numpy(float)
    _save(name, model, model.log_predictions(test), y, frame["ratio"].to_numpy(float))
    cov, width = _coverage(y, frame["low"].to_numpy(float), frame["high"].to_numpy(float))
    out = {
        "rmsle": rmsle(y, frame["forecast"].to_numpy(float)),
        "coverage": cov,
        "median_width_log": width,
        "method": model.method_,
        "interval_source": model.interval_source_,
        "n_origins": len(np.unique(model.backtest_.points["origin"])),
        "backtest_coverage": model.backtest_coverage_,
        "loo_rmsle": model.loo_rmsle_,
        "used": model.used(test),
        "backtest_scores": dict(
            zip(model.scores_["forecaster"], model.scores_["backtest_rmsle"], strict=True)
        ),
        "max_ratio_asked": float(frame["ratio"].max()),
        "max_ratio_backtested": model.max_backtest_ratio(),
        "cpu_s": time.process_time() - t0,
    }
    if bootstrap:
        out["unified_bootstrap_coverage"], out["unified_bootstrap_width_log"] = _unified_bootstrap(
            train, test
        )
    return out


def holdout_case(key: str, table: CurveTable, axis: str) -> dict[str, Any]:
    train, test, _ = holdout_split(table, axis)
    tests = {tuple(sorted(s.items())): t for s, t in test.settings()}
    parts = []
    for i, (setting, tr) in enumerate(train.settings()):
        te = tests.get(tuple(sorted(setting.items())))
        if te is None:
            continue
        te_rows = te.frame.loc[te.frame["metric"] > 0]
        parts.append({"setting": setting, **forecast_part(f"{key}-{i}", tr, te_rows, axis)})
    return _summarize(parts)


def _summarize(parts: list[dict[str, Any]]) -> dict[str, Any]:
    def mean(k: str) -> float:
        v = [p[k] for p in parts if p.get(k) is not None]
        return float(np.nanmean(v)) if v else float("nan")

    return {
        "rmsle": mean("rmsle"),
        "coverage": mean("coverage"),
        "median_width_log": mean("median_width_log"),
        "backtest_coverage": mean("backtest_coverage"),
        "unified_bootstrap_coverage": mean("unified_bootstrap_coverage"),
        "unified_bootstrap_width_log": mean("unified_bootstrap_width_log"),
        "cpu_s": float(sum(p.get("cpu_s", 0.0) for p in parts)),
        "parts": parts
        if len(parts) <= 4
        else [{k: p[k] for k in ("rmsle", "coverage", "method")} for p in parts],
    }


def alabdulmohsin_case(key: str, domain: str) -> dict[str, Any]:
    file = {
        "vision": "alabdulmohsin_benchmark_vision.csv",
        "language": "alabdulmohsin_benchmark_lang.csv",
    }[domain]
    curves = load_alabdulmohsin([SHARED / file])
    candidates = [*ONE_VARIABLE, *BASELINES]
    parts = []
    for i, (_, curve) in enumerate(curves.groupby(["Domain", "Task", "Model"], sort=False)):
        frame = pd.DataFrame(
            {
                "run": "curve",
                "size": 1.0,
                "time": curve["Seen Examples"].to_numpy(float),
                "metric": curve["Loss"].to_numpy(float),
                "train": curve["Training"].to_numpy() == 1,
            }
        )
        fit, target = frame[frame["train"]], frame[~frame["train"]]
        if len(target) == 0 or fit["time"].nunique() < 6:
            continue
        table = CurveTable(
            fit.drop(columns="train").reset_index(drop=True),
            {"time": "Seen Examples", "metric": "Loss"},
            (),
            ("size",),
        )
        parts.append(
            forecast_part(
                f"{key}-{i}",
                table,
                target.drop(columns="train"),
                "time",
                candidates=candidates,
                fit_options={"n_starts": 4},
                bootstrap=False,
            )
        )
    return _summarize(parts)


def run_case(key: str) -> tuple[str, dict[str, Any]]:
    warnings.simplefilter("ignore", FitConvergenceWarning)
    warnings.simplefilter("ignore", RuntimeWarning)
    name, _, axis = key.partition("/")
    if name.startswith("alabdulmohsin-"):
        return key, alabdulmohsin_case(key, name.removeprefix("alabdulmohsin-"))
    table = (
        _lm_table(key) if name.startswith(("chinchilla-epoch", "isoflops-")) else _sweep_table(name)
    )
    return key, holdout_case(key, table, axis)


def best_laws() -> dict[str, tuple[str, float]]:
    """Per case, the best single law (not a baseline) of the law benchmark, picked after the fact."""
    laws = json.loads((HERE / "results" / "laws.json").read_text())["cases"]
    out = {}
    for key, case in laws.items():
        scores = {k: v for k, v in case["rmsle"].items() if v is not None and k not in BASELINES}
        if scores:
            law = min(scores, key=scores.get)
            out[key] = (law, scores[law])
    return out


def report(cases: dict[str, Any]) -> dict[str, Any]:
    best = best_laws()
    rows = []
    for key, case in cases.items():
        law, score = best.get(key, ("", float("nan")))
        rows.append(
            {
                "case": key,
                "forecast": case["rmsle"],
                "best_law": law,
                "best_law_rmsle": score,
                "ratio": case["rmsle"] / score if score else float("nan"),
                "coverage80": case["coverage"],
                "width_log": case["median_width_log"],
                "unified_boot_cov80": case["unified_bootstrap_coverage"],
            }
        )
    table = pd.DataFrame(rows)
    pd.set_option("display.width", 200)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    within = int((table["ratio"] <= 1.1).sum())
    better = int((table["ratio"] < 1.0).sum())
    summary = {
        "n_cases": len(table),
        "within_1.1x_best_law": within,
        "better_than_best_law": better,
        "mean_coverage80": float(table["coverage80"].mean()),
        "mean_unified_bootstrap_coverage80": float(table["unified_boot_cov80"].mean()),
        "table": rows,
    }
    print(
        f"\nforecast within 1.1x of the best law on {within}/{len(table)} cases; better on "
        f"{better}; mean 80% coverage {summary['mean_coverage80']:.3f} (unified bootstrap "
        f"{summary['mean_unified_bootstrap_coverage80']:.3f})"
    )
    return summary


def recombine(keys: list[str], **params: Any) -> dict[str, Any]:
    """Each cached case recombined with other :class:`ScalingForecaster` parameters (no
    refitting): held-out RMSLE and 80% coverage per case (bootstrap fallbacks excluded)."""
    from scaletime.forecasting.backtest import Backtest

    out: dict[str, Any] = {}
    for key in keys:
        stem = key.replace("/", "__")
        files = sorted(CACHE.glob(f"{stem}-*.npz"))
        parts = []
        for f in files:
            z = np.load(f, allow_pickle=False)
            points = pd.DataFrame({k: z[f"bt_{k}"] for k in ("origin", "cut", "row", "ratio", "y")})
            bt = Backtest(list(z["cuts"]), points, z["bt_log_pred"], list(z["names"]))
            model = ScalingForecaster.from_backtest(
                bt,
                list(z["fitted"]),
                str(z["axis"]),
                float(z["cut"]),
                confidence=CONFIDENCE,
                **params,
            )
            log_f, lo, hi, _ = model.combine_log(z["test_log_pred"], np.log(z["test_ratio"]))
            y = z["test_y"]
            cov = np.mean((np.log(y) >= log_f + lo) & (np.log(y) <= log_f + hi))
            conformal = model.interval_source_ == "conformal"
            spans = (hi - lo)[np.isfinite(hi - lo)]
            parts.append(
                {
                    "rmsle": rmsle(y, np.exp(log_f)),
                    "coverage": cov if conformal else None,
                    "median_width_log": float(np.median(spans))
                    if conformal and len(spans)
                    else None,
                    "method": model.method_,
                }
            )
        if parts:
            out[key] = _summarize(parts)
    return out


def _case_parts(key: str) -> list[tuple[CurveTable, pd.DataFrame]]:
    """The (train, held-out rows) pairs of a holdout case, in the order they are cached."""
    name, _, axis = key.partition("/")
    table = (
        _lm_table(key) if name.startswith(("chinchilla-epoch", "isoflops-")) else _sweep_table(name)
    )
    train, test, _ = holdout_split(table, axis)
    tests = {tuple(sorted(s.items())): t for s, t in test.settings()}
    out = []
    for setting, tr in train.settings():
        te = tests.get(tuple(sorted(setting.items())))
        if te is not None:
            out.append((tr, te.frame.loc[te.frame["metric"] > 0].reset_index(drop=True)))
    return out


def refresh(key: str, candidate: str) -> int:
    """Refit one candidate in a cached holdout case (backtests at the cached cuts and the final
    fit), as :func:`scaletime.forecasting.backtest.run_backtests` and the forecaster do, and
    rewrite its cached predictions; returns the parts refreshed."""
    from scaletime.fitting.evaluate import subset
    from scaletime.forecasting.backtest import FALLBACK
    from scaletime.forecasting.candidates import Candidate

    axis = key.partition("/")[2]
    done = 0
    for i, (train, test) in enumerate(_case_parts(key)):
        path = CACHE / f"{key.replace('/', '__')}-{i}.npz"
        if not path.is_file():
            continue
        z = dict(np.load(path, allow_pickle=False))
        names = list(z["names"])
        if candidate not in names:
            continue
        j = names.index(candidate)
        cand, values = Candidate(candidate), train.frame[axis].to_numpy(float)
        for cut in np.unique(z["bt_cut"]):
            here = z["bt_cut"] == cut
            fit = subset(train, values <= cut)
            rows = train.frame.iloc[z["bt_row"][here]]
            fallback = Candidate(FALLBACK).fit(fit, axis, {})(rows)
            try:
                pred = cand.fit(fit, axis, {"n_starts": 2, "max_grid": 64})(rows)
            except FittingError:
                pred = np.full(len(rows), np.nan)
            z["bt_log_pred"][j, here] = np.log(np.where(np.isfinite(pred), pred, fallback))
        fallback = Candidate(FALLBACK).fit(train, axis, {})(test)
        pred = cand.fit(train, axis, {})(test)
        z["test_log_pred"][j] = np.log(np.where(np.isfinite(pred), pred, fallback))
        np.savez(path, **z)
        done += 1
    return done


def merge_refreshed(keys: list[str], candidate: str) -> None:
    """Held-out forecasts and conformal coverage of the cached holdout cases recomputed (default
    parameters) after :func:`refresh` refitted ``candidate``; cases whose intervals fell back
    to the bootstrap keep the coverage measured by the run (the bootstrap law is a law, which
    the refreshed candidate does not change)."""
    path = HERE / "results" / "forecast.json"
    payload = json.loads(path.read_text())
    again = recombine([k for k in keys if not k.startswith("alabdulmohsin")])
    for key, case in again.items():
        stored = payload["cases"][key]
        stored["rmsle"] = case["rmsle"]
        for k in ("coverage", "median_width_log"):
            if case[k] is not None and np.isfinite(case[k]):
                stored[k] = case[k]
        stored["refreshed"] = candidate
    payload["refreshed"] = (
        f"{candidate} refitted in the cached cases after the run (benchmarks/bench_forecast.py "
        f"--refresh {candidate}); held-out forecasts recombined from the cache"
    )
    payload["summary"] = report(payload["cases"])
    path.write_text(json.dumps(_clean(payload), indent=1))
    print(f"wrote {path}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--cases", default="", help="only cases whose name contains this")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument(
        "--recombine",
        default=None,
        help="JSON of ScalingForecaster parameters: recombine the cached cases",
    )
    ap.add_argument(
        "--refresh",
        default=None,
        help="refit this candidate in the cached holdout cases, then stop",
    )
    ap.add_argument(
        "--merge-refreshed",
        default=None,
        help="after --refresh NAME: recompute forecast.json's held-out scores from the cache "
        "(intervals of bootstrap-fallback cases kept as run)",
    )
    ap.add_argument(
        "--update",
        action="store_true",
        help="run the --cases and replace them in forecast.json (summary redone)",
    )
    args = ap.parse_args()
    keys = [k for k in case_names() if args.cases in k and "in-sample" not in k]
    if args.refresh is not None:
        for key in keys:
            if not key.startswith("alabdulmohsin"):
                print(f"  {key}: {refresh(key, args.refresh)} part(s)", flush=True)
        return
    if args.recombine is not None:
        report(recombine(keys, **json.loads(args.recombine)))
        return
    if args.merge_refreshed:
        merge_refreshed(keys, args.merge_refreshed)
        return
    t0 = time.perf_counter()
    cases: dict[str, Any] = {}
    progress = HERE / "results" / "forecast-progress-partial.json"
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(run_case, k) for k in keys]
        for future in as_completed(futures):
            key, result = future.result()
            cases[key] = result
            print(
                f"  {key}: {time.perf_counter() - t0:.0f} s, forecast {result['rmsle']:.3f} "
                f"cov {result['coverage']:.2f}",
                file=sys.stderr,
                flush=True,
            )
            progress.write_text(json.dumps(_clean(cases), indent=1))
    cases = {k: cases[k] for k in keys}
    if args.update:
        path = HERE / "results" / "forecast.json"
        payload = json.loads(path.read_text())
        payload["cases"].update(_clean(cases))
        payload.setdefault("updated", []).append(sorted(cases))
        payload["summary"] = report(payload["cases"])
        path.write_text(json.dumps(_clean(payload), indent=1))
        print(f"updated {len(cases)} case(s) in {path}")
        return
    summary = report(cases)
    out = args.out or HERE / "results" / (
        "forecast-partial.json" if args.cases else "forecast.json"
    )
    payload = {
        "confidence": CONFIDENCE,
        "wall_s": time.perf_counter() - t0,
        "summary": summary,
        "cases": cases,
    }
    out.write_text(json.dumps(_clean(payload), indent=1))
    print(f"wrote {out} in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()

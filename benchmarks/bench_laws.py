"""The law benchmark (docs/fitting.md, "Law benchmark"): every law of the catalogue and the two
naive baselines, held-out RMSLE per case, the best per case marked.

Cases (a fixed list: add cases, never drop one):

* the ``cpu`` paper sweeps (tidy tables committed under ``benchmarks/data/``, made by
  ``benchmarks/make_law_data.py``): a size and a time hold-out each, a data hold-out where the
  sweep varies data (largest 25% of the axis' distinct values held out);
* Alabdulmohsin et al.'s vision and language curves, their own split (per-curve RMSE of log loss,
  averaged over curves);
* Epoch's Chinchilla points (5 highest-loss points dropped, as Epoch), largest 25% of N held out;
* the language-model IsoFLOP set, per source (QC outliers dropped), largest 25% of N held out.

Also, per paper sweep, every law's in-sample RMSLE next to the sweep's seed-noise floor.

    python benchmarks/bench_laws.py                 # all cases, default fit options
    python benchmarks/bench_laws.py --loss mse      # another loss (the default was chosen so)
    python benchmarks/bench_laws.py --cases demo    # a subset (names contain the string)

Results: ``benchmarks/results/laws[-LOSS].json``.
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

from scaletime.fitting.errors import FitConvergenceWarning
from scaletime.fitting.evaluate import (
    BASELINES,
    baseline_predictions,
    evaluate_laws,
    holdout_split,
    rmsle,
    score_law,
    seed_floor,
)
from scaletime.fitting.external import load_alabdulmohsin, load_chinchilla, score_alabdulmohsin
from scaletime.fitting.laws import LAWS
from scaletime.table import CurveTable, load_fit_table

HERE = Path(__file__).parent
SHARED = HERE.parent.parent / "shared" / "data" / "external"
ONE_VARIABLE = [n for n in LAWS if len(LAWS[n]().roles) == 1]


def _setting_mean(scores: pd.DataFrame) -> dict[str, float]:
    """Per law, the mean held-out RMSLE over the table's settings (NaN if any setting failed)."""
    out = {}
    for law, rows in scores.groupby("law", sort=False):
        ok = rows["status"] == "ok"
        out[str(law)] = float(rows["rmsle"].mean()) if ok.all() and len(rows) else float("nan")
    return out


def _baselines(train: CurveTable, test: CurveTable, axis: str) -> dict[str, float]:
    scores: dict[str, list[float]] = {b: [] for b in BASELINES}
    tests = {tuple(sorted(s.items())): t for s, t in test.settings()}
    for setting, tr in train.settings():
        te = tests.get(tuple(sorted(setting.items())))
        if te is None:
            continue
        te = CurveTable(
            te.frame.loc[te.frame["metric"] > 0].reset_index(drop=True),
            te.roles,
            te.setting_columns,
            te.constant_roles,
        )
        for name, pred in baseline_predictions(tr, te, axis).items():
            scores[name].append(rmsle(te.frame["metric"], pred))
    return {k: float(np.mean(v)) if v else float("nan") for k, v in scores.items()}


def holdout_case(
    table: CurveTable, axis: str, options: dict[str, Any], laws: list[str]
) -> dict[str, Any]:
    train, test, threshold = holdout_split(table, axis)
    t0 = time.process_time()
    scores = evaluate_laws(train, test, laws=laws, axis=axis, fit_options=options)
    result = {**_setting_mean(scores), **_baselines(train, test, axis)}
    rows = table.frame[axis].to_numpy() >= threshold
    return {
        "threshold": threshold,
        "rmsle": result,
        "seed_floor": seed_floor(table, rows),
        "cpu_s": time.process_time() - t0,
        "notes": {r["law"]: r["note"] for _, r in scores.iterrows() if r["note"]},
    }


#: Laws whose in-sample fit is reported per sweep (the one-variable laws, fitted curve by curve,
#: would double the benchmark's time; their held-out scores are in the time cases).
IN_SAMPLE_LAWS = ("unified", "chinchilla-time", "chinchilla-time-tied", "kaplan", "rosenfeld-time")


def in_sample(table: CurveTable, options: dict[str, Any], laws: list[str]) -> dict[str, Any]:
    out = {}
    for law in [n for n in laws if n in IN_SAMPLE_LAWS or n in ("chinchilla", "rosenfeld")]:
        per_setting = [
            score_law(law, part, part, axis=None, fit_options=options)
            for _, part in table.settings()
        ]
        ok = all(s.status == "ok" for s in per_setting)
        out[law] = float(np.mean([s.rmsle for s in per_setting])) if ok else float("nan")
    return {"rmsle": out, "seed_floor": seed_floor(table)}


def _sweep_table(name: str) -> CurveTable:
    return load_fit_table(HERE / "data" / f"{name}-cpu.parquet")


def _lm_table(key: str) -> CurveTable:
    if key.startswith("chinchilla-epoch"):
        points = load_chinchilla(SHARED / "chinchilla_epoch_svg_extracted.csv")
        return load_fit_table(points, size="n_params", data="tokens", metric="loss")
    source = key.removeprefix("isoflops-").split("/")[0]
    iso = pd.read_csv(SHARED / "isoflops_llama3_marin_scalefit.csv")
    rows = iso.loc[~iso["outlier"].astype(bool) & (iso["source"] == source)]
    return load_fit_table(
        rows.reset_index(drop=True),
        size="params",
        data="tokens",
        metric="loss",
        group_by=["experiment"],
    )


def alabdulmohsin_case(domain: str, options: dict[str, Any], laws: list[str]) -> dict[str, Any]:
    file = {
        "vision": "alabdulmohsin_benchmark_vision.csv",
        "language": "alabdulmohsin_benchmark_lang.csv",
    }[domain]
    curves = load_alabdulmohsin([SHARED / file])
    t0 = time.process_time()
    scores = score_alabdulmohsin(
        curves, [n for n in ONE_VARIABLE if n in laws], fit_options=options
    )
    result = {
        law: float(rows["rmse_log"].mean()) if (rows["status"] == "ok").all() else np.nan
        for law, rows in scores.groupby("law", sort=False)
    }
    base: dict[str, list[float]] = {b: [] for b in BASELINES}
    for _, curve in curves.groupby(["Domain", "Task", "Model"], sort=False):
        fit, target = curve[curve["Training"] == 1], curve[curve["Training"] == 0]
        if len(target) == 0 or len(fit) == 0:
            continue
        last = fit.sort_values("Seen Examples")["Loss"].iloc[-1]
        for b in BASELINES:  # one curve: both baselines are its last fitted value
            base[b].append(rmsle(target["Loss"], np.full(len(target), last)))
    result.update({b: float(np.mean(v)) for b, v in base.items()})
    return {"rmsle": result, "cpu_s": time.process_time() - t0, "seed_floor": None}


def run_case(key: str, options: dict[str, Any], laws: list[str]) -> tuple[str, dict[str, Any]]:
    """One case by name: ``SWEEP/AXIS``, ``SWEEP/in-sample``, ``alabdulmohsin-DOMAIN``,
    ``chinchilla-epoch/size`` or ``isoflops-SOURCE/size``."""
    warnings.simplefilter("ignore", FitConvergenceWarning)
    name, _, axis = key.partition("/")
    if name.startswith("alabdulmohsin-"):
        return key, alabdulmohsin_case(name.removeprefix("alabdulmohsin-"), options, laws)
    if name.startswith(("chinchilla-epoch", "isoflops-")):
        return key, holdout_case(_lm_table(key), axis, options, laws)
    table = _sweep_table(name)
    if axis == "in-sample":
        return key, in_sample(table, options, laws)
    return key, holdout_case(table, axis, options, laws)


def case_names() -> list[str]:
    """The fixed list of cases (docs/fitting.md, "Law benchmark")."""
    keys = []
    for path in sorted((HERE / "data").glob("*-cpu.parquet")):
        name = path.name.removesuffix("-cpu.parquet")
        varying = _sweep_table(name).varying_roles()
        keys += [f"{name}/{a}" for a in ("size", "time", "data") if a in varying]
        keys.append(f"{name}/in-sample")
    keys += ["alabdulmohsin-vision", "alabdulmohsin-language", "chinchilla-epoch/size"]
    iso = pd.read_csv(SHARED / "isoflops_llama3_marin_scalefit.csv")
    keys += [f"isoflops-{source}/size" for source in sorted(iso["source"].unique())]
    return keys


def _clean(obj: Any) -> Any:
    """JSON-ready: NaN and inf as null, numpy scalars as Python numbers."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj


def summarize(cases: dict[str, Any]) -> pd.DataFrame:
    frame = pd.DataFrame({k: v["rmsle"] for k, v in cases.items() if "in-sample" not in k}).T
    return frame


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--loss", default=None, help="huber, mse or mae (default: the fitter's)")
    ap.add_argument("--delta", default=None, help="Huber delta (a number or 'auto')")
    ap.add_argument("--cases", default="", help="only cases whose name contains this")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    ap.add_argument("--laws", default="", help="comma-separated laws (default: the catalogue)")
    args = ap.parse_args()
    options: dict[str, Any] = {}
    if args.loss:
        options["loss"] = args.loss
    if args.delta:
        options["delta"] = args.delta if args.delta == "auto" else float(args.delta)
    laws = [x.strip() for x in args.laws.split(",") if x.strip()] or list(LAWS)
    t0 = time.perf_counter()
    keys = [k for k in case_names() if args.cases in k]
    cases: dict[str, Any] = {}
    progress = HERE / "results" / "laws-progress-partial.json"
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(run_case, key, options, laws) for key in keys]
        for future in as_completed(futures):
            key, result = future.result()
            cases[key] = result
            u = result["rmsle"].get("unified")
            print(
                f"  {key}: {time.perf_counter() - t0:.0f} s, unified {u}",
                file=sys.stderr,
                flush=True,
            )
            progress.write_text(json.dumps(_clean(cases), indent=1))
    cases = {k: cases[k] for k in keys}
    table = summarize(cases)
    laws = [c for c in table.columns if c not in BASELINES]
    best = table[laws + list(BASELINES)].min(axis=1)
    shown = table.copy()
    for col in shown.columns:
        shown[col] = [
            ("*" if np.isfinite(v) and v <= b * (1 + 1e-9) else " ")
            + (f"{v:.3f}" if np.isfinite(v) else "  n/a")
            for v, b in zip(table[col], best, strict=True)
        ]
    pd.set_option("display.width", 250)
    pd.set_option("display.max_columns", 30)
    print("held-out RMSLE per case (* best); in-sample vs seed floor below")
    print(shown.to_string())
    if "unified" in table:
        rival = table[[c for c in laws if c != "unified"] + list(BASELINES)].min(axis=1)
        u = table["unified"]
        close = u <= np.maximum(rival * 1.1, rival + 0.005)
        print(
            f"\nunified best or within max(10%, 0.005) on {int(close.sum())}/{len(u)} cases; "
            f"worst ratio to the best {np.nanmax(u / best):.2f}"
        )
    for k, v in cases.items():
        if "in-sample" in k:
            floor = v["seed_floor"]
            unified = v["rmsle"].get("unified", np.nan)
            print(
                f"{k}: unified {unified:.3f} vs seed floor {floor:.3f} "
                f"(ratio {unified / floor:.2f})"
            )
    tag = "".join(f"-{x}" for x in (args.loss, args.delta) if x)
    out = args.out or HERE / "results" / f"laws{tag}.json"
    if args.cases or args.laws:
        out = out.with_name(out.stem + "-partial.json")
    payload = {"options": options, "laws": laws, "wall_s": time.perf_counter() - t0, "cases": cases}
    out.write_text(json.dumps(_clean(payload), indent=1))
    print(f"\nwrote {out} in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()

"""Published benchmarks the fitter is checked against (docs/fitting.md, "External checks").

* **Chinchilla / Epoch AI.** 245 (N, C, L) points digitised from Hoffmann et al.'s Figure 4 by
  Besiroglu et al. (2024); tokens ``D = C / (6N)``. Epoch's protocol: drop the 5 highest-loss
  points, fit ``log L = LSE(a - alpha log N, b - beta log D, e)`` with a Huber loss
  (``delta = 1e-3``) by L-BFGS from a grid of initialisations, keep the best.
  Their refit: ``E = 1.817 (0.026)``, ``A = 482``, ``B = 2085``, ``alpha = 0.348 (0.015)``,
  ``beta = 0.366 (0.021)`` (standard errors in brackets).
* **Alabdulmohsin et al. (2022).** 92 learning curves (loss against examples seen) with a
  ``Training`` column (1 = fit, 0 = extrapolation target). Scored their way: per curve
  (``Domain x Task x Model``), the RMSE of the natural log of the loss on the target points.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import logsumexp, softmax

from scaletime.fitting.errors import FitConvergenceWarning, FittingError
from scaletime.fitting.estimator import ScalingLawRegressor
from scaletime.fitting.losses import huber

CHINCHILLA_FILE = "chinchilla_epoch_svg_extracted.csv"
ALABDULMOHSIN_FILES = ("alabdulmohsin_benchmark_vision.csv", "alabdulmohsin_benchmark_lang.csv")

#: Epoch AI's refit on the digitised points: value and standard error (None: not reported).
EPOCH_REFIT: dict[str, tuple[float, float | None]] = {
    "E": (1.817, 0.026),
    "A": (482.0, None),
    "B": (2085.0, None),
    "alpha": (0.348, 0.015),
    "beta": (0.366, 0.021),
}
#: Epoch's initialisation grid (Besiroglu et al. 2024, following Hoffmann et al. 2022).
EPOCH_GRID: dict[str, tuple[float, ...]] = {
    "alpha": (0.0, 0.5, 1.0, 1.5, 2.0),
    "beta": (0.0, 0.5, 1.0, 1.5, 2.0),
    "e": (-1.0, -0.5, 0.0, 0.5, 1.0),
    "a": (0.0, 5.0, 10.0, 15.0, 20.0, 25.0),
    "b": (0.0, 5.0, 10.0, 15.0, 20.0, 25.0),
}
CURVE_COLUMNS = ("Domain", "Task", "Model")


# -------------------------------------------------------------------------------- Chinchilla


def load_chinchilla(path: str | Path, n_drop_highest: int = 5) -> pd.DataFrame:
    """Epoch's digitised Chinchilla points as ``n_params, tokens, flops, loss``.

    ``tokens = flops / (6 n_params)``; the ``n_drop_highest`` highest-loss points are removed
    (Epoch's exclusion; 0 keeps all).
    """
    path = Path(path)
    if not path.exists():
        raise FittingError(f"Chinchilla points file {str(path)!r} does not exist")
    raw = pd.read_csv(path)
    missing = {"Model Size", "Training FLOP", "loss"} - set(raw.columns)
    if missing:
        raise FittingError(f"{path.name} lacks the column(s) {sorted(missing)}")
    df = pd.DataFrame(
        {
            "n_params": raw["Model Size"].astype(float),
            "flops": raw["Training FLOP"].astype(float),
            "loss": raw["loss"].astype(float),
        }
    )
    df["tokens"] = df["flops"] / (6.0 * df["n_params"])
    if n_drop_highest:
        df = df.drop(index=df["loss"].nlargest(n_drop_highest).index)
    return df.reset_index(drop=True)


def _epoch_objective(theta: np.ndarray, log_n, log_d, log_l, delta) -> tuple[float, np.ndarray]:
    """Huber objective on ``LSE(a - alpha log N, b - beta log D, e) - log L`` and its gradient;
    ``theta = (a, b, e, alpha, beta)``."""
    a, b, e, alpha, beta = theta
    u = np.column_stack([a - alpha * log_n, b - beta * log_d, np.full_like(log_n, e)])
    r = logsumexp(u, axis=1) - log_l
    w = softmax(u, axis=1)
    psi = np.clip(r, -delta, delta)  # Huber derivative
    grad = np.array(
        [
            np.sum(psi * w[:, 0]),
            np.sum(psi * w[:, 1]),
            np.sum(psi * w[:, 2]),
            -np.sum(psi * w[:, 0] * log_n),
            -np.sum(psi * w[:, 1] * log_d),
        ]
    )
    return float(np.sum(huber(r, delta))), grad


def fit_chinchilla_epoch(
    n_params: np.ndarray,
    tokens: np.ndarray,
    loss: np.ndarray,
    *,
    delta: float = 1e-3,
    n_best: int | None = None,
) -> dict[str, Any]:
    """Epoch AI's Chinchilla protocol: L-BFGS on the Huber/LSE objective from a grid.

    Parameters
    ----------
    n_params, tokens, loss : arrays
    delta : float
        Huber threshold on the log loss.
    n_best : int, optional
        Run L-BFGS only from the ``n_best`` grid points with the lowest starting objective
        (default: from all 4,500 points, as Epoch did).

    Returns
    -------
    dict
        ``params`` (``E, A, B, alpha, beta``), ``objective``, ``n_starts``.
    """
    log_n, log_d, log_l = np.log(n_params), np.log(tokens), np.log(loss)
    grid = np.array(
        [
            (a, b, e, al, be)
            for al, be, e, a, b in itertools.product(
                *(EPOCH_GRID[k] for k in ("alpha", "beta", "e", "a", "b"))
            )
        ]
    )
    if n_best is not None:
        a, b, e, alpha, beta = (grid[:, k : k + 1] for k in range(5))  # (n_grid, 1) each
        lse = np.logaddexp(np.logaddexp(a - alpha * log_n, b - beta * log_d), e)
        start_obj = huber(lse - log_l, delta).sum(axis=1)
        grid = grid[np.argsort(start_obj, kind="stable")[:n_best]]
    best_x, best_f = None, np.inf
    for theta0 in grid:
        res = minimize(
            _epoch_objective, theta0, args=(log_n, log_d, log_l, delta), jac=True, method="L-BFGS-B"
        )
        if res.fun < best_f:
            best_x, best_f = res.x, float(res.fun)
    a, b, e, alpha, beta = cast(np.ndarray, best_x)  # None only if every start gave NaN
    return {
        "params": {
            "E": float(np.exp(e)),
            "A": float(np.exp(a)),
            "B": float(np.exp(b)),
            "alpha": float(alpha),
            "beta": float(beta),
        },
        "objective": best_f,
        "n_starts": len(grid),
    }


# -------------------------------------------------------------------------- Alabdulmohsin


def load_alabdulmohsin(paths: Iterable[str | Path]) -> pd.DataFrame:
    """The benchmark's curves, from one or more of its CSV files, concatenated."""
    frames = []
    for path in paths:
        path = Path(path)
        if not path.exists():
            raise FittingError(f"Alabdulmohsin benchmark file {str(path)!r} does not exist")
        df = pd.read_csv(path)
        missing = {*CURVE_COLUMNS, "Seen Examples", "Loss", "Training"} - set(df.columns)
        if missing:
            raise FittingError(f"{path.name} lacks the column(s) {sorted(missing)}")
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def score_alabdulmohsin(
    curves: pd.DataFrame,
    laws: Iterable[str] = ("m4", "bnsl", "unified-time"),
    *,
    fit_options: Mapping[str, Any] | None = None,
    progress: Callable[[str, str], None] | None = None,
) -> pd.DataFrame:
    """Per-curve extrapolation scores, the benchmark's own way.

    Each law is fitted to a curve's ``Training == 1`` points (loss against ``Seen Examples``)
    and scored by the RMSE of ``log(loss)`` on its ``Training == 0`` points.

    Returns
    -------
    DataFrame
        ``Domain, Task, Model, law, rmse_log, n_fit, n_target, status``.
    """
    rows = []
    options = {"n_starts": 4, **(fit_options or {})}
    for key, curve in curves.groupby(list(CURVE_COLUMNS), sort=False):
        fit = curve[curve["Training"] == 1]
        target = curve[curve["Training"] == 0]
        for law in laws:
            row = dict(
                zip(CURVE_COLUMNS, key, strict=True),
                law=law,
                n_fit=len(fit),
                n_target=len(target),
                rmse_log=np.nan,
                status="ok",
            )
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", FitConvergenceWarning)
                    est = ScalingLawRegressor(law, **options).fit(
                        {"time": fit["Seen Examples"].to_numpy()}, fit["Loss"].to_numpy()
                    )
                pred = est.predict({"time": target["Seen Examples"].to_numpy()})
                with np.errstate(all="ignore"):
                    err = np.log(pred) - np.log(target["Loss"].to_numpy())
                row["rmse_log"] = float(np.sqrt(np.mean(err**2))) if len(err) else np.nan
            except FittingError as exc:
                row["status"] = f"failed: {exc}"
            rows.append(row)
            if progress is not None:
                progress(law, "/".join(map(str, key)))
    return pd.DataFrame(rows)


def summarize_by_domain(scores: pd.DataFrame) -> pd.DataFrame:
    """Per domain and law: number of curves, mean, median and standard error of the per-curve
    RMSE of log loss, and the share of curves on which the law is best among those scored."""
    ok = scores[scores["status"] == "ok"].copy()
    best = ok.loc[ok.groupby(list(CURVE_COLUMNS))["rmse_log"].idxmin(), ["law", *CURVE_COLUMNS]]
    wins = best.groupby(["Domain", "law"]).size()
    out = (
        ok.groupby(["Domain", "law"])["rmse_log"]
        .agg(
            n_curves="size",
            mean="mean",
            median="median",
            se=lambda s: s.std(ddof=1) / np.sqrt(len(s)) if len(s) > 1 else np.nan,
        )
        .reset_index()
    )
    out["share_best"] = [
        wins.get((d, law), 0) / n
        for d, law, n in zip(out["Domain"], out["law"], out["n_curves"], strict=True)
    ]
    return out

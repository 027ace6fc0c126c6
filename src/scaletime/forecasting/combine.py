"""From backtest residuals to one forecast and its interval (docs/forecast.md, "Combining" and
"Intervals"). Small pure functions on arrays.

Weights of the backtest points for a query at extrapolation ratio ``r``: origin ``o`` (numbered
0, 1, … from the smallest cut) weighs ``ω_o ∝ o + 1`` — later origins fit more of the table, as
the final fit does — shared equally by its ``n_o`` points, times a Gaussian kernel in ``log r``:

.. math::  w_i(r) = \\frac{\\omega_{o(i)}}{n_{o(i)}}\\exp\\!\\Big(-\\tfrac12\\big(\\tfrac{\\log r_i - \\log r}{h}\\big)^2\\Big)

A candidate's backtest score at ``r`` is the ω-weighted geometric mean over origins of its
kernel-weighted RMS log residual at that origin (so one origin's blow-up does not decide alone):
``S_f(r) = exp Σ_o ω_o log sqrt(Σ_{i∈o} w_i e_fi² / Σ_{i∈o} w_i)``. Two ways to combine:

* ``select`` — the candidate with the smallest ``S_f(r)``;
* ``ensemble`` — the ``top_k`` smallest, weighted ``∝ 1/S_f(r)²``, averaged in log space.

Each way is itself backtested leave-one-origin-out (scores from the other origins applied to an
origin's points), and the forecast uses the one with the smaller RMS residual. Intervals are
weighted split-conformal (Tibshirani et al. 2019) on those leave-one-origin-out residuals of the
way chosen, with the same weights ``w_i(r)``.
"""

from __future__ import annotations

import numpy as np

METHODS = ("select", "ensemble")


def point_weights(
    log_ratio: np.ndarray, bt_log_ratio: np.ndarray, origin: np.ndarray, bandwidth: float
) -> np.ndarray:
    """``w_i(r)`` of the module docstring, shape (n_query, n_points)."""
    origin = np.asarray(origin)
    labels, inverse, counts = np.unique(origin, return_inverse=True, return_counts=True)
    omega = (labels + 1.0) / np.sum(labels + 1.0)
    base = omega[inverse] / counts[inverse]
    z = (np.asarray(bt_log_ratio)[None, :] - np.asarray(log_ratio)[:, None]) / bandwidth
    z = -0.5 * z * z
    z -= z.max(axis=1, keepdims=True)  # relative weights: a far query still weighs the nearest
    return base[None, :] * np.exp(z)


def scores(residuals: np.ndarray, weights: np.ndarray, origin: np.ndarray) -> np.ndarray:
    """``S_f(r)``, shape (n_candidates, n_query), from residuals (n_candidates, n_points)."""
    origin = np.asarray(origin)
    labels = np.unique(origin)
    omega = (labels + 1.0) / np.sum(labels + 1.0)
    log_s = np.zeros((residuals.shape[0], weights.shape[0]))
    for o, om in zip(labels, omega, strict=True):
        here = origin == o
        w = weights[:, here] / weights[:, here].sum(axis=1, keepdims=True)
        ms = np.square(residuals[:, here]) @ w.T
        log_s += om * 0.5 * np.log(np.maximum(ms, 1e-24))
    return np.exp(log_s)


def candidate_weights(score: np.ndarray, method: str, top_k: int = 3) -> np.ndarray:
    """Weights of the candidates per query (columns sum to 1), shape like ``score``."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    n = score.shape[0]
    order = np.argsort(score, axis=0, kind="stable")
    weights = np.zeros_like(score)
    cols = np.arange(score.shape[1])
    if method == "select":
        weights[order[0], cols] = 1.0
        return weights
    k = min(top_k, n)
    for j in range(k):
        weights[order[j], cols] = 1.0 / np.maximum(score[order[j], cols], 1e-6) ** 2
    return weights / weights.sum(axis=0, keepdims=True)


def combine(log_pred: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The weighted log-space average, shape (n_query,)."""
    return np.sum(log_pred * weights, axis=0)


def leave_one_origin_out(
    residuals: np.ndarray,
    log_pred: np.ndarray,
    log_y: np.ndarray,
    bt_log_ratio: np.ndarray,
    origin: np.ndarray,
    method: str,
    bandwidth: float,
    top_k: int = 3,
) -> np.ndarray:
    """Residuals ``log y − log ŷ`` of ``method`` at every backtest point, its weights learnt from
    the other origins only (NaN with a single origin)."""
    out = np.full(log_y.shape, np.nan)
    for o in np.unique(origin):
        here, rest = origin == o, origin != o
        if not rest.any():
            continue
        w = point_weights(bt_log_ratio[here], bt_log_ratio[rest], origin[rest], bandwidth)
        cw = candidate_weights(scores(residuals[:, rest], w, origin[rest]), method, top_k)
        out[here] = log_y[here] - combine(log_pred[:, here], cw)
    return out


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """Smallest ``v`` with weighted share ``≥ q`` of ``values`` at or below it (inf if none)."""
    order = np.argsort(values)
    v, w = values[order], weights[order]
    cum = np.cumsum(w)
    idx = np.searchsorted(cum, q * cum[-1] - 1e-12)
    return float(v[idx]) if idx < len(v) else float("inf")


def conformal_band(
    residuals: np.ndarray, weights: np.ndarray, confidence: float
) -> tuple[np.ndarray, np.ndarray]:
    """Per query, the lower and upper quantiles of the signed residuals (log units) at
    ``(1 ∓ confidence) / 2``, weighted split-conformal: the query's own weight (the largest point
    weight) is added at ±inf, so few or distant points widen the band (to inf when too few)."""
    lo = np.empty(weights.shape[0])
    hi = np.empty(weights.shape[0])
    tail = (1.0 - confidence) / 2.0
    for i, w in enumerate(weights):
        extra = w.max()
        vals = np.concatenate([residuals, [np.inf]])
        ww = np.concatenate([w, [extra]])
        hi[i] = weighted_quantile(vals, ww, 1.0 - tail)
        lo[i] = -weighted_quantile(np.concatenate([-residuals, [np.inf]]), ww, 1.0 - tail)
    return lo, hi

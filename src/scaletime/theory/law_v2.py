"""The unified law v2: test error over size, time, data and label noise, built to predict.

Derived in ``docs/theory.md`` §6 from the linear signal/noise model (§3) and scale-time
equivalence (§2). Every input is in *reference units* (``size / size_ref`` etc.; the fitter
chooses the references, so the same parameters work from N = 1e2 to 1e12):

* **rate** ``R = (1/(c·N^γ) + 1/r)^-1``: scale-time equivalence, ``c·N^γ`` directions per unit
  time, until one optimiser step cannot do more (``r``, the per-step cap; ``r = ∞`` is pure STE);
* **effective time** ``τ = R·T`` (T: steps, epochs or the cumulative learning rate Σηₜ);
* **capacity** ``K = q·N^μ`` and **data budget** ``M = m·n`` (n samples pin at most ~n
  directions);
* **fitted directions** ``d = (τ^-κ + K^-κ + M^-κ)^(-1/κ)``: the smallest of the three,
  smoothly (κ = 1: harmonic; κ sets how sharp the crossovers are);
* **signal left** ``S = (1 + d)^-α`` (power-law spectrum);
* **noise fitted** ``V = v·σ·(d/M)·(ρ + (1 − ρ)·d/K)``: rises with time, peaks where
  ``K ≈ M`` (model- and sample-wise double descent) when ρ is small, and stays at ``v·σ·ρ`` for
  models much larger than the data (tempered overfitting); zero without label noise;
* **error** ``E = floor + (ceiling − floor)·[S + (1 − S)(1 − e^{−V})]``: memorising noise undoes
  the share ``1 − e^{−V}`` of what was learned, so E stays below the ceiling.

Limits: with T → ∞, σ = 0 and d ≫ 1, ``E − floor ≈ span·((qN^μ)^-κ + (mn)^-κ)^(α/κ)``: with
α = κ Chinchilla's additive ``A N^-μκ + B n^-κ``, with κ = 1 Kaplan's ``(A N^-μ + B n^-1)^α``. With r = ∞ the
size enters the time dependence only through ``N^γ·T`` (scale-time equivalence).

:func:`unified_v2` returns the error and, on request, its derivatives with respect to every
parameter (natural units) for the fitter's exact Jacobian.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

import numpy as np

from scaletime.params import Param

__all__ = ["PARAMS_V2", "TIME_PARAMS_V2", "unified_time_v2", "unified_v2"]

PARAMS_V2: tuple[Param, ...] = (
    Param(
        "c",
        1e-8,
        1e8,
        1.0,
        log=True,
        grid=(0.1, 1.0, 10.0),
        meaning="time scale: directions reached per unit time by a model of the reference size",
    ),
    Param(
        "gamma",
        0.0,
        3.0,
        1.0,
        grid=(0.5, 1.0, 1.5),
        meaning="scale-time exponent: the rate grows like size^gamma",
    ),
    Param(
        "r",
        1e-8,
        1e12,
        1e3,
        log=True,
        grid=(1.0, 30.0, 1e3),
        meaning="rate cap: most directions per unit time at any size (inf: pure STE)",
    ),
    Param(
        "q",
        1e-8,
        1e12,
        10.0,
        log=True,
        grid=(1.0, 30.0, 1e3),
        meaning="capacity of a model of the reference size (directions)",
    ),
    Param(
        "mu",
        0.0,
        4.0,
        1.0,
        grid=(0.5, 1.0, 2.0),
        meaning="capacity exponent: capacity grows like size^mu",
    ),
    Param(
        "m",
        1e-8,
        1e12,
        30.0,
        log=True,
        grid=(1.0, 30.0, 1e3),
        meaning="data budget: directions the reference data size can pin down",
    ),
    Param(
        "alpha",
        0.01,
        6.0,
        1.0,
        grid=(0.3, 1.0, 3.0),
        meaning="signal exponent: unfitted signal = (1 + directions)^-alpha",
    ),
    Param(
        "kappa",
        0.1,
        5.0,
        1.0,
        log=True,
        grid=(0.4, 1.0),
        meaning="sharpness of the smooth minimum of time, capacity and data (1: harmonic)",
    ),
    Param(
        "v",
        0.0,
        1e4,
        1.0,
        log=True,
        grid=(0.1, 1.0, 10.0),
        meaning="noise sensitivity: share of the learned signal undone per unit noise",
    ),
    Param(
        "rho",
        0.0,
        1.0,
        0.2,
        grid=(0.05, 0.5),
        meaning="tempering: share of the noise a model much larger than the data still fits",
    ),
    Param("floor", 0.0, 1e3, 0.0, linear=True, meaning="irreducible error"),
    Param("ceiling", 1e-6, 1e3, 1.0, linear=True, meaning="error of the untrained model"),
)

TIME_PARAMS_V2: tuple[Param, ...] = (
    Param(
        "rate",
        1e-8,
        1e8,
        1.0,
        log=True,
        grid=(0.1, 1.0, 10.0),
        meaning="directions reached per unit time (reference units)",
    ),
    Param("alpha", 0.01, 6.0, 1.0, grid=(0.3, 1.0, 3.0), meaning="signal exponent"),
    Param(
        "budget",
        1e-6,
        1e12,
        100.0,
        log=True,
        grid=(3.0, 100.0, 1e4),
        meaning="most directions this model and data can fit",
    ),
    Param(
        "h",
        0.0,
        1e4,
        0.1,
        log=True,
        grid=(0.01, 0.3),
        meaning="noise fitted once the budget is used (epoch-wise rise)",
    ),
    Param(
        "rate2",
        1e-8,
        1e8,
        0.01,
        log=True,
        grid=(1e-3, 1e-2, 0.1),
        meaning="rate of the slow component (second descent)",
    ),
    Param(
        "w",
        0.0,
        1.0,
        0.3,
        grid=(0.1, 0.5),
        meaning="share of the signal learned by the slow component",
    ),
    Param("floor", 0.0, 1e3, 0.0, linear=True, meaning="irreducible error"),
    Param("ceiling", 1e-6, 1e3, 1.0, linear=True, meaning="error at time 0"),
)


def _recip(x: np.ndarray) -> np.ndarray:
    """``1/x`` with ``1/0 = inf`` and ``1/inf = 0``, silently."""
    with np.errstate(divide="ignore"):
        return 1.0 / x


def _harmonic(*terms: np.ndarray) -> np.ndarray:
    """``(Σ 1/x_k)^-1``: a smooth minimum (0 if any term is 0, the others if one is inf)."""
    total = cast(np.ndarray, sum(_recip(np.asarray(t, dtype=float)) for t in terms))
    return _recip(total)


def _power_min(kappa: float, *terms: np.ndarray) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
    """``d = (Σ x_k^-κ)^(-1/κ)``: a smooth minimum (0 if any term is 0; inf terms drop out),
    with ``∂d/∂x_k = (d/x_k)^(κ+1)`` and ``∂d/∂κ``."""
    xs = [np.asarray(t, dtype=float) for t in terms]
    with np.errstate(all="ignore"):
        powers = [np.where(np.isinf(x), 0.0, x ** (-kappa)) for x in xs]
        u = sum(powers)
        d = np.where(np.isinf(u), 0.0, u ** (-1.0 / kappa))
        d = np.where(u == 0, np.inf, d)
        pos = d > 0
        grads = []
        for x in xs:
            safe = np.where(x > 0, x, 1.0)
            g = np.where(pos, (d / safe) ** (kappa + 1), np.where(x > 0, 0.0, 1.0))
            grads.append(np.where(np.isinf(x), 0.0, g))
        weighted = sum(
            np.where((x > 0) & np.isfinite(x), pw * np.log(np.where(x > 0, x, 1.0)), 0.0)
            for x, pw in zip(xs, powers, strict=True)
        )
        dk = d * (np.log(u) / kappa**2 + weighted / (kappa * u))
        dk = np.where(pos & np.isfinite(u) & np.isfinite(d), dk, 0.0)
    return d, grads, dk


def _link(s: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``rel = S + (1 − S)(1 − e^{−V})`` and its partial derivatives in S and V."""
    ev = np.exp(-v)
    rel = s + (1.0 - s) * (1.0 - ev)
    return rel, ev, (1.0 - s) * ev


def unified_v2(
    size: np.ndarray,
    time: np.ndarray,
    data: np.ndarray,
    noise: np.ndarray,
    params: Mapping[str, float],
    *,
    gradient: bool = False,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The law at inputs in reference units (module docstring) and, with ``gradient=True``,
    ``dE/dθ`` for every parameter θ of :data:`PARAMS_V2` (natural units).

    ``time = inf`` means fully trained (tables without a time axis), ``data = inf`` infinite data.
    Returns ``(E, grads)``; ``grads`` is empty unless asked for.
    """
    n = np.asarray(size, dtype=float)
    t = np.asarray(time, dtype=float)
    dsz = np.asarray(data, dtype=float)
    sig = np.asarray(noise, dtype=float)
    p = params
    with np.errstate(all="ignore"):
        log_n = np.log(n)
        a = p["c"] * n ** p["gamma"]
        rate = _harmonic(a, np.full_like(a, p["r"]))
        tau = np.where(t > 0, rate * t, 0.0)
        tau = np.where(np.isinf(t), np.inf, tau)
        cap = p["q"] * n ** p["mu"]
        budget = p["m"] * dsz
        d, (dd_dtau, dd_dk, dd_dm), dd_dkappa = _power_min(p.get("kappa", 1.0), tau, cap, budget)
        s = (1.0 + d) ** (-p["alpha"])
        rho = p.get("rho", 0.0)
        used = np.where(np.isfinite(budget) & (budget > 0), d / budget, 0.0)  # d/M
        filled = np.where(np.isfinite(cap) & (cap > 0), d / cap, 0.0)  # d/K
        share = used * (rho + (1.0 - rho) * filled)
        v = p["v"] * sig * share
        rel, drel_ds, drel_dv = _link(s, v)
        span = p["ceiling"] - p["floor"]
        err = p["floor"] + span * rel
        if not gradient:
            return err, {}
        ds_dd = -p["alpha"] * (1.0 + d) ** (-p["alpha"] - 1.0)
        vs = p["v"] * sig
        inv_m = np.where(np.isfinite(budget) & (budget > 0), 1.0 / budget, 0.0)
        inv_k = np.where(np.isfinite(cap) & (cap > 0), 1.0 / cap, 0.0)
        dv_dd = vs * inv_m * (rho + 2.0 * (1.0 - rho) * filled)
        drel_dd = drel_ds * ds_dd + drel_dv * dv_dd
        dtau_drate = np.where(np.isfinite(t) & (t > 0), t, 0.0)
        drate_da = np.square(rate / a)
        drate_dr = np.square(rate / p["r"]) if np.isfinite(p["r"]) else np.zeros_like(rate)
        g_tau = span * drel_dd * dd_dtau * dtau_drate  # dE/drate
        dv_dk = -vs * (1.0 - rho) * used * filled * inv_k  # explicit: V ∝ d²/K
        dv_dm = -v * inv_m  # explicit: V ∝ 1/M
        g_k = span * (drel_dd * dd_dk + drel_dv * dv_dk)
        g_m = span * (drel_dd * dd_dm + drel_dv * dv_dm)
        grads = {
            "c": g_tau * drate_da * a / p["c"],
            "gamma": g_tau * drate_da * a * log_n,
            "r": g_tau * drate_dr,
            "q": g_k * cap / p["q"],
            "mu": g_k * cap * log_n,
            "m": g_m * budget / p["m"] if p["m"] > 0 else np.zeros_like(err),
            "alpha": span * drel_ds * (-np.log1p(d) * s),
            "kappa": span * drel_dd * dd_dkappa,
            "v": span * drel_dv * sig * share,
            "rho": span * drel_dv * vs * used * (1.0 - filled),
            "floor": 1.0 - rel,
            "ceiling": rel,
        }
    return err, {k: np.nan_to_num(g, nan=0.0, posinf=0.0, neginf=0.0) for k, g in grads.items()}


def unified_time_v2(
    time: np.ndarray, params: Mapping[str, float], *, gradient: bool = False
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The law's one-curve form (size, data and noise fixed), time in reference units:

    ``E(t) = floor + (ceiling − floor)·[S + (1 − S)(1 − e^{−V})]`` with
    ``S = (1 − w)(1 + d₁)^-α + w(1 + d₂)^-α``, ``d_j = (1/(rate_j·t) + 1/budget)^-1`` and
    ``V = h·[(1 − w)(d₁/budget)² + w(d₂/budget)²]``: each component is a bias–variance
    trade-off at its own speed — its signal falls, then its noise is fitted as it uses the budget
    (the rise) — so a slow component (share w, ``rate2``) descends again after the fast one has
    risen: an epoch-wise double descent from two time scales (Heckel & Yilmaz 2021). Parameters absent
    from ``params`` (``rate2``, ``w``, ``h``) switch their term off.
    """
    t = np.asarray(time, dtype=float)
    p = dict(params)
    w = float(p.get("w", 0.0))
    rate2 = float(p.get("rate2", p["rate"]))
    h = float(p.get("h", 0.0))
    b = p["budget"]
    with np.errstate(all="ignore"):
        tau1 = np.where(t > 0, p["rate"] * t, 0.0)
        tau2 = np.where(t > 0, rate2 * t, 0.0)
        d1 = _harmonic(tau1, np.full_like(tau1, b))
        d2 = _harmonic(tau2, np.full_like(tau2, b))
        s1 = (1.0 + d1) ** (-p["alpha"])
        s2 = (1.0 + d2) ** (-p["alpha"])
        s = (1.0 - w) * s1 + w * s2
        share = (1.0 - w) * np.square(d1 / b) + w * np.square(d2 / b)
        v = h * share
        rel, drel_ds, drel_dv = _link(s, v)
        span = p["ceiling"] - p["floor"]
        err = p["floor"] + span * rel
        if not gradient:
            return err, {}

        def dd(tau: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            d_tau = np.where(tau > 0, np.square(d / np.where(tau > 0, tau, 1.0)), 1.0)
            return d_tau, np.square(d / b)

        dd1_dtau, dd1_db = dd(tau1, d1)
        dd2_dtau, dd2_db = dd(tau2, d2)
        ds1 = -p["alpha"] * (1.0 + d1) ** (-p["alpha"] - 1.0)
        ds2 = -p["alpha"] * (1.0 + d2) ** (-p["alpha"] - 1.0)
        dv_dd1 = 2.0 * h * (1.0 - w) * d1 / (b * b)
        dv_dd2 = 2.0 * h * w * d2 / (b * b)
        g_d1 = span * (drel_ds * (1.0 - w) * ds1 + drel_dv * dv_dd1)
        g_d2 = span * (drel_ds * w * ds2 + drel_dv * dv_dd2)
        tt = np.where(t > 0, t, 0.0)
        grads = {
            "rate": g_d1 * dd1_dtau * tt,
            "alpha": span * drel_ds * (-(1.0 - w) * np.log1p(d1) * s1 - w * np.log1p(d2) * s2),
            "budget": g_d1 * dd1_db + g_d2 * dd2_db - span * drel_dv * 2.0 * v / b,
            "h": span * drel_dv * share,
            "rate2": g_d2 * dd2_dtau * tt,
            "w": span
            * (drel_ds * (s2 - s1) + drel_dv * h * (np.square(d2 / b) - np.square(d1 / b))),
            "floor": 1.0 - rel,
            "ceiling": rel,
        }
    return err, {k: np.nan_to_num(g, nan=0.0, posinf=0.0, neginf=0.0) for k, g in grads.items()}

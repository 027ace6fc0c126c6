"""Alabdulmohsin et al.'s M4, an implicit one-variable law (docs/fitting.md, "Laws")."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from scaletime.fitting.laws.base import Inputs, Law, Param, column, geometric_mean


def _softplus(z: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, z)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def solve_m4_logit(rhs: np.ndarray, alpha: float, n_iter: int = 40) -> np.ndarray:
    """Solve ``h(z) = log u - alpha log(1 - u) = rhs`` for ``z = logit(u)``, elementwise.

    ``h(z) = -softplus(-z) + alpha softplus(z)`` is strictly increasing (``h' = sigma(-z) +
    alpha sigma(z) > 0``) and has one curvature sign (``h'' = (alpha - 1) sigma(z) sigma(-z)``),
    so Newton's method inside the analytic bracket

    ``lo = min(rhs - alpha log 2, 0)``  (``h(z) <= z + alpha log 2`` for ``z <= 0``),
    ``hi = max((rhs + log 2) / alpha, 0)``  (``h(z) >= alpha z - log 2`` for ``z >= 0``),

    with a bisection step whenever Newton leaves the bracket, converges for every ``rhs``. Both
    ends are clipped to ``[-800, 800]`` (``u`` is then 0 or 1 to double precision).
    """
    rhs = np.asarray(rhs, dtype=float)
    log2 = np.log(2.0)
    lo = np.clip(np.minimum(rhs - alpha * log2, 0.0), -800.0, 0.0)
    hi = np.clip(np.maximum((rhs + log2) / max(alpha, 1e-300), 0.0), 0.0, 800.0)
    # start on the asymptote that applies: h ~ z (z << 0), h ~ alpha z (z >> 0)
    z = np.clip(np.where(rhs < 0, rhs, rhs / max(alpha, 1.0)), lo, hi)
    for _ in range(n_iter):
        sp_pos, sp_neg = _softplus(z), _softplus(-z)
        f = -sp_neg + alpha * sp_pos - rhs
        lo = np.where(f < 0, z, lo)
        hi = np.where(f > 0, z, hi)
        s = _sigmoid(z)
        step = z - f / np.maximum((1.0 - s) + alpha * s, 1e-300)
        inside = (step > lo) & (step < hi)
        z_new = np.where(inside, step, 0.5 * (lo + hi))
        done = np.abs(z_new - z) <= 1e-10 * (1.0 + np.abs(z))
        z = z_new
        if done.all():
            break
    return z


class M4(Law):
    """Model M4 of Alabdulmohsin et al. (2022), an implicit law in one variable ``x``:

    .. math::  \\frac{\\varepsilon_x - \\varepsilon_\\infty}{(\\varepsilon_0 - \\varepsilon_x)^\\alpha}
               = \\beta\\, (x / x_{ref})^{c}

    with ``eps_inf < eps_x < eps0``, ``alpha >= 0`` and ``c <= 0``: the curve falls from the
    initial level ``eps0`` to the limit ``eps_inf``. It is solved for ``eps_x`` by writing
    ``eps_x = eps_inf + u (eps0 - eps_inf)`` and solving ``log u - alpha log(1-u) =
    log(beta) + c log(x) - (1 - alpha) log(eps0 - eps_inf)`` for ``u`` (see
    :func:`solve_m4_logit`). Fitted as ``eps_inf``, ``gap = eps0 - eps_inf``, ``alpha``,
    ``beta``, ``c``; ``eps0`` is derived. ``x`` is measured in units of ``x_ref`` (the geometric
    mean of the fitted ``x``, stored with the fit), which decouples ``beta`` from ``c``; the
    paper's ``beta`` is the derived ``beta_raw = beta x_ref^-c``.

    Source: I. Alabdulmohsin, B. Neyshabur, X. Zhai, *Revisiting Neural Scaling Laws in
    Language and Vision* (NeurIPS 2022), Eq. (4).
    """

    equation = "(eps_x - eps_inf) / (eps0 - eps_x)^alpha = beta x^c"
    source = "Alabdulmohsin et al. 2022 (NeurIPS), M4, Eq. (4)"
    name = "m4"

    def __init__(self, x: str = "time", x_ref: float | None = None) -> None:
        if x not in ("size", "time", "data"):
            raise ValueError(f"x must be one of ('size', 'time', 'data'), got {x!r}")
        self.x = x
        self.x_ref = x_ref

    def prepare(self, inputs: Inputs) -> M4:
        return M4(x=self.x, x_ref=self.x_ref or geometric_mean(column(inputs, self.x)))

    @property
    def positive_roles(self) -> tuple[str, ...]:  # type: ignore[override]
        return (self.x,)

    @property
    def roles(self) -> tuple[str, ...]:
        return (self.x,)

    def param_specs(self, inputs: Inputs | None = None) -> tuple[Param, ...]:
        return (
            Param("eps_inf", 0.0, 1e6, 0.01, grid=(0.01, 0.1, 0.5), meaning="limit as x grows"),
            Param("gap", 1e-8, 1e6, 1.0, log=True, grid=(0.3, 1.0, 3.0), meaning="eps0 - eps_inf"),
            Param("alpha", 0.0, 10.0, 1.0, grid=(0.2, 1.0, 4.0), meaning="shape exponent"),
            Param(
                "beta",
                1e-12,
                1e12,
                1.0,
                log=True,
                grid=(0.1, 1.0, 10.0),
                meaning="right-hand side at x = x_ref",
            ),
            Param("c", -3.0, 0.0, -0.5, grid=(-0.2, -0.5, -1.0), meaning="power in x"),
        )

    def _logit(self, inputs: Inputs, params: Mapping[str, float]) -> np.ndarray:
        log_x = np.log(column(inputs, self.x) / (self.x_ref or 1.0))
        alpha, gap = params["alpha"], params["gap"]
        rhs = np.log(params["beta"]) + params["c"] * log_x - (1.0 - alpha) * np.log(gap)
        return solve_m4_logit(rhs, alpha)

    def predict(self, inputs: Inputs, params: Mapping[str, float]) -> np.ndarray:
        return params["eps_inf"] + _sigmoid(self._logit(inputs, params)) * params["gap"]

    has_jacobian = True

    def jacobian(self, inputs: Inputs, params: Mapping[str, float]) -> np.ndarray:
        """By implicit differentiation of ``h(z; alpha) = rhs(beta, c, gap, alpha)``:
        ``dz = (d rhs - d_alpha h) / h'(z)`` with ``d_alpha h = softplus(z)``."""
        log_x = np.log(column(inputs, self.x) / (self.x_ref or 1.0))
        alpha, gap, beta = params["alpha"], params["gap"], params["beta"]
        z = self._logit(inputs, params)
        s = _sigmoid(z)
        ds = s * (1.0 - s)  # d sigma / dz
        h_prime = (1.0 - s) + alpha * s
        dz = {
            "gap": -(1.0 - alpha) / gap / h_prime,
            "alpha": (np.log(gap) - _softplus(z)) / h_prime,
            "beta": 1.0 / beta / h_prime,
            "c": log_x / h_prime,
        }
        return np.column_stack(
            [
                np.ones_like(log_x),
                s + gap * ds * dz["gap"],
                gap * ds * dz["alpha"],
                gap * ds * dz["beta"],
                gap * ds * dz["c"],
            ]
        )

    def derived(self, params: Mapping[str, float]) -> dict[str, float]:
        beta_raw = params["beta"] * (self.x_ref or 1.0) ** (-params["c"])
        return {"eps0": float(params["eps_inf"] + params["gap"]), "beta_raw": float(beta_raw)}

    def config(self) -> dict[str, Any]:
        return {"x": self.x, "x_ref": self.x_ref}

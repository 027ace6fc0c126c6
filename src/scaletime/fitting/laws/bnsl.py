"""Broken neural scaling law (Caballero et al.), one variable, one or more breaks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from scaletime.fitting.laws.base import Inputs, LinearLaw, Param, column, geometric_mean


class BrokenPowerLaw(LinearLaw):
    """Broken neural scaling law with ``n_breaks`` smooth breaks:

    .. math::

        y = a + b\\, (x / x_{ref})^{-c_0} \\prod_{i=1}^{k} \\left(1 + (x / d_i)^{1/f_i}\\right)^{-c_i f_i}

    The slope in log–log is ``-c_0`` before the first break and ``-(c_0 + c_1 + ...)`` after;
    negative ``c_i`` give rising segments (double descent). ``d_i`` are break positions and
    ``f_i`` their sharpness. Computed in log space with ``log(1 + e^u) = softplus(u)``. ``x_ref``
    (the geometric mean of the fitted ``x``, stored with the fit) decouples ``b`` from ``c0``;
    Caballero et al.'s ``b`` is the derived ``b_raw = b x_ref^c0``.

    Source: E. Caballero, K. Gupta, I. Rish, D. Krueger, *Broken Neural Scaling Laws* (ICLR
    2023), Eq. (1).
    """

    equation = "a + b x^-c0 * prod_i (1 + (x/d_i)^(1/f_i))^(-c_i f_i)"
    source = "Caballero et al. 2023 (ICLR), Eq. (1)"

    def __init__(self, n_breaks: int = 1, x: str = "time", x_ref: float | None = None) -> None:
        if not isinstance(n_breaks, int | np.integer) or n_breaks < 1:
            raise ValueError(f"n_breaks must be an integer >= 1, got {n_breaks!r}")
        if x not in ("size", "time", "data"):
            raise ValueError(f"x must be one of ('size', 'time', 'data'), got {x!r}")
        self.n_breaks = int(n_breaks)
        self.x = x
        self.x_ref = x_ref
        self.name = "bnsl" if self.n_breaks == 1 else f"bnsl{self.n_breaks}"

    def prepare(self, inputs: Inputs) -> BrokenPowerLaw:
        x_ref = self.x_ref or geometric_mean(column(inputs, self.x))
        return BrokenPowerLaw(n_breaks=self.n_breaks, x=self.x, x_ref=x_ref)

    @property
    def positive_roles(self) -> tuple[str, ...]:  # type: ignore[override]
        return (self.x,)

    @property
    def roles(self) -> tuple[str, ...]:
        return (self.x,)

    def param_specs(self, inputs: Inputs | None = None) -> tuple[Param, ...]:
        if inputs is not None and self.x in inputs and len(inputs[self.x]):
            x = column(inputs, self.x)
            lo, hi = float(np.min(x)), float(np.max(x))
        else:
            lo, hi = 1.0, 1e6
        hi = max(hi, lo * 10.0)
        specs = [
            Param("a", 0.0, np.inf, 0.1, log=True, linear=True, meaning="limit as x grows"),
            Param(
                "b",
                0.0,
                np.inf,
                1.0,
                log=True,
                linear=True,
                meaning="amplitude of the first segment at x = x_ref",
            ),
            Param("c0", 0.0, 3.0, 0.3, grid=(0.05, 0.3, 0.8), meaning="first slope"),
        ]
        log_lo, log_hi = np.log(lo), np.log(hi)
        for i in range(1, self.n_breaks + 1):
            # breaks start spread inside the observed range, may move a decade beyond it
            d_grid = tuple(float(np.exp(log_lo + (log_hi - log_lo) * q)) for q in (0.2, 0.5, 0.8))
            specs += [
                Param(f"c{i}", -3.0, 3.0, 0.3, grid=(-0.5, 0.2, 0.8), meaning=f"slope change {i}"),
                Param(
                    f"d{i}",
                    lo / 10.0,
                    hi * 10.0,
                    d_grid[1],
                    log=True,
                    grid=d_grid,
                    meaning=f"break {i} position",
                ),
                Param(
                    f"f{i}",
                    0.01,
                    10.0,
                    0.5,
                    log=True,
                    grid=(0.1, 1.0),
                    meaning=f"break {i} sharpness",
                ),
            ]
        return tuple(specs)

    def basis(self, inputs: Inputs, params: Mapping[str, float]) -> np.ndarray:
        log_x = np.log(column(inputs, self.x))
        log_term = -params["c0"] * (log_x - np.log(self.x_ref or 1.0))
        for i in range(1, self.n_breaks + 1):
            c, d, f = params[f"c{i}"], params[f"d{i}"], params[f"f{i}"]
            log_term = log_term - c * f * np.logaddexp(0.0, (log_x - np.log(d)) / f)
        with np.errstate(over="ignore"):
            curve = np.exp(np.clip(log_term, -700.0, 700.0))
        return np.column_stack([np.ones_like(log_x), curve])

    def config(self) -> dict[str, Any]:
        return {"n_breaks": self.n_breaks, "x": self.x, "x_ref": self.x_ref}

    def derived(self, params: Mapping[str, float]) -> dict[str, float]:
        return {"b_raw": float(params["b"] * (self.x_ref or 1.0) ** params["c0"])}

"""Robust losses on log residuals, as small composable functions (optax style).

A fit minimises the mean of ``rho(r_i)`` over the points, with the log residual

.. math::  r_i = \\log \\hat y_i - \\log y_i ,

so that a law is judged by relative, not absolute, error (docs/fitting.md, "Objective").
Every loss is a pure function ``rho(r, delta) -> per-point loss``; :func:`get_loss` picks one by
name. The defaults follow Epoch AI's Chinchilla replication: Huber with ``delta = 1e-3``
(docs/fitting.md; /work/shared/docs/peers.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

LossName = Literal["huber", "mse", "mae"]
LOSS_NAMES: tuple[str, ...] = ("huber", "mse", "mae")

#: Scale of the smooth pseudo-Huber surrogate the optimiser uses for ``mae`` (in log units).
MAE_SMOOTHING = 1e-4


def log_residual(y_pred: np.ndarray, y_true: np.ndarray) -> np.ndarray:
    """``r = log(y_pred) - log(y_true)``; non-positive predictions give ``+inf`` misfit."""
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.log(y_pred) - np.log(y_true)
    return np.where(np.isfinite(r), r, 1e3)


def squared(r: np.ndarray, delta: float | None = None) -> np.ndarray:
    """``rho(r) = r^2 / 2`` (``mse``; ``delta`` unused)."""
    return 0.5 * np.square(r)


def absolute(r: np.ndarray, delta: float | None = None) -> np.ndarray:
    """``rho(r) = |r|`` (``mae``; ``delta`` unused)."""
    return np.abs(r)


def huber(r: np.ndarray, delta: float = 1e-3) -> np.ndarray:
    """Huber loss: ``r^2/2`` for ``|r| <= delta``, else ``delta (|r| - delta/2)``."""
    a = np.abs(r)
    return np.where(a <= delta, 0.5 * np.square(r), delta * (a - 0.5 * delta))


_RHO = {"huber": huber, "mse": squared, "mae": absolute}


@dataclass(frozen=True)
class Loss:
    """A named robust loss on log residuals.

    Parameters
    ----------
    name : {"huber", "mse", "mae"}
        The per-point penalty ``rho``.
    delta : float
        Huber threshold in log units (ignored by ``mse`` and ``mae``).
    """

    name: str = "huber"
    delta: float = 1e-3

    def __post_init__(self) -> None:
        if self.name not in _RHO:
            raise ValueError(f"loss must be one of {LOSS_NAMES}, got {self.name!r}")
        if not (np.isfinite(self.delta) and 0 < self.delta <= MAX_DELTA):
            raise ValueError(
                f"loss delta (log units) must be in (0, {MAX_DELTA:g}], got {self.delta!r}; "
                "beyond a few units Huber is the squared loss (use loss mse)"
            )

    def __call__(self, r: np.ndarray) -> np.ndarray:
        """Per-point loss ``rho(r)``."""
        return _RHO[self.name](r, self.delta)

    def mean(self, r: np.ndarray) -> float:
        """Objective value: ``mean_i rho(r_i)``."""
        return float(np.mean(self(r)))

    def scipy_options(self) -> dict[str, object]:
        """``loss`` and ``f_scale`` for :func:`scipy.optimize.least_squares`.

        SciPy's ``huber`` with ``f_scale = delta`` minimises exactly ``sum rho_delta(r)``; ``mae`` is
        optimised through the smooth ``soft_l1`` surrogate with scale :data:`MAE_SMOOTHING`.
        """
        if self.name == "huber":
            return {"loss": "huber", "f_scale": self.delta}
        if self.name == "mae":
            return {"loss": "soft_l1", "f_scale": MAE_SMOOTHING}
        return {"loss": "linear", "f_scale": 1.0}


#: Largest Huber threshold accepted (log units; e^100 is far beyond any residual).
MAX_DELTA = 100.0


def get_loss(name: str | Loss = "huber", delta: float = 1e-3) -> Loss:
    """The :class:`Loss` called ``name`` (``huber``, ``mse`` or ``mae``)."""
    if isinstance(name, Loss):
        return name
    return Loss(name=name, delta=delta)

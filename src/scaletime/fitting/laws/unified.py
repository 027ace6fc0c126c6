"""The unified law v2 for the fitter (``scaletime.theory.law_v2``; docs/theory.md §6).

What makes it fit and predict (docs/fitting.md, "The unified law"):

* **scale-free**: size, time and data are divided by reference values (geometric means of the
  fitted rows, stored with the fit), so the parameters are O(1) for N from 1e2 to 1e12;
* **only what the table identifies is fitted**: a role that is absent or constant holds the
  parameters only it identifies fixed (no time axis: fully trained, ``c, gamma, r`` fixed; one
  size: ``gamma, mu, r``; no label noise: ``v``); they are listed in :meth:`not_identified`;
* ``floor`` and ``ceiling`` are amplitudes (variable projection), and whether a floor is fitted
  at all is decided by :meth:`variants` — a law with and one without, compared by the estimator
  on the number of independent runs (BIC): a floor the data cannot tell from a data limit is not
  fitted;
* exact derivatives for every parameter (:meth:`jacobian`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from scaletime.fitting.laws.base import Inputs, Law, Param, column, geometric_mean
from scaletime.theory.law_v2 import PARAMS_V2, TIME_PARAMS_V2, unified_time_v2, unified_v2

#: Values the parameters of an unidentified role are held at.
_FIXED = {
    "gamma": 1.0,
    "r": np.inf,
    "mu": 1.0,
    "v": 0.0,
    "rho": 0.0,
    "c": 1.0,
    "floor": 0.0,
    "kappa": 1.0,
}


def _ref(values: np.ndarray) -> float:
    ref = geometric_mean(values)
    return 1.0 if ref is None else ref


def _varies(values: np.ndarray, positive_only: bool = False) -> bool:
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v) & (v > 0)] if positive_only else v[np.isfinite(v)]
    return len(np.unique(v)) > 1


class _AffineLaw(Law):
    """``E = floor·(1 − rel) + ceiling·rel``: amplitudes by variable projection."""

    has_jacobian: ClassVar[bool] = True
    #: a constant role's parameters are held fixed and listed by :meth:`not_identified`
    holds_constant_roles_fixed: ClassVar[bool] = True
    fit_floor: bool = True

    def _specs(self) -> tuple[Param, ...]:
        raise NotImplementedError

    def _evaluate(
        self, inputs: Inputs, params: Mapping[str, float], gradient: bool
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        raise NotImplementedError

    def param_specs(self, inputs: Inputs | None = None) -> tuple[Param, ...]:
        return self._specs()

    def _full(self, params: Mapping[str, float]) -> dict[str, float]:
        return {**_FIXED, **params}

    def predict(self, inputs: Inputs, params: Mapping[str, float]) -> np.ndarray:
        return self._evaluate(inputs, self._full(params), False)[0]

    def basis(self, inputs: Inputs, params: Mapping[str, float]) -> np.ndarray:
        unit = {**self._full(params), "floor": 0.0, "ceiling": 1.0}
        rel = self._evaluate(inputs, unit, False)[0]
        return np.column_stack([1.0 - rel, rel]) if self.fit_floor else rel[:, None]

    def jacobian(self, inputs: Inputs, params: Mapping[str, float]) -> np.ndarray:
        grads = self._evaluate(inputs, self._full(params), True)[1]
        return np.column_stack([grads[p.name] for p in self.param_specs(None)])


class Unified(_AffineLaw):
    """The unified law v2 ``E(size, time, data, noise)`` (:func:`scaletime.theory.law_v2.unified_v2`).

    Parameters
    ----------
    size_ref, time_ref, data_ref : float, optional
        Reference scales (geometric means of the fitted rows; set by :meth:`prepare`).
    fitted_roles : sequence of str, optional
        Roles that vary in the fitted rows (set by :meth:`prepare`; default all).
    fit_floor : bool
        Fit an irreducible floor (else floor = 0); see :meth:`variants`.
    fit_kappa : bool
        Fit the sharpness κ of the smooth minimum (else κ = 1, harmonic); see :meth:`variants`.
    search_forms : bool
        Let the estimator choose floor and κ among the four nested forms (default); False fits
        this form only.
    """

    name = "unified"
    equation = (
        "floor + (ceiling − floor)[S + (1 − S)(1 − e^−V)], S = (1 + d)^−alpha, "
        "d = (tau^−kappa + (q N^mu)^−kappa + (m n)^−kappa)^(−1/kappa), "
        "tau = T/(1/(c N^gamma) + 1/r), "
        "V = v sigma (d/(m n))(rho + (1 − rho) d/(q N^mu))"
    )
    source = (
        "this project: the linear signal/noise model + scale-time equivalence (docs/theory.md §6)"
    )
    positive_roles = ("size", "data")
    optional_roles: ClassVar[tuple[str, ...]] = ("time", "data", "noise")

    def __init__(
        self,
        size_ref: float | None = None,
        time_ref: float | None = None,
        data_ref: float | None = None,
        fitted_roles: tuple[str, ...] | list[str] | None = None,
        fit_floor: bool = True,
        fit_kappa: bool = True,
        search_forms: bool = True,
    ) -> None:
        self.size_ref = size_ref
        self.time_ref = time_ref
        self.data_ref = data_ref
        self.fitted_roles = tuple(fitted_roles) if fitted_roles is not None else None
        self.fit_floor = bool(fit_floor)
        self.fit_kappa = bool(fit_kappa)
        self.search_forms = bool(search_forms)

    @property
    def roles(self) -> tuple[str, ...]:
        return ("size", "time", "data", "noise")

    def _has(self, role: str) -> bool:
        return self.fitted_roles is None or role in self.fitted_roles

    def prepare(self, inputs: Inputs) -> Unified:
        size, time = column(inputs, "size"), column(inputs, "time")
        data, noise = column(inputs, "data"), column(inputs, "noise")
        roles = [
            role
            for role, ok in (
                ("size", _varies(size)),
                ("time", _varies(time, positive_only=True)),
                ("data", _varies(data)),
                ("noise", bool(np.nanmax(noise, initial=0.0) > 0)),
            )
            if ok
        ]
        return Unified(
            size_ref=self.size_ref or _ref(size),
            time_ref=self.time_ref or _ref(time[time > 0]),
            data_ref=self.data_ref or _ref(data),
            fitted_roles=roles,
            fit_floor=self.fit_floor,
            fit_kappa=self.fit_kappa,
            search_forms=self.search_forms,
        )

    def variants(self) -> list[Law]:
        """The nested forms the estimator chooses among by the runs' BIC: with or without a
        floor, with κ free or κ = 1 (harmonic); only this one with ``search_forms=False``."""
        if not self.search_forms:
            return [self]
        return [
            Unified(**{**self.config(), "fit_floor": floor, "fit_kappa": kappa})
            for floor in (False, True)
            for kappa in (False, True)
        ]

    def not_identified(self) -> dict[str, str]:
        """Parameters held fixed because no fitted role identifies them, with the reason."""
        out: dict[str, str] = {}
        if not self._has("time"):
            for name in ("c", "gamma", "r"):
                out[name] = "no time axis in the fitted rows (read as fully trained)"
        if not self._has("size"):
            for name in ("gamma", "mu", "r"):
                out.setdefault(name, "one model size in the fitted rows")
        if not self._has("noise"):
            out["v"] = "no label noise in the fitted rows"
            out["rho"] = "no label noise in the fitted rows"
        if not self.fit_floor:
            out["floor"] = "a floor is not supported by the runs (set to 0; see docs/fitting.md)"
        if not self.fit_kappa:
            out["kappa"] = "the runs do not support a crossover other than harmonic (set to 1)"
        return out

    def _specs(self) -> tuple[Param, ...]:
        fixed = self.not_identified()
        return tuple(p for p in PARAMS_V2 if p.name not in fixed)

    def _scaled(self, inputs: Inputs) -> tuple[np.ndarray, ...]:
        size = column(inputs, "size") / (self.size_ref or 1.0)
        time = column(inputs, "time") / (self.time_ref or 1.0)
        if not self._has("time"):
            time = np.full_like(time, np.inf)
        data = column(inputs, "data") / (self.data_ref or 1.0)
        if not self._has("size"):
            size = np.ones_like(size)
        if not self._has("data"):
            data = np.ones_like(data)  # the data budget m is that of the fitted data size
        return size, time, data, column(inputs, "noise")

    def _evaluate(self, inputs, params, gradient):
        return unified_v2(*self._scaled(inputs), params, gradient=gradient)

    def derived(self, params: Mapping[str, float]) -> dict[str, float]:
        """Parameters in the table's own units: ``c·N^γ·T`` with N and T as given, etc."""
        p = self._full(params)
        n_ref, t_ref, d_ref = self.size_ref or 1.0, self.time_ref or 1.0, self.data_ref or 1.0
        out = {
            "c_raw": p.get("c", 1.0) * n_ref ** (-p["gamma"]) / t_ref,
            "q_raw": p.get("q", 1.0) * n_ref ** (-p["mu"]),
            "m_raw": p.get("m", 1.0) / d_ref,
        }
        if np.isfinite(p["r"]):
            out["r_raw"] = p["r"] / t_ref
        return out

    def config(self) -> dict[str, Any]:
        return {
            "size_ref": self.size_ref,
            "time_ref": self.time_ref,
            "data_ref": self.data_ref,
            "fitted_roles": None if self.fitted_roles is None else list(self.fitted_roles),
            "fit_floor": self.fit_floor,
            "fit_kappa": self.fit_kappa,
            "search_forms": self.search_forms,
        }


class UnifiedTimeOnly(_AffineLaw):
    """The unified law's one-curve form ``E(t)`` (:func:`scaletime.theory.law_v2.unified_time_v2`):
    fall, rise as noise is fitted, plateau; with ``components=2`` a slow component can descend
    again (epoch-wise double descent).

    Parameters
    ----------
    time_ref : float, optional
        Reference time (geometric mean of the fitted times; set by :meth:`prepare`).
    components : {1, 2}
        Time scales.
    fit_floor : bool
    """

    name = "unified-time"
    equation = (
        "floor + (ceiling − floor)[S + (1 − S)(1 − e^−h (d1/b)²)], "
        "S = (1 − w)(1 + d1)^−alpha + w (1 + d2)^−alpha, d_j = (1/(rate_j t) + 1/b)^−1"
    )
    source = "this project: the unified law at fixed size, data and noise (docs/theory.md §6)"
    positive_roles = ()

    def __init__(
        self, time_ref: float | None = None, components: int = 1, fit_floor: bool = True
    ) -> None:
        if components not in (1, 2):
            raise ValueError(f"components must be 1 or 2, got {components!r}")
        self.time_ref = time_ref
        self.components = int(components)
        self.fit_floor = bool(fit_floor)
        if components == 2:
            self.name = "unified-time2"

    @property
    def roles(self) -> tuple[str, ...]:
        return ("time",)

    def prepare(self, inputs: Inputs) -> UnifiedTimeOnly:
        t = column(inputs, "time")
        return UnifiedTimeOnly(self.time_ref or _ref(t[t > 0]), self.components, self.fit_floor)

    def variants(self) -> list[Law]:
        return [self, UnifiedTimeOnly(self.time_ref, self.components, not self.fit_floor)]

    def not_identified(self) -> dict[str, str]:
        return {} if self.fit_floor else {"floor": "a floor is not supported by the points"}

    def _specs(self) -> tuple[Param, ...]:
        skip = set() if self.components == 2 else {"rate2", "w"}
        if not self.fit_floor:
            skip.add("floor")
        return tuple(p for p in TIME_PARAMS_V2 if p.name not in skip)

    def _evaluate(self, inputs, params, gradient):
        p = {k: v for k, v in params.items() if k in {q.name for q in TIME_PARAMS_V2}}
        if self.components == 1:
            p.pop("rate2", None)
            p.pop("w", None)
        t = column(inputs, "time") / (self.time_ref or 1.0)
        return unified_time_v2(t, p, gradient=gradient)

    def config(self) -> dict[str, Any]:
        return {
            "time_ref": self.time_ref,
            "components": self.components,
            "fit_floor": self.fit_floor,
        }

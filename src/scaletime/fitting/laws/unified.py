"""Adapters exposing the project's unified law (``scaletime.theory.law``) to the fitter.

The law itself, its derivation and its parameters live in the theory package (docs/theory.md);
this module only wraps it. The import is lazy, so the other laws work without the theory module.

Two things make the fit well conditioned (docs/fitting.md, "The unified law"):

* ``floor`` and ``ceiling`` enter affinely, ``E = floor + (ceiling - floor) g``, so they are
  solved by variable projection with the basis ``[1 - g, g]``;
* the time scale and the capacity are searched at a *reference size* ``p_ref`` (the geometric
  mean of the fitted sizes): ``c_ref = c p_ref^gamma`` and ``q_ref = q p_ref^mu``. In the
  theory's own units ``c`` and ``gamma`` are nearly collinear (``c p^gamma`` with ``p ~ 1e5``), so
  a random start rarely sees a gradient. The theory's ``c`` and ``q`` are reported in
  ``derived_``.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from types import ModuleType
from typing import Any, ClassVar

import numpy as np

from scaletime.fitting.errors import FittingError
from scaletime.fitting.laws.base import Inputs, LinearLaw, Param, column, geometric_mean

#: A bounded positive parameter whose bounds span at least this ratio is searched on a log scale.
LOG_SCALE_RATIO = 100.0
#: The law is affine in these two parameters: ``E = floor + (ceiling - floor) g(x; rest)``.
AFFINE_PARAMS: tuple[str, str] = ("floor", "ceiling")
#: Start grids (not bounds) for the shape parameters, where the theory gives none.
_SHAPE_GRIDS: dict[str, tuple[float, ...]] = {
    "gamma": (0.5, 1.0, 1.5),
    "mu": (0.5, 1.0, 1.5),
    "alpha": (0.2, 0.5, 1.0),
    "v": (0.3, 3.0, 30.0),
}


#: Non-negative parameters searched on a log scale although their lower bound is 0.
_LOG_SCALE = {"v"}


def theory_law_module() -> ModuleType:
    """``scaletime.theory.law``, imported on first use."""
    try:
        return importlib.import_module("scaletime.theory.law")
    except ImportError as exc:  # pragma: no cover - only while the theory package is missing
        raise FittingError(
            "the unified law needs scaletime.theory.law, which could not be imported "
            f"({exc}); the other laws work without it"
        ) from exc


def params_from_theory(theory_params: Any) -> tuple[Param, ...]:
    """Convert the theory's ``LawParam(name, default, lower, upper, meaning)`` tuple.

    ``floor`` and ``ceiling`` are marked linear (variable projection); a bounded positive
    parameter spanning a factor of :data:`LOG_SCALE_RATIO` or more is searched on a log scale.
    """
    out = []
    for p in theory_params:
        lower, upper, default = float(p.lower), float(p.upper), float(p.default)
        log = lower > 0 and (not np.isfinite(upper) or upper / lower >= LOG_SCALE_RATIO)
        log = log or p.name in _LOG_SCALE
        grid = _SHAPE_GRIDS.get(p.name)
        if grid is not None and not all(lower <= g <= upper for g in grid):
            grid = None
        out.append(
            Param(
                p.name,
                lower,
                upper,
                default,
                log=log,
                grid=grid,
                linear=p.name in AFFINE_PARAMS,
                meaning=getattr(p, "meaning", ""),
            )
        )
    return tuple(out)


def _bounds_of(theory_params: Any, name: str) -> tuple[float, float]:
    for p in theory_params:
        if p.name == name:
            return float(p.lower), float(p.upper)
    return -np.inf, np.inf


class _TheoryLaw(LinearLaw):
    """A theory law ``E = floor + (ceiling - floor) g``: basis ``[1 - g, g]`` for the amplitudes
    ``(floor, ceiling)``, with ``g`` the law evaluated at ``floor = 0, ceiling = 1``."""

    _params_attr: str = ""
    _function_attr: str = ""

    def _theory_params(self) -> Any:
        return getattr(theory_law_module(), self._params_attr)

    def _function(self) -> Any:
        return getattr(theory_law_module(), self._function_attr)

    def theory_values(self, params: Mapping[str, float]) -> dict[str, float]:
        """The fitted parameters in the theory's own names and units."""
        return dict(params)

    def _call(self, inputs: Inputs, params: Mapping[str, float]) -> np.ndarray:
        args = {role: column(inputs, role) for role in self.roles}
        with np.errstate(all="ignore"):
            return np.asarray(self._function()(**args, **self.theory_values(params)), dtype=float)

    def basis(self, inputs: Inputs, params: Mapping[str, float]) -> np.ndarray:
        unit = {**params, AFFINE_PARAMS[0]: 0.0, AFFINE_PARAMS[1]: 1.0}
        g = self._call(inputs, unit)
        return np.column_stack([1.0 - g, g])

    def predict(self, inputs: Inputs, params: Mapping[str, float]) -> np.ndarray:
        return self._call(inputs, params)


class Unified(_TheoryLaw):
    """The project's unified law ``E(size, time, data, noise)`` (``scaletime.theory.law``).

    Scale-time equivalence puts size and time together through an effective time
    ``tau = c size^gamma time``; the linear signal/noise model supplies the capacity, data and
    label-noise terms. The equation, its derivation and every parameter are in docs/theory.md
    ("The unified law"). Searched as ``c_ref = c size_ref^gamma`` and ``q_ref = q size_ref^mu``
    (see the module docstring); ``c`` and ``q`` are in :meth:`derived`.

    Parameters
    ----------
    size_ref, time_ref, data_ref : float, optional
        Reference scales (set from the data by :meth:`prepare` when absent).
    """

    name = "unified"
    equation = "floor + (ceiling - floor) [1 - (1 - S) exp(-V)]  (scaletime.theory.law)"
    source = "this project, after Boopathy & Fiete 2024 (docs/theory.md)"
    positive_roles = ("size", "data")
    _params_attr = "PARAMS"
    _function_attr = "unified_error"
    _CENTRED: ClassVar[dict[str, tuple[str, str]]] = {"c": ("c_ref", "gamma"), "q": ("q_ref", "mu")}

    def __init__(
        self,
        size_ref: float | None = None,
        time_ref: float | None = None,
        data_ref: float | None = None,
    ) -> None:
        self.size_ref = size_ref
        self.time_ref = time_ref
        self.data_ref = data_ref

    @property
    def roles(self) -> tuple[str, ...]:
        return ("size", "time", "data", "noise")

    def prepare(self, inputs: Inputs) -> Unified:
        return Unified(
            size_ref=self.size_ref or geometric_mean(column(inputs, "size")),
            time_ref=self.time_ref or geometric_mean(column(inputs, "time")),
            data_ref=self.data_ref or geometric_mean(column(inputs, "data")),
        )

    def _centred(self) -> bool:
        names = {p.name for p in self._theory_params()}
        return self.size_ref is not None and {"c", "gamma", "q", "mu"} <= names

    def param_specs(self, inputs: Inputs | None = None) -> tuple[Param, ...]:
        specs = params_from_theory(self._theory_params())
        if not self._centred():
            return specs
        t_ref = self.time_ref or 1.0
        n_ref = self.data_ref or 1e3
        out = []
        for p in specs:
            if p.name == "c":
                grid = tuple(tau / t_ref for tau in (1.0, 30.0, 1000.0))
                out.append(
                    Param(
                        "c_ref",
                        p.lower,
                        p.upper,
                        grid[1],
                        log=True,
                        grid=grid,
                        meaning="c * size_ref^gamma: directions fitted per unit time "
                        "by a model of the reference size",
                    )
                )
            elif p.name == "q":
                grid = tuple(k * n_ref for k in (0.03, 0.3, 3.0))
                out.append(
                    Param(
                        "q_ref",
                        p.lower,
                        p.upper,
                        grid[1],
                        log=True,
                        grid=grid,
                        meaning="q * size_ref^mu: capacity (directions) of a model of "
                        "the reference size",
                    )
                )
            else:
                out.append(p)
        return tuple(out)

    def theory_values(self, params: Mapping[str, float]) -> dict[str, float]:
        if "c_ref" not in params:
            return dict(params)
        out = {k: v for k, v in params.items() if k not in ("c_ref", "q_ref")}
        out.update(
            {
                name: float(np.clip(value, *_bounds_of(self._theory_params(), name)))
                for name, value in self._unclipped(params).items()
            }
        )
        return out

    def _unclipped(self, params: Mapping[str, float]) -> dict[str, float]:
        return {
            name: params[ref_name] / self.size_ref ** params[exponent]
            for name, (ref_name, exponent) in self._CENTRED.items()
        }

    def violation(self, params: Mapping[str, float]) -> np.ndarray:
        """How far (in log units) ``c`` and ``q`` fall outside the theory's bounds: the clipped
        region is flat, so the optimiser is pushed back by a penalty instead."""
        if "c_ref" not in params:
            return np.zeros(0)
        out = []
        for name, value in self._unclipped(params).items():
            lo, hi = _bounds_of(self._theory_params(), name)
            log_v = np.log(max(value, 1e-300))
            out.append(max(0.0, np.log(lo) - log_v if lo > 0 else 0.0, log_v - np.log(hi)))
        return np.array(out)

    def derived(self, params: Mapping[str, float]) -> dict[str, float]:
        if "c_ref" not in params:
            return {}
        values = self.theory_values(params)
        return {"c": values["c"], "q": values["q"]}

    def config(self) -> dict[str, Any]:
        return {"size_ref": self.size_ref, "time_ref": self.time_ref, "data_ref": self.data_ref}


class UnifiedTimeOnly(_TheoryLaw):
    """The unified law's reduction to one curve in time (size, data and noise fixed):
    ``floor + (ceiling - floor) (1 + softmin(rate t, capacity))^-alpha``.

    ``scaletime.theory.law.unified_error_time_only`` with ``TIME_ONLY_PARAMS``; fitted curve by
    curve like the other one-variable laws (docs/theory.md).

    Parameters
    ----------
    time_ref : float, optional
        Reference time centring the start grid of ``rate`` (set by :meth:`prepare`).
    """

    name = "unified-time"
    equation = "floor + (ceiling - floor) (1 + softmin(rate t, capacity))^-alpha"
    source = "this project, after Boopathy & Fiete 2024 (docs/theory.md)"
    positive_roles = ()
    _params_attr = "TIME_ONLY_PARAMS"
    _function_attr = "unified_error_time_only"

    def __init__(self, time_ref: float | None = None) -> None:
        self.time_ref = time_ref

    @property
    def roles(self) -> tuple[str, ...]:
        return ("time",)

    def prepare(self, inputs: Inputs) -> UnifiedTimeOnly:
        return UnifiedTimeOnly(time_ref=self.time_ref or geometric_mean(column(inputs, "time")))

    def param_specs(self, inputs: Inputs | None = None) -> tuple[Param, ...]:
        specs = params_from_theory(self._theory_params())
        t_ref = self.time_ref or 1.0
        grids = {
            "rate": tuple(tau / t_ref for tau in (1.0, 30.0, 1000.0)),
            "capacity": (10.0, 1e3, 1e5),
        }
        out = []
        for p in specs:
            grid = grids.get(p.name)
            if grid is not None and all(p.lower <= g <= p.upper for g in grid):
                p = Param(
                    p.name,
                    p.lower,
                    p.upper,
                    grid[1],
                    log=p.log,
                    linear=p.linear,
                    grid=grid,
                    meaning=p.meaning,
                )
            out.append(p)
        return tuple(out)

    def config(self) -> dict[str, Any]:
        return {"time_ref": self.time_ref}

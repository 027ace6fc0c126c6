"""A scaling law as a scikit-learn style estimator: ``fit``, ``predict``, ``score``, intervals,
JSON (docs/fitting.md)."""

from __future__ import annotations

import inspect
import json
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from scaletime.fitting.bootstrap import (
    BOOTSTRAP_ROWS,
    group_resamples,
    out_of_bag_residuals,
    predictive_log_samples,
    residual_quantiles,
    run_refits,
)
from scaletime.fitting.errors import FitConvergenceWarning, FittingError
from scaletime.fitting.laws import Law, get_law, law_from_config
from scaletime.fitting.laws.base import ROLES, Param
from scaletime.fitting.losses import LOSS_NAMES, Loss, get_loss, log_residual
from scaletime.fitting.optimize import (
    BOOTSTRAP_TOLERANCE,
    SAME_OPTIMUM_RTOL,
    FitResult,
    LocalResult,
    Problem,
    local_fit,
    multistart_fit,
)
from scaletime.stats import check_confidence, from_jsonable, percentile_interval, to_jsonable

FORMAT_VERSION = 1
#: Roles along which a law scales; one that is constant in the fitted rows cannot be identified.
SCALING_ROLES = ("size", "time", "data")
#: Draws used to compute new-run prediction intervals.
PREDICTIVE_SAMPLES = 4000


def as_inputs(
    X: Any, roles: tuple[str, ...], optional: tuple[str, ...] = ()
) -> dict[str, np.ndarray]:
    """Role arrays from a DataFrame / mapping with role-named columns, or an array whose columns
    are ``roles`` in order. A missing ``noise`` role is filled with 0 (no label noise), a missing
    role in ``optional`` with the constant 1 (the law holds what only it identifies fixed)."""
    if isinstance(X, pd.DataFrame | Mapping):
        n = len(X) if isinstance(X, pd.DataFrame) else len(next(iter(X.values())))
        out = {}
        for role in roles:
            if role in X:
                out[role] = np.asarray(X[role], dtype=float).reshape(-1)
            elif role == "noise":
                out[role] = np.zeros(n)
            elif role in optional:
                out[role] = np.ones(n)
            else:
                given = list(X.columns if isinstance(X, pd.DataFrame) else X)
                raise FittingError(
                    f"input role {role!r} is missing (the law needs {list(roles)}; got {given})"
                )
        return out
    arr = np.asarray(X, dtype=float)
    if arr.ndim == 1 and len(roles) == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[1] != len(roles):
        raise FittingError(f"X must have one column per role {list(roles)}, got shape {arr.shape}")
    return {role: arr[:, k] for k, role in enumerate(roles)}


class _Refit:
    """A picklable bootstrap refit: warm-started local fit on the rows ``idx``."""

    def __init__(
        self,
        law: Law,
        inputs: dict[str, np.ndarray],
        y: np.ndarray,
        loss: Loss,
        specs: tuple[Param, ...],
        z_best: np.ndarray,
        max_nfev: int | None,
    ) -> None:
        self.law, self.inputs, self.y = law, inputs, y
        self.loss, self.specs, self.z_best, self.max_nfev = loss, specs, z_best, max_nfev

    def __call__(self, idx: np.ndarray) -> np.ndarray | None:
        sub = {k: v[idx] for k, v in self.inputs.items()}
        problem = Problem(self.law, sub, self.y[idx], self.loss, self.specs)
        try:
            res = local_fit(
                problem, self.z_best, max_nfev=self.max_nfev, project=False, tol=BOOTSTRAP_TOLERANCE
            )
        except (FloatingPointError, ValueError, np.linalg.LinAlgError):
            return None
        if not np.isfinite(res.loss):
            return None
        return np.array(list(problem.to_values(res.z).values()))


class ScalingLawRegressor:
    """Fit a scaling law with a robust log loss, multi-start search and a run-level bootstrap.

    Parameters
    ----------
    law : str or Law
        A name from :data:`scaletime.fitting.laws.LAWS` (``unified``, ``chinchilla``, ...).
    law_options : dict, optional
        Options for the law's constructor (e.g. ``{"n_breaks": 2}``).
    loss : {"huber", "mse", "mae"}
        Penalty on the log residuals (docs/fitting.md, "Objective").
    delta : float
        Huber threshold in log units (``1e-3``: Epoch AI's choice).
    n_starts : int
        Local optimisations; from the best grid candidates, or random with ``start="random"``.
    max_grid : int
        Largest start grid scored before the local optimisations.
    start : {"grid", "random"}
    n_bootstrap : int
        Bootstrap replicates over groups (0: no intervals except residual-only new-run ones).
    confidence : float
        Default level of every interval (0.9 = 90%).
    random_state : int or None
        Seeds the start grid, the bootstrap and the predictive draws.
    max_nfev : int, optional
        Evaluation limit of each local optimisation.
    n_jobs : int
        Worker processes for the bootstrap refits.

    Attributes
    ----------
    law_ : Law
    params_ : dict
        Best-fit parameter values.
    derived_ : dict
        Quantities derived from them (e.g. Kaplan's ``N_c``).
    loss_ : float
        Objective at the optimum, ``mean rho(log f - log y)``.
    starts_ : list of dict
        Every local optimisation: ``loss``, ``params``, ``converged``.
    n_at_optimum_ : int
        Starts whose loss is within :data:`SAME_OPTIMUM_RTOL` of the best.
    bootstrap_params_ : ndarray of shape (n_ok, n_params) or None
    params_interval_ : dict or None
        name -> (low, high) percentile interval at ``confidence``.
    residual_quantiles_ : ndarray
        Stored distribution of ``log y - log f`` (for new-run intervals): out-of-bag residuals
        of the bootstrap refits, or in-sample residuals without a bootstrap
        (``residual_source_``).
    n_points_, n_groups_, n_dropped_ : int
    input_ranges_ : dict
        role -> (min, max) of the fitted inputs (predictions outside extrapolate).
    """

    # Annotations only (no class attributes): fitted attributes whose first assignment is None.
    bootstrap_params_: np.ndarray | None
    params_interval_: dict[str, tuple[float, float]] | None
    #: Free-form provenance (source, columns, notes) set by ``fit_table``, the CLI and
    #: :meth:`from_dict`; absent on a plain :meth:`fit` (``to_dict`` then writes ``{}``).
    metadata_: dict[str, Any]

    def __init__(
        self,
        law: str | Law = "unified",
        *,
        law_options: dict[str, Any] | None = None,
        loss: str = "huber",
        delta: float | str = 1e-3,
        n_starts: int = 8,
        max_grid: int = 512,
        start: str = "grid",
        n_bootstrap: int = 0,
        confidence: float = 0.9,
        random_state: int | None = 0,
        max_nfev: int | None = None,
        n_jobs: int = 1,
        max_rows: int | None = None,
    ) -> None:
        self.law = law
        self.law_options = law_options
        self.loss = loss
        self.delta = delta
        self.n_starts = n_starts
        self.max_grid = max_grid
        self.start = start
        self.n_bootstrap = n_bootstrap
        self.confidence = confidence
        self.random_state = random_state
        self.max_nfev = max_nfev
        self.n_jobs = n_jobs
        self.max_rows = max_rows

    # ---------------------------------------------------------------- scikit-learn plumbing
    @classmethod
    def _get_param_names(cls) -> list[str]:
        """The constructor's parameter names, read from its signature (as scikit-learn does)."""
        signature = inspect.signature(cls.__init__)
        return [p for p in signature.parameters if p != "self"]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Constructor arguments (scikit-learn convention: ``sklearn.base.clone`` works)."""
        return {k: getattr(self, k) for k in self._get_param_names()}

    def set_params(self, **params: Any) -> ScalingLawRegressor:
        valid = self.get_params()
        for k, v in params.items():
            if k not in valid:
                raise ValueError(f"unknown parameter {k!r}; valid: {', '.join(valid)}")
            setattr(self, k, v)
        return self

    def _validate(self) -> None:
        if self.loss not in LOSS_NAMES:
            raise ValueError(f"loss must be one of {LOSS_NAMES}, got {self.loss!r}")
        if self.delta == "auto" and self.loss != "huber":
            raise ValueError("delta='auto' goes with loss='huber'")
        if self.delta != "auto":
            # any string but 'auto' is passed on too, so that Loss rejects it
            get_loss(self.loss, cast(float, self.delta))  # a bad delta fails here, naming it
        if int(self.n_bootstrap) < 0:
            raise ValueError(f"n_bootstrap must be >= 0, got {self.n_bootstrap}")
        if int(self.n_jobs) < 1:
            raise ValueError(f"n_jobs must be >= 1, got {self.n_jobs}")
        if self.max_rows is not None and int(self.max_rows) < 10:
            raise ValueError(f"max_rows must be None or >= 10, got {self.max_rows}")
        check_confidence(self.confidence)

    def _check_fitted(self) -> None:
        if not hasattr(self, "params_"):
            raise FittingError("this ScalingLawRegressor is not fitted yet; call fit() first")

    # ---------------------------------------------------------------- fitting
    def fit(
        self,
        X: Any,
        y: Any = None,
        groups: Any = None,
        progress: Callable[[int], None] | None = None,
    ) -> ScalingLawRegressor:
        """Fit the law to ``(X, y)``.

        Parameters
        ----------
        X : DataFrame, mapping or array of shape (n_points, n_roles)
            Inputs by role name (``size``, ``time``, ``data``, ``noise``).
        y : array of shape (n_points,), optional
            Positive targets; defaults to ``X["metric"]``.
        groups : array of shape (n_points,), optional
            Bootstrap unit of each point (run or seed); default: each point its own group.
        progress : callable, optional
            Called with the number of finished bootstrap refits.
        """
        self._validate()
        law = get_law(self.law, **(self.law_options or {}))
        inputs, y, groups, n = self._usable_rows(law, X, y, groups)
        n_groups = len(np.unique(groups))
        rng = np.random.default_rng(self.random_state)
        law, problem, result = self._select_variant(law, inputs, y, n_groups, rng)
        self._record_fit(law, problem, result, inputs, y, n, n_groups)
        self._bootstrap(law, problem, result.best.z, inputs, y, groups, rng, progress)
        return self

    def _usable_rows(
        self, law: Law, X: Any, y: Any, groups: Any
    ) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, int]:
        """The rows the law can be fitted on: checked roles and metric, time ≤ 0 dropped (the
        checkpoint at initialisation), a ``max_rows`` subset; refuses what cannot be fitted."""
        inputs = as_inputs(X, law.roles, law.optional_roles)
        if y is None:
            if not (isinstance(X, pd.DataFrame | Mapping) and "metric" in X):
                raise FittingError("y is missing and X has no 'metric' column")
            y = X["metric"]
        y = np.asarray(y, dtype=float).reshape(-1)
        n = len(y)
        if any(len(v) != n for v in inputs.values()):
            raise FittingError(
                f"X and y have different lengths ({len(next(iter(inputs.values())))} vs {n})"
            )
        groups = np.arange(n) if groups is None else np.asarray(groups)
        if len(groups) != n:
            raise FittingError(f"groups has {len(groups)} entries for {n} points")

        keep = np.ones(n, dtype=bool)
        for role in law.roles:
            bad = ~np.isfinite(inputs[role])
            if role in law.positive_roles:
                bad |= inputs[role] <= 0
            if role == "time":
                keep &= ~bad  # e.g. the checkpoint at initialisation (epoch 0)
            elif bad.any():
                raise FittingError(
                    f"role {role!r} has {int(bad.sum())} values that are not finite"
                    + (" and positive" if role in law.positive_roles else "")
                    + f" (law {law.name!r} needs them to be)"
                )
        bad_y = ~(np.isfinite(y) & (y > 0))
        if bad_y[keep].any():
            raise FittingError(
                f"the metric has {int(bad_y[keep].sum())} values that are not finite and positive; "
                "the loss is on log error, so drop those rows or choose another metric"
            )
        inputs = {k: v[keep] for k, v in inputs.items()}
        y, groups = y[keep], groups[keep]
        self.n_rows_available_ = len(y)
        if self.max_rows is not None and len(y) > int(self.max_rows):  # a large table: a subset
            subset_rng = np.random.default_rng(self.random_state)
            rows = np.sort(subset_rng.choice(len(y), int(self.max_rows), replace=False))
            inputs = {k: v[rows] for k, v in inputs.items()}
            y, groups = y[rows], groups[rows]
        if len(y) and np.ptp(np.log(y)) <= 1e-12:
            raise FittingError(
                f"the metric is constant ({y[0]:.6g} on all {len(y)} fitted rows): there is no "
                "trend for a law to fit"
            )
        if len(y) and not any(np.ptp(inputs[r]) > 0 for r in law.roles if r in SCALING_ROLES):
            raise FittingError(
                f"no role of law {law.name!r} varies in the fitted rows (each of "
                f"{[r for r in law.roles if r in SCALING_ROLES]} takes one value): nothing to fit"
            )
        return inputs, y, groups, n

    def _select_variant(
        self,
        law: Law,
        inputs: dict[str, np.ndarray],
        y: np.ndarray,
        n_groups: int,
        rng: np.random.Generator,
    ) -> tuple[Law, Problem, Any]:
        """Fit each nested form of the law (multi-start) and keep the one of lowest BIC, counted
        on the independent runs; fills ``selection_``."""
        use_auto = self.loss == "huber" and self.delta == "auto"
        loss = get_loss(
            "mse" if use_auto else self.loss, 1e-3 if use_auto else cast(float, self.delta)
        )
        self.selection_ = []
        chosen = None
        variants = law.prepare(inputs).variants()
        n_least = min(len(v.param_specs(inputs)) for v in variants)
        if len(y) <= n_least:
            raise FittingError(
                f"law {law.name!r} has {n_least} parameters but only {len(y)} usable points"
            )
        first: dict[str, float] | None = None
        for variant in variants:
            specs = variant.param_specs(inputs)
            if len(y) <= len(specs):
                continue
            problem = Problem(variant, inputs, y, loss, specs)
            # the first (simplest) form gets the full search; a richer nested form starts where
            # it ended (so it never fits worse) plus a quarter of the starts from an eighth of the
            # grid
            warm = None if first is None else _extend(first, specs, float(y.min()))
            result = multistart_fit(
                problem,
                n_starts=self.n_starts if warm is None else max(2, self.n_starts // 4),
                max_grid=self.max_grid if warm is None else max(16, self.max_grid // 8),
                start=self.start,
                random_state=np.random.default_rng(rng.integers(2**32)),
                max_nfev=self.max_nfev,
                x0=warm,
            )
            if first is None:
                first = problem.to_values(result.best.z)
            if use_auto:  # Huber at 1.345 robust sigmas of the least-squares residuals
                problem, result = _huber_from_mse(problem, result, self.max_nfev)
            r = log_residual(variant.predict(inputs, problem.to_values(result.best.z)), y)
            # BIC on the independent runs: points of one curve are not independent draws
            msr = max(float(np.mean(np.square(r))), 1e-300)
            bic = n_groups * np.log(msr) + len(specs) * np.log(max(n_groups, 2))
            self.selection_.append(
                {"variant": variant.config(), "n_params": len(specs), "msle": msr, "bic": bic}
            )
            if chosen is None or bic < chosen[0]:
                chosen = (bic, variant, problem, result)
        if chosen is None:
            raise FittingError(f"law {law.name!r}: no variant could be fitted")
        return chosen[1], chosen[2], chosen[3]

    def _record_fit(
        self,
        law: Law,
        problem: Problem,
        result: Any,
        inputs: dict[str, np.ndarray],
        y: np.ndarray,
        n: int,
        n_groups: int,
    ) -> None:
        """The learned attributes of the chosen fit, its identification and bound warnings, and
        in-sample residual quantiles."""
        specs = problem.specs
        best = result.best
        self.law_ = law
        self.param_names_ = problem.names
        self.params_ = problem.to_values(best.z)
        self.derived_ = law.derived(self.params_)
        self.loss_ = float(best.loss)
        self.converged_ = bool(best.converged)
        self.starts_ = [
            {"loss": float(r.loss), "params": problem.to_values(r.z), "converged": r.converged}
            for r in result.starts
        ]
        self.n_at_optimum_ = int(
            sum(
                abs(r.loss - best.loss) <= SAME_OPTIMUM_RTOL * abs(best.loss) + 1e-15
                for r in result.starts
            )
        )
        self.n_points_ = len(y)
        self.n_dropped_ = int(n - len(y))
        self.n_groups_ = n_groups
        self.not_identified_ = dict(getattr(law, "not_identified", dict)())
        self.identified_ = identification(problem, best.z)
        constant = [r for r in law.roles if r in SCALING_ROLES and not np.ptp(inputs[r])]
        if getattr(law, "holds_constant_roles_fixed", False):
            constant = []  # the law holds those roles' parameters fixed itself (not_identified)
        tied = set(parallel_effects(problem, best.z)) if constant else set()
        loose = [k for k, ok in self.identified_.items() if not ok or k in tied]
        for role in constant:
            why = f"{role} takes one value ({inputs[role][0]:.6g}) in the fitted rows"
            for name in loose:
                self.not_identified_.setdefault(name, why)
            warnings.warn(
                f"law {law.name!r}: {why}, so its {role} dependence is not identified"
                + (f" (parameters {', '.join(loose)})" if loose else "")
                + f"; predictions at another {role} are not supported by the data",
                FitConvergenceWarning,
                stacklevel=3,
            )
        self.at_bound_ = at_bounds(problem, best.z)
        for name, side in self.at_bound_.items():
            warnings.warn(
                f"law {law.name!r}: parameter {name!r} = {self.params_[name]:.4g} sits on its "
                f"{side} bound; the data do not pin it down inside its range",
                FitConvergenceWarning,
                stacklevel=3,
            )
        self.input_ranges_ = {r: (float(v.min()), float(v.max())) for r, v in inputs.items()}
        self.param_bounds_ = {p.name: (p.lower, p.upper) for p in specs}
        residuals = np.log(y) - np.log(law.predict(inputs, self.params_))
        self.residual_quantiles_ = residual_quantiles(residuals, len(specs))
        self.residual_source_ = "in-sample"
        self.train_score_ = _log_r2(y, np.exp(np.log(y) - residuals))

    def _bootstrap(
        self,
        law: Law,
        problem: Problem,
        best_z: np.ndarray,
        inputs: dict[str, np.ndarray],
        y: np.ndarray,
        groups: np.ndarray,
        rng: np.random.Generator,
        progress: Callable[[int], None] | None,
    ) -> None:
        """``n_bootstrap`` refits on resampled groups: parameter intervals, and out-of-bag
        residual quantiles for new-run intervals when there are at least 20 of them."""
        self.bootstrap_params_ = None
        self.params_interval_ = None
        self.n_bootstrap_failed_ = 0
        if self.n_bootstrap <= 0:
            return
        resamples = group_resamples(groups, int(self.n_bootstrap), rng, BOOTSTRAP_ROWS)
        refit = _Refit(law, inputs, y, problem.loss, problem.specs, best_z, self.max_nfev)
        results, n_failed = run_refits(refit, resamples, int(self.n_jobs), progress)
        self.n_bootstrap_failed_ = n_failed
        if n_failed:
            warnings.warn(
                f"{n_failed} of {self.n_bootstrap} bootstrap refits failed",
                FitConvergenceWarning,
                stacklevel=3,
            )
        ok = [k for k, r in enumerate(results) if r is not None]
        ok_results = [r for r in results if r is not None]  # results[k] for k in ok
        if not ok:
            return
        self.bootstrap_params_ = np.vstack(ok_results)
        self._set_params_interval()

        def residual_of(b: int, rows: np.ndarray) -> np.ndarray:
            values = dict(zip(self.param_names_, ok_results[b], strict=True))
            sub = {k: v[rows] for k, v in inputs.items()}
            with np.errstate(all="ignore"):
                return np.log(y[rows]) - np.log(law.predict(sub, values))

        oob = out_of_bag_residuals(
            [resamples[k] for k in ok], groups, residual_of, BOOTSTRAP_ROWS, rng
        )
        if len(oob) >= 20:
            self.residual_quantiles_ = residual_quantiles(oob)
            self.residual_source_ = "out-of-bag"

    def _set_params_interval(self) -> None:
        assert self.bootstrap_params_ is not None  # called once the bootstrap has run
        lo, hi = percentile_interval(self.bootstrap_params_, self.confidence)
        self.params_interval_ = {
            name: (float(a), float(b)) for name, a, b in zip(self.param_names_, lo, hi, strict=True)
        }

    # ---------------------------------------------------------------- prediction
    def predict(self, X: Any) -> np.ndarray:
        """The fitted law at ``X`` (same input forms as :meth:`fit`)."""
        self._check_fitted()
        return self.law_.predict(
            as_inputs(X, self.law_.roles, self.law_.optional_roles), self.params_
        )

    def _bootstrap_log_means(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        assert self.bootstrap_params_ is not None  # the caller checked
        rows = []
        for vec in self.bootstrap_params_:
            values = dict(zip(self.param_names_, vec, strict=True))
            with np.errstate(all="ignore"):
                rows.append(np.log(self.law_.predict(inputs, values)))
        return np.vstack(rows)

    def predict_interval(
        self, X: Any, kind: str = "new-run", confidence: float | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper interval bounds at ``X``.

        ``kind="mean"``: percentile interval of the law itself over bootstrap refits (needs
        ``n_bootstrap > 0``). ``kind="new-run"``: prediction interval for the measurement of a new
        run, ``log f(x; theta_b) + e`` with ``theta_b`` a bootstrap refit and ``e`` an
        out-of-bag residual (a residual of a run the refit did not see; docs/fitting.md,
        "Uncertainty"); without a bootstrap, in-sample residuals widened by sqrt(n / (n - k)).
        """
        self._check_fitted()
        confidence = check_confidence(self.confidence if confidence is None else confidence)
        if kind not in ("mean", "new-run"):
            raise ValueError(f"kind must be 'mean' or 'new-run', got {kind!r}")
        inputs = as_inputs(X, self.law_.roles, self.law_.optional_roles)
        if self.bootstrap_params_ is None:
            if kind == "mean":
                raise FittingError("mean intervals need a bootstrap: fit with n_bootstrap > 0")
            log_mean = np.log(self.law_.predict(inputs, self.params_))
            tail = (1.0 - confidence) / 2.0
            q = np.quantile(self.residual_quantiles_, [tail, 1.0 - tail])
            return np.exp(log_mean + q[0]), np.exp(log_mean + q[1])
        log_means = self._bootstrap_log_means(inputs)
        if kind == "mean":
            lo, hi = percentile_interval(log_means, confidence)
        else:
            rng = np.random.default_rng(self.random_state)
            draws = predictive_log_samples(
                log_means, self.residual_quantiles_, PREDICTIVE_SAMPLES, rng
            )
            lo, hi = percentile_interval(draws, confidence)
        return np.exp(lo), np.exp(hi)

    def predict_frame(self, X: Any, confidence: float | None = None) -> pd.DataFrame:
        """Inputs, prediction and both intervals as one table."""
        inputs = as_inputs(X, self.law_.roles, self.law_.optional_roles)
        out = pd.DataFrame(inputs)
        out["prediction"] = self.predict(inputs)
        if self.bootstrap_params_ is not None:
            out["mean_low"], out["mean_high"] = self.predict_interval(inputs, "mean", confidence)
        out["new_run_low"], out["new_run_high"] = self.predict_interval(
            inputs, "new-run", confidence
        )
        return out

    def score(self, X: Any, y: Any = None) -> float:
        """Coefficient of determination of ``log y`` (1 is perfect; higher is better)."""
        self._check_fitted()
        if y is None:
            y = X["metric"]
        return _log_r2(np.asarray(y, dtype=float), self.predict(X))

    # ---------------------------------------------------------------- persistence
    def to_dict(self) -> dict[str, Any]:
        """Everything needed to predict again, as JSON-ready values."""
        self._check_fitted()
        from scaletime.fitting.laws import law_to_config

        est = self.get_params()
        est["law"] = self.law_.name
        return {
            "format": "scaletime-fit",
            "version": FORMAT_VERSION,
            "law": law_to_config(self.law_),
            "equation": self.law_.equation,
            "source": self.law_.source,
            "roles": list(self.law_.roles),
            "estimator": est,
            "params": self.params_,
            "derived": self.derived_,
            "param_bounds": {k: list(v) for k, v in self.param_bounds_.items()},
            "params_interval": self.params_interval_,
            "loss": self.loss_,
            "converged": self.converged_,
            "n_at_optimum": self.n_at_optimum_,
            "starts": self.starts_,
            "n_points": self.n_points_,
            "n_groups": self.n_groups_,
            "n_dropped": self.n_dropped_,
            "train_score": self.train_score_,
            "input_ranges": {k: list(v) for k, v in self.input_ranges_.items()},
            "residual_quantiles": self.residual_quantiles_.tolist(),
            "residual_source": self.residual_source_,
            "bootstrap_params": (
                None if self.bootstrap_params_ is None else self.bootstrap_params_.tolist()
            ),
            "n_bootstrap_failed": self.n_bootstrap_failed_,
            "not_identified": getattr(self, "not_identified_", {}),
            "identified": getattr(self, "identified_", {}),
            "at_bound": getattr(self, "at_bound_", {}),
            "selection": getattr(self, "selection_", []),
            "metadata": getattr(self, "metadata_", {}),
        }

    def to_json(self, path: str | Path) -> Path:
        """Write :meth:`to_dict` to ``path`` (non-finite numbers as strings)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(to_jsonable(self.to_dict(), nonfinite="text"), indent=1))
        return path

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScalingLawRegressor:
        """Rebuild a fitted estimator from :meth:`to_dict` output."""
        from scaletime.fitting.schema import validate_fit_file

        data = from_jsonable(data)
        validate_fit_file(data)
        try:
            law = law_from_config(data["law"])
            est_params = dict(data["estimator"])
            est_params["law"] = law
            est = cls(**est_params)
            est._validate()
        except (TypeError, ValueError, KeyError) as err:
            raise FittingError(
                f"fit file is damaged: its law or estimator options: {err}"
            ) from None
        expected = [p.name for p in law.param_specs(None)]
        if sorted(expected) != sorted(data["params"]):
            raise FittingError(
                f"fit file is damaged: law {law.name!r} has parameters {expected}, the file "
                f"gives {sorted(data['params'])}"
            )
        est.law_ = law
        est.param_names_ = list(data["params"])
        est.params_ = {k: float(v) for k, v in data["params"].items()}
        est.derived_ = dict(data.get("derived", {}))
        est.param_bounds_ = {k: tuple(v) for k, v in data["param_bounds"].items()}
        est.params_interval_ = (
            None
            if data["params_interval"] is None
            else {k: tuple(v) for k, v in data["params_interval"].items()}
        )
        est.loss_ = float(data["loss"])
        est.converged_ = bool(data["converged"])
        est.n_at_optimum_ = int(data["n_at_optimum"])
        est.starts_ = list(data["starts"])
        est.n_points_ = int(data["n_points"])
        est.n_groups_ = int(data["n_groups"])
        est.n_dropped_ = int(data["n_dropped"])
        est.train_score_ = float(data["train_score"])
        est.input_ranges_ = {k: tuple(v) for k, v in data["input_ranges"].items()}
        est.residual_quantiles_ = np.asarray(data["residual_quantiles"], dtype=float)
        est.residual_source_ = str(data.get("residual_source", "in-sample"))
        bp = data.get("bootstrap_params")
        est.bootstrap_params_ = None if bp is None else np.asarray(bp, dtype=float)
        est.n_bootstrap_failed_ = int(data.get("n_bootstrap_failed", 0))
        est.not_identified_ = dict(data.get("not_identified", {}))
        est.identified_ = dict(data.get("identified", {}))
        est.at_bound_ = dict(data.get("at_bound", {}))
        est.selection_ = list(data.get("selection", []))
        est.metadata_ = dict(data.get("metadata", {}))
        return est

    @classmethod
    def from_json(cls, path: str | Path) -> ScalingLawRegressor:
        """Read a fit written by :meth:`to_json`."""
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise FittingError(f"fit file {str(path)!r} does not exist") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise FittingError(f"fit file {str(path)!r} is not valid JSON: {exc}") from None
        except RecursionError:
            raise FittingError(f"fit file {str(path)!r} is nested too deeply") from None
        except OSError as exc:
            raise FittingError(f"cannot read fit file {str(path)!r}: {exc.strerror}") from None
        try:
            return cls.from_dict(data)
        except FittingError as err:
            raise FittingError(str(err).replace("fit file", f"fit file {str(path)!r}", 1)) from None

    def summary(self) -> pd.DataFrame:
        """One row per parameter: value, interval, bounds, meaning."""
        self._check_fitted()
        specs = {p.name: p for p in self.law_.param_specs(None)}
        rows = []
        for name, value in self.params_.items():
            lo, hi = (self.params_interval_ or {}).get(name, (np.nan, np.nan))
            rows.append(
                {
                    "parameter": name,
                    "value": value,
                    "low": lo,
                    "high": hi,
                    "meaning": specs[name].meaning if name in specs else "",
                }
            )
        for name, value in self.derived_.items():
            rows.append(
                {
                    "parameter": name,
                    "value": value,
                    "low": np.nan,
                    "high": np.nan,
                    "meaning": "derived",
                }
            )
        return pd.DataFrame(rows)

    def __repr__(self) -> str:
        return (
            f"ScalingLawRegressor(law={getattr(self.law, 'name', self.law)!r}, loss={self.loss!r})"
        )


#: Huber's tuning constant: 95% efficiency under Gaussian noise, in robust standard deviations.
HUBER_K = 1.345


def auto_delta(residuals: np.ndarray) -> float:
    """The data-scaled Huber threshold ``δ = 1.345 σ̂`` with ``σ̂ = 1.4826 MAD`` of the log
    residuals (a robust estimate of the seed noise), at least 1e-6."""
    r = np.asarray(residuals, dtype=float)
    sigma = 1.4826 * float(np.median(np.abs(r - np.median(r))))
    return max(HUBER_K * sigma, 1e-6)


def _extend(
    values: Mapping[str, float], specs: tuple[Param, ...], y_min: float
) -> dict[str, float]:
    """A start for a richer nested form: the simpler form's optimum, the parameters it lacked at
    their defaults (a floor just above 0, so the start is not on its bound)."""
    out = {}
    for p in specs:
        if p.name in values:
            out[p.name] = float(np.clip(values[p.name], p.lower, p.upper))
        elif p.name == "floor":
            out[p.name] = float(np.clip(1e-3 * y_min, p.lower, p.upper))
        else:
            out[p.name] = p.default
    return out


def _huber_from_mse(problem: Problem, result, max_nfev: int | None):
    """Refit ``problem`` (fitted with MSE) with Huber at :func:`auto_delta`, from its optimum."""
    r = problem.residual(result.best.z)[: len(problem.y)]
    huber_problem = Problem(
        problem.law, problem.inputs, problem.y, Loss("huber", auto_delta(r)), problem.specs
    )
    best = local_fit(huber_problem, result.best.z, max_nfev=max_nfev, project=False)
    starts = [
        LocalResult(s.z, huber_problem.objective(s.z), s.converged, s.n_evaluations, s.start)
        for s in result.starts
    ]
    return huber_problem, FitResult(
        best=best, starts=[best, *starts[1:]], n_candidates=result.n_candidates
    )


#: A direction of parameter space is not identified when its singular value, relative to the
#: largest, is below this (the loss changes by less than ~1e-12 of its curvature scale).
IDENTIFIED_RTOL = 1e-6


def identification(problem: Problem, z: np.ndarray) -> dict[str, bool]:
    """Which parameters the data pin down at ``z``: from the singular values of the residual
    Jacobian (internal units; exact for laws with an analytic Jacobian, else 2-point). A
    parameter is not identified when it loads (|component| > 0.5) on a singular vector whose
    singular value is below :data:`IDENTIFIED_RTOL` times the largest."""
    names = problem.names
    try:
        _, sv, vt = np.linalg.svd(_jacobian(problem, z), full_matrices=False)
    except (np.linalg.LinAlgError, ValueError, FloatingPointError):
        return dict.fromkeys(names, False)
    weak = sv < IDENTIFIED_RTOL * max(sv.max(initial=0.0), 1e-300)
    loose = np.zeros(len(names), dtype=bool)
    for k in np.flatnonzero(weak):
        loose |= np.abs(vt[k]) > 0.5
    return {n: not bool(x) for n, x in zip(names, loose, strict=True)}


def _jacobian(problem: Problem, z: np.ndarray) -> np.ndarray:
    """The residual Jacobian at ``z`` (data rows only; analytic where the law has one)."""
    if problem.law.has_jacobian:
        jac = problem.residual_jacobian(z)[: len(problem.y)]
    else:
        base = problem.residual(z)[: len(problem.y)]
        jac = np.empty((len(base), len(z)))
        for k in range(len(z)):
            step = 1e-6 * max(1.0, abs(z[k]))
            zk = z.copy()
            zk[k] += step
            jac[:, k] = (problem.residual(zk)[: len(problem.y)] - base) / step
    return np.nan_to_num(jac)


def parallel_effects(problem: Problem, z: np.ndarray) -> list[str]:
    """Parameters whose effects on the fitted rows are proportional to another's (parallel
    Jacobian columns, e.g. ``E``, ``A`` and ``alpha`` when every row has the same size): each
    such group can trade one combination among its members, so none of them is identified on
    its own, however small its effect."""
    try:
        jac = _jacobian(problem, z)
    except (ValueError, FloatingPointError):
        return []
    norms = np.linalg.norm(jac, axis=0)
    unit = jac / np.where(norms > 0, norms, 1.0)
    cos = np.abs(unit.T @ unit)
    out = set()
    for i in range(len(norms)):
        for j in range(i + 1, len(norms)):
            if norms[i] > 0 and norms[j] > 0 and cos[i, j] > 1 - 1e-9:
                out |= {problem.names[i], problem.names[j]}
    return [n for n in problem.names if n in out]


def at_bounds(problem: Problem, z: np.ndarray) -> dict[str, str]:
    """Parameters within 1e-6 (internal units, relative to the range) of a finite bound, other
    than a bound the parameter is meant to reach (a floor or noise term of 0)."""
    out = {}
    lo, hi = problem.bounds()
    for k, p in enumerate(problem.specs):
        span = (hi[k] - lo[k]) if np.isfinite(hi[k] - lo[k]) else 1.0
        tol = 1e-6 * max(span, 1.0)
        if p.linear or (p.lower == 0.0 and not p.log):
            continue  # amplitudes and shares may be 0
        if np.isfinite(lo[k]) and z[k] - lo[k] <= tol and not (p.log and p.lower == 0.0):
            out[p.name] = "lower"
        elif np.isfinite(hi[k]) and hi[k] - z[k] <= tol:
            out[p.name] = "upper"
    return out


def _log_r2(y: np.ndarray, y_pred: np.ndarray) -> float:
    ly, lp = np.log(y), np.log(y_pred)
    ss_res = float(np.sum((ly - lp) ** 2))
    ss_tot = float(np.sum((ly - ly.mean()) ** 2))
    return 1.0 - ss_res / ss_tot if ss_tot > 0 else float("nan")


def load_fit(path: str | Path) -> ScalingLawRegressor:
    """Read a fit file written by :meth:`ScalingLawRegressor.to_json`."""
    return ScalingLawRegressor.from_json(path)


__all__ = ["ROLES", "ScalingLawRegressor", "as_inputs", "load_fit"]

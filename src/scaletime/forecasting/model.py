"""``ScalingForecaster``: backtest every forecaster on the table, combine them by their
backtest error at the asked extrapolation ratio, and give conformal intervals
(docs/forecast.md). scikit-learn style: parameters in ``__init__``, ``fit`` learns the
trailing-underscore attributes, ``predict`` / ``predict_frame`` answer queries.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from scaletime.fitting.errors import FitConvergenceWarning, FittingError
from scaletime.fitting.estimator import ScalingLawRegressor
from scaletime.fitting.evaluate import BASELINES, HOLDOUT_AXES, positive_mask
from scaletime.fitting.laws import LAWS, get_law
from scaletime.forecasting import combine as cb
from scaletime.forecasting.backtest import FALLBACK, Backtest, origin_cuts, run_backtests
from scaletime.forecasting.candidates import SCALE_TIME, Candidate, Predictor, default_candidates
from scaletime.table import CurveTable

#: Fit options of the backtest fits: fewer starts than a final fit (there are many of them).
BACKTEST_OPTIONS: dict[str, Any] = {"n_starts": 2, "max_grid": 64}
#: Origins needed for conformal intervals; with fewer, the best law's bootstrap intervals.
MIN_CONFORMAL_ORIGINS = 3


class ScalingForecaster:
    """Forecast a table beyond its largest size, time or data (docs/forecast.md).

    Parameters
    ----------
    axis : {"size", "time", "data"}
        The axis extrapolated (the backtests cut along it).
    candidates : sequence of str, optional
        Forecaster names: laws, ``scale-time``, ``constant``, ``last-value``. Default: every one
        that can extrapolate the table along ``axis``.
    confidence : float
        Level of the intervals (0.8 = 80%).
    method : {"auto", "select", "ensemble"}
        How candidates are combined; ``auto`` picks the one with the smaller
        leave-one-origin-out backtest error.
    max_origins : int
        Backtest origins (cuts) at most.
    bandwidth : float
        Kernel width in ``log ratio`` for weighting backtest points by their ratio.
    top_k : int
        Candidates in the ensemble.
    fit_options, backtest_options : dict, optional
        :class:`~scaletime.fitting.ScalingLawRegressor` options of the final and the backtest
        fits (default: the fitter's defaults; :data:`BACKTEST_OPTIONS`).
    n_bootstrap : int
        Bootstrap refits of the best law when intervals fall back to it.
    scaled : bool
        Locally adaptive intervals: conformal scores divided by the spread of the three best
        forecasters' predictions (plus its median), so the band widens where they disagree.
    on_progress : callable, optional
        Called with a short message after each fit.

    Attributes
    ----------
    cut_ : float
        Largest fitted value of ``axis`` (ratios are ``value / cut_``).
    candidates_ : list of str
        Candidates used; ``skipped_`` maps the others to the reason.
    backtest_ : Backtest
    scores_ : DataFrame
        Per candidate: backtest RMSLE (the ω-weighted geometric mean over origins), points, failed origins, and
        whether its final fit succeeded.
    method_ : str
    loo_rmsle_ : dict
        Leave-one-origin-out backtest RMSLE of each combination method.
    interval_source_ : {"conformal", "bootstrap", "none"}
    backtest_coverage_ : float
        Share of backtest points inside the conformal band learnt from the other origins.
    warnings_ : list of str
    """

    def __init__(
        self,
        axis: str = "size",
        *,
        candidates: Sequence[str] | None = None,
        confidence: float = 0.8,
        method: str = "auto",
        max_origins: int = 3,
        bandwidth: float = math.log(2.0),
        top_k: int = 3,
        fit_options: dict[str, Any] | None = None,
        backtest_options: dict[str, Any] | None = None,
        n_bootstrap: int = 50,
        scaled: bool = False,
        on_progress: Callable[[str], None] | None = None,
    ) -> None:
        self.axis = axis
        self.candidates = candidates
        self.confidence = confidence
        self.method = method
        self.max_origins = max_origins
        self.bandwidth = bandwidth
        self.top_k = top_k
        self.fit_options = fit_options
        self.backtest_options = backtest_options
        self.n_bootstrap = n_bootstrap
        self.scaled = scaled
        self.on_progress = on_progress

    def _validate(self, table: CurveTable) -> None:
        if self.axis not in HOLDOUT_AXES:
            raise ValueError(f"axis must be one of {HOLDOUT_AXES}, got {self.axis!r}")
        if self.axis not in table.varying_roles():
            raise FittingError(f"the table does not vary {self.axis}: nothing to extrapolate")
        if not 0.0 < self.confidence < 1.0:
            raise ValueError(f"confidence must lie strictly between 0 and 1, got {self.confidence}")
        if self.method not in ("auto", *cb.METHODS):
            raise ValueError(f"method must be auto, select or ensemble, got {self.method!r}")
        if self.max_origins < 1 or self.top_k < 1 or self.bandwidth <= 0:
            raise ValueError("max_origins and top_k must be >= 1 and bandwidth > 0")
        known = [*LAWS, SCALE_TIME, *BASELINES]
        for name in self.candidates or ():
            if name not in known:
                raise FittingError(f"unknown forecaster {name!r}; known: {', '.join(known)}")

    def _say(self, message: str) -> None:
        if self.on_progress is not None:
            self.on_progress(message)

    def fit(self, table: CurveTable, query: pd.DataFrame | None = None) -> ScalingForecaster:
        """Backtest and fit every candidate on ``table`` (one setting). ``query``, the rows to
        be predicted when known, lets one-variable laws fit only the curves asked about."""
        self._validate(table)
        axis = self.axis
        values = table.frame[axis].to_numpy(float)
        self.cut_ = float(values[values > 0].max() if axis == "time" else values.max())
        names = list(self.candidates) if self.candidates else None
        pool = [Candidate(n) for n in names] if names else default_candidates(table, axis)
        self.skipped_ = {c.name: r for c in pool if (r := c.not_applicable(table, axis))}
        cands = [c for c in pool if c.name not in self.skipped_]
        if not cands:
            raise FittingError(f"no forecaster can extrapolate this table along {axis}")
        self.candidates_ = [c.name for c in cands]
        cuts = origin_cuts(table, axis, self.max_origins)
        bt_options = dict(
            BACKTEST_OPTIONS if self.backtest_options is None else self.backtest_options
        )
        self._say(f"backtests: {len(cands)} forecasters × {len(cuts)} origins")
        self.backtest_ = run_backtests(
            table, axis, cands, cuts, bt_options, on_fit=lambda n, c: self._say(f"{n} @ {c:g}")
        )
        self.predictors_: dict[str, Predictor] = {}
        self.final_failures_: dict[str, str] = {}
        for cand in cands:
            try:
                self.predictors_[cand.name] = cand.fit(
                    table, axis, dict(self.fit_options or {}), query
                )
            except FittingError as exc:
                self.final_failures_[cand.name] = str(exc)
            self._say(f"{cand.name}: final fit")
        self.fallback_ = Candidate(FALLBACK).fit(table, axis, {})
        self.table_ = table
        self._learn_combination()
        self._learn_intervals()
        return self

    @classmethod
    def from_backtest(
        cls, backtest: Backtest, fitted: Sequence[str], axis: str, cut: float, **params: Any
    ) -> ScalingForecaster:
        """A forecaster that combines an existing backtest (e.g. one cached by the forecast
        benchmark) with other parameters; it predicts through :meth:`combine_log` only (its
        candidates are not refitted), ``fitted`` naming those whose final fit succeeded."""
        model = cls(axis, **params)
        model.backtest_, model.cut_ = backtest, float(cut)
        model.predictors_ = {name: _unavailable for name in fitted}
        model.candidates_ = list(backtest.names)
        model._learn_combination()
        model._learn_intervals()
        return model

    # ------------------------------------------------------------------ combination
    def _bt(self) -> tuple[Backtest, np.ndarray, np.ndarray, np.ndarray]:
        bt = self.backtest_
        log_r = np.log(bt.points["ratio"].to_numpy(float))
        origin = bt.points["origin"].to_numpy()
        log_y = np.log(bt.points["y"].to_numpy(float))
        return bt, log_r, origin, log_y

    def _learn_combination(self) -> None:
        bt, log_r, origin, log_y = self._bt()
        res = bt.residuals
        n_origins = len(np.unique(origin))
        rows = []
        for i, name in enumerate(bt.names):
            if len(origin):
                score = float(cb.scores(res[i : i + 1], np.ones((1, len(origin))), origin)[0, 0])
            else:
                score = float("nan")
            rows.append(
                {
                    "forecaster": name,
                    "backtest_rmsle": score,
                    "n_points": len(origin),
                    "failed_origins": len(bt.failures.get(name, [])),
                    "final_fit": name in self.predictors_,
                }
            )
        self.scores_ = pd.DataFrame(rows).sort_values("backtest_rmsle", kind="stable")
        self.loo_rmsle_: dict[str, float] = {}
        self.loo_residuals_: dict[str, np.ndarray] = {}
        if n_origins >= 2:
            for method in cb.METHODS:
                r = cb.leave_one_origin_out(
                    res, bt.log_pred, log_y, log_r, origin, method, self.bandwidth, self.top_k
                )
                self.loo_residuals_[method] = r
                ok = np.isfinite(r)
                one = np.ones((1, int(ok.sum())))
                self.loo_rmsle_[method] = float(cb.scores(r[None, ok], one, origin[ok])[0, 0])
        if self.method != "auto":
            self.method_ = self.method
        elif self.loo_rmsle_:
            self.method_ = min(cb.METHODS, key=lambda m: self.loo_rmsle_[m])
        else:
            self.method_ = "ensemble"

    def _weights(self, log_ratio: np.ndarray) -> np.ndarray:
        """Candidate weights per query (rows: ``backtest_.names``); candidates whose final fit
        failed get none."""
        bt, log_r, origin, _ = self._bt()
        names = bt.names
        if len(origin) == 0:  # no backtest: equal weights over the fitted candidates
            ok = np.array([n in self.predictors_ for n in names], float)
            return np.repeat((ok / ok.sum())[:, None], len(log_ratio), axis=1)
        w = cb.point_weights(log_ratio, log_r, origin, self.bandwidth)
        score = cb.scores(bt.residuals, w, origin)
        failed = np.array([n not in self.predictors_ for n in names])
        score[failed] = np.inf
        return cb.candidate_weights(score, self.method_, self.top_k)

    def log_predictions(self, frame: pd.DataFrame) -> np.ndarray:
        """Each candidate's log prediction at the rows of ``frame`` (``last-value`` where it has
        none), shape (n_candidates, n_rows)."""
        fallback = self.fallback_(frame)
        out = np.empty((len(self.backtest_.names), len(frame)))
        for i, name in enumerate(self.backtest_.names):
            pred = self.predictors_[name](frame) if name in self.predictors_ else fallback
            out[i] = np.log(np.where(np.isfinite(pred), pred, fallback))
        return out

    # ------------------------------------------------------------------ intervals
    def _spread(self, log_pred: np.ndarray) -> np.ndarray:
        """Scale of the conformal scores: the standard deviation of the three best-backtested
        forecasters' log predictions plus its median over the backtest points (ones unless
        ``scaled``)."""
        if not self.scaled:
            return np.ones(log_pred.shape[1])
        names = list(self.backtest_.names)
        top = [names.index(n) for n in self.scores_["forecaster"][:3]]
        spread = np.std(log_pred[top], axis=0)
        return spread + self.spread0_

    def _learn_intervals(self) -> None:
        _, log_r, origin, _ = self._bt()
        self.warnings_: list[str] = []
        n_origins = len(np.unique(origin))
        self.interval_source_ = "conformal" if n_origins >= MIN_CONFORMAL_ORIGINS else "bootstrap"
        if n_origins < MIN_CONFORMAL_ORIGINS:
            self.warnings_.append(
                f"{n_origins} backtest origin(s) (< {MIN_CONFORMAL_ORIGINS}): intervals are the "
                "best law's bootstrap intervals, not calibrated on backtests"
            )
        bt = self.backtest_
        self.spread0_ = 0.0
        if self.scaled and bt.log_pred.shape[1]:
            top = [list(bt.names).index(n) for n in self.scores_["forecaster"][:3]]
            self.spread0_ = float(np.median(np.std(bt.log_pred[top], axis=0))) + 1e-6
        raw = self.loo_residuals_.get(self.method_)
        self.conformal_residuals_ = None if raw is None else raw / self._spread(bt.log_pred)
        self.backtest_coverage_ = float("nan")
        r = self.conformal_residuals_
        if r is None or n_origins < 2:
            return
        inside = []
        for o in np.unique(origin):
            here, rest = origin == o, (origin != o) & np.isfinite(r)
            if not rest.any():
                continue
            w = cb.point_weights(log_r[here], log_r[rest], origin[rest], self.bandwidth)
            lo, hi = cb.conformal_band(r[rest], w, self.confidence)
            inside.append(np.mean((r[here] >= lo) & (r[here] <= hi)))
        self.backtest_coverage_ = float(np.mean(inside)) if inside else float("nan")

    def _bootstrap_band(self, frame: pd.DataFrame, log_f: np.ndarray):
        laws = [
            n
            for n in self.scores_["forecaster"]
            if n in self.predictors_ and Candidate(n).kind == "law"
        ]
        if not laws:
            return np.full(len(frame), np.nan), np.full(len(frame), np.nan)
        name = laws[0]
        law = get_law(name)
        if len(law.roles) == 1:  # per-curve laws: no single bootstrap; no band
            return np.full(len(frame), np.nan), np.full(len(frame), np.nan)
        rows = self.table_.frame.loc[positive_mask(self.table_.frame, law)]
        options = {**(self.fit_options or {}), "n_bootstrap": self.n_bootstrap}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FitConvergenceWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            try:
                est = ScalingLawRegressor(name, **options).fit(rows, groups=rows["run"].to_numpy())
                lo, hi = est.predict_interval(frame, "new-run", self.confidence)
                center = np.log(est.predict(frame))
            except FittingError:
                return np.full(len(frame), np.nan), np.full(len(frame), np.nan)
        self.bootstrap_law_ = name
        return np.log(lo) - center, np.log(hi) - center

    # ------------------------------------------------------------------ prediction
    def combine_log(
        self, log_pred: np.ndarray, log_ratio: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """From the candidates' log predictions (rows: ``backtest_.names``) at queries of log
        ratio ``log_ratio``: the log forecast, the conformal band's log offsets (NaN unless
        ``interval_source_ == "conformal"``) and the candidate weights."""
        weights = self._weights(log_ratio)
        log_f = cb.combine(log_pred, weights)
        lo = hi = np.full(len(log_ratio), np.nan)
        if self.interval_source_ == "conformal" and self.conformal_residuals_ is not None:
            _, log_r, origin, _ = self._bt()
            r = self.conformal_residuals_
            ok = np.isfinite(r)
            w = cb.point_weights(log_ratio, log_r[ok], origin[ok], self.bandwidth)
            lo, hi = cb.conformal_band(r[ok], w, self.confidence)
            scale = self._spread(log_pred)
            lo, hi = lo * scale, hi * scale
            lo, hi = np.minimum(lo, 0.0), np.maximum(hi, 0.0)  # the band holds the forecast
        return log_f, lo, hi, weights

    def predict_frame(self, X: pd.DataFrame) -> pd.DataFrame:
        """``X`` (canonical columns) with ``ratio``, ``forecast``, ``low``, ``high``, the
        weight of each candidate (``w:NAME``) and the method."""
        frame = X.reset_index(drop=True)
        ratio = frame[self.axis].to_numpy(float) / self.cut_
        log_ratio = np.log(np.maximum(ratio, 1e-300))
        log_f, lo, hi, weights = self.combine_log(self.log_predictions(frame), log_ratio)
        if self.interval_source_ != "conformal":
            lo, hi = self._bootstrap_band(frame, log_f)
        out = frame.assign(ratio=ratio, forecast=np.exp(log_f))
        out["low"], out["high"] = np.exp(log_f + lo), np.exp(log_f + hi)
        for i, name in enumerate(self.backtest_.names):
            out[f"w:{name}"] = weights[i]
        return out

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """The forecast metric at the rows of ``X``."""
        return self.predict_frame(X)["forecast"].to_numpy(float)

    def used(self, X: pd.DataFrame) -> dict[str, float]:
        """Mean weight of each candidate over the rows of ``X`` (those above 0.5%)."""
        frame = self.predict_frame(X)
        means = {n: float(frame[f"w:{n}"].mean()) for n in self.backtest_.names}
        return {n: w for n, w in sorted(means.items(), key=lambda kv: -kv[1]) if w > 0.005}

    def max_backtest_ratio(self) -> float:
        """The largest ratio the backtests reached (1 without backtests)."""
        ratios = self.backtest_.points["ratio"]
        return float(ratios.max()) if len(ratios) else 1.0


def _unavailable(frame: pd.DataFrame) -> np.ndarray:
    raise FittingError("this forecaster was rebuilt from a backtest: use combine_log")

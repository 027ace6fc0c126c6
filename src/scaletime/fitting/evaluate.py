"""The held-out protocol: fit every law on the smaller models (or earlier times, or smaller
data) and score it on the held-out larger ones (docs/fitting.md, "Held-out evaluation").

Scores, on the held-out points with ``y`` the measurement and ``y_hat`` the prediction:

.. math::

    \\mathrm{RMSLE} = \\sqrt{\\tfrac1n \\textstyle\\sum_i (\\log \\hat y_i - \\log y_i)^2},
    \\qquad
    \\mathrm{MdARE} = \\operatorname{median}_i |\\hat y_i - y_i| / y_i

(natural logarithm, no ``+1`` shift: errors and losses are positive and may be small).
One-variable laws (``bnsl``, ``m4``, ``power``, ``unified-time``) are fitted curve by curve along
time, so they take part only when the held-out axis is time (or a split column is given).
"""

from __future__ import annotations

import time as _time
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from scaletime.fitting.errors import FitConvergenceWarning, FittingError
from scaletime.fitting.estimator import ScalingLawRegressor
from scaletime.fitting.laws import LAWS, Law, get_law
from scaletime.table import CurveTable

HOLDOUT_AXES: tuple[str, ...] = ("size", "time", "data")


def rmsle(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Root mean squared natural-log error ``sqrt(mean((log y_hat - log y)^2))``."""
    y_true, y_pred = np.asarray(y_true, float), np.asarray(y_pred, float)
    with np.errstate(all="ignore"):
        d = np.log(y_pred) - np.log(y_true)
    return float(np.sqrt(np.mean(np.square(d)))) if len(d) else float("nan")


def median_abs_rel_error(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Median absolute relative error ``median(|y_hat - y| / y)``."""
    y_true, y_pred = np.asarray(y_true, float), np.asarray(y_pred, float)
    return float(np.median(np.abs(y_pred - y_true) / y_true)) if len(y_true) else float("nan")


def holdout_threshold(
    values: np.ndarray, fraction: float = 0.25, cut: float | None = None
) -> float:
    """Smallest held-out value: ``cut``'s successor, or the largest ``fraction`` of the distinct
    values (at least one, at most all but one)."""
    distinct = np.unique(np.asarray(values, float))
    if len(distinct) < 2:
        raise FittingError(f"cannot hold out along an axis with {len(distinct)} distinct value(s)")
    if cut is not None:
        above = distinct[distinct > cut]
        if len(above) == 0 or len(above) == len(distinct):
            raise FittingError(
                f"cut {cut} leaves an empty side (values span {distinct[0]:g}..{distinct[-1]:g})"
            )
        return float(above[0])
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction must lie strictly between 0 and 1, got {fraction}")
    n_test = int(np.clip(round(fraction * len(distinct)), 1, len(distinct) - 1))
    return float(distinct[-n_test])


def holdout_split(
    table: CurveTable, axis: str = "size", fraction: float = 0.25, cut: float | None = None
) -> tuple[CurveTable, CurveTable, float]:
    """Split ``table`` into (train, test, threshold): test holds the rows with ``axis >=
    threshold`` (the larger models, later times or larger data)."""
    if axis not in HOLDOUT_AXES:
        raise ValueError(f"holdout axis must be one of {HOLDOUT_AXES}, got {axis!r}")
    if axis not in table.frame or axis in table.constant_roles:
        raise FittingError(f"the table has no {axis} column to hold out along")
    values = table.frame[axis].to_numpy()
    if axis == "time":
        values = values[values > 0]
    threshold = holdout_threshold(values, fraction, cut)
    test = table.frame[axis].to_numpy() >= threshold
    return subset(table, ~test), subset(table, test), threshold


def subset(table: CurveTable, mask: np.ndarray) -> CurveTable:
    return CurveTable(
        table.frame.loc[mask].reset_index(drop=True),
        table.roles,
        table.setting_columns,
        table.constant_roles,
        table.varying_settings,
        list(table.notes),
    )


@dataclass
class LawScore:
    """One row of the evaluation table."""

    law: str
    roles: str
    status: str  # "ok", "n/a" or "failed"
    rmsle: float = float("nan")
    mdare: float = float("nan")
    n_train: int = 0
    n_test: int = 0
    n_curves: int = 0
    seconds: float = 0.0
    note: str = ""


def is_one_variable(law: Law) -> bool:
    return len(law.roles) == 1


def not_applicable(law: Law, train: CurveTable, axis: str | None) -> str | None:
    """Why ``law`` cannot be scored on this split, or None."""
    for role in law.roles:
        if role in law.optional_roles:
            continue  # the law holds what only this role identifies fixed
        if role in train.constant_roles or role not in train.frame:
            return f"no {role} column"
    if is_one_variable(law):
        x = law.roles[0]
        if axis is not None and axis != x:
            return f"one-variable law in {x}: cannot reach unseen {axis}"
        return None
    if axis is not None and axis not in law.roles:
        return f"no {axis} input"
    for role in law.roles:
        if role not in law.optional_roles and train.frame[role].nunique() < 2:
            return f"{role} is constant in the fitted rows"
    return None


def curve_keys(table: CurveTable, x: str) -> list[str]:
    roles = [
        r
        for r in ("size", "data", "noise", "time")
        if r != x and r in table.frame and r not in table.constant_roles
    ]
    return [*roles, *table.setting_columns]


def positive_mask(frame: pd.DataFrame, law: Law) -> np.ndarray:
    ok = frame["metric"].to_numpy() > 0
    for role in law.roles:
        if role in law.positive_roles and role in frame:
            ok &= frame[role].to_numpy() > 0
    return ok


#: Each law is fitted on at most this many training rows, drawn at random (a 10⁶-row table's
#: near-duplicate checkpoints add nothing to the comparison but minutes per law); ``None`` in
#: ``fit_options["max_rows"]`` fits every row. Scoring always uses every held-out row.
EVALUATE_MAX_ROWS = 5_000


def fit_and_score(
    law: str | Law,
    train: CurveTable,
    test: CurveTable,
    *,
    axis: str | None,
    fit_options: dict[str, Any] | None = None,
) -> tuple[LawScore, pd.DataFrame | None]:
    """Fit ``law`` on ``train``, score it on ``test`` (see the module docstring), and return the
    score with the rows it used: the scored train and test rows with ``predicted`` and
    ``held_out`` columns (None when the law was not scored). One-variable laws are fitted curve by
    curve."""
    law = get_law(law)
    fit_options = {"max_rows": EVALUATE_MAX_ROWS, **(fit_options or {})}
    row = LawScore(law=law.name, roles=",".join(law.roles), status="n/a")
    reason = not_applicable(law, train, axis)
    if reason:
        row.note = reason
        return row, None
    start = _time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FitConvergenceWarning)
            if is_one_variable(law):
                tr, te, n_curves, skipped = _score_per_curve(law, train, test, fit_options)
                if skipped:
                    row.note = f"{skipped} curve(s) skipped (too few fitted points)"
            else:
                tr = train.frame.loc[positive_mask(train.frame, law)]
                te = test.frame.loc[positive_mask(test.frame, law)]
                est = ScalingLawRegressor(law, **fit_options).fit(tr, groups=tr["run"].to_numpy())
                tr = tr.loc[fitted_mask(tr, est)]
                tr = tr.assign(predicted=est.predict(tr))
                te = te.assign(predicted=est.predict(te))
                n_curves = 1
    except FittingError as exc:
        row.status, row.note = "failed", str(exc)
        row.seconds = _time.perf_counter() - start
        return row, None
    row.seconds = _time.perf_counter() - start
    if len(te) == 0:
        row.note = row.note or "no held-out points"
        return row, None
    y, y_hat = te["metric"].to_numpy(float), te["predicted"].to_numpy(float)
    row.status = "ok"
    row.rmsle, row.mdare = rmsle(y, y_hat), median_abs_rel_error(y, y_hat)
    row.n_train, row.n_test, row.n_curves = len(tr), len(y), int(n_curves)
    frame = pd.concat([tr.assign(held_out=False), te.assign(held_out=True)], ignore_index=True)
    return row, frame


def fitted_mask(frame: pd.DataFrame, est: ScalingLawRegressor) -> np.ndarray:
    """Rows the estimator kept (it drops non-positive times for laws with t^-b)."""
    ok = np.ones(len(frame), dtype=bool)
    law = est.law_
    if "time" in law.roles and "time" in law.positive_roles:
        ok &= frame["time"].to_numpy(float) > 0
    return ok


def score_law(
    law: str | Law,
    train: CurveTable,
    test: CurveTable,
    *,
    axis: str | None,
    fit_options: dict[str, Any] | None = None,
) -> LawScore:
    """Fit ``law`` on ``train`` and score it on ``test`` (:func:`fit_and_score` without the rows)."""
    return fit_and_score(law, train, test, axis=axis, fit_options=fit_options)[0]


def _score_per_curve(law: Law, train: CurveTable, test: CurveTable, fit_options: dict[str, Any]):
    x = law.roles[0]
    keys = curve_keys(train, x)
    n_params = len(law.param_specs(None))
    tr_frame = train.frame.loc[positive_mask(train.frame, law)]
    te_frame = test.frame.loc[positive_mask(test.frame, law)]
    train_groups = dict(iter(tr_frame.groupby(keys, dropna=False))) if keys else {(): tr_frame}
    fitted, scored = [], []
    n_curves = skipped = 0
    test_groups = te_frame.groupby(keys, dropna=False) if keys else [((), te_frame)]
    for key, rows in test_groups:
        part = train_groups.get(key)
        if part is None or len(part) <= n_params + 1:
            skipped += 1
            continue
        est = ScalingLawRegressor(law, **fit_options).fit(part, groups=part["run"].to_numpy())
        part = part.loc[fitted_mask(part, est)]
        fitted.append(part.assign(predicted=est.predict(part)))
        scored.append(rows.assign(predicted=est.predict(rows)))
        n_curves += 1
    empty = te_frame.iloc[:0].assign(predicted=np.zeros(0))
    tr = pd.concat(fitted) if fitted else empty
    te = pd.concat(scored) if scored else empty
    return tr, te, n_curves, skipped


def evaluate_laws(
    train: CurveTable,
    test: CurveTable,
    *,
    laws: Sequence[str] | None = None,
    axis: str | None = None,
    fit_options: dict[str, Any] | None = None,
    on_law: Any = None,
) -> pd.DataFrame:
    """Score every law in ``laws`` (default: the whole catalogue) on one train/test split.

    Returns a table with one row per law and setting: ``law, roles, status, rmsle, mdare,
    n_train, n_test, n_curves, seconds, note`` (plus the varying setting columns), the unified
    law first, then by RMSLE.
    """
    names = list(laws) if laws is not None else list(LAWS)
    for name in names:
        get_law(name)  # unknown names fail before any fitting
    rows = []
    test_settings = {tuple(sorted(s.items())): t for s, t in test.settings()}
    for setting, train_part in train.settings():
        test_part = test_settings.get(tuple(sorted(setting.items())))
        if test_part is None:
            continue
        for name in names:
            score = score_law(name, train_part, test_part, axis=axis, fit_options=fit_options)
            rows.append({**setting, **asdict(score)})
            if on_law is not None:
                on_law(score)
    if not rows:
        raise FittingError("no setting has both fitted and held-out rows")
    out = pd.DataFrame(rows)
    out["_first"] = out["law"] != "unified"
    out["_na"] = out["status"] != "ok"
    setting_cols = list(train.varying_settings)
    out = out.sort_values([*setting_cols, "_na", "_first", "rmsle"], kind="stable")
    return out.drop(columns=["_first", "_na"]).reset_index(drop=True)


def evaluate_holdout(
    table: CurveTable,
    *,
    axis: str = "size",
    fraction: float = 0.25,
    cut: float | None = None,
    laws: Iterable[str] | None = None,
    fit_options: dict[str, Any] | None = None,
    on_law: Any = None,
) -> tuple[pd.DataFrame, float]:
    """Hold out the largest values of ``axis`` and score every law; returns (table, threshold)."""
    train, test, threshold = holdout_split(table, axis, fraction, cut)
    result = evaluate_laws(
        train,
        test,
        laws=list(laws) if laws is not None else None,
        axis=axis,
        fit_options=fit_options,
        on_law=on_law,
    )
    return result, threshold


# -------------------------------------------------------------------------------- baselines

#: The two naive forecasters every law must beat (docs/fitting.md, "Law benchmark").
BASELINES: tuple[str, ...] = ("constant", "last-value")


def _other_roles(table: CurveTable, axis: str | None) -> list[str]:
    return [
        r
        for r in ("size", "time", "data", "noise")
        if r != axis and r in table.frame and r not in table.constant_roles
    ]


def baseline_predictions(train: CurveTable, test: CurveTable, axis: str) -> dict[str, np.ndarray]:
    """Predictions of the naive forecasters on ``test`` (rows in order):

    * ``constant`` — one number: the mean metric of the fitted rows at the edge of ``axis``
      (each curve's last fitted checkpoint; the largest fitted model or data size);
    * ``last-value`` — per held-out row, the metric at that edge of the fitted rows nearest in
      the other roles (log distance), averaged over ties (seeds); when holding out time, the
      row's own curve's last fitted value.
    """
    tr, te = train.frame, test.frame
    edge = _edge_rows(tr, axis)
    constant = np.full(len(te), float(edge["metric"].mean()))
    nearest = _nearest(edge, te, [r for r in ROLE_ORDER if r != axis and r in tr])
    if axis == "time" and "run" in te:
        own = te["run"].map(edge.set_index("run")["metric"]).to_numpy(float)
        nearest = np.where(np.isfinite(own), own, nearest)
    return {"constant": constant, "last-value": nearest}


ROLE_ORDER: tuple[str, ...] = ("size", "time", "data", "noise")


def _edge_rows(frame: pd.DataFrame, axis: str) -> pd.DataFrame:
    if axis == "time":
        return frame.sort_values("time", kind="stable").groupby("run").tail(1)
    x = frame[axis].to_numpy(float)
    return frame.loc[x == x.max()]


def _nearest(edge: pd.DataFrame, query: pd.DataFrame, roles: list[str]) -> np.ndarray:
    def coords(frame: pd.DataFrame) -> np.ndarray:
        cols = [np.log1p(np.abs(frame[r].to_numpy(float))) for r in roles]
        return np.column_stack(cols) if cols else np.zeros((len(frame), 0))

    keys, values = coords(edge), edge["metric"].to_numpy(float)
    out = np.empty(len(query))
    for i, q in enumerate(coords(query)):
        dist = np.abs(keys - q).sum(axis=1)
        out[i] = float(np.mean(values[dist <= dist.min() + 1e-12]))
    return out


def seed_floor(table: CurveTable, rows: np.ndarray | None = None) -> float:
    """The seed-to-seed noise floor: RMSLE of one seed's metric against the mean of the other
    seeds at the same size, time, data and noise (rows with at least two seeds; ``rows`` a
    boolean mask of the rows scored). NaN without a seed column or with one seed."""
    frame = table.frame if rows is None else table.frame.loc[rows]
    if "seed" not in frame or frame["seed"].nunique() < 2:
        return float("nan")
    keys = [*_other_roles(table, None), *table.setting_columns]
    keys = [k for k in dict.fromkeys(keys) if k in frame and k != "seed"]
    frame = frame.loc[frame["metric"] > 0]
    log_y = np.log(frame["metric"].to_numpy(float))
    grouped = pd.DataFrame({"ly": log_y, "y": frame["metric"].to_numpy(float)})
    for k in keys:
        grouped[k] = frame[k].to_numpy()
    g = grouped.groupby(keys, dropna=False)["y"]
    total, count = g.transform("sum").to_numpy(), g.transform("size").to_numpy()
    ok = count >= 2
    others = (total[ok] - grouped["y"].to_numpy()[ok]) / (count[ok] - 1)
    d = grouped["ly"].to_numpy()[ok] - np.log(others)
    return float(np.sqrt(np.mean(d * d))) if len(d) else float("nan")

"""Reading tidy tables of measured curves and mapping their columns onto analysis roles.

The tidy table (docs/architecture.md, "Tidy table") has one row per run × checkpoint. Analysis
and fitting accept *any* table whose columns can be mapped onto the roles below; this module
turns such a table into one canonical frame, refusing a missing or ill-typed column by name.

========  ========================  ===========================================================
role      default column            meaning
========  ========================  ===========================================================
size      ``n_params``              model size N (parameters), or a width with ``size_rule``
time      ``epoch``                 training time (epochs, steps or examples seen)
metric    ``test_error``            the measured quantity (test error or loss), lower is better
seed      ``seed`` if present       seed of the run (repeats of one configuration)
data      ``data_size`` if present  number of training examples
noise     ``label_noise`` if present  label-noise rate
run       ``run_id`` if present     identifier of one trained network (else built from roles)
width     ``width`` if present      width of the network (for the width scale)
diverged  ``diverged`` if present   rows flagged true are dropped
========  ========================  ===========================================================

Curves are analysed separately per *setting*: the combination of the setting columns present
(``dataset``, ``arch``, ``optimizer``, ``lr_rule``, ``data_size``, ``label_noise``, ...). See
docs/scale-time.md ("Input").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from scaletime.table.curve_table import CurveTable
from scaletime.table.io import TableError, _names

__all__ = [
    "DEFAULT_SETTING_COLUMNS",
    "MAX_METRIC",
    "MAX_SCALE",
    "ColumnMapping",
    "check_values",
    "parse_size_rule",
    "resolve",
]

#: Columns of the tidy table that, when present, define a *setting* (curves of one setting are
#: compared with each other; different settings are analysed separately).
DEFAULT_SETTING_COLUMNS: tuple[str, ...] = (
    "source",
    "sweep",
    "dataset",
    "arch",
    "depth",
    "optimizer",
    "loss",
    "batch_size",
    "lr_rule",
    "base_lr",
    "lr",
    "momentum",
    "weight_decay",
    "data_size",
    "label_noise",
)

# role -> column used when the role is left unset and the column exists
_AUTO_ROLE_COLUMNS: dict[str, str] = {
    "seed": "seed",
    "data": "data_size",
    "noise": "label_noise",
    "run": "run_id",
    "width": "width",
    "diverged": "diverged",
}
_NUMERIC_ROLES = ("size", "time", "metric", "seed", "data", "noise", "width")


# --------------------------------------------------------------------------------------------
# parameter-count rules


def parse_size_rule(expression: str) -> Callable[[np.ndarray], np.ndarray]:
    """Turn a parameter-count rule in the width ``w`` into a function, e.g. ``"w**2 + 794*w + 10"``.

    The rule is an expression of :mod:`scaletime.expressions` (the one safe language of
    ``--where`` and ``--derive``: numbers, ``w``, arithmetic, ``log``/``exp``/``sqrt``/...; never
    ``eval``, bounded length). A value that overflows becomes ``inf`` and is refused by the size
    check (:func:`check_values`), never an ``OverflowError``.
    """
    from scaletime.expressions import ExpressionError, evaluate

    def rule(width: np.ndarray) -> np.ndarray:
        w = np.asarray(width, dtype=float)
        try:
            value = evaluate(expression, pd.DataFrame({"w": w.reshape(-1)}), "size_rule")
        except ExpressionError as err:
            raise TableError(
                str(err).replace("no column", "only the width w is known, not")
            ) from None
        value = np.asarray(value)
        if value.dtype.kind not in "fiu":
            raise TableError(f"size_rule {expression!r} must give a number, not {value.dtype}")
        return np.broadcast_to(value.astype(float), w.reshape(-1).shape).reshape(np.shape(w))

    rule(np.ones(1))  # validate once, so a bad rule fails when parsed
    return rule


# --------------------------------------------------------------------------------------------
# column mapping


@dataclass(frozen=True)
class ColumnMapping:
    """Which column of a table plays which role (see the module docstring).

    Required roles (``size``, ``time``, ``metric``) default to the tidy-table names. Optional
    roles left as ``None`` use their tidy-table column when it exists; naming a column
    explicitly makes it required. ``group_by=None`` uses every column of
    :data:`DEFAULT_SETTING_COLUMNS` that is present (``lr`` handled as described in
    :func:`resolve`); an explicit tuple (possibly empty) is used as given.
    ``size_rule`` (an expression in ``w``, see :func:`parse_size_rule`) declares the ``size``
    column a width and computes N from it.
    """

    size: str = "n_params"
    time: str = "epoch"
    metric: str = "test_error"
    seed: str | None = None
    data: str | None = None
    noise: str | None = None
    run: str | None = None
    width: str | None = None
    diverged: str | None = None
    group_by: tuple[str, ...] | None = None
    size_rule: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The mapping as plain JSON-ready values."""
        return {
            name: (list(value) if isinstance(value, tuple) else value)
            for name, value in self.__dict__.items()
        }


def _require_columns(df: pd.DataFrame, wanted: dict[str, str]) -> None:
    """Raise one error naming every ``role → column`` of ``wanted`` absent from ``df``."""
    missing = [f"{column!r} (role '{role}')" for role, column in wanted.items() if column not in df]
    if missing:
        available = _names(df.columns, limit=60)
        raise TableError(
            f"column {' and '.join(missing)} not in the table; available columns: {available}"
        )


def _require_numeric(df: pd.DataFrame, column: str, role: str) -> None:
    series = df[column]
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return
    bad = series[pd.to_numeric(series, errors="coerce").isna() & series.notna()]
    example = f"; e.g. {bad.iloc[0]!r}" if len(bad) else ""
    raise TableError(
        f"column {column!r} (role '{role}') must be numeric, found dtype {series.dtype}{example}"
    )


#: Largest magnitude accepted for a size, time or data size (beyond it, ``N^-a`` and friends
#: lose all precision): 1e18 parameters, steps, tokens or examples.
MAX_SCALE = 1e18
#: Largest metric accepted (an error or a loss; larger values are a divergence, not a curve).
MAX_METRIC = 1e12

# role -> (lowest allowed, lowest is allowed, highest, what it means)
_VALUE_RULES: dict[str, tuple[float, bool, float, str]] = {
    "size": (0.0, False, MAX_SCALE, "a model size: positive"),
    "time": (0.0, True, MAX_SCALE, "a training time: zero or positive"),
    "metric": (0.0, True, MAX_METRIC, "the metric (loss or error): zero or positive"),
    "data": (0.0, False, MAX_SCALE, "a data size: positive"),
    "noise": (0.0, True, MAX_SCALE, "a noise level: zero or positive"),
    "width": (0.0, False, MAX_SCALE, "a width: positive"),
    "seed": (-(2.0**63), True, 2.0**63, "a seed: an integer"),
}


def check_values(frame: pd.DataFrame, roles: dict[str, str]) -> None:
    """The one validator of role values, shared by every command: each mapped role is finite
    and within its range (:data:`_VALUE_RULES`), only time and metric may be missing (those rows
    are dropped), the metric is not constant and the time is not zero everywhere. Raises :class:`TableError` naming the column, the rule, how many rows
    break it and one example."""
    for role, (low, closed, high, meaning) in _VALUE_RULES.items():
        if role not in frame:
            continue
        values = frame[role].to_numpy(dtype=float)
        present = ~np.isnan(values)
        if role not in ("time", "metric") and not present.all():  # missing time/metric: dropped
            source = roles.get(role, role)
            raise TableError(
                f"column {str(source)!r} (role '{role}') has {int((~present).sum())} missing "
                f"value(s); every row needs its {role} (fill them, or drop those rows with --where)"
            )
        v = values[present]
        inside = (v >= low if closed else v > low) & (v <= high)
        bad = np.zeros(len(values), dtype=bool)
        bad[np.flatnonzero(present)[~inside]] = True
        if bad.any():
            example = float(values[bad][0])
            source = roles.get(role, role)
            raise TableError(
                f"column {str(source)!r} (role '{role}') must be {meaning}, finite and at most "
                f"{high:.0e}; {int(bad.sum())} row(s) are not (e.g. {example!r})"
            )
    if "metric" in frame and len(frame) > 1 and np.ptp(frame["metric"].to_numpy()) == 0:
        raise TableError(
            f"column {str(roles.get('metric', 'metric'))!r} (role 'metric') is "
            f"{float(frame['metric'].iloc[0])!r} on every row: a constant metric has no trend "
            "to analyse or fit (is it the right column? map another with --metric)"
        )
    if "time" in frame and len(frame) and (frame["time"].to_numpy() == 0).all():
        raise TableError(
            f"column {str(roles.get('time', 'time'))!r} (role 'time') is 0 on every row: there "
            "is no training time to fit or compare (map another column with --time)"
        )


def resolve(df: pd.DataFrame, mapping: ColumnMapping | None = None) -> CurveTable:
    """Map ``df``'s columns onto the analysis roles, check them, and drop unusable rows.

    Rows flagged ``diverged`` and rows whose time or metric is missing are dropped (counted).
    With ``group_by=None``, the settings are the columns of :data:`DEFAULT_SETTING_COLUMNS`
    present in ``df``. ``lr`` is skipped when ``base_lr`` is there; otherwise it is a setting
    only if every model size sees the same learning rates. If it depends on the size (an
    lr ∝ 1/width rule), it is dropped, or, with several rates per size, replaced by the rate's
    rank within its size (column ``lr_rank``).

    Raises
    ------
    TableError
        A mapped column is missing (the message lists the available columns), a numeric role is
        not numeric, a size is not positive, or the table is empty after dropping rows.
    """
    mapping = mapping or ColumnMapping()
    roles: dict[str, str] = {role: getattr(mapping, role) for role in ("size", "time", "metric")}
    for role, default in _AUTO_ROLE_COLUMNS.items():
        column = getattr(mapping, role)
        if column is not None:
            roles[role] = column
        elif default in df.columns:
            roles[role] = default
    group_by = {f"group_by[{i}]": c for i, c in enumerate(mapping.group_by or ())}
    _require_columns(df, {**roles, **group_by})
    if mapping.size_rule is not None:
        if mapping.width is not None and mapping.width != mapping.size:
            raise TableError(
                f"size_rule is given, so column {mapping.size!r} is the width; "
                f"width={mapping.width!r} conflicts with it"
            )
        roles["width"] = roles["size"]
    for role in _NUMERIC_ROLES:
        if role in roles:
            _require_numeric(df, roles[role], role)

    work = df
    n_diverged = 0
    if "diverged" in roles:
        flag = df[roles["diverged"]].fillna(False).astype(bool).to_numpy()
        n_diverged = int(flag.sum())
        work = df.loc[~flag]
    missing = work[roles["time"]].isna() | work[roles["metric"]].isna()
    n_missing = int(missing.sum())
    work = work.loc[~missing].reset_index(drop=True)  # a unique index to align role columns on
    if work.empty:
        raise TableError(
            f"the table has no usable rows ({n_diverged} diverged, {n_missing} with a missing "
            f"{roles['time']!r} or {roles['metric']!r})"
        )

    out = pd.DataFrame(index=work.index)
    for role in ("size", "time", "metric", "seed", "data", "noise", "width"):
        if role in roles:
            out[role] = work[roles[role]].astype(float)
    if mapping.size_rule is not None:
        out["size"] = parse_size_rule(mapping.size_rule)(out["width"].to_numpy())
    check_values(out, roles)
    if "run" in roles and work[roles["run"]].isna().any():
        n = int(work[roles["run"]].isna().sum())
        raise TableError(
            f"column {roles['run']!r} (role 'run') has {n} missing value(s); every row needs its "
            "run's identifier (or map no run column, and runs are identified by their roles)"
        )

    notes: list[str]
    if mapping.group_by is not None:
        settings, notes = work[list(mapping.group_by)], []
    else:
        settings, notes = _auto_settings(work, out["size"], roles)
    setting_columns = tuple(settings.columns)
    out = out.join(settings)

    if "run" in roles:
        out["run"] = work[roles["run"]].astype(str)
    else:
        keys = [c for c in ("size", "seed", "data", "noise", *setting_columns) if c in out.columns]
        out["run"] = out[keys].astype(str).agg("|".join, axis=1)
        notes.append("no run column: runs identified by " + ", ".join(keys))

    ordered = ["run", *[c for c in out.columns if c != "run"]]
    frame = out[ordered].sort_values([*setting_columns, "run", "time"], kind="stable")
    return CurveTable(
        frame=frame.reset_index(drop=True),
        roles=roles,
        setting_columns=setting_columns,
        n_dropped_diverged=n_diverged,
        n_dropped_missing=n_missing,
        notes=notes,
    )


def _auto_settings(
    work: pd.DataFrame, size: pd.Series, roles: dict[str, str]
) -> tuple[pd.DataFrame, list[str]]:
    """The setting columns of :data:`DEFAULT_SETTING_COLUMNS` present, with ``lr`` handled as
    described in :func:`resolve`; returns them and notes on what was done with ``lr``."""
    role_columns = {
        roles[r] for r in ("size", "time", "metric", "seed", "run", "width") if r in roles
    }
    columns = [c for c in DEFAULT_SETTING_COLUMNS if c in work.columns and c not in role_columns]
    if "base_lr" in columns:  # the spec's learning rate; lr itself may follow a size rule
        columns = [c for c in columns if c != "lr"]
    settings = work[columns].copy()
    if "lr" not in settings:
        return settings, []
    others = [c for c in columns if c != "lr"]
    keyed = settings.assign(size=size)
    kind = _lr_kind(keyed, others)
    if kind == "setting":
        return settings, []
    lr = settings.pop("lr")
    if kind == "size_tied":
        return settings, ["lr depends on the model size: not used as a setting"]
    settings["lr_rank"] = _lr_rank(lr, keyed, others)
    return settings, ["lr depends on the model size: settings use its rank within a size"]


def _lr_kind(frame: pd.DataFrame, other_settings: list[str]) -> str:
    """``"setting"`` if every size sees the same learning rates; otherwise lr is tied to the
    size, with one rate per size (``"size_tied"``) or several (``"size_tied_ranked"``)."""
    groups = frame.groupby(other_settings, dropna=False) if other_settings else [((), frame)]
    kind = "setting"
    for _, rows in groups:
        per_size = rows.groupby("size")["lr"].apply(lambda s: tuple(sorted(s.unique())))
        if per_size.nunique() > 1:
            kind = "size_tied_ranked" if per_size.map(len).max() > 1 else "size_tied"
            if kind == "size_tied_ranked":
                break
    return kind


def _lr_rank(lr: pd.Series, frame: pd.DataFrame, other_settings: list[str]) -> pd.Series:
    """Rank (0 = smallest) of each row's learning rate among those used for its size."""
    keys = [*other_settings, "size"]
    with_lr = frame[keys].assign(lr=lr.to_numpy())
    return with_lr.groupby(keys, dropna=False)["lr"].rank(method="dense").astype(int) - 1

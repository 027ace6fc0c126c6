"""``fit(table, law)``: a law fitted to a table in one call, as ``scaletime fit`` does.

>>> import scaletime as st
>>> est = st.fit("runs/demo", "chinchilla-time", n_bootstrap=200)   # doctest: +SKIP
>>> est.predict({"size": [1e6], "time": [30]})                       # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from scaletime.fitting.errors import FittingError
from scaletime.fitting.estimator import ScalingLawRegressor
from scaletime.fitting.laws import get_law
from scaletime.table import BOOTSTRAP_UNITS, CurveTable, load_fit_table, single_setting

__all__ = ["check_law_fits_table", "fit"]


def check_law_fits_table(law: str, table: CurveTable, law_options: dict | None = None) -> None:
    """A FittingError when a one-variable law is asked to fit a table in which other roles
    vary (it would mix curves); ``scaletime evaluate`` fits such laws curve by curve."""
    roles = get_law(law, **(law_options or {})).roles
    others = sorted(table.varying_roles() - set(roles))
    if len(roles) == 1 and others:
        raise FittingError(
            f"law {law!r} fits one curve along {roles[0]}, but {', '.join(others)} vary in "
            "this table; select one curve with --where (or use `scaletime evaluate`, which "
            "fits one-variable laws curve by curve)"
        )


def fit(
    source: str | Path | pd.DataFrame | CurveTable,
    law: str = "unified",
    *,
    bootstrap_by: str = "run",
    columns: dict[str, str] | None = None,
    where: str | None = None,
    derive: Sequence[str] = (),
    group_by: Sequence[str] | None = None,
    progress: Callable[[int], None] | None = None,
    **options: Any,
) -> ScalingLawRegressor:
    """Fit ``law`` to a table of one setting and return the fitted estimator.

    Parameters
    ----------
    source : path, DataFrame or CurveTable
        A tidy table, CSV/Parquet file or sweep folder (:func:`load_fit_table`).
    law : str
        A law of the catalogue (``scaletime.fitting.LAWS``).
    bootstrap_by : {"run", "seed", "point"}
        Resampling unit of the bootstrap.
    columns : dict, optional
        role → column (``size``, ``time``, ``data``, ``noise``, ``metric``, ``seed``, ``run``).
    where, derive, group_by
        As :func:`load_fit_table`.
    progress : callable, optional
        Called with the number of bootstrap refits finished.
    **options
        :class:`ScalingLawRegressor` parameters (``n_bootstrap``, ``loss``, ``n_starts``, ...).

    The estimator's ``metadata_`` records the source, the columns and the table's notes.
    """
    if bootstrap_by not in BOOTSTRAP_UNITS:
        raise FittingError(f"bootstrap_by must be one of {BOOTSTRAP_UNITS}, got {bootstrap_by!r}")
    if isinstance(source, CurveTable):
        table = source
    else:
        table = load_fit_table(
            source, **(columns or {}), where=where, derive=derive, group_by=group_by
        )
    table = single_setting(table)
    est = ScalingLawRegressor(law, **options)
    check_law_fits_table(law, table, est.law_options)
    est.fit(table.frame, groups=table.groups(bootstrap_by), progress=progress)
    est.metadata_ = {
        "source": "DataFrame" if isinstance(source, pd.DataFrame | CurveTable) else str(source),
        "columns": table.roles,
        "where": where,
        "derive": list(derive),
        "bootstrap_by": bootstrap_by,
        "notes": table.notes,
    }
    return est

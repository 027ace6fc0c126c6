"""Scaling-law fitting: robust loss on log error, variable projection, multi-start, a run-level
bootstrap, the law catalogue and the held-out protocol (docs/fitting.md).

>>> from scaletime.fitting import ScalingLawRegressor, load_fit_table
>>> table = load_fit_table("runs/demo")                       # doctest: +SKIP
>>> est = ScalingLawRegressor("unified", n_bootstrap=200)     # doctest: +SKIP
>>> est.fit(table.frame, groups=table.groups("run"))          # doctest: +SKIP
>>> est.predict_interval({"size": [1e6], "time": [10], "data": [4e3]})  # doctest: +SKIP
"""

from __future__ import annotations

from scaletime.fitting.errors import FitConvergenceWarning, FittingError
from scaletime.fitting.estimator import ScalingLawRegressor, load_fit
from scaletime.fitting.evaluate import (
    evaluate_holdout,
    evaluate_laws,
    holdout_split,
    median_abs_rel_error,
    rmsle,
)
from scaletime.fitting.external import (
    fit_chinchilla_epoch,
    load_alabdulmohsin,
    load_chinchilla,
    score_alabdulmohsin,
    summarize_by_domain,
)
from scaletime.fitting.laws import LAWS, Law, Param, get_law
from scaletime.fitting.losses import Loss, get_loss
from scaletime.fitting.synthetic import synthetic_sweep
from scaletime.table import load_fit_table  # re-exported: fitting starts from it

__all__ = [
    "LAWS",
    "FitConvergenceWarning",
    "FittingError",
    "Law",
    "Loss",
    "Param",
    "ScalingLawRegressor",
    "evaluate_holdout",
    "evaluate_laws",
    "fit_chinchilla_epoch",
    "get_law",
    "get_loss",
    "holdout_split",
    "load_alabdulmohsin",
    "load_chinchilla",
    "load_fit",
    "load_fit_table",
    "median_abs_rel_error",
    "rmsle",
    "score_alabdulmohsin",
    "summarize_by_domain",
    "synthetic_sweep",
]

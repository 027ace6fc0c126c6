"""The fit file's schema: a fit JSON is validated field by field before anything is rebuilt from
it, so a damaged or hand-edited file gives one clear error naming the field (never a
``KeyError`` or ``TypeError`` from deep inside), and nothing in it is executed.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from scaletime.fitting.errors import FittingError

Finite = Annotated[float, Field(allow_inf_nan=False)]
Bound = Annotated[float, Field()]  # bounds may be ±inf
Pair = tuple[Bound, Bound]
Count = Annotated[int, Field(ge=0)]


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", strict=False)


class LawConfig(_Open):
    name: str | None = None
    options: dict[str, Any] = {}
    class_: str = Field(alias="class")


class FitFile(_Open):
    """What :meth:`~scaletime.fitting.estimator.ScalingLawRegressor.to_dict` writes."""

    format: Literal["scaletime-fit"]
    version: Annotated[int, Field(ge=1, le=1)]
    law: LawConfig
    estimator: dict[str, Any]
    params: dict[str, Finite]
    derived: dict[str, Any] = {}
    param_bounds: dict[str, Pair]
    params_interval: dict[str, tuple[float, float]] | None
    loss: float
    converged: bool
    n_at_optimum: Count
    starts: list[dict[str, Any]]
    n_points: Count
    n_groups: Count
    n_dropped: Count
    train_score: float
    input_ranges: dict[str, Pair]
    residual_quantiles: list[float]
    residual_source: str = "in-sample"
    bootstrap_params: list[list[float]] | None = None
    n_bootstrap_failed: Count = 0
    not_identified: dict[str, str] = {}
    identified: dict[str, bool] = {}
    at_bound: dict[str, str] = {}
    selection: list[Any] = []
    metadata: dict[str, Any] = {}


def validate_fit_file(data: Any, source: str = "fit file") -> FitFile:
    """``data`` checked against :class:`FitFile`; a :class:`FittingError` lists each bad field."""
    if not isinstance(data, dict):
        raise FittingError(f"{source} is not a scaletime fit (a JSON object was expected)")
    if data.get("format") != "scaletime-fit":
        raise FittingError(f"{source} is not a scaletime fit file (missing format: scaletime-fit)")
    try:
        fit = FitFile.model_validate(data)
    except ValidationError as err:
        lines = [
            f"  - {'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}"
            for e in err.errors()[:10]
        ]
        raise FittingError(f"{source} is damaged:\n" + "\n".join(lines)) from None
    n = len(fit.params)
    if fit.bootstrap_params is not None and any(len(row) != n for row in fit.bootstrap_params):
        raise FittingError(f"{source} is damaged: bootstrap_params rows must have {n} values")
    if len(fit.residual_quantiles) < 2:
        raise FittingError(f"{source} is damaged: residual_quantiles needs at least 2 values")
    return fit

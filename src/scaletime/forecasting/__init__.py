"""Forecasts with backtested forecaster choice and conformal intervals, and the equal-compute
comparison of growing the model, training longer and getting more data (docs/forecast.md).

>>> import scaletime as st
>>> result = st.forecast("demo-out", size=1.4e6)      # doctest: +SKIP
>>> result.final["forecast"], result.explanation()    # doctest: +SKIP
"""

from __future__ import annotations

from scaletime.forecasting.api import (
    BudgetComparison,
    ForecastResult,
    compare_budget,
    forecast,
    size_for_width,
)
from scaletime.forecasting.model import ScalingForecaster

__all__ = [
    "BudgetComparison",
    "ForecastResult",
    "ScalingForecaster",
    "compare_budget",
    "forecast",
    "size_for_width",
]

"""scaletime: scaling sweeps, scale-time equivalence and unified scaling laws.

Implements and extends Boopathy & Fiete, *Unified Neural Network Scaling Laws and Scale-time
Equivalence* (arXiv 2409.05782). See ``docs/`` for the theory, the user guide and the CLI.

>>> import scaletime as st
>>> result = st.forecast("demo-out", size=4.8e5)   # doctest: +SKIP

Names are imported on first use, so ``import scaletime`` stays fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

#: Public name -> module that defines it.
_EXPORTS = {
    "forecast": "scaletime.forecast",
    "compare_budget": "scaletime.forecast",
    "ScalingForecaster": "scaletime.forecast",
    "ScalingLawRegressor": "scaletime.fitting",
    "load_fit_table": "scaletime.fitting",
    "analyze": "scaletime.analysis",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'scaletime' has no attribute {name!r}")

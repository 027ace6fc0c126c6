"""scaletime: scaling sweeps, scale-time equivalence and unified scaling laws.

Implements and extends Boopathy & Fiete, *Unified Neural Network Scaling Laws and Scale-time
Equivalence* (arXiv 2409.05782). See ``docs/`` for the theory, the user guide and the CLI.

>>> import scaletime as st
>>> result = st.forecast("demo-out", size=4.8e5)   # doctest: +SKIP

Names are imported on first use, so ``import scaletime`` stays fast.
"""

from __future__ import annotations

from scaletime._lazy import lazy_getattr

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


__getattr__ = lazy_getattr("scaletime", _EXPORTS, globals())

"""scaletime: scaling sweeps, scale-time equivalence and unified scaling laws.

Implements and extends Boopathy & Fiete, *Unified Neural Network Scaling Laws and Scale-time
Equivalence* (arXiv 2409.05782). See ``docs/`` for the theory, the user guide and the CLI.

>>> import scaletime as st
>>> spec = st.load_spec("configs/demo.toml")           # doctest: +SKIP
>>> st.run_sweep(spec, "runs/demo")                    # doctest: +SKIP
>>> table = st.load_table("runs/demo")                 # doctest: +SKIP
>>> est = st.fit(table, "unified")                     # doctest: +SKIP
>>> result = st.forecast("runs/demo", size=4.8e5)      # doctest: +SKIP
>>> st.write_report("runs/demo")                       # doctest: +SKIP

Names are imported on first use, so ``import scaletime`` stays fast.
"""

from __future__ import annotations

from scaletime._lazy import lazy_getattr

__version__ = "0.1.0"

#: Public name -> module that defines it (docs/architecture.md, "The front door").
_EXPORTS = {
    # sweeps: spec -> results database -> tidy table
    "load_spec": "scaletime.sweep.spec",
    "run_sweep": "scaletime.sweep.executor",
    "load_table": "scaletime.sweep.export",
    "export_table": "scaletime.sweep.export",
    "plan_sweep": "scaletime.forecasting.design",
    # tables
    "read_table": "scaletime.table",
    "ColumnMapping": "scaletime.table",
    "load_fit_table": "scaletime.table",
    # scale-time analysis
    "analyze": "scaletime.analysis",
    "analyse_table": "scaletime.analysis.pipeline",
    # laws
    "fit": "scaletime.fitting.api",
    "ScalingLawRegressor": "scaletime.fitting",
    "load_fit": "scaletime.fitting",
    "evaluate_laws": "scaletime.fitting",
    "LAWS": "scaletime.fitting",
    # forecasts
    "forecast": "scaletime.forecasting",
    "compare_budget": "scaletime.forecasting",
    "ScalingForecaster": "scaletime.forecasting",
    # reports
    "write_report": "scaletime.report",
    "reproduce_paper": "scaletime.report.reproduce",
    # errors
    "ScaletimeError": "scaletime.errors",
}

__all__ = ["__version__", *_EXPORTS]


__getattr__ = lazy_getattr("scaletime", _EXPORTS, globals())

"""Reports a person wants to read: figures, the self-contained HTML page, the paper reproduction.

``write_report(folder) -> Path`` writes ``folder/report.html`` for a sweep (docs/report.md);
``reproduce_paper(out, scale)`` runs the paper's experiments and judges its claims
(``scaletime.report.reproduce``).
"""

from scaletime._lazy import lazy_getattr
from scaletime.report.sweep import ReportOptions, SweepReport, analyse_sweep, write_report

__all__ = ["ReportOptions", "SweepReport", "analyse_sweep", "reproduce_paper", "write_report"]

# the reproduction imports the sweep executor (torch): loaded on first use, signature intact
__getattr__ = lazy_getattr(
    "scaletime.report", {"reproduce_paper": "scaletime.report.reproduce"}, globals()
)

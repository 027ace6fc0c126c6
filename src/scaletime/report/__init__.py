"""Reports a person wants to read: figures, the self-contained HTML page, the paper reproduction.

``write_report(folder) -> Path`` writes ``folder/report.html`` for a sweep (docs/report.md);
``reproduce_paper(out, scale)`` runs the paper's experiments and judges its claims
(``scaletime.report.reproduce``).
"""

from scaletime.report.sweep import ReportOptions, SweepReport, analyse_sweep, write_report

__all__ = ["ReportOptions", "SweepReport", "analyse_sweep", "reproduce_paper", "write_report"]


def reproduce_paper(*args, **kwargs):
    """See :func:`scaletime.report.reproduce.reproduce_paper`."""
    from scaletime.report.reproduce import reproduce_paper as _run

    return _run(*args, **kwargs)

"""``report/`` only lays out: no module under it computes a statistic (docs/architecture.md).

Every number the report shows comes from :mod:`scaletime.analysis` (the pipeline, phenomena,
exponents), :mod:`scaletime.fitting` (law fits and their scores) or :mod:`scaletime.stats`
(bootstrap intervals). The figures still average seeds for display and anchor guide lines.
"""

from __future__ import annotations

import ast
from pathlib import Path

import scaletime.report

REPORT = Path(scaletime.report.__file__).parent

#: Calls that estimate something: resampling, quantiles, spreads, regressions, optimisers.
STATISTICS = {
    "default_rng",
    "quantile",
    "nanquantile",
    "percentile",
    "nanpercentile",
    "median",
    "nanmedian",
    "std",
    "nanstd",
    "var",
    "nanvar",
    "nanmean",
    "polyfit",
    "lstsq",
    "curve_fit",
    "least_squares",
    "minimize",
    "integers",
}
FORBIDDEN_IMPORTS = ("scipy", "sklearn", "statsmodels", "scaletime.fitting.optimize")


def _violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            names += [a.name for a in node.names]
            for name in names:
                if name.startswith(FORBIDDEN_IMPORTS):
                    out.append(f"{path.name}:{node.lineno} imports {name}")
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in STATISTICS:
                out.append(f"{path.name}:{node.lineno} calls {name}()")
        elif isinstance(node, ast.FunctionDef) and "bootstrap" in node.name.lower():
            out.append(f"{path.name}:{node.lineno} defines {node.name}()")
        elif isinstance(node, ast.Attribute) and node.attr == "random":
            out.append(f"{path.name}:{node.lineno} uses .random")
    return out


def test_no_report_module_computes_a_statistic() -> None:
    modules = sorted(REPORT.glob("*.py"))
    assert len(modules) >= 6
    found = [v for m in modules for v in _violations(m)]
    assert not found, "statistics computed in report/:\n" + "\n".join(found)


def test_the_check_catches_a_statistic(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import numpy as np\nfrom scipy import stats\n"
        "def bootstrap_ci(x):\n    return np.quantile(np.random.default_rng(0).choice(x, 9), 0.5)\n"
    )
    found = _violations(bad)
    assert any("scipy" in v for v in found) and any("quantile" in v for v in found)
    assert any("bootstrap_ci" in v for v in found) and any(".random" in v for v in found)

"""Tables of measured curves: read (CSV, Parquet, sweep folder, DataFrame), map columns onto
roles, check every value, and hand the one :class:`CurveTable` type down to analysis, fitting
and forecasting (docs/architecture.md, "Tidy table"; docs/scale-time.md and docs/fitting.md,
"Input").

* :func:`read_table` / :func:`read_tables` — files to a DataFrame, refusing bad files by name;
* :class:`ColumnMapping` + :func:`resolve` — roles for the scale-time analysis;
* :func:`load_fit_table` — roles for fitting (constants for a missing size or time, lr_time);
* :func:`check_values` — the one validator of role values;
* :func:`parse_size_rule` — a parameter-count rule in the width (a safe expression).
"""

from scaletime.table.curve_table import BOOTSTRAP_UNITS, CurveTable
from scaletime.table.fit import load_fit_table, single_setting, with_lr_time
from scaletime.table.io import TableError, read_table, read_tables
from scaletime.table.roles import (
    DEFAULT_SETTING_COLUMNS,
    MAX_METRIC,
    MAX_SCALE,
    ColumnMapping,
    check_values,
    parse_size_rule,
    resolve,
)

__all__ = [
    "BOOTSTRAP_UNITS",
    "DEFAULT_SETTING_COLUMNS",
    "MAX_METRIC",
    "MAX_SCALE",
    "ColumnMapping",
    "CurveTable",
    "TableError",
    "check_values",
    "load_fit_table",
    "parse_size_rule",
    "read_table",
    "read_tables",
    "resolve",
    "single_setting",
    "with_lr_time",
]

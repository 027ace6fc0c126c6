"""Theory: the random-subspace model, the linear signal/noise model and the unified law.

See ``docs/theory.md`` for the derivations. Modules:

* :mod:`scaletime.theory.subspace` — Eqs. (1)–(2) of the paper, scale-time equivalence.
* :mod:`scaletime.theory.linear` — linear teacher–student model: exact, large-system, simulated.
* :mod:`scaletime.theory.law` — the unified law ``E(p, t, n, σ²)``.
* :mod:`scaletime.theory.phenomena` — double descent and the other phenomena, as functions.
* :mod:`scaletime.theory.curves` — the standard curves of ``scaletime theory CURVE``.
"""

from scaletime.theory.law import (
    PARAMS,
    TIME_ONLY_PARAMS,
    LawParam,
    effective_time,
    law_components,
    unified_error,
    unified_error_time_only,
)

__all__ = [
    "PARAMS",
    "TIME_ONLY_PARAMS",
    "LawParam",
    "effective_time",
    "law_components",
    "unified_error",
    "unified_error_time_only",
]

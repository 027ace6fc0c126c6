"""The standard theory curves behind ``scaletime theory CURVE``: fixed problems and grids.

Each curve is computed for one or more *sources*: ``"exact"`` (the linear model, exact per
realisation and averaged), ``"deterministic"`` (its large-system limit) and ``"law"`` (the
unified law with :data:`MATCHED_LAW_PARAMS`, the identity link). The grids are the ones
docs/theory.md §5 uses; they are small enough for a laptop (about a minute for everything).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.optimize import least_squares

from scaletime.theory import law, phenomena, subspace
from scaletime.theory._checks import check_choice
from scaletime.theory.linear import LinearProblem

__all__ = [
    "CURVES",
    "MATCHED_LAW_DATA",
    "MATCHED_LAW_NOISES",
    "MATCHED_LAW_PARAMS",
    "MATCHED_LAW_SIZES",
    "MATCHED_LAW_TIMES",
    "SOURCES",
    "STANDARD_PROBLEM",
    "CurveSpec",
    "error_model",
    "fit_matched_law",
    "matched_law_rms",
    "phenomenon_curve",
    "subspace_curve",
]

SOURCES = ("exact", "deterministic", "law")

STANDARD_PROBLEM = LinearProblem(
    dim=400, spectrum="power", spectrum_exponent=1.5, target_exponent=0.5
)

# The grid the law is matched on (docs/theory.md §4): 6 × 3 × 16 × 2 = 576 points.
MATCHED_LAW_SIZES: tuple[float, ...] = (20.0, 50.0, 100.0, 200.0, 400.0, 1000.0)
MATCHED_LAW_DATA: tuple[float, ...] = (50.0, 100.0, 200.0)
MATCHED_LAW_TIMES: tuple[float, ...] = tuple(float(t) for t in np.geomspace(1e-2, 1e3, 16))
MATCHED_LAW_NOISES: tuple[float, ...] = (0.0, 0.3)

# The output of fit_matched_law() (STANDARD_PROBLEM, the grid above), rounded to 3–4 significant
# digits; RMS log error 0.2926 (docs/theory.md §4), the same as the unrounded optimum's to 4
# digits. Stored so that plotting needs no fit; tests/theory/test_matched_law.py re-fits and
# checks them. Used so that law and model share the grids below.
MATCHED_LAW_PARAMS: dict[str, float] = {
    "c": 0.7455,
    "gamma": 0.942,
    "alpha": 0.963,
    "q": 0.0541,
    "mu": 1.700,
    "v": 0.805,
}

_FITTED = ("c", "gamma", "alpha", "q", "mu", "v")  # floor = 0 and ceiling = 1 stay fixed
_LOG_SCALE = frozenset({"c", "q"})  # fitted as log c, log q
# box for the random starts, in the fitted coordinates (log c, gamma, alpha, log q, mu, v)
_START_BOX = ((-3.0, 3.0), (0.3, 2.0), (0.1, 2.0), (-5.0, 2.0), (0.5, 2.5), (0.0, 3.0))


@lru_cache(maxsize=4)
def _matched_law_targets(
    problem: LinearProblem,
    sizes: tuple[float, ...],
    datas: tuple[float, ...],
    times: tuple[float, ...],
    noises: tuple[float, ...],
) -> tuple[np.ndarray, ...]:
    """The grid (p, t, n, σ²) as flat arrays and ``log E`` of the deterministic limit on it."""
    grid = np.meshgrid(sizes, times, datas, noises, indexing="ij")
    size, time, data, noise = (a.ravel() for a in grid)
    log_error = np.log(phenomena.DeterministicModel(problem)(size, time, data, noise))
    out = (size, time, data, noise, log_error)
    for array in out:
        array.flags.writeable = False
    return out


def _log_residuals(params: dict[str, float], targets: tuple[np.ndarray, ...]) -> np.ndarray:
    size, time, data, noise, log_error = targets
    predicted = law.unified_error(size, time, data, noise, link="identity", **params)
    return np.log(predicted) - log_error


def matched_law_rms(
    params: dict[str, float],
    problem: LinearProblem = STANDARD_PROBLEM,
    *,
    sizes: tuple[float, ...] = MATCHED_LAW_SIZES,
    datas: tuple[float, ...] = MATCHED_LAW_DATA,
    times: tuple[float, ...] = MATCHED_LAW_TIMES,
    noises: tuple[float, ...] = MATCHED_LAW_NOISES,
) -> float:
    """RMS of ``log E_law − log E_det`` over the grid: the objective :func:`fit_matched_law` minimises.

    ``E_law`` is the law with ``params`` and the identity link, ``E_det`` the deterministic
    limit of ``problem`` (:class:`~scaletime.theory.phenomena.DeterministicModel`), on every
    combination of ``sizes`` (p), ``datas`` (n), ``times`` (t) and ``noises`` (σ²).
    """
    targets = _matched_law_targets(problem, tuple(sizes), tuple(datas), tuple(times), tuple(noises))
    return float(np.sqrt(np.mean(_log_residuals(dict(params), targets) ** 2)))


def fit_matched_law(
    problem: LinearProblem = STANDARD_PROBLEM,
    *,
    sizes: tuple[float, ...] = MATCHED_LAW_SIZES,
    datas: tuple[float, ...] = MATCHED_LAW_DATA,
    times: tuple[float, ...] = MATCHED_LAW_TIMES,
    noises: tuple[float, ...] = MATCHED_LAW_NOISES,
    starts: int = 16,
    seed: int = 0,
) -> tuple[dict[str, float], float]:
    """Least-squares fit of the law to the deterministic limit: the origin of MATCHED_LAW_PARAMS.

    Objective: minimise ``Σ (log E_law − log E_det)²`` over the grid (see :func:`matched_law_rms`;
    identity link, ``floor = 0`` and ``ceiling = 1`` fixed) in c, gamma, alpha, q, mu and v,
    within the bounds of :data:`scaletime.theory.law.PARAMS` (c and q on a log scale). Default
    grid: p ∈ {20, 50, 100, 200, 400, 1000}, n ∈ {50, 100, 200}, 16 log-spaced t ∈ [1e-2, 1e3],
    σ² ∈ {0, 0.3} (576 points; docs/theory.md §4). ``scipy.optimize.least_squares`` (TRF) is
    run from the law's default parameters and from ``starts − 1`` random points (``seed``) — not
    from the stored constants — and the best run is kept (a worse local optimum exists).

    Returns
    -------
    (dict, float)
        The fitted parameters by name and their RMS log error.
    """
    targets = _matched_law_targets(problem, tuple(sizes), tuple(datas), tuple(times), tuple(noises))
    table = {param.name: param for param in law.PARAMS}

    def to_z(name: str, value: float) -> float:
        return float(np.log(value)) if name in _LOG_SCALE else float(value)

    def from_z(z: np.ndarray) -> dict[str, float]:
        return {
            name: float(np.exp(x)) if name in _LOG_SCALE else float(x)
            for name, x in zip(_FITTED, z, strict=True)
        }

    lower = np.array([to_z(name, table[name].lower) for name in _FITTED])
    upper = np.array([to_z(name, table[name].upper) for name in _FITTED])
    rng = np.random.default_rng(seed)
    box = np.array(_START_BOX)
    initial = [np.array([to_z(name, table[name].default) for name in _FITTED])]
    initial += [rng.uniform(box[:, 0], box[:, 1]) for _ in range(max(starts, 1) - 1)]
    best: tuple[float, dict[str, float]] | None = None
    for z0 in initial:
        result = least_squares(
            lambda z: _log_residuals(from_z(z), targets),
            np.clip(z0, lower, upper),
            bounds=(lower, upper),
            xtol=1e-12,
            ftol=1e-12,
            gtol=1e-12,
        )
        rms = float(np.sqrt(np.mean(result.fun**2)))
        if best is None or rms < best[0]:
            best = (rms, from_z(result.x))
    assert best is not None
    return best[1], best[0]


@dataclass(frozen=True)
class CurveSpec:
    """A standard curve: its phenomenon function, fixed arguments and plot scales."""

    name: str
    title: str
    build: Callable[[phenomena.ErrorModel], phenomena.PhenomenonCurve]
    x_log: bool = True
    y_log: bool = True


def _ints(low: float, high: float, count: int) -> np.ndarray:
    return np.unique(np.round(np.geomspace(low, high, count))).astype(float)


CURVES: dict[str, CurveSpec] = {
    spec.name: spec
    for spec in (
        CurveSpec(
            "epoch-dd",
            "Epoch-wise: E(t), p = 50, n = 100, σ² = 0.5",
            lambda m: phenomena.epoch_wise(m, 50, 100, 0.5, np.geomspace(1e-2, 1e3, 31)),
        ),
        CurveSpec(
            "model-dd",
            "Model-wise: E(p) at t = 100, n = 100, σ² = 0.5",
            lambda m: phenomena.model_wise(m, _ints(10, 1000, 15), 100.0, 100, 0.5),
        ),
        CurveSpec(
            "sample-dd",
            "Sample-wise: E(n) at p = 60, t = 1000, σ² = 0.1",
            lambda m: phenomena.sample_wise(m, 60, 1000.0, _ints(10, 400, 15), 0.1),
        ),
        CurveSpec(
            "noise-sensitivity",
            "dE/dσ² at t = 0.3, n = 100",
            lambda m: phenomena.noise_sensitivity(m, _ints(25, 400, 5), 0.3, 100, 0.5),
        ),
        CurveSpec(
            "data-needed",
            "Data needed for E ≤ 0.15 at t = 1, σ² = 0",
            lambda m: phenomena.data_needed(
                m, _ints(10, 300, 4), 1.0, 0.0, 0.15, _ints(5, 1000, 16)
            ),
        ),
        CurveSpec(
            "larger-worse",
            "E(p) at t = 3, n = 100, σ² = 0.5",
            lambda m: phenomena.larger_is_worse(m, _ints(10, 640, 7), 3.0, 100, 0.5),
        ),
        CurveSpec(
            "peak-time",
            "E(t) for p ≫ n = 50, σ² = 0.5: overfitting time ∝ 1/p",
            lambda m: phenomena.peak_time(
                m, _ints(400, 3200, 4), 50, 0.5, np.geomspace(1e-4, 1e2, 31)
            ),
        ),
    )
}


def error_model(
    source: str, *, problem: LinearProblem = STANDARD_PROBLEM, realisations: int = 4, seed: int = 0
) -> phenomena.ErrorModel:
    """The error model for ``source`` (one of :data:`SOURCES`)."""
    check_choice("source", source, SOURCES)
    if source == "exact":
        return phenomena.ExactModel(problem, realisations=realisations, seed=seed)
    if source == "deterministic":
        return phenomena.DeterministicModel(problem)
    return phenomena.LawModel(dict(MATCHED_LAW_PARAMS), link="identity")


def phenomenon_curve(name: str, model: phenomena.ErrorModel) -> phenomena.PhenomenonCurve:
    """Compute the standard curve ``name`` (a key of :data:`CURVES`) on ``model``."""
    check_choice("curve", name, tuple(CURVES))
    return CURVES[name].build(model)


def subspace_curve(
    *, sizes: tuple[int, ...] = (32, 64, 128, 256, 512), seeds: int = 4, full_dim: int = 1000
) -> dict[str, subspace.GapTable]:
    """The gap ``‖α_t − A_{pt}‖`` over p and p·t, plain and under each equivalence breaker."""
    model = subspace.SubspaceModel(full_dim=full_dim)
    taus = np.geomspace(0.25, 4.0, 5)
    reference = subspace.reference_trajectory(model, taus)
    settings: dict[str, subspace.Breakers] = {
        "gradient flow": {},
        "lr ∝ 1/p": {"lr_rule": "inverse"},
        "Adam-like (sign)": {"optimizer": "sign"},
        "drifting K": {"drift": 100.0},
    }
    return {
        label: subspace.equivalence_gap(
            model, np.array(sizes), taus, seeds=seeds, reference=reference, **kwargs
        )
        for label, kwargs in settings.items()
    }

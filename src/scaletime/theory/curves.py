"""The standard theory curves behind ``scaletime theory CURVE``: fixed problems and grids.

Each curve is computed for one or more *sources*: ``"exact"`` (the linear model, exact per
realisation and averaged), ``"deterministic"`` (its large-system limit) and ``"law"`` (the
unified law with :data:`MATCHED_LAW_PARAMS`, the identity link). The grids are the ones
docs/theory.md §5 uses; they are small enough for a laptop (about a minute for everything).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from scaletime.theory import phenomena, subspace
from scaletime.theory._checks import check_choice
from scaletime.theory.linear import LinearProblem

__all__ = [
    "CURVES",
    "MATCHED_LAW_PARAMS",
    "SOURCES",
    "STANDARD_PROBLEM",
    "CurveSpec",
    "error_model",
    "phenomenon_curve",
    "subspace_curve",
]

SOURCES = ("exact", "deterministic", "law")

STANDARD_PROBLEM = LinearProblem(
    dim=400, spectrum="power", spectrum_exponent=1.5, target_exponent=0.5
)

# Least-squares fit (log error, identity link) of the law to the deterministic limit of
# STANDARD_PROBLEM on p ∈ {20..1000}, n ∈ {50, 100, 200}, t ∈ [1e-2, 1e3], σ² ∈ {0, 0.3}
# (docs/theory.md §4.5: RMS log error 0.29). Used so that law and model share the grids below.
MATCHED_LAW_PARAMS: dict[str, float] = {
    "c": 0.7455,
    "gamma": 0.942,
    "alpha": 0.963,
    "q": 0.0541,
    "mu": 1.700,
    "v": 0.805,
}


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
    settings = {
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

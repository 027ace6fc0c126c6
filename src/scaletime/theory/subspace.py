"""The random-subspace model, the paper's Eqs. (1)–(2), and scale-time equivalence.

A large model's parameters ``β ∈ R^P`` are confined to a random p-dimensional affine subspace,
``β = R θ + β0`` with ``R ∈ R^{P×p}`` i.i.d. N(0, 1) (Eq. 1), and the loss sees only the
``r``-dimensional readout ``α = K β`` of a fixed projection ``K ∈ R^{r×P}`` (Eq. 2). Gradient flow
on θ from θ = 0 with a learning rate η that does not depend on p gives

    α̇ = −η (K R)(K R)ᵀ ∇ℒ(α),      E[(K R)(K R)ᵀ] = p K Kᵀ,

so ``α_t ≈ A_{pt}`` where ``dA/dτ = −η K Kᵀ ∇ℒ(A)`` does not depend on p; the fluctuation of
``R Rᵀ`` around its mean makes the error ``‖α_t − A_{pt}‖`` shrink like ``1/√p`` at fixed ``p·t``
and grow with ``p·t`` (docs/theory.md §2). The functions below integrate both flows accurately
(DOP853, tight tolerances), measure the gap over p and p·t, and implement what breaks the
equivalence: a learning rate ∝ 1/p, Adam-like normalised updates, and a drifting projection K.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TypedDict, Unpack

import numpy as np
from scipy.integrate import solve_ivp

from scaletime.theory._checks import (
    TheoryParameterError,
    check_choice,
    check_positive_int,
    check_real,
)

__all__ = [
    "LOSSES",
    "LR_RULES",
    "OPTIMIZERS",
    "GapTable",
    "SubspaceModel",
    "equivalence_gap",
    "gap_slope",
    "reference_trajectory",
    "subspace_trajectory",
]

LOSSES = ("quadratic", "logcosh", "teacher")
LR_RULES = ("constant", "inverse")  # η fixed, or η·p_ref/p (μP-style)
OPTIMIZERS = ("gd", "sign", "normalized")  # gradient flow; Adam-like per-coordinate; global norm
_RTOL = 1e-10
_ATOL = 1e-12
_SIGN_SMOOTHING = 1e-3  # ε in g/sqrt(g² + ε²): Adam's m/sqrt(v) in its sign limit, kept smooth


@dataclass(frozen=True)
class SubspaceModel:
    """A random-subspace problem: the large model, the projection K, the loss and η.

    Parameters
    ----------
    full_dim
        P, the large model's number of parameters.
    readout_dim
        r, the dimension of the readout ``α = K β`` (must be < every p used).
    loss
        ``"quadratic"`` (``½ (α − α*)ᵀ H (α − α*)``, H diagonal from 1 down to 0.1),
        ``"logcosh"`` (``Σ log cosh(α_i − α*_i)``) or ``"teacher"`` (``(1/2m) Σ_j (tanh(x_jᵀα) −
        tanh(x_jᵀα*))²`` on m = 4r fixed Gaussian inputs: a non-linear regression teacher).
    lr
        η, the learning rate (the same for every p unless ``lr_rule="inverse"``).
    seed
        Seed for K (i.i.d. N(0, 1/P)), β0 (i.i.d. N(0, 1/P)) and the target α* (N(0, 1)).
    """

    full_dim: int = 2000
    readout_dim: int = 5
    loss: str = "logcosh"
    lr: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        check_positive_int("full_dim", self.full_dim, minimum=2)
        check_positive_int("readout_dim", self.readout_dim)
        if self.readout_dim >= self.full_dim:
            raise TheoryParameterError(
                f"readout_dim ({self.readout_dim}) must be < full_dim ({self.full_dim})"
            )
        check_choice("loss", self.loss, LOSSES)
        check_real("lr", self.lr, lower=0.0, lower_open=True)
        check_positive_int("seed", self.seed, minimum=0)

    @cached_property
    def _draws(self) -> dict[str, np.ndarray]:
        rng = np.random.default_rng([self.seed, 11])
        full, readout = self.full_dim, self.readout_dim
        draws = {
            "projection": rng.standard_normal((readout, full)) / np.sqrt(full),
            "drift_direction": rng.standard_normal((readout, full)) / np.sqrt(full),
            "beta0": rng.standard_normal(full) / np.sqrt(full),
            "target": rng.standard_normal(readout),
            "curvature": np.geomspace(1.0, 0.1, readout),
            "teacher_inputs": rng.standard_normal((4 * readout, readout)) / np.sqrt(readout),
        }
        draws["teacher_outputs"] = np.tanh(draws["teacher_inputs"] @ draws["target"])
        return draws

    @property
    def projection(self) -> np.ndarray:
        """K, shape ``(r, P)``."""
        return self._draws["projection"]

    @property
    def drift_direction(self) -> np.ndarray:
        """K₁, shape ``(r, P)``: a drifting projection is ``cos(ωt) K + sin(ωt) K₁``."""
        return self._draws["drift_direction"]

    @property
    def beta0(self) -> np.ndarray:
        """β0, shape ``(P,)``: the large model's initial parameters."""
        return self._draws["beta0"]

    @property
    def target(self) -> np.ndarray:
        """α*, shape ``(r,)``: the loss minimiser."""
        return self._draws["target"]

    def loss_value(self, alpha: np.ndarray) -> float:
        """ℒ(α) for one readout ``alpha`` of shape ``(r,)``."""
        d = self._draws
        if self.loss == "quadratic":
            diff = alpha - d["target"]
            return float(0.5 * np.sum(d["curvature"] * diff**2))
        if self.loss == "logcosh":
            diff = alpha - d["target"]
            return float(np.sum(np.logaddexp(diff, -diff) - np.log(2.0)))
        residual = np.tanh(d["teacher_inputs"] @ alpha) - d["teacher_outputs"]
        return float(0.5 * np.mean(residual**2))

    def loss_gradient(self, alpha: np.ndarray) -> np.ndarray:
        """∇ℒ(α), shape ``(r,)``."""
        d = self._draws
        if self.loss == "quadratic":
            return d["curvature"] * (alpha - d["target"])
        if self.loss == "logcosh":
            return np.tanh(alpha - d["target"])
        inputs = d["teacher_inputs"]
        prediction = np.tanh(inputs @ alpha)
        residual = prediction - d["teacher_outputs"]
        return inputs.T @ (residual * (1.0 - prediction**2)) / inputs.shape[0]


def _normalise(gradient: np.ndarray, optimizer: str) -> np.ndarray:
    """The update direction of ``optimizer`` for the θ-gradient ``gradient``."""
    if optimizer == "gd":
        return gradient
    if optimizer == "sign":
        return gradient / np.sqrt(gradient**2 + _SIGN_SMOOTHING**2)
    return gradient / max(float(np.linalg.norm(gradient)), _SIGN_SMOOTHING)


def reference_trajectory(
    model: SubspaceModel, tau: np.ndarray, *, optimizer: str = "gd"
) -> np.ndarray:
    """The size-independent flow ``A_τ`` from ``A_0 = K β0`` (docs/theory.md Eqs. S3–S4).

    ``"gd"``: ``dA/dτ = −η K Kᵀ ∇ℒ(A)``. ``"sign"``: the p → ∞ limit of Adam-like sign updates,
    ``dA/dτ = −η sqrt(2/π) K Kᵀ ∇ℒ / ‖∇ℒ‖_{KKᵀ}`` (``E[b sign(bᵀu)] = sqrt(2/π) Mu/sqrt(uᵀMu)``
    for ``b ~ N(0, M)``, ``M = K Kᵀ``).

    Parameters
    ----------
    model
        The problem.
    tau
        Effective times ``τ = p·t`` (non-negative), any order.
    optimizer
        ``"gd"`` or ``"sign"``.

    Returns
    -------
    numpy.ndarray
        ``A_τ``, shape ``(len(tau), r)``.
    """
    check_choice("optimizer", optimizer, ("gd", "sign"))
    tau = np.asarray(tau, dtype=float)
    if tau.ndim != 1 or (tau < 0).any():
        raise TheoryParameterError("tau must be a 1-D array of non-negative times")
    metric = model.projection @ model.projection.T

    def rhs(_: float, state: np.ndarray) -> np.ndarray:
        direction = metric @ model.loss_gradient(state)
        if optimizer == "sign":
            norm = np.sqrt(max(float(model.loss_gradient(state) @ direction), 1e-300))
            direction = np.sqrt(2 / np.pi) * direction / norm
        return -model.lr * direction

    start = model.projection @ model.beta0
    return _integrate(rhs, start, tau)


def _integrate(rhs, start: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Integrate ``ẋ = rhs(t, x)`` from ``x(0) = start`` and return x at ``times`` (any order)."""
    order = np.argsort(times)
    sorted_times = times[order]
    out = np.empty((times.size, start.size))
    if sorted_times[-1] <= 0:
        out[:] = start
        return out
    solution = solve_ivp(
        rhs,
        (0.0, float(sorted_times[-1])),
        start,
        method="DOP853",
        t_eval=sorted_times,
        rtol=_RTOL,
        atol=_ATOL,
    )
    if not solution.success:
        raise RuntimeError(f"ODE integration failed: {solution.message}")
    out[order] = solution.y.T
    return out


def subspace_trajectory(
    model: SubspaceModel,
    size: int,
    times: np.ndarray,
    *,
    seed: int = 0,
    lr_rule: str = "constant",
    optimizer: str = "gd",
    drift: float = 0.0,
    reference_size: int = 64,
) -> np.ndarray:
    """Readout ``α_t = K_t (R θ_t + β0)`` of gradient flow on θ ∈ R^p from θ = 0 (Eqs. S1–S2).

    ``θ̇ = −η_p · u(Rᵀ K_tᵀ ∇ℒ(α))`` where ``u`` is the identity (``"gd"``), the smoothed sign
    (``"sign"``, Adam's update in its stationary limit) or division by the global norm
    (``"normalized"``); ``η_p = η`` (``"constant"``) or ``η·reference_size/p`` (``"inverse"``);
    ``K_t = cos(drift·t) K + sin(drift·t) K₁`` (a projection rotating at rate ``drift``).

    Parameters
    ----------
    model
        The problem.
    size
        p, the subspace dimension (> r).
    times
        Training times t ≥ 0 (1-D, any order).
    seed
        Seed of R.
    lr_rule, optimizer, drift, reference_size
        The equivalence breakers, see above (defaults: plain gradient flow, fixed η and K).

    Returns
    -------
    numpy.ndarray
        α at ``times``, shape ``(len(times), r)``.
    """
    size = check_positive_int("size", size)
    if size <= model.readout_dim:
        raise TheoryParameterError(
            f"size (p={size}) must exceed readout_dim (r={model.readout_dim})"
        )
    check_choice("lr_rule", lr_rule, LR_RULES)
    check_choice("optimizer", optimizer, OPTIMIZERS)
    drift = check_real("drift", drift, lower=0.0)
    times = np.asarray(times, dtype=float)
    if times.ndim != 1 or (times < 0).any():
        raise TheoryParameterError("times must be a 1-D array of non-negative times")
    rng = np.random.default_rng([seed, size, 23])
    subspace = rng.standard_normal((model.full_dim, size))  # R, Eq. (1)
    readout_basis = model.projection @ subspace  # K R, shape (r, p)
    drift_basis = model.drift_direction @ subspace  # K₁ R
    offset = model.projection @ model.beta0
    drift_offset = model.drift_direction @ model.beta0
    lr = model.lr * (reference_size / size if lr_rule == "inverse" else 1.0)

    def readout(t: float, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if not drift:
            return readout_basis @ theta + offset, readout_basis
        cosine, sine = np.cos(drift * t), np.sin(drift * t)
        basis = cosine * readout_basis + sine * drift_basis
        return basis @ theta + cosine * offset + sine * drift_offset, basis

    def rhs(t: float, theta: np.ndarray) -> np.ndarray:
        alpha, basis = readout(t, theta)
        return -lr * _normalise(basis.T @ model.loss_gradient(alpha), optimizer)

    thetas = _integrate(rhs, np.zeros(size), times)
    return np.stack([readout(t, theta)[0] for t, theta in zip(times, thetas, strict=True)])


@dataclass(frozen=True)
class GapTable:
    """``gap[i, j]`` = RMS over seeds of ``‖α_t − A_{pt}‖`` at ``p = sizes[i]``, ``p·t = taus[j]``."""

    sizes: np.ndarray
    taus: np.ndarray
    gap: np.ndarray
    seeds: int

    def rows(self) -> list[dict[str, float]]:
        """Tidy rows ``{size, tau, time, gap}`` (for CSV export)."""
        return [
            {"size": float(p), "tau": float(tau), "time": float(tau / p), "gap": float(g)}
            for p, row in zip(self.sizes, self.gap, strict=True)
            for tau, g in zip(self.taus, row, strict=True)
        ]


class Breakers(TypedDict, total=False):
    """Keyword options of :func:`subspace_trajectory` that :func:`equivalence_gap` passes on."""

    lr_rule: str
    optimizer: str
    drift: float
    reference_size: int


def equivalence_gap(
    model: SubspaceModel,
    sizes: np.ndarray,
    taus: np.ndarray,
    *,
    seeds: int = 4,
    reference: np.ndarray | None = None,
    **breakers: Unpack[Breakers],
) -> GapTable:
    """Measure ``‖α_t − A_{pt}‖`` over sizes p and effective times τ = p·t (docs/theory.md §2.3).

    Parameters
    ----------
    model
        The problem.
    sizes
        Subspace dimensions p (each > r).
    taus
        Effective times τ = p·t at which to compare (> 0).
    seeds
        Number of draws of R per size; the gap is the root mean square over them.
    reference
        ``A_τ`` at ``taus`` (shape ``(len(taus), r)``); computed by :func:`reference_trajectory`
        when omitted.
    **breakers
        ``lr_rule``, ``optimizer``, ``drift``, ``reference_size`` for :func:`subspace_trajectory`.

    Returns
    -------
    GapTable
    """
    sizes = np.asarray(sizes, dtype=int)
    taus = np.asarray(taus, dtype=float)
    seeds = check_positive_int("seeds", seeds)
    if reference is None:
        reference = reference_trajectory(model, taus)
    squared = np.zeros((sizes.size, taus.size))
    for i, size in enumerate(sizes):
        for seed in range(seeds):
            alpha = subspace_trajectory(model, int(size), taus / size, seed=seed, **breakers)
            squared[i] += np.sum((alpha - reference) ** 2, axis=1)
    return GapTable(sizes=sizes, taus=taus, gap=np.sqrt(squared / seeds), seeds=seeds)


def gap_slope(table: GapTable) -> np.ndarray:
    """Least-squares slope of ``log gap`` against ``log p``, one per τ (−½ where STE holds)."""
    log_sizes = np.log(table.sizes.astype(float))
    centred = log_sizes - log_sizes.mean()
    log_gap = np.log(np.maximum(table.gap, 1e-300))
    return centred @ (log_gap - log_gap.mean(axis=0)) / (centred @ centred)

"""Linear teacher–student model with signal and noise, trained in the paper's random subspace.

Inputs ``x ~ N(0, Σ)``, ``Σ = diag(λ_1, …, λ_D)`` normalised to ``tr Σ = 1`` (isotropic,
``λ_k = 1/D``, or power law, ``λ_k ∝ k^{-a}``); teacher ``y = w*ᵀx + ε`` with ``w*_k² ∝ k^{-b}``
normalised to unit signal power ``Σ_k λ_k w*_k² = 1`` and label noise ``ε ~ N(0, σ²)``; n training
samples. The student is the random subspace ``w = R θ`` of dimension p (``R ∈ R^{D×p}`` i.i.d.
N(0, 1), the paper's Eq. 1), trained by gradient flow on ``L(θ) = (1/2n) ‖y − X R θ‖²`` from
θ = 0 with a learning rate η that does not depend on p. The test error is measured on clean
targets, ``E = E_x (wᵀx − w*ᵀx)²`` (1 at t = 0).

Three ways to compute the learning curve ``E(t)`` (docs/theory.md §3):

(a) :func:`exact_error` — one realisation, closed form in t from the eigendecomposition of the
    p×p Gram matrix ``G = FᵀF/n`` (``F = X R``); :func:`exact_error_mean` averages realisations.
(b) :func:`deterministic_error` — the large-system limit (Eq. 9 analogue, finite p) from
    deterministic equivalents of the ridge resolvent, composed over the two random layers
    (projection R, then samples X) and turned into gradient flow by a contour integral;
    :func:`deterministic_error_infinite` is its p → ∞ limit at fixed ``τ = η·p·t`` (Eq. 10
    analogue), and :func:`marchenko_pastur_error` the same limit for isotropic inputs as an
    Advani–Saxe integral over the Marchenko–Pastur law.
(c) :func:`simulate_gd` — plain gradient descent on the same realisation as (a).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
from scipy.optimize import brentq

from scaletime.theory._checks import (
    TheoryParameterError,
    check_choice,
    check_positive_int,
    check_real,
)

__all__ = [
    "SPECTRA",
    "LinearProblem",
    "Realisation",
    "deterministic_error",
    "deterministic_error_infinite",
    "draw_realisation",
    "exact_error",
    "exact_error_mean",
    "exact_error_parts",
    "marchenko_pastur_error",
    "simulate_gd",
]

SPECTRA = ("isotropic", "power")


@dataclass(frozen=True)
class LinearProblem:
    """The teacher, the input spectrum, the label noise and the learning rate.

    Parameters
    ----------
    dim
        D, the input dimension (number of modes of Σ).
    spectrum
        ``"isotropic"`` (``λ_k = 1/D``) or ``"power"`` (``λ_k ∝ k^{-a}``), always ``tr Σ = 1``.
    spectrum_exponent
        a, the input spectrum's decay exponent (``"power"`` only), > 0.
    target_exponent
        b in ``w*_k² ∝ k^{-b}`` (≥ 0; 0 is an isotropic teacher).
    noise
        σ², the label-noise variance (the signal power is 1).
    lr
        η, the learning rate (the same for every p).
    """

    dim: int = 1000
    spectrum: str = "power"
    spectrum_exponent: float = 1.5
    target_exponent: float = 0.5
    noise: float = 0.0
    lr: float = 1.0

    def __post_init__(self) -> None:
        check_positive_int("dim", self.dim)
        check_choice("spectrum", self.spectrum, SPECTRA)
        check_real("spectrum_exponent", self.spectrum_exponent, lower=0.0, lower_open=True)
        check_real("target_exponent", self.target_exponent, lower=0.0)
        check_real("noise", self.noise, lower=0.0)
        check_real("lr", self.lr, lower=0.0, lower_open=True)

    def with_noise(self, noise: float) -> LinearProblem:
        """The same problem with label-noise variance ``noise``."""
        return replace(self, noise=noise)

    @cached_property
    def eigenvalues(self) -> np.ndarray:
        """λ_k, shape ``(D,)``, decreasing, summing to 1."""
        k = np.arange(1, self.dim + 1, dtype=float)
        raw = np.ones(self.dim) if self.spectrum == "isotropic" else k ** (-self.spectrum_exponent)
        return raw / raw.sum()

    @cached_property
    def teacher(self) -> np.ndarray:
        """w*, shape ``(D,)``, positive, with ``Σ_k λ_k w*_k² = 1``."""
        k = np.arange(1, self.dim + 1, dtype=float)
        raw = k ** (-self.target_exponent)
        return np.sqrt(raw / np.sum(self.eigenvalues * raw))

    @cached_property
    def mode_signal(self) -> np.ndarray:
        """``λ_k w*_k²``: the signal power in mode k (sums to 1)."""
        return self.eigenvalues * self.teacher**2


# ---------------------------------------------------------------------------------------------
# (a) exact test error of one realisation


@dataclass(frozen=True)
class Realisation:
    """One draw of the random subspace R (D, p), the inputs X (n, D) and the label noise.

    ``clean = X w*`` and ``targets = clean + ε`` (n,). Derived (cached): ``features = X R``,
    ``covariance = Rᵀ Σ R`` (p, p) and ``cross = Rᵀ Σ w*``; the test error of ``w = R θ`` is
    ``θᵀ C θ − 2 θᵀ v + 1`` (docs/theory.md Eq. X1).
    """

    subspace: np.ndarray
    inputs: np.ndarray
    eigenvalues: np.ndarray
    teacher: np.ndarray
    clean: np.ndarray
    targets: np.ndarray

    @cached_property
    def features(self) -> np.ndarray:
        """F = X R, shape (n, p)."""
        return self.inputs @ self.subspace

    @cached_property
    def covariance(self) -> np.ndarray:
        """C = Rᵀ Σ R, shape (p, p)."""
        return self.subspace.T @ (self.subspace * self.eigenvalues[:, None])

    @cached_property
    def cross(self) -> np.ndarray:
        """v = Rᵀ Σ w*, shape (p,)."""
        return self.subspace.T @ (self.eigenvalues * self.teacher)

    def test_error(self, theta: np.ndarray) -> float:
        """``(Rθ − w*)ᵀ Σ (Rθ − w*)`` without forming C."""
        residual = self.subspace @ theta - self.teacher
        return float(np.sum(self.eigenvalues * residual**2))


def draw_realisation(problem: LinearProblem, size: int, data: int, seed: int = 0) -> Realisation:
    """Draw R (D×p), X (n×D) and ε (n) for ``problem`` with p = ``size``, n = ``data``."""
    size = check_positive_int("size", size)
    data = check_positive_int("data", data)
    rng = np.random.default_rng([seed, size, data, 7])
    subspace = rng.standard_normal((problem.dim, size))
    inputs = rng.standard_normal((data, problem.dim)) * np.sqrt(problem.eigenvalues)
    label_noise = rng.standard_normal(data) * np.sqrt(problem.noise)
    clean = inputs @ problem.teacher
    return Realisation(
        subspace=subspace,
        inputs=inputs,
        eigenvalues=problem.eigenvalues,
        teacher=problem.teacher,
        clean=clean,
        targets=clean + label_noise,
    )


def _flow_filter(scaled_time: np.ndarray, eigenvalues: np.ndarray) -> np.ndarray:
    """``(1 − e^{−s g})/g`` (and ``s`` at g = 0), shape ``(len(s), len(g))``: gradient flow's filter."""
    s = scaled_time[:, None]
    g = eigenvalues[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        out = -np.expm1(-s * g) / g
    return np.where(g > 0, out, s)


def _check_times(times: object) -> np.ndarray:
    array = np.atleast_1d(np.asarray(times, dtype=float))
    if array.ndim != 1 or np.isnan(array).any() or (array < 0).any():
        raise TheoryParameterError("times must be a 1-D array of finite, non-negative times")
    return array


def exact_error(
    problem: LinearProblem,
    size: int,
    data: int,
    times: object,
    *,
    seed: int = 0,
    noise_averaged: bool = True,
    realisation: Realisation | None = None,
) -> np.ndarray:
    """Exact test error of one realisation of gradient flow, closed form in t (docs/theory.md §3.1).

    With ``G = V diag(g) Vᵀ`` and ``b = Fᵀy/n``, ``θ_t = V diag((1 − e^{−ηtg})/g) Vᵀ b`` and
    ``E(t) = θ_tᵀ C θ_t − 2 θ_tᵀ v + 1``. With ``noise_averaged`` the label noise is averaged
    analytically: ``E_ε E(t) = E_clean(t) + (σ²/n) Σ_j g_j [(1 − e^{−ηtg_j})/g_j]² (VᵀCV)_jj``.

    Parameters
    ----------
    problem
        The linear problem.
    size, data
        p (student dimension) and n (training samples).
    times
        Training times t ≥ 0.
    seed
        Seed of the realisation (R, X, ε); ignored when ``realisation`` is given.
    noise_averaged
        Average over the label noise ε analytically (else use the drawn ε).
    realisation
        A realisation from :func:`draw_realisation` to reuse.

    Returns
    -------
    numpy.ndarray
        E at ``times``.
    """
    times = _check_times(times)
    draw = realisation if realisation is not None else draw_realisation(problem, size, data, seed)
    if noise_averaged:
        clean, unit_noise = _exact_parts(problem, draw, times, draw.clean)
        return clean + problem.noise * unit_noise
    return _exact_parts(problem, draw, times, draw.targets)[0]


def exact_error_parts(
    problem: LinearProblem, size: int, data: int, times: object, *, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Noise-free error and error per unit label-noise variance: ``E_ε E = clean + σ²·unit``.

    One realisation (seed) of :func:`exact_error`; the problem's own ``noise`` is ignored.
    """
    times = _check_times(times)
    draw = draw_realisation(problem.with_noise(0.0), size, data, seed)
    return _exact_parts(problem, draw, times, draw.clean)


def _exact_parts(
    problem: LinearProblem, draw: Realisation, times: np.ndarray, labels: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Error of gradient flow fitted to ``labels`` and the label-noise term per unit σ² (Eq. X2).

    In the eigenbasis ``V`` of ``G = FᵀF/n`` (or, when p > n, of the kernel ``FFᵀ/n``, whose
    eigenvectors ``U`` give ``V = FᵀU/sqrt(n g)`` on the non-zero eigenvalues):
    ``θ̃ = φ(t) ⊙ Vᵀb``, ``E = θ̃ᵀ(VᵀCV)θ̃ − 2θ̃ᵀVᵀv + 1``, ``unit = Σ_j φ_j² g_j (VᵀCV)_jj / n``.
    """
    subspace, inputs = draw.subspace, draw.inputs
    n, size = inputs.shape[0], subspace.shape[1]
    if size <= n:
        features = draw.features
        eigenvalues, vectors = np.linalg.eigh(features.T @ features / n)
        rotated_c = vectors.T @ draw.covariance @ vectors
        rotated_v = vectors.T @ draw.cross
        rotated_b = vectors.T @ (features.T @ labels / n)
    else:  # dual: everything through the n×n kernel, never a p×p matrix
        lifted = subspace @ (subspace.T @ inputs.T)  # R Rᵀ Xᵀ = R Fᵀ, (D, n)
        kernel = inputs @ lifted / n  # F Fᵀ / n
        eigenvalues, left = np.linalg.eigh(kernel)
        keep = eigenvalues > 1e-12 * max(eigenvalues[-1], 1e-300)
        eigenvalues, left = eigenvalues[keep], left[:, keep]
        norm = np.sqrt(n * eigenvalues)
        weighted = lifted * draw.eigenvalues[:, None]  # Σ R Fᵀ
        rotated_c = (left.T @ (lifted.T @ weighted) @ left) / np.outer(norm, norm)
        rotated_v = left.T @ (weighted.T @ draw.teacher) / norm
        rotated_b = norm * (left.T @ labels) / n  # Vᵀ Fᵀ y / n
    eigenvalues = np.where(eigenvalues > 1e-12 * max(eigenvalues[-1], 1e-300), eigenvalues, 0.0)
    filters = _flow_filter(problem.lr * times, eigenvalues)
    theta = filters * rotated_b
    error = np.einsum("ti,ij,tj->t", theta, rotated_c, theta) - 2 * theta @ rotated_v + 1.0
    unit_noise = (filters**2 * eigenvalues) @ np.diag(rotated_c) / n
    return error, unit_noise


def exact_error_mean(
    problem: LinearProblem,
    size: int,
    data: int,
    times: object,
    *,
    realisations: int = 8,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard error over ``realisations`` draws of :func:`exact_error` (noise-averaged)."""
    realisations = check_positive_int("realisations", realisations)
    curves = np.stack(
        [
            exact_error(problem, size, data, times, seed=seed + index)
            for index in range(realisations)
        ]
    )
    sem = curves.std(axis=0, ddof=1) / np.sqrt(realisations) if realisations > 1 else 0 * curves[0]
    return curves.mean(axis=0), sem


# ---------------------------------------------------------------------------------------------
# (c) direct gradient-descent simulation


def simulate_gd(
    problem: LinearProblem,
    size: int,
    data: int,
    times: object,
    *,
    seed: int = 0,
    step_fraction: float = 0.05,
    realisation: Realisation | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Gradient descent ``θ ← θ − η·Δt·∇L(θ)`` on one realisation, with the drawn label noise.

    ``∇L(θ) = Fᵀ(Fθ − y)/n``; ``Δt = step_fraction/(η·g_max)`` where ``g_max`` is the top
    eigenvalue of ``FᵀF/n`` found by power iteration (no eigendecomposition), so the per-step
    error of each mode's exponent against gradient flow is at most ``step_fraction/2``.

    Parameters
    ----------
    problem, size, data, seed, realisation
        As in :func:`exact_error`.
    times
        Times at which to record the test error (rounded to multiples of Δt).
    step_fraction
        ``η·Δt·g_max`` (< 2 for stability).

    Returns
    -------
    (times, errors)
        The times actually reached (multiples of Δt) and the test error there.
    """
    times = _check_times(times)
    step_fraction = check_real(
        "step_fraction", step_fraction, lower=0.0, upper=1.0, lower_open=True
    )
    draw = realisation if realisation is not None else draw_realisation(problem, size, data, seed)
    features, targets = draw.features, draw.targets
    n = features.shape[0]
    gram = features.T @ features / n
    b = features.T @ targets / n
    top = _power_iteration(gram)
    dt = step_fraction / (problem.lr * top)
    steps = np.round(times / dt).astype(np.int64)
    order = np.argsort(steps)
    theta = np.zeros(features.shape[1])
    errors = np.empty(times.size)
    done = 0
    lr_dt = problem.lr * dt
    for index in order:
        for _ in range(int(steps[index]) - done):
            theta += lr_dt * (b - gram @ theta)
        done = int(steps[index])
        errors[index] = draw.test_error(theta)
    return steps * dt, errors


def _power_iteration(matrix: np.ndarray, iterations: int = 200) -> float:
    """Largest eigenvalue of a symmetric PSD matrix, from above (times 1.02 for safety)."""
    vector = np.ones(matrix.shape[0]) / np.sqrt(matrix.shape[0])
    value = 0.0
    for _ in range(iterations):
        image = matrix @ vector
        new_value = float(np.linalg.norm(image))
        if new_value == 0:
            return 1.0
        vector = image / new_value
        if abs(new_value - value) < 1e-10 * new_value:
            break
        value = new_value
    return 1.02 * new_value


# ---------------------------------------------------------------------------------------------
# (b) large-system limit: deterministic equivalents + contour integral


@dataclass(frozen=True)
class _Nodes:
    """Per-contour-node quantities of the sample layer (docs/theory.md §3.2, Eqs. D4–D6).

    ``kappa``: renormalised ridge κ(λ); ``phi = κ·tr C(C+κ)^{-1}``; ``g = vᵀC⁺(C+κ)^{-1}v``;
    ``dphi``, ``dg``: their derivatives in κ (for the diagonal of the cross-risk).
    """

    kappa: np.ndarray
    phi: np.ndarray
    g: np.ndarray
    dphi: np.ndarray
    dg: np.ndarray


def _contour(x_min: float, x_max: float, *, delta: float, per_decade: int) -> tuple:
    """Upper half of a closed contour around ``[0, x_max]``, ordered from −ρ to ``x_max``.

    Pieces: an arc of radius ``ρ = x_min·|1 + iδ|`` from angle π down to ``arg(1 + iδ)``; the
    wedge ``z = x(1 + iδ)``, ``x`` from ``x_min`` to ``x_max`` (Gauss–Legendre panels, one per
    decade of x); the segment from ``x_max(1 + iδ)`` down to ``x_max``. Returns nodes ``z`` and
    ``dz`` (the parameterisation's differentials times the Gauss weights).
    """
    gl_nodes, gl_weights = np.polynomial.legendre.leggauss(per_decade)

    def panel(a: float, b: float) -> tuple[np.ndarray, np.ndarray]:
        return 0.5 * (b - a) * gl_nodes + 0.5 * (a + b), 0.5 * (b - a) * gl_weights

    rho = x_min * abs(1 + 1j * delta)
    angle, weights = panel(np.pi, np.arctan(delta))
    z_arc = rho * np.exp(1j * angle)
    dz_arc = 1j * z_arc * weights
    edges = np.linspace(np.log(x_min), np.log(x_max), int(np.ceil(np.log10(x_max / x_min))) + 1)
    z_wedge, dz_wedge = [], []
    for a, b in itertools.pairwise(edges):
        u, weights = panel(a, b)
        z = np.exp(u) * (1 + 1j * delta)
        z_wedge.append(z)
        dz_wedge.append(z * weights)
    height, weights = panel(delta, 0.0)
    z_seg = x_max * (1 + 1j * height)
    dz_seg = 1j * x_max * weights
    z = np.concatenate([z_arc, *z_wedge, z_seg])
    dz = np.concatenate([dz_arc, *dz_wedge, dz_seg])
    return z, dz


def _newton(function, derivative, start: complex, target: complex) -> complex:
    """Solve ``function(x) = target`` by damped Newton from ``start``.

    Converges quadratically off the peak; at the exact interpolation point (p = n, λ → 0) the
    root is double and convergence is linear, hence the generous iteration budget.
    """
    x = start
    best, best_residual = x, np.inf
    for _ in range(500):
        residual = function(x) - target
        if abs(residual) < best_residual:
            best, best_residual = x, abs(residual)
        step = residual / derivative(x)
        limit = 0.5 * max(abs(x), 1e-300)
        if abs(step) > limit:
            step *= limit / abs(step)
        x = x - step
        if abs(step) <= 1e-13 * max(abs(x), 1e-300) or abs(residual) <= 1e-14 * abs(target):
            return x
    if best_residual <= 1e-9 * abs(target):
        return best
    raise RuntimeError(f"deterministic-equivalent fixed point did not converge at λ={target!r}")


class _SubspaceLayer:
    """Node quantities for the random-subspace student (two layers: R then X), Eqs. D1–D6.

    The layer-1 renormalised ridge ``y = κ̃`` solves
    ``λ = y·(p − df(y))·(1 − df(y)/n)``, ``df(y) = Σ_k λ_k/(λ_k + y)``; then
    ``κ = y (p − df(y))``, ``tr C(C+κ)^{-1} = df(y)`` and
    ``vᵀ(C+κ)^{-1}v = Σ_k λ_k² w_k²/(λ_k + y)``. Unknown: ``Δ = y − y₀`` with ``y₀`` the
    ``λ → 0`` root of layer 1 (``df(y₀) = p`` for p < D, else 0), which keeps every quantity
    free of cancellation near λ = 0.
    """

    def __init__(self, problem: LinearProblem, size: int, data: int) -> None:
        self.lam = problem.eigenvalues
        self.signal = problem.mode_signal * problem.eigenvalues  # λ_k² w_k²
        self.p, self.n = float(size), float(data)
        dim = problem.dim
        if size < dim:
            self.y0 = _solve_df(self.lam, float(size))
            self.excess = 0.0
        else:
            self.y0 = 0.0
            self.excess = float(size - dim)
        self.visible = float(np.sum(self.signal / (self.lam + self.y0)))
        self.misspecification = max(1.0 - self.visible, 0.0)

    def _parts(self, delta: complex) -> tuple:
        y = self.y0 + delta
        base = (self.lam + self.y0) * (self.lam + y)
        a1 = np.sum(self.lam / base)
        a1p = -np.sum(self.lam / (base * (self.lam + y)))
        h = self.excess + delta * a1  # p − df(y)
        # df(y) without the cancellation p − h when p ≫ D
        df = np.sum(self.lam / (self.lam + y)) if self.excess else self.p - delta * a1
        dh = a1 + delta * a1p
        kappa = y * h
        dkappa = h + y * dh
        return y, base, a1, a1p, h, dh, kappa, dkappa, df

    def ridge(self, delta: complex) -> complex:
        *_, kappa, _, df = self._parts(delta)
        return kappa * (self.n - df) / self.n

    def ridge_derivative(self, delta: complex) -> complex:
        *_, dh, kappa, dkappa, df = self._parts(delta)
        return (dkappa * (self.n - df) + kappa * dh) / self.n

    def start(self, ridge: float) -> complex:
        """Δ at a real, positive ridge λ (largest root, by bracketing)."""
        low = 0.0
        if self.p > self.n and self.n < self.lam.size:  # λ → 0 root: df(y) = n, above y₀
            low = _solve_df(self.lam, self.n) - self.y0
        high = max(1.0, 2 * ridge / self.p)
        while self.ridge(high).real < ridge:
            high *= 2
        return brentq(lambda d: self.ridge(d).real - ridge, low, high, xtol=1e-15, rtol=1e-15)

    def nodes(self, deltas: np.ndarray) -> _Nodes:
        out = {key: np.empty(deltas.size, complex) for key in ("k", "phi", "g", "dphi", "dg")}
        for index, delta in enumerate(deltas):
            y, base, a1, a1p, h, dh, kappa, dkappa, df = self._parts(delta)
            a2 = np.sum(self.signal / base)
            a2p = -np.sum(self.signal / (base * (self.lam + y)))
            phi = kappa * df
            dphi = dkappa * df - kappa * dh
            if self.excess == 0.0:  # g = Δ a2/(y h) with h = Δ a1: Δ cancels
                g = a2 / (y * a1)
                dg = (a2p * y * a1 - a2 * (a1 + y * a1p)) / (y * a1) ** 2
            else:  # y₀ = 0, Δ = y
                g = a2 / h
                dg = (a2p * h - a2 * dh) / h**2
            out["k"][index] = kappa
            out["phi"][index] = phi
            out["g"][index] = g
            out["dphi"][index] = dphi / dkappa
            out["dg"][index] = dg / dkappa
        return _Nodes(out["k"], out["phi"], out["g"], out["dphi"], out["dg"])


class _FullLayer:
    """Node quantities for the full D-dimensional student (the p → ∞ limit), Eq. D7.

    ``λ = κ(1 − df(κ)/n)``, ``tr C(C+κ)^{-1} = df(κ)``, ``g = Σ_k w_k² λ_k/(λ_k + κ)``.
    """

    def __init__(self, problem: LinearProblem, data: int) -> None:
        self.lam = problem.eigenvalues
        self.weight = problem.teacher**2 * problem.eigenvalues
        self.n = float(data)
        self.misspecification = 0.0

    def ridge(self, kappa: complex) -> complex:
        return kappa * (1 - np.sum(self.lam / (self.lam + kappa)) / self.n)

    def ridge_derivative(self, kappa: complex) -> complex:
        df = np.sum(self.lam / (self.lam + kappa))
        ddf = -np.sum(self.lam / (self.lam + kappa) ** 2)
        return 1 - df / self.n - kappa * ddf / self.n

    def start(self, ridge: float) -> complex:
        low = _solve_df(self.lam, self.n) if self.n < self.lam.size else 0.0
        high = max(1.0, 2 * ridge)
        while self.ridge(high).real < ridge:
            high *= 2
        return brentq(lambda k: self.ridge(k).real - ridge, low, high, xtol=1e-15, rtol=1e-15)

    def nodes(self, kappas: np.ndarray) -> _Nodes:
        ratio = self.lam[None, :] / (self.lam[None, :] + kappas[:, None])
        df = ratio.sum(axis=1)
        ddf = -(ratio / (self.lam[None, :] + kappas[:, None])).sum(axis=1)
        shares = self.weight[None, :] / (self.lam[None, :] + kappas[:, None])
        g = shares.sum(axis=1)
        dg = -(shares / (self.lam[None, :] + kappas[:, None])).sum(axis=1)
        return _Nodes(kappas, kappas * df, g, df + kappas * ddf, dg)


def _solve_df(eigenvalues: np.ndarray, count: float) -> float:
    """The y > 0 with ``Σ_k λ_k/(λ_k + y) = count`` (requires count < D)."""

    def excess(log_y: float) -> float:
        return float(np.sum(eigenvalues / (eigenvalues + np.exp(log_y)))) - count

    return float(np.exp(brentq(excess, -80.0, 80.0, xtol=1e-14)))


def _solve_contour(layer, z: np.ndarray) -> np.ndarray:
    """The layer's unknown at ridge ``λ = −z`` for each contour node, by Newton continuation."""
    unknowns = np.empty(z.size, complex)
    current = complex(layer.start(float(-z[0].real)))
    for index, node in enumerate(z):
        current = _newton(layer.ridge, layer.ridge_derivative, current, complex(-node))
        unknowns[index] = current
    return unknowns


def _cross_risk(nodes: _Nodes, data: float, noise: float) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic cross-risk ``E[(θ_{λi} − β)ᵀ C (θ_{λj} − β)]`` of two ridge estimators.

    ``Q_ij = (φ_i − φ_j)/(n(κ_i − κ_j))``, ``B_ij = κ_i κ_j (g_i − g_j)/(κ_j − κ_i)``,
    bias ``B/(1 − Q)`` and variance ``noise·Q/(1 − Q)`` (docs/theory.md Eq. D3). Returns both.
    """
    kappa = nodes.kappa
    diff = kappa[:, None] - kappa[None, :]
    diagonal = np.eye(kappa.size, dtype=bool)
    safe = np.where(diagonal, 1.0, diff)
    q = np.where(diagonal, nodes.dphi[:, None], (nodes.phi[:, None] - nodes.phi[None, :]) / safe)
    q = q / data
    slope = np.where(diagonal, nodes.dg[:, None], (nodes.g[:, None] - nodes.g[None, :]) / safe)
    bias = -kappa[:, None] * kappa[None, :] * slope
    return bias / (1 - q), noise * q / (1 - q)


def _contour_error(
    layer, data: int, noise: float, scaled_times: np.ndarray, x_max: float, *, parts: bool
) -> np.ndarray | tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``E(s) = misspec + Σ_ij a_i(s) a_j(s) F_ij`` with ``a_i = e^{−s z_i} w_i/(2πi z_i)`` (Eq. D8)."""
    s_max = max(float(scaled_times.max()), 10.0 / x_max)
    x_min = min(1e-3 / s_max, 1e-6 * x_max)
    z_up, dz_up = _contour(x_min, x_max, delta=0.5, per_decade=24)
    nodes = layer.nodes(_solve_contour(layer, z_up))
    conj = _Nodes(*(np.conj(getattr(nodes, f)) for f in ("kappa", "phi", "g", "dphi", "dg")))
    full = _Nodes(
        *(
            np.concatenate([getattr(nodes, f), getattr(conj, f)])
            for f in _Nodes.__dataclass_fields__
        )
    )
    z = np.concatenate([z_up, np.conj(z_up)])
    weights = np.concatenate([-dz_up, np.conj(dz_up)])  # counter-clockwise
    effective_noise = noise + layer.misspecification
    bias, variance = _cross_risk(full, float(data), effective_noise)
    amplitudes = np.exp(-np.outer(scaled_times, z)) * (weights / (2j * np.pi * z))[None, :]
    bias_curve = np.einsum("ti,ij,tj->t", amplitudes, bias, amplitudes).real
    variance_curve = np.einsum("ti,ij,tj->t", amplitudes, variance, amplitudes).real
    total = layer.misspecification + bias_curve + variance_curve
    if parts:
        return total, layer.misspecification + bias_curve, variance_curve
    return total


def deterministic_error(
    problem: LinearProblem, size: int, data: int, times: object, *, parts: bool = False
) -> np.ndarray | tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Large-system limit of the expected test error at finite p (Eq. 9 analogue, docs §3.2).

    Exact as D, p, n → ∞ at fixed ratios (and, for power laws, fixed spectrum shape); computed
    from the deterministic equivalent of the ridge cross-risk composed over the two random
    layers and a contour integral over the ridge. Not valid within ~1/√n of the interpolation
    peak p = n.

    Parameters
    ----------
    problem
        The linear problem.
    size, data
        p and n.
    times
        Training times t ≥ 0.
    parts
        Also return the bias (signal, including the misspecification) and variance (noise) terms.

    Returns
    -------
    numpy.ndarray or (total, bias, variance)
    """
    size = check_positive_int("size", size)
    data = check_positive_int("data", data)
    times = _check_times(times)
    layer = _SubspaceLayer(problem, size, data)
    lam = problem.eigenvalues
    top_c = (np.sqrt(size * lam[0]) + 1.0) ** 2
    x_max = 2.0 * (np.sqrt(top_c) + np.sqrt(size / data)) ** 2
    return _contour_error(layer, data, problem.noise, problem.lr * times, x_max, parts=parts)


def deterministic_error_infinite(
    problem: LinearProblem, data: int, tau: object, *, parts: bool = False
) -> np.ndarray | tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The p → ∞ limit at fixed effective time ``τ = η·p·t`` (Eq. 10 analogue, docs §3.3).

    ``R Rᵀ/p → I`` so the student becomes gradient flow on the full ``w ∈ R^D`` run for time
    τ: the error depends on p and t only through ``p·t`` (scale-time equivalence).

    Parameters
    ----------
    problem
        The linear problem (``lr`` is already inside τ).
    data
        n.
    tau
        Effective times ``τ = η·p·t`` ≥ 0.
    parts
        Also return the bias and variance terms.
    """
    data = check_positive_int("data", data)
    tau = _check_times(tau)
    layer = _FullLayer(problem, data)
    x_max = 2.0 * (np.sqrt(problem.eigenvalues[0]) + np.sqrt(1.0 / data)) ** 2
    return _contour_error(layer, data, problem.noise, tau, x_max, parts=parts)


def marchenko_pastur_error(
    problem: LinearProblem, data: int, tau: object, *, nodes: int = 400
) -> np.ndarray:
    """Advani–Saxe integral over the Marchenko–Pastur law: isotropic inputs, p → ∞ (docs §3.3).

    With ``q = D/n`` and ``m`` distributed as MP(q) (mean 1), the Gram eigenvalues are ``m/D``
    and ``E(τ) = ∫ e^{−2τm/D} dMP_q(m) + σ² q ∫ (1 − e^{−τm/D})²/m dMP_q(m)``, the atom at
    ``m = 0`` (mass ``1 − 1/q`` when q > 1) counting in the first integral only.

    Parameters
    ----------
    problem
        Must have ``spectrum="isotropic"``.
    data
        n.
    tau
        Effective times ``τ = η·p·t``.
    nodes
        Gauss–Legendre nodes in the angle substitution ``m = c + r cos ϑ``.
    """
    if problem.spectrum != "isotropic":
        raise TheoryParameterError(
            f"marchenko_pastur_error needs spectrum='isotropic', got {problem.spectrum!r}"
        )
    data = check_positive_int("data", data)
    tau = _check_times(tau)
    ratio = problem.dim / data
    centre, radius = 1 + ratio, 2 * np.sqrt(ratio)
    angle, weights = np.polynomial.legendre.leggauss(nodes)
    angle = 0.5 * np.pi * (angle + 1)
    weights = 0.5 * np.pi * weights
    m = centre + radius * np.cos(angle)
    density = radius**2 * np.sin(angle) ** 2 / (2 * np.pi * ratio * m)  # dMP/dϑ
    atom = max(1 - 1 / ratio, 0.0)
    decay = np.exp(-np.outer(tau, m) / problem.dim)
    bias = (decay**2) @ (density * weights) + atom
    variance = problem.noise * ratio * ((1 - decay) ** 2 / m) @ (density * weights)
    return bias + variance

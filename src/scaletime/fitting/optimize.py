"""The fitting core: variable projection, a multi-start grid and a bounded local optimiser.

Objective (docs/fitting.md, "Objective"): for a law ``f(x; theta)`` and positive targets ``y``,

.. math::  L(\\theta) = \\frac1n \\sum_i \\rho\\big(\\log f(x_i; \\theta) - \\log y_i\\big)

with ``rho`` a robust loss (:mod:`scaletime.fitting.losses`). Parameters marked ``log`` are
optimised as ``log(value)``. For *separable* laws, ``f = Phi(x; theta_nl) c`` with amplitudes
``c >= 0``, variable projection eliminates ``c``: for given nonlinear parameters the amplitudes
solve the non-negative least-squares problem in relative error

.. math::  c(\\theta_{nl}) = \\arg\\min_{c \\ge 0} \\sum_i \\big((\\Phi c)_i / y_i - 1\\big)^2

(``log(1 + e) ~ e`` for small relative errors), and the search runs over ``theta_nl`` alone,
followed by a joint polish of all parameters on the exact objective.

Each function here is pure: inputs in, result out; the estimator composes them.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import least_squares, nnls
from scipy.stats import qmc

from scaletime.fitting.errors import FitConvergenceWarning, FittingError
from scaletime.fitting.laws.base import Inputs, Law, Param
from scaletime.fitting.losses import Loss, log_residual

#: Relative tolerances of each local optimisation (SciPy's ftol, xtol, gtol).
TOLERANCE = 1e-9
#: Tolerance of a bootstrap refit (it starts at the optimum; resampling moves it by far more).
BOOTSTRAP_TOLERANCE = 1e-6
#: Points per parameter in the default start grid when a parameter declares none.
DEFAULT_GRID_POINTS = 3
#: Above this many points the start search runs on this many rows drawn at random, and only its
#: best result is polished on every row (a 10⁶-row table: seconds instead of minutes).
MULTISTART_ROWS = 20_000
#: Two starts reached the same optimum when their losses differ by less than this (relative).
SAME_OPTIMUM_RTOL = 1e-4


@dataclass(frozen=True)
class Problem:
    """A law, its data and its loss, with the parameter layout the optimiser needs."""

    law: Law
    inputs: Inputs
    y: np.ndarray
    loss: Loss
    specs: tuple[Param, ...]

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.specs]

    @property
    def separable(self) -> bool:
        return any(p.linear for p in self.specs)

    @property
    def linear_idx(self) -> np.ndarray:
        return np.array([i for i, p in enumerate(self.specs) if p.linear], dtype=int)

    @property
    def nonlinear_idx(self) -> np.ndarray:
        return np.array([i for i, p in enumerate(self.specs) if not p.linear], dtype=int)

    def bounds(self, idx: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        specs = self.specs if idx is None else [self.specs[i] for i in idx]
        lo, hi = zip(*(p.internal_bounds() for p in specs), strict=True) if specs else ((), ())
        return np.array(lo, dtype=float), np.array(hi, dtype=float)

    def to_values(self, z: np.ndarray) -> dict[str, float]:
        """Natural parameter values, clipped to their bounds (``exp(log(upper))`` may round up)."""
        return {
            p.name: float(np.clip(p.from_internal(v), p.lower, p.upper))
            for p, v in zip(self.specs, z, strict=True)
        }

    def to_internal(self, values: Mapping[str, float]) -> np.ndarray:
        return np.array([float(p.to_internal(values[p.name])) for p in self.specs])

    def residual(self, z: np.ndarray) -> np.ndarray:
        """Log residuals ``log f(x; theta) - log y`` at internal parameters ``z``, followed by
        the law's constraint violations weighted by the number of points (zero when feasible)."""
        values = self.to_values(z)
        r = log_residual(self.law.predict(self.inputs, values), self.y)
        violation = self.law.violation(values)
        if len(violation):
            r = np.concatenate([r, len(self.y) * violation])
        return r

    def residual_jacobian(self, z: np.ndarray) -> np.ndarray:
        """``d r / d z`` from the law's analytic Jacobian: ``J_v (dv/dz) / f`` row-wise."""
        values = self.to_values(z)
        pred = self.law.predict(self.inputs, values)
        jac = self.law.jacobian(self.inputs, values)
        dv_dz = np.array([values[p.name] if p.log else 1.0 for p in self.specs])
        with np.errstate(all="ignore"):
            out = jac * dv_dz[None, :] / pred[:, None]
        out[~np.isfinite(out)] = 0.0
        return out

    def objective(self, z: np.ndarray) -> float:
        """``sum rho(r) / n_points`` (the mean loss when no constraint is violated)."""
        return float(np.sum(self.loss(self.residual(z))) / len(self.y))


@dataclass
class LocalResult:
    """Outcome of one local optimisation."""

    z: np.ndarray
    loss: float
    converged: bool
    n_evaluations: int
    start: np.ndarray


@dataclass
class FitResult:
    """Outcome of a multi-start fit: the best local result and every start's result."""

    best: LocalResult
    starts: list[LocalResult] = field(default_factory=list)
    n_candidates: int = 0


# --------------------------------------------------------------------------------------------
# variable projection


def solve_amplitudes(basis: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Non-negative amplitudes minimising the relative error ``||Phi c / y - 1||^2``.

    Columns are scaled to unit norm before calling :func:`scipy.optimize.nnls` (basis columns
    such as ``N^-alpha`` can differ by tens of decades); an all-zero or non-finite column gets
    amplitude 0.
    """
    a = basis / y[:, None]
    norms = np.linalg.norm(a, axis=0)
    ok = np.isfinite(norms) & (norms > 0)
    c = np.zeros(basis.shape[1])
    if not ok.any():
        return c
    scaled = a[:, ok] / norms[ok]
    try:
        sol, _ = nnls(scaled, np.ones(len(y)), maxiter=50 * scaled.shape[1])
    except RuntimeError:  # iteration limit: fall back to clipped least squares
        sol = np.clip(np.linalg.lstsq(scaled, np.ones(len(y)), rcond=None)[0], 0.0, None)
    c[ok] = sol / norms[ok]
    return c


def complete_with_amplitudes(problem: Problem, z_nonlinear: np.ndarray) -> np.ndarray:
    """Full internal vector: ``z_nonlinear`` plus the variable-projection amplitudes."""
    z = np.empty(len(problem.specs))
    nl, lin = problem.nonlinear_idx, problem.linear_idx
    z[nl] = z_nonlinear
    values = problem.to_values(np.where(np.isin(np.arange(len(z)), nl), z, 0.0))
    for i in lin:  # basis() reads only nonlinear parameters; amplitudes are placeholders
        values[problem.specs[i].name] = float(
            np.clip(1.0, problem.specs[i].lower, problem.specs[i].upper)
        )
    c = solve_amplitudes(problem.law.basis(problem.inputs, values), problem.y)
    for k, i in enumerate(lin):
        z[i] = float(problem.specs[i].to_internal(c[k]))
    lo, hi = problem.bounds()
    return np.clip(z, lo, hi)


# --------------------------------------------------------------------------------------------
# start candidates


def start_grid(specs: list[Param], max_grid: int, rng: np.random.Generator) -> np.ndarray:
    """Internal start points for ``specs``: their product grid, or a scrambled Sobol sample.

    The product of each parameter's :meth:`Param.start_values` is used when it has at most
    ``max_grid`` points; otherwise ``max_grid`` Sobol points over the parameters' start ranges.
    Shape ``(n_points, len(specs))``.
    """
    if not specs:
        return np.zeros((1, 0))
    axes = [np.asarray(p.to_internal(p.start_values(DEFAULT_GRID_POINTS))) for p in specs]
    n_product = int(np.prod([len(a) for a in axes]))
    if n_product <= max_grid:
        return np.array(list(itertools.product(*axes)), dtype=float)
    lo = np.array([a.min() for a in axes])
    hi = np.array([a.max() for a in axes])
    sampler = qmc.Sobol(d=len(specs), scramble=True, seed=rng)
    m = int(np.ceil(np.log2(max_grid)))
    unit = sampler.random_base2(m)[:max_grid]
    return lo + unit * (hi - lo)


def start_ranges(specs: list[Param]) -> tuple[np.ndarray, np.ndarray]:
    """Box (internal units) where starts are drawn: each parameter's start grid, widened by a
    quarter of its span on both sides and kept inside the bounds."""
    lo, hi = [], []
    for p in specs:
        values = np.asarray(p.to_internal(p.start_values(DEFAULT_GRID_POINTS)))
        span = max(values.max() - values.min(), 1e-3)
        b_lo, b_hi = p.internal_bounds()
        lo.append(max(values.min() - 0.25 * span, b_lo))
        hi.append(min(values.max() + 0.25 * span, b_hi))
    return np.array(lo), np.array(hi)


def random_starts(specs: list[Param], n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` uniform random points in :func:`start_ranges` (internal units)."""
    if not specs:
        return np.zeros((n, 0))
    lo, hi = start_ranges(specs)
    return lo + rng.random((n, len(specs))) * (hi - lo)


#: Smallest distance (in the unit box of the start ranges, per sqrt(dimension)) between two
#: grid starts: the best candidates of a grid often sit in one basin.
MIN_START_DISTANCE = 0.2


def diverse_best(losses: np.ndarray, unit_points: np.ndarray, n: int) -> list[int]:
    """Indices of up to ``n`` low-loss candidates, greedily skipping any closer than
    :data:`MIN_START_DISTANCE` to one already chosen (filled up by loss if too few remain)."""
    order = [i for i in np.argsort(losses, kind="stable") if np.isfinite(losses[i])]
    if not order:
        return [0]
    scale = np.sqrt(max(unit_points.shape[1], 1))
    chosen: list[int] = []
    for i in order:
        if len(chosen) == n:
            break
        if all(
            np.linalg.norm(unit_points[i] - unit_points[j]) / scale >= MIN_START_DISTANCE
            for j in chosen
        ):
            chosen.append(i)
    for i in order:  # not enough distinct basins: take the next best anyway
        if len(chosen) == n:
            break
        if i not in chosen:
            chosen.append(i)
    return chosen


def _score_candidate(problem: Problem, z_search: np.ndarray) -> tuple[float, np.ndarray]:
    try:
        z = complete_with_amplitudes(problem, z_search) if problem.separable else z_search
        return problem.objective(z), z
    except (FloatingPointError, ValueError, np.linalg.LinAlgError, ZeroDivisionError):
        return np.inf, z_search


# --------------------------------------------------------------------------------------------
# local optimisation


def _least_squares(
    problem: Problem, fun, z0, lo, hi, max_nfev, jac="2-point", loss_options=None, tol=None
) -> tuple[np.ndarray, bool, int]:
    tol = TOLERANCE if tol is None else tol
    z0 = np.clip(z0, lo, hi)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        res = least_squares(
            fun,
            z0,
            jac=jac,
            bounds=(lo, hi),
            method="trf",
            x_scale="jac",
            max_nfev=max_nfev,
            ftol=tol,
            xtol=tol,
            gtol=tol,
            **(loss_options or problem.loss.scipy_options()),
        )
    return res.x, bool(res.status > 0), int(res.nfev)


#: SciPy options of the smooth (least-squares) search stage that precedes a robust loss.
_SMOOTH = {"loss": "linear", "f_scale": 1.0}


def local_fit(
    problem: Problem,
    z0: np.ndarray,
    max_nfev: int | None = None,
    project: bool = True,
    tol: float | None = None,
) -> LocalResult:
    """Optimise from the full internal start ``z0`` with SciPy's bounded trust-region solver.

    For separable laws with ``project=True`` and no analytic Jacobian, first the nonlinear
    parameters alone (amplitudes by variable projection, finite differences), then all
    parameters jointly on the exact objective; laws with an exact Jacobian start from the
    candidate's projected amplitudes and run jointly with it. With a robust loss
    (``huber``, ``mae``) the search first runs on squared log error, which is smooth and two to
    three times cheaper to converge; the last joint polish uses the exact loss. (Bootstrap
    refits, ``project=False``, start at the optimum and polish on the exact loss only, usually
    at a looser ``tol``: their sampling error is far above :data:`TOLERANCE`.)
    """
    lo, hi = problem.bounds()
    z = np.clip(np.asarray(z0, dtype=float), lo, hi)
    n_eval, converged = 0, True
    exact = problem.law.has_jacobian and not len(problem.law.violation(problem.to_values(z)))
    if problem.separable and project and len(problem.nonlinear_idx) and not exact:
        nl = problem.nonlinear_idx
        nl_lo, nl_hi = problem.bounds(nl)

        def projected(z_nl: np.ndarray) -> np.ndarray:
            return problem.residual(complete_with_amplitudes(problem, z_nl))

        z_nl, converged, n = _least_squares(
            problem, projected, z[nl], nl_lo, nl_hi, max_nfev, loss_options=_SMOOTH
        )
        z = complete_with_amplitudes(problem, z_nl)
        n_eval += n
    jac = problem.residual_jacobian if exact else "2-point"
    if project and problem.loss.name != "mse":
        z, _, n = _least_squares(problem, problem.residual, z, lo, hi, max_nfev, jac, _SMOOTH)
        n_eval += n
    z, conv2, n = _least_squares(problem, problem.residual, z, lo, hi, max_nfev, jac, tol=tol)
    n_eval += n
    return LocalResult(
        z=z,
        loss=problem.objective(z),
        converged=converged and conv2,
        n_evaluations=n_eval,
        start=np.asarray(z0, dtype=float),
    )


def multistart_fit(
    problem: Problem,
    *,
    n_starts: int = 8,
    max_grid: int = 512,
    start: str = "grid",
    random_state: int | np.random.Generator | None = 0,
    x0: Mapping[str, float] | None = None,
    max_nfev: int | None = None,
) -> FitResult:
    """Multi-start fit: score a start grid, optimise locally from the best ``n_starts``.

    Parameters
    ----------
    problem : Problem
    n_starts : int
        Local optimisations to run.
    max_grid : int
        Largest number of grid candidates scored (a Sobol sample replaces larger grids).
    start : {"grid", "random"}
        ``grid``: the ``n_starts`` best-scoring candidates of the grid (plus the defaults);
        ``random``: ``n_starts`` uniform random starts, with no screening.
    random_state : int, Generator or None
        Seeds the Sobol sample and the random starts.
    x0 : mapping, optional
        An extra start (e.g. a previous fit), always optimised.

    Returns
    -------
    FitResult
    """
    if n_starts < 1:
        raise ValueError(f"n_starts must be >= 1, got {n_starts}")
    if start not in ("grid", "random"):
        raise ValueError(f"start must be 'grid' or 'random', got {start!r}")
    rng = np.random.default_rng(random_state)
    if len(problem.y) > MULTISTART_ROWS:
        return _search_on_rows(problem, rng, n_starts, max_grid, start, x0, max_nfev)
    specs = problem.specs
    search_idx = problem.nonlinear_idx if problem.separable else np.arange(len(specs))
    search_specs = [specs[i] for i in search_idx]
    default_z = problem.to_internal({p.name: p.default for p in specs})

    if start == "grid":
        cand = start_grid(search_specs, max_grid, rng)
        cand = np.vstack([default_z[search_idx][None, :], cand])
    else:
        cand = random_starts(search_specs, n_starts, rng)
    scored = [_score_candidate(problem, c) for c in cand]
    losses = np.array([s for s, _ in scored])
    if start == "grid":
        lo, hi = start_ranges(search_specs)
        chosen = diverse_best(losses, (cand - lo) / np.maximum(hi - lo, 1e-12), n_starts)
    else:
        chosen = list(range(len(cand)))
    starts = [scored[i][1] for i in chosen]
    if x0 is not None:
        starts.insert(0, problem.to_internal(x0))

    results = []
    for z0 in starts:
        try:
            results.append(local_fit(problem, z0, max_nfev=max_nfev))
        except (FloatingPointError, ValueError, np.linalg.LinAlgError) as exc:
            warnings.warn(
                f"a local fit of {problem.law.name} failed: {exc}",
                FitConvergenceWarning,
                stacklevel=2,
            )
    finite = [r for r in results if np.isfinite(r.loss)]
    if not finite:
        raise FittingError(
            f"law {problem.law.name!r}: every start gave a non-finite loss; check that the "
            "targets are positive and the inputs lie in the law's domain"
        )
    best = min(finite, key=lambda r: r.loss)
    if not best.converged:
        warnings.warn(
            f"law {problem.law.name!r}: the best local fit stopped at its evaluation limit",
            FitConvergenceWarning,
            stacklevel=2,
        )
    return FitResult(best=best, starts=results, n_candidates=len(cand))


def subset(problem: Problem, rows: np.ndarray) -> Problem:
    """The same problem on ``rows`` of its data."""
    inputs = {k: np.asarray(v)[rows] for k, v in problem.inputs.items()}
    return Problem(problem.law, inputs, problem.y[rows], problem.loss, problem.specs)


def _search_on_rows(
    problem: Problem,
    rng: np.random.Generator,
    n_starts: int,
    max_grid: int,
    start: str,
    x0: Mapping[str, float] | None,
    max_nfev: int | None,
) -> FitResult:
    """:func:`multistart_fit` for a large table: the start search on :data:`MULTISTART_ROWS`
    random rows, then the best result polished on every row. The other starts are scored on
    every row at their own optimum, and count as at the optimum when they reached the subset's
    best (so ``n_at_optimum`` keeps its meaning)."""
    rows = np.sort(rng.choice(len(problem.y), MULTISTART_ROWS, replace=False))
    coarse = multistart_fit(
        subset(problem, rows),
        n_starts=n_starts,
        max_grid=max_grid,
        start=start,
        random_state=rng,
        x0=x0,
        max_nfev=max_nfev,
    )
    best = local_fit(problem, coarse.best.z, max_nfev=max_nfev)
    tol = SAME_OPTIMUM_RTOL * abs(coarse.best.loss) + 1e-15
    others = [
        LocalResult(
            r.z,
            best.loss if abs(r.loss - coarse.best.loss) <= tol else problem.objective(r.z),
            r.converged,
            r.n_evaluations,
            r.start,
        )
        for r in coarse.starts
        if r is not coarse.best
    ]
    return FitResult(best=best, starts=[best, *others], n_candidates=coarse.n_candidates)

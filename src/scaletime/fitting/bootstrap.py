"""Bootstrap over runs (or seeds): resampling, refits, intervals (docs/fitting.md,
"Uncertainty"). Intervals and the group index are :mod:`scaletime.stats`'.

Points of one training curve are strongly correlated, so resampling them would give intervals
far too narrow. The unit of resampling is a *group*, a run or a seed: each replicate draws as
many groups as the data holds, with replacement, and keeps every point of each drawn group.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from scaletime.stats import factorize as _factorize
from scaletime.stats import group_index

#: Quantile levels at which the residual distribution is stored (for new-run intervals).
RESIDUAL_LEVELS = np.linspace(0.0, 1.0, 401)


#: A bootstrap resample of more rows than this is refitted on this many of them, drawn at random
#: (large tables; the spread comes from the resampled groups, the thinning only adds a little).
BOOTSTRAP_ROWS = 10_000


def group_resamples(
    groups: Sequence[object] | np.ndarray,
    n_resamples: int,
    rng: np.random.Generator,
    max_rows: int | None = None,
) -> list[np.ndarray]:
    """``n_resamples`` row-index arrays, each the rows of G groups drawn with replacement;
    with ``max_rows``, a larger resample keeps that many of its rows, drawn at random."""
    members = group_index(groups)
    n_groups = len(members)
    out = []
    for _ in range(n_resamples):
        drawn = rng.integers(0, n_groups, size=n_groups)
        rows = np.concatenate([members[g] for g in drawn])
        if max_rows is not None and len(rows) > max_rows:
            rows = np.sort(rng.choice(rows, max_rows, replace=False))
        out.append(rows)
    return out


def run_refits(
    refit: Callable[[np.ndarray], np.ndarray | None],
    resamples: list[np.ndarray],
    n_jobs: int = 1,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[np.ndarray | None], int]:
    """Apply ``refit`` to each resample; returns ``(one result per resample, n_failed)``.

    ``refit`` returns a parameter vector, or ``None`` when the refit failed. With ``n_jobs > 1``
    the resamples are split into ``n_jobs`` chunks run in worker processes (``refit`` must then
    be picklable).
    """
    results: list[np.ndarray | None] = []
    if n_jobs <= 1 or len(resamples) < 2 * n_jobs:
        for idx in resamples:
            results.append(refit(idx))
            if progress is not None:
                progress(1)
    else:
        chunks = [resamples[k::n_jobs] for k in range(n_jobs)]
        with ProcessPoolExecutor(max_workers=n_jobs) as pool:
            futures = [pool.submit(_refit_chunk, refit, chunk) for chunk in chunks]
            chunk_results = []
            for fut in futures:
                chunk_results.append(fut.result())
                if progress is not None:
                    progress(len(chunk_results[-1]))
        # restore the original order (chunk k holds resamples k, k + n_jobs, ...)
        results = [None] * len(resamples)
        for k, chunk in enumerate(chunk_results):
            results[k::n_jobs] = chunk
    ok = [r for r in results if r is not None]
    n_failed = len(results) - len(ok)
    return results, n_failed


def _refit_chunk(
    refit: Callable[[np.ndarray], np.ndarray | None], chunk: list[np.ndarray]
) -> list[np.ndarray | None]:
    return [refit(idx) for idx in chunk]


def residual_quantiles(residuals: np.ndarray, n_params: int = 0) -> np.ndarray:
    """Quantiles (at :data:`RESIDUAL_LEVELS`) of ``log y - log y_hat``; for in-sample residuals
    (``n_params = k > 0``) spread about their median by ``sqrt(n / (n - k))``."""
    if n_params == 0:
        return np.quantile(residuals, RESIDUAL_LEVELS)
    n = len(residuals)
    inflation = np.sqrt(n / max(n - n_params, 1))
    centre = np.median(residuals)
    return centre + inflation * (np.quantile(residuals, RESIDUAL_LEVELS) - centre)


def out_of_bag_residuals(
    resamples: list[np.ndarray],
    groups: Sequence[object] | np.ndarray,
    residual_of: Callable[[int, np.ndarray], np.ndarray],
    max_rows: int | None = None,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Pooled residuals of each refit on the rows of the groups its resample did not draw.

    ``residual_of(b, rows)`` returns ``log y - log f(x; theta_b)`` on ``rows``. Every left-out
    row belongs to a run the refit never saw (a thinned resample's unused rows of drawn runs do
    not count), so these are honest new-run errors (they also carry the refit's parameter
    error, which makes intervals built on them slightly wide). With ``max_rows``, each refit is
    scored on at most that many left-out rows, drawn at random (``rng``).
    """
    codes, _ = _factorize(np.asarray(groups))
    rng = rng or np.random.default_rng(0)
    pooled = []
    for b, idx in enumerate(resamples):
        drawn = np.zeros(codes.max(initial=-1) + 1, dtype=bool)
        drawn[codes[idx]] = True
        left_out = np.flatnonzero(~drawn[codes])
        if max_rows is not None and len(left_out) > max_rows:
            left_out = np.sort(rng.choice(left_out, max_rows, replace=False))
        if len(left_out):
            r = residual_of(b, left_out)
            if r is not None:
                pooled.append(r[np.isfinite(r)])
    return np.concatenate(pooled) if pooled else np.zeros(0)


def predictive_log_samples(
    log_means: np.ndarray,
    residual_q: np.ndarray,
    n_samples: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Draws of ``log y_new = log f(x; theta_b) + e`` for a new run.

    ``log_means`` is ``(n_boot, n_points)`` (one row per bootstrap fit), ``e`` is drawn from the
    stored residual quantiles by inverse-CDF interpolation. Returns ``(n_samples, n_points)``.
    """
    b = rng.integers(0, log_means.shape[0], size=n_samples)
    e = np.interp(rng.random(n_samples), RESIDUAL_LEVELS, residual_q)
    return log_means[b] + e[:, None]

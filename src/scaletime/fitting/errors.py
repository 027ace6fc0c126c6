"""Errors and warnings raised by :mod:`scaletime.fitting`."""

from __future__ import annotations

from scaletime.errors import FittingError

__all__ = ["FitConvergenceWarning", "FittingError"]


class FitConvergenceWarning(UserWarning):
    """A local optimisation stopped without meeting its tolerance, or a bootstrap refit failed."""

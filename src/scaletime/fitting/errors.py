"""Errors and warnings raised by :mod:`scaletime.fitting`."""

from __future__ import annotations

from scaletime.errors import ScaletimeError


class FittingError(ScaletimeError, ValueError):
    """A table, law or option that the fitter cannot use; the message names the bad value."""


class FitConvergenceWarning(UserWarning):
    """A local optimisation stopped without meeting its tolerance, or a bootstrap refit failed."""

"""Project-wide exception hierarchy.

Every error the toolkit raises on purpose derives from :class:`ScaletimeError`, so a caller (the
CLI in particular) can catch them all and print the message, which always says what was wrong and
what to do about it. Bad argument *values* still raise :class:`ValueError`/:class:`TypeError`
like any Python library; those are bugs in the caller, not conditions of the environment.
"""

from __future__ import annotations


class ScaletimeError(Exception):
    """Base class of every error raised on purpose by scaletime."""


class DatasetNotAvailable(ScaletimeError):
    """A dataset's files are not on this machine; the message says how to obtain them."""


class UnknownDatasetError(ScaletimeError, ValueError):
    """A dataset name that is not in the registry; the message lists the known names."""


class FittingError(ScaletimeError, ValueError):
    """A table, law or option that the fitter cannot use; the message names the bad value."""

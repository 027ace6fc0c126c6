"""Argument checks shared by the theory modules: one place, one error class, one message style."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from scaletime.errors import ScaletimeError


class TheoryParameterError(ScaletimeError, ValueError):
    """A theory function got a value outside its allowed range; the message names both."""


def check_positive_int(name: str, value: int, *, minimum: int = 1) -> int:
    """Return ``value`` as an int, or raise naming ``name`` if it is not an integer ≥ ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise TheoryParameterError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_real(
    name: str,
    value: float,
    *,
    lower: float = -math.inf,
    upper: float = math.inf,
    lower_open: bool = False,
    allow_inf: bool = False,
) -> float:
    """Return ``value`` as a float, or raise naming ``name`` and the allowed interval."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise TheoryParameterError(f"{name} must be a real number, got {value!r}") from None
    bad = math.isnan(number) or (math.isinf(number) and not allow_inf)
    bad = bad or number > upper or (number <= lower if lower_open else number < lower)
    if bad:
        bracket = "(" if lower_open else "["
        raise TheoryParameterError(f"{name} must lie in {bracket}{lower}, {upper}], got {value!r}")
    return number


def check_choice(name: str, value: str, allowed: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``allowed``, else raise listing the allowed values."""
    options = tuple(allowed)
    if value not in options:
        raise TheoryParameterError(f"{name} must be one of {', '.join(options)}; got {value!r}")
    return value


def as_nonnegative_array(name: str, value: object, *, allow_inf: bool = False) -> np.ndarray:
    """``value`` as a float array, or raise naming ``name`` if any entry is negative or NaN."""
    array = np.asarray(value, dtype=float)
    if np.isnan(array).any():
        raise TheoryParameterError(f"{name} contains NaN")
    if (array < 0).any():
        raise TheoryParameterError(f"{name} must be >= 0, got minimum {array.min()!r}")
    if not allow_inf and np.isinf(array).any():
        raise TheoryParameterError(f"{name} must be finite (np.inf is not allowed here)")
    return array

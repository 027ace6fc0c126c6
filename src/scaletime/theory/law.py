"""The unified law E(p, t, n, σ²): test error over model size, training time, data and label noise.

Derived in ``docs/theory.md`` (§4) from the random-subspace model (scale-time equivalence,
:mod:`scaletime.theory.subspace`) and the linear signal/noise model
(:mod:`scaletime.theory.linear`), whose ridge/gradient-flow fixed point it simplifies:

* **effective time** ``τ = c·p^γ·t`` (scale-time equivalence: size multiplies time); ``τ`` counts
  the directions of the target gradient flow has had time to reach;
* **capacity** ``K = q·p^μ``: a p-dimensional student fits at most ~p directions;
* **fitted directions** ``d``: the root of ``d = τ (1 − d/K)(1 − d/n)`` (Eq. L3), which grows like
  τ early and saturates at ``min(K, n)``;
* **signal** ``S = (1 + d)^{-α}``: the target power left unfitted (power-law spectrum);
* **amplification** ``Q = (d/n)·(ρ + (1 − ρ)·d/K)`` ∈ [0, 1] (ρ = :data:`TEMPERING`): the
  fraction of the n samples' degrees of freedom used; the error is ``(S + v·σ²·Q)/(1 − Q)``, which
  blows up as ``d → n = K`` (the interpolation peak) and is monotone in t at fixed p;
* **observation** (``link="saturating"``, default) ``E = floor + (ceiling − floor)·[1 − (1 − S)·
  exp(−X/(1 − S))]`` with ``X = Q (S + v σ²)/(1 − Q)``: equal to ``S + X`` to first order, never
  above the ceiling (chance level); ``link="identity"`` gives ``floor + (ceiling − floor)(S + X)``.

Every input broadcasts (NumPy rules); ``data = np.inf`` is infinite data. This law is this
project's construction in the spirit of the paper's Eqs. (9)–(10), not the paper's (unpublished)
equations; ``docs/theory.md`` states each approximation and where it breaks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from scaletime.theory._checks import TheoryParameterError, as_nonnegative_array, check_choice

__all__ = [
    "LINKS",
    "PARAMS",
    "TEMPERING",
    "TIME_ONLY_PARAMS",
    "LawParam",
    "effective_time",
    "fitted_directions",
    "law_components",
    "resolve_params",
    "unified_error",
    "unified_error_time_only",
]

# ρ: the share of a fitted direction's degree of freedom used while d ≪ K (linear model: 0 for
# isotropic inputs, 1 − 1/a for a power-law spectrum λ_k ∝ k^-a; docs/theory.md §4.3)
TEMPERING = 0.5
LINKS = ("saturating", "identity")


@dataclass(frozen=True)
class LawParam:
    """One parameter of a law: name, default, fitting bounds and what it means."""

    name: str
    default: float
    lower: float
    upper: float
    meaning: str


PARAMS: tuple[LawParam, ...] = (
    LawParam("c", 1.0, 1e-12, 1e12, "time scale: directions reached per unit of size^gamma * time"),
    LawParam("gamma", 1.0, 0.05, 3.0, "scale-time exponent: tau = c * size^gamma * time"),
    LawParam("alpha", 0.5, 0.01, 4.0, "signal exponent: unfitted signal = (1 + directions)^-alpha"),
    LawParam("q", 1.0, 1e-6, 1e9, "capacity coefficient: at most q * size^mu fitted directions"),
    LawParam("mu", 1.0, 0.05, 3.0, "capacity exponent (1 when size counts parameters directly)"),
    LawParam("v", 1.0, 0.0, 1e3, "noise sensitivity: error added per unit noise and used dof"),
    LawParam("floor", 0.0, 0.0, 50.0, "irreducible error (infinite size, time and data)"),
    LawParam("ceiling", 1.0, 1e-3, 100.0, "error of the untrained model (chance level)"),
)

TIME_ONLY_PARAMS: tuple[LawParam, ...] = (
    LawParam("rate", 1.0, 1e-12, 1e12, "directions reached per unit time (c * size^gamma)"),
    LawParam("alpha", 0.5, 0.01, 4.0, "signal exponent: unfitted signal = (1 + directions)^-alpha"),
    LawParam("capacity", 1e6, 1e-3, 1e15, "most directions this model and data can fit"),
    LawParam("floor", 0.0, 0.0, 50.0, "irreducible error"),
    LawParam("ceiling", 1.0, 1e-3, 100.0, "error of the untrained model (chance level)"),
)


def resolve_params(
    given: Mapping[str, float], table: tuple[LawParam, ...] = PARAMS
) -> dict[str, float]:
    """Defaults of ``table`` overridden by ``given``; raise on unknown names or out-of-bound values.

    Parameters
    ----------
    given
        Parameter values by name (a subset of ``table``).
    table
        :data:`PARAMS` or :data:`TIME_ONLY_PARAMS`.

    Returns
    -------
    dict
        Every parameter of ``table`` by name.
    """
    known = {param.name: param for param in table}
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise TheoryParameterError(
            f"unknown law parameter(s) {unknown}; allowed: {', '.join(known)}"
        )
    values: dict[str, float] = {}
    for name, param in known.items():
        value = float(given.get(name, param.default))
        slack = 1e-9 * max(abs(param.lower), abs(param.upper), 1.0)  # round-off of log transforms
        if not (param.lower - slack <= value <= param.upper + slack):
            raise TheoryParameterError(
                f"law parameter {name}={value!r} is outside its bounds "
                f"[{param.lower}, {param.upper}] ({param.meaning})"
            )
        values[name] = min(max(value, param.lower), param.upper)
    return values


def effective_time(size: object, time: object, *, c: float, gamma: float) -> np.ndarray:
    """Scale-time equivalence: the effective time ``τ = c·size^γ·time`` (docs/theory.md Eq. L1).

    Parameters
    ----------
    size, time
        Array-likes (broadcast together), non-negative; ``time`` may be ``np.inf``.
    c, gamma
        Time scale and scale-time exponent (see :data:`PARAMS`).

    Returns
    -------
    numpy.ndarray
        ``τ`` with the broadcast shape of ``size`` and ``time``.
    """
    size_array = as_nonnegative_array("size", size)
    time_array = as_nonnegative_array("time", time, allow_inf=True)
    with np.errstate(invalid="ignore"):
        tau = c * size_array**gamma * time_array
    return np.where(np.isnan(tau), 0.0, tau)  # 0 · inf: an empty model stays untrained


def fitted_directions(reach: object, capacity: object, data: object) -> np.ndarray:
    """Root ``d ∈ [0, min(K, n)]`` of ``d = τ (1 − d/K)(1 − d/n)`` (docs/theory.md Eq. L3).

    The fixed point of the linear model's renormalised ridge with a power-law spectrum, in units
    of directions: ``d ≈ τ`` while ``τ ≪ K, n``, ``d → min(K, n)`` as ``τ → ∞``. Closed form
    ``d = 2 / (u + a + sqrt(u² + 2ua + (1/K − 1/n)²))`` with ``u = 1/τ``, ``a = 1/K + 1/n``;
    every argument may be ``np.inf``.

    Parameters
    ----------
    reach
        τ, directions reachable by the training time (≥ 0).
    capacity
        K, the most directions the model can fit (> 0).
    data
        n, the number of training samples (> 0).
    """
    with np.errstate(divide="ignore"):
        u = 1.0 / np.asarray(reach, dtype=float)
        inv_k = 1.0 / np.asarray(capacity, dtype=float)
        inv_n = 1.0 / np.asarray(data, dtype=float)
        a = inv_k + inv_n
        root = np.sqrt(u * u + 2 * u * a + (inv_k - inv_n) ** 2)
        return 2.0 / (u + a + root)


def law_components(
    size: object,
    time: object,
    data: object,
    noise: object,
    *,
    link: str = "saturating",
    **params: float,
) -> dict[str, np.ndarray]:
    """Every intermediate term of :func:`unified_error` (same arguments), for plots and tests.

    Returns
    -------
    dict
        ``tau`` (τ), ``capacity`` (K), ``directions`` (d), ``signal`` (S), ``used`` (Q),
        ``excess`` (X = Q(S + vσ²)/(1 − Q)) and ``error`` (E).
    """
    check_choice("link", link, LINKS)
    values = resolve_params(params)
    size_array = as_nonnegative_array("size", size)
    data_array = as_nonnegative_array("data", data, allow_inf=True)
    noise_array = as_nonnegative_array("noise", noise)
    if (data_array == 0).any():
        raise TheoryParameterError("data must be > 0 (number of training examples, or np.inf)")
    tau = effective_time(size_array, time, c=values["c"], gamma=values["gamma"])
    capacity = values["q"] * size_array ** values["mu"]
    directions = fitted_directions(tau, capacity, data_array)
    signal = (1.0 + directions) ** (-values["alpha"])
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(capacity > 0, directions / capacity, 0.0)
        used = directions / data_array * (TEMPERING + (1.0 - TEMPERING) * share)
        used = np.clip(np.nan_to_num(used, nan=0.0), 0.0, 1.0)
        excess = used * (signal + values["v"] * noise_array) / (1.0 - used)
        excess = np.where(used > 0, excess, 0.0)
        spread = max(values["ceiling"] - values["floor"], 0.0)  # floor ≥ ceiling: flat at floor
        if link == "identity":
            relative = signal + excess
        else:
            unexplained = 1.0 - signal
            ratio = np.where(excess > 0, excess / np.maximum(unexplained, 1e-300), 0.0)
            relative = 1.0 - unexplained * np.exp(-ratio)
    error = values["floor"] + spread * relative
    return {
        "tau": tau,
        "capacity": capacity,
        "directions": directions,
        "signal": signal,
        "used": used,
        "excess": excess,
        "error": error,
    }


def unified_error(
    size: object,
    time: object,
    data: object,
    noise: object,
    *,
    link: str = "saturating",
    **params: float,
) -> np.ndarray:
    """The unified law ``E(p, t, n, σ²)`` (docs/theory.md §4, Eq. L5).

    ``E = floor + (ceiling − floor)·[1 − (1 − S)·exp(−X/(1 − S))]`` with ``S = (1 + d)^-α``,
    ``X = Q (S + v σ²)/(1 − Q)``, ``Q = (d/n)(ρ + (1 − ρ) d/K)``, ``K = q p^μ`` and d the root of
    ``d = c p^γ t (1 − d/K)(1 − d/n)``.

    Parameters
    ----------
    size
        Model size (parameters, or any monotone scale; γ and μ absorb the choice), ≥ 0.
    time
        Training time (epochs, steps or examples seen), ≥ 0; ``np.inf`` allowed.
    data
        Number of training examples, > 0; ``np.inf`` for infinite data.
    noise
        Label-noise rate (classification) or variance (regression), ≥ 0.
    link
        ``"saturating"`` (bounded by the ceiling: classification error) or ``"identity"``
        (``floor + (ceiling − floor)(S + X)``: squared error, unbounded at the peak).
    **params
        Any of :data:`PARAMS` by name; the rest take their defaults.

    Returns
    -------
    numpy.ndarray
        Test error with the broadcast shape of the four inputs; always ≥ ``floor`` and > 0 for a
        finite size. With the saturating link it is at most ``max(floor, ceiling)``. The law
        assumes ``floor < ceiling``; otherwise it is the constant ``floor``.
    """
    return law_components(size, time, data, noise, link=link, **params)["error"]


def unified_error_time_only(time: object, **params: float) -> np.ndarray:
    """Time-only reduction ``E(t)`` of the law at fixed size and data, without noise (Eq. L6).

    ``E(t) = floor + (ceiling − floor)·(1 + d)^-α`` with ``d = rate·t/(1 + rate·t/capacity)``:
    :func:`unified_error` at ``n = ∞`` and ``σ² = 0`` with ``c·p^γ → rate`` and
    ``q·p^μ → capacity``. Parameters are :data:`TIME_ONLY_PARAMS`.

    Parameters
    ----------
    time
        Training time, ≥ 0 (array-like).
    **params
        Any of :data:`TIME_ONLY_PARAMS` by name.

    Returns
    -------
    numpy.ndarray
        Test error, the shape of ``time``.
    """
    values = resolve_params(params, TIME_ONLY_PARAMS)
    time_array = as_nonnegative_array("time", time, allow_inf=True)
    directions = fitted_directions(values["rate"] * time_array, values["capacity"], np.inf)
    signal = (1.0 + directions) ** (-values["alpha"])
    return values["floor"] + (values["ceiling"] - values["floor"]) * signal

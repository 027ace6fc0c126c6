"""Additive power laws: Chinchilla's joint form, Kaplan's size × steps form, and the 1-D
power law (docs/fitting.md, "Laws")."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from scaletime.fitting.laws.base import Inputs, LinearLaw, Param, column

_EXPONENT_GRID = (0.1, 0.3, 0.6, 1.0, 1.6)


def _amplitude(name: str, meaning: str) -> Param:
    return Param(name, 0.0, np.inf, 1.0, log=True, linear=True, meaning=meaning)


def _exponent(name: str, meaning: str, upper: float = 3.0) -> Param:
    return Param(name, 0.0, upper, 0.3, grid=_EXPONENT_GRID, meaning=meaning)


def _power(x: np.ndarray, exponent: float) -> np.ndarray:
    """``x^(-exponent)`` computed as ``exp(-exponent log x)``."""
    return np.exp(-exponent * np.log(x))


def _check_x(x: str, allowed: tuple[str, ...]) -> str:
    if x not in allowed:
        raise ValueError(f"x must be one of {allowed}, got {x!r}")
    return x


class Chinchilla(LinearLaw):
    """Hoffmann et al. (2022), Approach 3: ``L = E + A / N^alpha + B / X^beta``.

    ``N`` is the model size and ``X`` the data volume (``x="data"``, the original form) or the
    training time (``x="time"``). With ``tied=True`` the exponents are equal (``alpha = beta``),
    the form in which the compute-optimal frontier alone makes the loss depend on ``N X``.

    Source: J. Hoffmann et al., *Training Compute-Optimal Large Language Models* (2022), Eq. (2);
    the fitting protocol of Besiroglu et al., *Chinchilla Scaling: A replication attempt* (2024).
    """

    equation = "E + A / N^alpha + B / X^beta"
    source = "Hoffmann et al. 2022 (Chinchilla), Approach 3; Besiroglu et al. 2024 (Epoch AI)"
    positive_roles = ("size", "time", "data")

    def __init__(self, x: str = "data", tied: bool = False) -> None:
        self.x = x
        self.tied = tied
        _check_x(x, ("data", "time"))
        self.name = "chinchilla" + ("-time" if x == "time" else "") + ("-tied" if tied else "")
        symbol = "D" if x == "data" else "t"
        self.equation = f"E + A / N^alpha + B / {symbol}^{'alpha' if tied else 'beta'}"

    @property
    def roles(self) -> tuple[str, ...]:
        return ("size", self.x)

    def param_specs(self, inputs: Inputs | None = None) -> tuple[Param, ...]:
        specs = [
            _amplitude("E", "irreducible error"),
            _amplitude("A", "size-term amplitude"),
            _amplitude("B", f"{self.x}-term amplitude"),
            _exponent("alpha", "size exponent"),
        ]
        if not self.tied:
            specs.append(_exponent("beta", f"{self.x} exponent"))
        return tuple(specs)

    def basis(self, inputs: Inputs, params: Mapping[str, float]) -> np.ndarray:
        n, x = column(inputs, "size"), column(inputs, self.x)
        beta = params["alpha"] if self.tied else params["beta"]
        return np.column_stack([np.ones_like(n), _power(n, params["alpha"]), _power(x, beta)])

    has_jacobian = True

    def jacobian(self, inputs: Inputs, params: Mapping[str, float]) -> np.ndarray:
        n, x = column(inputs, "size"), column(inputs, self.x)
        beta = params["alpha"] if self.tied else params["beta"]
        pn, px = _power(n, params["alpha"]), _power(x, beta)
        d_alpha = -params["A"] * pn * np.log(n)
        d_beta = -params["B"] * px * np.log(x)
        if self.tied:
            return np.column_stack([np.ones_like(n), pn, px, d_alpha + d_beta])
        return np.column_stack([np.ones_like(n), pn, px, d_alpha, d_beta])

    def config(self) -> dict[str, Any]:
        return {"x": self.x, "tied": self.tied}


class Kaplan(LinearLaw):
    """Kaplan et al. (2020), size × steps: ``L = (N_c / N)^alpha_N + (S_c / S)^alpha_S``.

    Fitted as ``A_N N^-alpha_N + A_S S^-alpha_S`` (amplitudes enter linearly); the critical
    scales are reported as derived quantities ``N_c = A_N^(1/alpha_N)``, ``S_c = A_S^(1/alpha_S)``.
    ``S`` is the training time (steps or epochs).

    Source: J. Kaplan et al., *Scaling Laws for Neural Language Models* (2020), Eq. (1.6).
    """

    equation = "(N_c / N)^alpha_N + (S_c / S)^alpha_S"
    source = "Kaplan et al. 2020, Eq. (1.6)"
    positive_roles = ("size", "time")
    name = "kaplan"

    @property
    def roles(self) -> tuple[str, ...]:
        return ("size", "time")

    def param_specs(self, inputs: Inputs | None = None) -> tuple[Param, ...]:
        return (
            _amplitude("A_N", "N_c^alpha_N"),
            _exponent("alpha_N", "size exponent"),
            _amplitude("A_S", "S_c^alpha_S"),
            _exponent("alpha_S", "steps exponent"),
        )

    def basis(self, inputs: Inputs, params: Mapping[str, float]) -> np.ndarray:
        n, s = column(inputs, "size"), column(inputs, "time")
        return np.column_stack([_power(n, params["alpha_N"]), _power(s, params["alpha_S"])])

    has_jacobian = True

    def jacobian(self, inputs: Inputs, params: Mapping[str, float]) -> np.ndarray:
        n, s = column(inputs, "size"), column(inputs, "time")
        pn, ps = _power(n, params["alpha_N"]), _power(s, params["alpha_S"])
        return np.column_stack(
            [pn, -params["A_N"] * pn * np.log(n), ps, -params["A_S"] * ps * np.log(s)]
        )

    def derived(self, params: Mapping[str, float]) -> dict[str, float]:
        out = {}
        for amp, exp, name in (("A_N", "alpha_N", "N_c"), ("A_S", "alpha_S", "S_c")):
            a, e = params[amp], params[exp]
            out[name] = float(a ** (1.0 / e)) if a > 0 and e > 0 else float("nan")
        return out


class PowerLaw1D(LinearLaw):
    """One-variable power law with a floor: ``y = E + A x^-alpha`` (Alabdulmohsin et al.'s M2).

    Source: I. Alabdulmohsin, B. Neyshabur, X. Zhai, *Revisiting Neural Scaling Laws in
    Language and Vision* (NeurIPS 2022), model M2.
    """

    equation = "E + A x^-alpha"
    source = "Alabdulmohsin et al. 2022, M2"
    name = "power"

    def __init__(self, x: str = "time") -> None:
        self.x = x
        _check_x(x, ("size", "time", "data"))

    @property
    def positive_roles(self) -> tuple[str, ...]:  # type: ignore[override]
        return (self.x,)

    @property
    def roles(self) -> tuple[str, ...]:
        return (self.x,)

    def param_specs(self, inputs: Inputs | None = None) -> tuple[Param, ...]:
        return (
            _amplitude("E", "limit as x grows"),
            _amplitude("A", "amplitude"),
            _exponent("alpha", "exponent"),
        )

    def basis(self, inputs: Inputs, params: Mapping[str, float]) -> np.ndarray:
        x = column(inputs, self.x)
        return np.column_stack([np.ones_like(x), _power(x, params["alpha"])])

    has_jacobian = True

    def jacobian(self, inputs: Inputs, params: Mapping[str, float]) -> np.ndarray:
        x = column(inputs, self.x)
        px = _power(x, params["alpha"])
        return np.column_stack([np.ones_like(x), px, -params["A"] * px * np.log(x)])

    def config(self) -> dict[str, Any]:
        return {"x": self.x}

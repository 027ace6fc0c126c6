"""Rosenfeld et al.'s joint size × data law with its envelope (docs/fitting.md, "Laws")."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from scaletime.fitting.laws.base import Inputs, Law, Param, column


class Rosenfeld(Law):
    """Rosenfeld et al. (2020): a power-law core under a complex-pole envelope.

    .. math::

        \\tilde\\varepsilon(m, n) = a\\, n^{-\\alpha} + b\\, m^{-\\beta} + c_\\infty, \\qquad
        \\hat\\varepsilon = \\varepsilon_0 \\left| \\frac{\\tilde\\varepsilon}
            {\\tilde\\varepsilon - i\\eta} \\right|
          = \\frac{\\varepsilon_0\\, \\tilde\\varepsilon}{\\sqrt{\\tilde\\varepsilon^2 + \\eta^2}}

    ``m`` is the model size and ``n`` the data volume (``x="data"``, the original) or the
    training time (``x="time"``). The envelope saturates at the random-guess level ``eps0`` for
    small models and data, and is ``eps0 / eta`` times the core where the core is small.

    Source: J. Rosenfeld, A. Rosenfeld, Y. Belinkov, N. Shavit, *A Constructive Prediction of the
    Generalization Error Across Scales* (ICLR 2020), Eqs. (5)–(6).
    """

    equation = "eps0 * |e / (e - i eta)|,  e = a n^-alpha + b m^-beta + c_inf"
    source = "Rosenfeld et al. 2020 (ICLR), Eqs. (5)-(6)"
    positive_roles = ("size", "data", "time")

    def __init__(self, x: str = "data") -> None:
        if x not in ("data", "time"):
            raise ValueError(f"x must be one of ('data', 'time'), got {x!r}")
        self.x = x
        self.name = "rosenfeld" + ("-time" if x == "time" else "")

    @property
    def roles(self) -> tuple[str, ...]:
        return ("size", self.x)

    def param_specs(self, inputs: Inputs | None = None) -> tuple[Param, ...]:
        exponents = (0.1, 0.4, 1.0)
        return (
            Param("a", 0.0, 1e12, 1.0, log=True, meaning=f"{self.x}-term amplitude"),
            Param("alpha", 0.0, 3.0, 0.4, grid=exponents, meaning=f"{self.x} exponent"),
            Param("b", 0.0, 1e12, 1.0, log=True, meaning="size-term amplitude"),
            Param("beta", 0.0, 3.0, 0.4, grid=exponents, meaning="size exponent"),
            Param("c_inf", 0.0, 1e3, 0.01, log=True, meaning="core floor"),
            Param("eta", 1e-6, 1e6, 1.0, log=True, meaning="envelope pole"),
            Param("eps0", 1e-6, 1e6, 1.0, log=True, meaning="random-guess level"),
        )

    def core(self, inputs: Inputs, params: Mapping[str, float]) -> np.ndarray:
        """The power-law core ``a n^-alpha + b m^-beta + c_inf``."""
        m, n = column(inputs, "size"), column(inputs, self.x)
        return (
            params["a"] * np.exp(-params["alpha"] * np.log(n))
            + params["b"] * np.exp(-params["beta"] * np.log(m))
            + params["c_inf"]
        )

    def predict(self, inputs: Inputs, params: Mapping[str, float]) -> np.ndarray:
        core = self.core(inputs, params)
        return params["eps0"] * core / np.hypot(core, params["eta"])

    def config(self) -> dict[str, Any]:
        return {"x": self.x}

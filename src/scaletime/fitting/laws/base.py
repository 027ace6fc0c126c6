"""The law interface: parameters with bounds and transforms, prediction, and (optionally) the
linear structure used by variable projection (docs/fitting.md, "Laws")."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from scaletime.params import Param

#: Input roles a law may use, in the order they are reported.
ROLES: tuple[str, ...] = ("size", "time", "data", "noise")

Inputs = Mapping[str, np.ndarray]


class Law(ABC):
    """A scaling law ``y = f(inputs; params)`` over some of the roles size, time, data, noise.

    Subclasses define :attr:`roles`, :meth:`param_specs` and :meth:`predict`. Laws whose
    prediction is ``basis(inputs; nonlinear) @ amplitudes`` also define :meth:`basis` and mark
    the amplitudes ``linear=True``; the fitter then solves them by variable projection.
    """

    #: Registry name (set per instance by configurable laws).
    name: str = "law"
    #: Roles whose values must be strictly positive (rows with time <= 0 are dropped).
    positive_roles: ClassVar[tuple[str, ...]] = ()
    #: Roles a table may lack (the law then holds what only they identify fixed).
    optional_roles: ClassVar[tuple[str, ...]] = ()
    #: The equation in plain text and the source it comes from (docs, tables, JSON).
    equation: str = ""  # a class default; a law whose form varies sets its own
    source: ClassVar[str] = ""

    @property
    @abstractmethod
    def roles(self) -> tuple[str, ...]:
        """Input roles the law reads, e.g. ``("size", "data")``."""

    @abstractmethod
    def param_specs(self, inputs: Inputs | None = None) -> tuple[Param, ...]:
        """Parameters with bounds; ``inputs`` lets data-dependent bounds (break points) adapt."""

    @abstractmethod
    def predict(self, inputs: Inputs, params: Mapping[str, float]) -> np.ndarray:
        """The law's prediction at ``inputs`` (arrays of equal length, one per role)."""

    def basis(self, inputs: Inputs, params: Mapping[str, float]) -> np.ndarray:
        """Columns multiplying the linear parameters, shape ``(n_points, n_linear)``."""
        raise NotImplementedError(f"law {self.name!r} has no linear parameters")

    #: Whether :meth:`jacobian` is implemented (else the optimiser uses finite differences).
    has_jacobian: ClassVar[bool] = False

    def jacobian(self, inputs: Inputs, params: Mapping[str, float]) -> np.ndarray:
        """``d prediction / d parameter`` in natural units, shape ``(n_points, n_params)`` in the
        order of :meth:`param_specs` (optional; see :attr:`has_jacobian`)."""
        raise NotImplementedError(f"law {self.name!r} has no analytic Jacobian")

    def violation(self, params: Mapping[str, float]) -> np.ndarray:
        """Non-negative amounts (log units) by which ``params`` break constraints that are not
        box bounds; the optimiser adds them as penalty residuals. Default: none."""
        return np.zeros(0)

    def prepare(self, inputs: Inputs) -> Law:
        """This law adapted to the data about to be fitted (e.g. reference scales); default:
        itself. Called by the estimator before the fit; the result must predict anywhere."""
        return self

    def variants(self) -> list[Law]:
        """Nested forms of this (prepared) law to choose among by the runs' BIC; default: itself."""
        return [self]

    def not_identified(self) -> dict[str, str]:
        """Parameters held fixed because the fitted rows cannot identify them, with the reason."""
        return {}

    def derived(self, params: Mapping[str, float]) -> dict[str, float]:
        """Quantities computed from the fitted parameters (e.g. Kaplan's ``N_c``)."""
        return {}

    def config(self) -> dict[str, Any]:
        """Constructor options that recreate this law (stored in the JSON artifact)."""
        return {}

    @property
    def is_separable(self) -> bool:
        """Whether some parameters enter linearly (variable projection applies)."""
        return any(p.linear for p in self.param_specs(None))

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({opts})"


class LinearLaw(Law):
    """A law ``y = sum_k c_k phi_k(inputs; theta)`` with amplitudes ``c_k`` marked linear."""

    def predict(self, inputs: Inputs, params: Mapping[str, float]) -> np.ndarray:
        amps = np.array([params[p.name] for p in self.param_specs(None) if p.linear])
        return self.basis(inputs, params) @ amps


def column(inputs: Inputs, role: str) -> np.ndarray:
    """``inputs[role]`` as a float array, with an error naming the missing role."""
    try:
        return np.asarray(inputs[role], dtype=float)
    except KeyError:
        raise KeyError(f"law input role {role!r} missing; got roles {sorted(inputs)}") from None


def geometric_mean(values: np.ndarray) -> float | None:
    """Geometric mean of the finite positive entries (None if there are none)."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values) & (values > 0)]
    return float(np.exp(np.mean(np.log(values)))) if len(values) else None


def n_points(inputs: Inputs) -> int:
    """Length of the input arrays."""
    return len(next(iter(inputs.values())))


@dataclass(frozen=True)
class LawInfo:
    """Catalogue entry: how to build a law and a one-line summary."""

    name: str
    factory: Any
    summary: str
    options: dict[str, Any] = field(default_factory=dict)


def names_of(specs: Sequence[Param]) -> list[str]:
    return [p.name for p in specs]

"""The law catalogue: every law the fitter knows, by name (docs/fitting.md, "Laws").

=====================  =================  ====================================================
name                   roles              equation
=====================  =================  ====================================================
``unified``            size, time, data,  the project's unified law (docs/theory.md)
                       noise
``unified-time``       time               its reduction to one curve (fall, noise rise, plateau)
``unified-time2``      time               the same with a slow second component (double descent)
``chinchilla``         size, data         E + A/N^alpha + B/D^beta (Hoffmann et al. 2022)
``chinchilla-time``    size, time         E + A/N^alpha + B/t^beta
``chinchilla-time-tied`` size, time       E + A/N^alpha + B/t^alpha
``kaplan``             size, time         (N_c/N)^alpha_N + (S_c/S)^alpha_S (Kaplan et al. 2020)
``rosenfeld``          size, data         eps0 |e/(e - i eta)|, e = a D^-alpha + b N^-beta + c
``rosenfeld-time``     size, time         the same with time in place of data
``bnsl``, ``bnsl2``    time               broken power law, 1 or 2 breaks (Caballero et al.)
``m4``                 time               Alabdulmohsin et al.'s M4
``power``              time               E + A t^-alpha (Alabdulmohsin et al.'s M2)
=====================  =================  ====================================================
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from scaletime.fitting.laws.base import ROLES, Law, LinearLaw, Param
from scaletime.fitting.laws.bnsl import BrokenPowerLaw
from scaletime.fitting.laws.m4 import M4, solve_m4_logit
from scaletime.fitting.laws.power import Chinchilla, Kaplan, PowerLaw1D
from scaletime.fitting.laws.rosenfeld import Rosenfeld
from scaletime.fitting.laws.unified import Unified, UnifiedTimeOnly

__all__ = [
    "LAWS",
    "M4",
    "ROLES",
    "BrokenPowerLaw",
    "Chinchilla",
    "Kaplan",
    "Law",
    "LinearLaw",
    "Param",
    "PowerLaw1D",
    "Rosenfeld",
    "Unified",
    "UnifiedTimeOnly",
    "get_law",
    "law_from_config",
    "solve_m4_logit",
]

#: name -> factory taking the law's options.
LAWS: dict[str, Callable[..., Law]] = {
    "unified": Unified,
    "unified-time": UnifiedTimeOnly,
    "unified-time2": lambda **kw: UnifiedTimeOnly(components=2, **kw),
    "chinchilla": lambda **kw: Chinchilla(x="data", **kw),
    "chinchilla-time": lambda **kw: Chinchilla(x="time", **kw),
    "chinchilla-time-tied": lambda **kw: Chinchilla(x="time", tied=True, **kw),
    "kaplan": Kaplan,
    "rosenfeld": lambda **kw: Rosenfeld(x="data", **kw),
    "rosenfeld-time": lambda **kw: Rosenfeld(x="time", **kw),
    "bnsl": lambda **kw: BrokenPowerLaw(n_breaks=1, **kw),
    "bnsl2": lambda **kw: BrokenPowerLaw(n_breaks=2, **kw),
    "m4": M4,
    "power": PowerLaw1D,
}

_CLASSES: dict[str, type[Law]] = {
    cls.__name__: cls
    for cls in (
        Unified,
        UnifiedTimeOnly,
        Chinchilla,
        Kaplan,
        Rosenfeld,
        BrokenPowerLaw,
        M4,
        PowerLaw1D,
    )
}


def get_law(name: str | Law, **options: Any) -> Law:
    """The law called ``name`` (see the table above), built with ``options``."""
    if isinstance(name, Law):
        return name
    try:
        factory = LAWS[name]
    except KeyError:
        raise ValueError(f"unknown law {name!r}; known laws: {', '.join(LAWS)}") from None
    return factory(**options)


def law_to_config(law: Law) -> dict[str, Any]:
    """``{"class": ..., "options": ...}``, enough to rebuild ``law``."""
    return {"class": type(law).__name__, "name": law.name, "options": law.config()}


def law_from_config(config: dict[str, Any]) -> Law:
    """Rebuild a law stored by :func:`law_to_config`."""
    try:
        cls = _CLASSES[config["class"]]
    except KeyError:
        raise ValueError(
            f"unknown law class {config.get('class')!r}; known: {', '.join(_CLASSES)}"
        ) from None
    return cls(**config.get("options", {}))

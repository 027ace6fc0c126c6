"""Each law: its equation, limits, Jacobian and configuration."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import log_expit

from scaletime.fitting.laws import (
    LAWS,
    M4,
    BrokenPowerLaw,
    Rosenfeld,
    get_law,
    law_from_config,
    solve_m4_logit,
)
from scaletime.fitting.laws.power import Kaplan
from scaletime.fitting.laws.unified import Unified, UnifiedTimeOnly
from scaletime.theory.law_v2 import PARAMS_V2, unified_time_v2, unified_v2

X = np.geomspace(1.0, 1e4, 25)
N = np.geomspace(1e3, 1e7, 25)

JACOBIAN_CASES = {
    "chinchilla": {"E": 0.1, "A": 3.0, "B": 2.0, "alpha": 0.3, "beta": 0.5},
    "chinchilla-time-tied": {"E": 0.1, "A": 3.0, "B": 2.0, "alpha": 0.4},
    "kaplan": {"A_N": 3.0, "alpha_N": 0.3, "A_S": 2.0, "alpha_S": 0.6},
    "power": {"E": 0.1, "A": 2.0, "alpha": 0.4},
    "m4": {"eps_inf": 0.1, "gap": 2.0, "alpha": 0.7, "beta": 0.3, "c": -0.5},
}


def _inputs(law) -> dict[str, np.ndarray]:
    return {r: (N if r == "size" else X) for r in law.roles}


@pytest.mark.parametrize("name", list(JACOBIAN_CASES))
def test_analytic_jacobian_matches_central_differences(name: str) -> None:
    law = get_law(name).prepare(_inputs(get_law(name)))
    params = JACOBIAN_CASES[name]
    inputs = _inputs(law)
    names = [p.name for p in law.param_specs(inputs)]
    jac = law.jacobian(inputs, params)
    for k, pname in enumerate(names):
        h = 1e-6 * max(1.0, abs(params[pname]))
        up = law.predict(inputs, {**params, pname: params[pname] + h})
        down = law.predict(inputs, {**params, pname: params[pname] - h})
        np.testing.assert_allclose(
            jac[:, k], (up - down) / (2 * h), rtol=1e-5, atol=1e-9, err_msg=f"{name}: d/d{pname}"
        )


@pytest.mark.parametrize("alpha", [0.0, 0.3, 1.0, 4.0])
def test_m4_solver_satisfies_its_equation(alpha: float) -> None:
    rhs = np.random.default_rng(0).normal(0.0, 10.0, 500)
    z = solve_m4_logit(rhs, alpha)
    lhs = log_expit(z) - alpha * log_expit(-z)  # log u - alpha log(1 - u), u = expit(z)
    solvable = rhs < 0 if alpha == 0 else np.ones_like(rhs, dtype=bool)  # h < 0 when alpha = 0
    np.testing.assert_allclose(lhs[solvable], rhs[solvable], atol=1e-7)
    assert np.all(z[~solvable] >= 700)  # no root: u saturates at 1 (eps = eps0)


def test_m4_curve_solves_the_published_form_and_falls_from_eps0_to_eps_inf() -> None:
    law = M4(x_ref=1.0)
    p = {"eps_inf": 0.2, "gap": 0.7, "alpha": 0.8, "beta": 2.0, "c": -0.6}
    x = np.geomspace(1e-4, 1e6, 60)
    eps = law.predict({"time": x}, p)
    eps0 = p["eps_inf"] + p["gap"]
    lhs = (eps - p["eps_inf"]) / (eps0 - eps) ** p["alpha"]
    np.testing.assert_allclose(lhs, p["beta"] * x ** p["c"], rtol=1e-6)
    assert np.all(np.diff(eps) < 0)
    assert eps[0] == pytest.approx(eps0, rel=1e-3)
    assert eps[-1] == pytest.approx(p["eps_inf"], rel=1e-2)


def test_broken_power_law_slopes_before_and_after_the_break() -> None:
    law = BrokenPowerLaw(n_breaks=1, x_ref=1.0)
    p = {"a": 0.0, "b": 1.0, "c0": 0.2, "c1": 0.5, "d1": 1e3, "f1": 0.3}
    x = np.geomspace(1e-2, 1e8, 400)
    slope = np.gradient(np.log(law.predict({"time": x}, p)), np.log(x))
    assert slope[0] == pytest.approx(-p["c0"], abs=1e-3)
    assert slope[-1] == pytest.approx(-(p["c0"] + p["c1"]), abs=1e-3)
    # a negative c1 turns the curve upwards after the break (double-descent segment)
    up = law.predict({"time": x}, {**p, "c1": -0.5})
    assert up[-1] > up[len(x) // 2]


def test_rosenfeld_envelope_limits() -> None:
    law = Rosenfeld(x="data")
    p = {"a": 1.0, "alpha": 0.5, "b": 1.0, "beta": 0.5, "c_inf": 0.0, "eta": 1e-2, "eps0": 0.9}
    small = law.predict({"size": np.array([1e-6]), "data": np.array([1e-6])}, p)
    assert small[0] == pytest.approx(0.9, rel=1e-4)  # random-guess level
    inputs = {"size": np.array([1e12]), "data": np.array([1e12])}
    core = law.core(inputs, p)
    big = law.predict(inputs, p)
    assert big[0] == pytest.approx(p["eps0"] * core[0] / p["eta"], rel=1e-3)  # power-law regime


def test_kaplan_amplitudes_map_to_critical_scales() -> None:
    law = Kaplan()
    p = {"A_N": 50.0, "alpha_N": 0.3, "A_S": 8.0, "alpha_S": 0.7}
    d = law.derived(p)
    inputs = {"size": N, "time": X}
    expected = (d["N_c"] / N) ** p["alpha_N"] + (d["S_c"] / X) ** p["alpha_S"]
    np.testing.assert_allclose(law.predict(inputs, p), expected, rtol=1e-10)


def test_unified_adapter_is_affine_in_floor_and_ceiling_and_matches_the_theory() -> None:
    rng = np.random.default_rng(1)
    inputs = {
        "size": rng.uniform(1e3, 1e6, 50),
        "time": rng.uniform(0.0, 100.0, 50),
        "data": rng.uniform(500, 5e4, 50),
        "noise": rng.uniform(0.0, 0.4, 50),
    }
    law = Unified().prepare(inputs)
    params = {**{p.name: p.default for p in law.param_specs(inputs)}, "floor": 0.03, "v": 2.0}
    pred = law.predict(inputs, params)
    np.testing.assert_allclose(law.basis(inputs, params) @ [0.03, 1.0], pred, rtol=1e-10)
    scaled = (
        inputs["size"] / law.size_ref,
        inputs["time"] / law.time_ref,
        inputs["data"] / law.data_ref,
        inputs["noise"],
    )
    np.testing.assert_allclose(pred, unified_v2(*scaled, params)[0], rtol=1e-12)
    time_law = UnifiedTimeOnly().prepare({"time": inputs["time"]})
    tp = {p.name: p.default for p in time_law.param_specs(None)}
    np.testing.assert_allclose(
        time_law.predict({"time": inputs["time"]}, tp),
        unified_time_v2(inputs["time"] / time_law.time_ref, tp)[0],
    )


@pytest.mark.parametrize("name", ["unified", "unified-time", "unified-time2"])
def test_unified_jacobians_match_central_differences(name: str) -> None:
    """The unified laws' exact Jacobians agree with central differences to 1e-5 (relative to
    the column's scale), at t = 0 too (the other laws: ``JACOBIAN_CASES``)."""
    rng = np.random.default_rng(2)
    law = get_law(name)
    values = {
        "size": rng.uniform(1e3, 1e6, 40),
        "time": np.r_[0.0, rng.uniform(0.05, 100.0, 39)],
        "data": rng.uniform(500, 5e4, 40),
        "noise": rng.uniform(0.0, 0.4, 40),
    }
    inputs = {r: values[r] for r in law.roles}
    law = law.prepare(inputs)
    specs = law.param_specs(inputs)
    params = {p.name: p.default for p in specs}
    if name == "unified":
        params.update(v=2.0, floor=0.03, r=50.0)
    if name.startswith("unified-time"):
        params.update(h=0.5, floor=0.03)
    jac = law.jacobian(inputs, params)
    for k, p in enumerate(specs):
        step = 1e-6 * max(abs(params[p.name]), 1e-3)
        hi = law.predict(inputs, {**params, p.name: params[p.name] + step})
        lo = law.predict(inputs, {**params, p.name: params[p.name] - step})
        numeric = (hi - lo) / (2 * step)
        scale = max(np.max(np.abs(numeric)), 1e-8)
        np.testing.assert_allclose(jac[:, k], numeric, atol=1e-5 * scale, err_msg=p.name)


def test_unified_time2_has_two_local_minima_from_two_time_scales() -> None:
    """Epoch-wise double descent (docs/theory.md §6.4): a fast component falls and then fits the
    noise (the rise); a slow one, 1000× slower, descends again and rises in its turn."""
    t = np.geomspace(1e-3, 1e5, 2000)
    params = {
        "rate": 30.0,
        "alpha": 1.0,
        "budget": 30.0,
        "h": 1.0,
        "rate2": 0.03,
        "w": 0.5,
        "floor": 0.02,
        "ceiling": 0.9,
    }
    err, _ = unified_time_v2(t, params)
    interior = (err[1:-1] < err[:-2]) & (err[1:-1] < err[2:])
    assert interior.sum() == 2, np.flatnonzero(interior)
    one, _ = unified_time_v2(t, {**params, "w": 0.0})
    assert ((one[1:-1] < one[:-2]) & (one[1:-1] < one[2:])).sum() == 1  # one time scale


def test_unified_law_peaks_at_the_interpolation_threshold_with_label_noise() -> None:
    """Model-wise double descent at long training: with noise the error at T = inf is highest
    where capacity meets the data budget (K = M), and falls on both sides."""
    size = np.geomspace(1e-3, 1e3, 601)
    params = {p.name: p.default for p in PARAMS_V2}
    params.update(c=1.0, q=100.0, mu=1.0, m=100.0, alpha=1.0, v=20.0, r=np.inf, floor=0.0)
    noisy, _ = unified_v2(size, np.full_like(size, np.inf), 1.0, 0.2, params)
    clean, _ = unified_v2(size, np.full_like(size, np.inf), 1.0, 0.0, params)
    peaks = np.flatnonzero((noisy[1:-1] > noisy[:-2]) & (noisy[1:-1] > noisy[2:])) + 1
    assert len(peaks) == 1 and 0.5 < size[peaks[0]] < 2.0  # K = q size^mu = M = m·data = 100
    assert noisy[-1] < noisy[peaks[0]] and noisy[peaks[0] // 2] < noisy[peaks[0]]
    assert np.all(np.diff(clean) <= 1e-15)  # monotone without noise


@pytest.mark.parametrize("name", list(LAWS))
def test_every_law_round_trips_through_its_config(name: str) -> None:
    law = get_law(name)
    inputs = {r: (N if r == "size" else X) for r in law.roles}
    inputs = {**inputs, **({"data": N} if "data" in law.roles else {})}
    inputs = {**inputs, **({"noise": np.full(25, 0.1)} if "noise" in law.roles else {})}
    law = law.prepare(inputs)
    rebuilt = law_from_config({"class": type(law).__name__, "options": law.config()})
    params = {p.name: p.default for p in law.param_specs(inputs)}
    np.testing.assert_allclose(rebuilt.predict(inputs, params), law.predict(inputs, params))
    assert law.equation and law.source  # documented


def test_unknown_law_name_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="known laws: unified"):
        get_law("chinchila")

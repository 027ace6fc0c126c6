"""The estimator: scikit-learn conventions, input checks, JSON, bootstrap groups."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from scaletime.fitting.bootstrap import group_resamples
from scaletime.fitting.errors import FittingError
from scaletime.fitting.estimator import ScalingLawRegressor, load_fit

from .conftest import as_roles


def test_constructor_arguments_are_kept_untouched() -> None:
    options = {"n_breaks": 2}
    est = ScalingLawRegressor("bnsl", law_options=options, n_bootstrap=3)
    assert est.get_params()["law_options"] is options
    est.set_params(n_starts=2)
    assert est.n_starts == 2
    with pytest.raises(ValueError, match="unknown parameter 'nstarts'"):
        est.set_params(nstarts=2)
    with pytest.raises(FittingError, match="not fitted"):
        est.predict({"time": [1.0]})


def test_epoch_zero_is_dropped_for_time_power_laws_but_kept_for_the_unified_law(
    unified_sweep,
) -> None:
    X = as_roles(unified_sweep)
    n_init = int((X["time"] == 0).sum())
    assert n_init > 0
    kaplan = ScalingLawRegressor("kaplan", n_starts=2).fit(X)
    assert kaplan.n_dropped_ == n_init
    assert kaplan.n_points_ == len(X) - n_init
    unified = ScalingLawRegressor("unified", n_starts=2).fit(X, groups=X["run_id"])
    assert unified.n_dropped_ == 0


def test_bad_inputs_are_refused_with_the_reason() -> None:
    X = {"time": np.geomspace(1, 100, 10)}
    y = np.linspace(1.0, 0.1, 10)
    bad = y.copy()
    bad[3] = 0.0
    with pytest.raises(FittingError, match="1 values that are not finite and positive"):
        ScalingLawRegressor("power").fit(X, bad)
    with pytest.raises(FittingError, match="input role 'size' is missing"):
        ScalingLawRegressor("kaplan").fit(X, y)
    with pytest.raises(FittingError, match="only 3 usable points"):
        ScalingLawRegressor("power").fit({"time": X["time"][:3]}, y[:3])
    with pytest.raises(ValueError, match="loss must be one of"):
        ScalingLawRegressor("power", loss="l2").fit(X, y)


def test_json_round_trip_keeps_predictions_and_intervals(chinchilla_sweep, tmp_path) -> None:
    X = as_roles(chinchilla_sweep)
    est = ScalingLawRegressor("chinchilla-time", n_bootstrap=30, random_state=2).fit(
        X, groups=X["run_id"]
    )
    path = est.to_json(tmp_path / "fit.json")
    data = json.loads(path.read_text())
    assert data["law"]["name"] == "chinchilla-time"
    assert len(data["bootstrap_params"]) == 30
    again = load_fit(path)
    new = pd.DataFrame({"size": [1e6, 3e3], "time": [500.0, 2.0]})  # beyond and inside the fit
    np.testing.assert_allclose(again.predict(new), est.predict(new), rtol=1e-12)
    for kind in ("mean", "new-run"):
        np.testing.assert_allclose(
            again.predict_interval(new, kind), est.predict_interval(new, kind), rtol=1e-12
        )
    for name, interval in est.params_interval_.items():
        np.testing.assert_allclose(again.params_interval_[name], interval, rtol=1e-12)


def test_bootstrap_resamples_whole_runs() -> None:
    groups = np.repeat(np.array(["a", "b", "c", "d"]), [3, 5, 2, 4])
    for idx in group_resamples(groups, 20, np.random.default_rng(0)):
        drawn = groups[idx]
        for g in np.unique(drawn):  # each drawn run comes with all of its points
            assert np.sum(drawn == g) % np.sum(groups == g) == 0
        assert len(np.unique(idx)) <= len(idx)


def test_run_bootstrap_is_wider_than_point_bootstrap_under_run_noise() -> None:
    """Points of one run share an offset: resampling points would understate the uncertainty."""
    from scaletime.fitting.synthetic import synthetic_sweep

    df = as_roles(
        synthetic_sweep(
            "chinchilla-time",
            {"E": 0.05, "A": 20.0, "B": 0.5, "alpha": 0.4, "beta": 0.6},
            seeds=(0, 1),
            run_sd=0.1,
            point_sd=0.01,
            random_state=4,
        )
    )
    widths = {}
    for unit, groups in (("run", df["run_id"]), ("point", None)):
        est = ScalingLawRegressor("chinchilla-time", n_bootstrap=40, random_state=0).fit(
            df, groups=groups
        )
        lo, hi = est.params_interval_["alpha"]
        widths[unit] = hi - lo
    assert widths["run"] > 2 * widths["point"]


def _unified_frame(scale_n: float = 1.0, scale_t: float = 1.0, scale_d: float = 1.0):
    from scaletime.fitting.synthetic import (
        ROLE_NAMES,
        UNIFIED_TRUTH,
        synthetic_sweep,
        unified_truth_law,
    )

    df = synthetic_sweep(
        unified_truth_law(),
        UNIFIED_TRUTH,
        sizes=np.geomspace(1e3, 3e5, 5),
        times=np.geomspace(0.05, 50, 10),
        data_sizes=(1000.0, 8000.0),
        label_noises=(0.0, 0.2),
        seeds=(0, 1),
        random_state=3,
        include_init=True,
    )
    return df.assign(
        n_params=df["n_params"] * scale_n,
        epoch=df["epoch"] * scale_t,
        data_size=df["data_size"] * scale_d,
    ).rename(columns=ROLE_NAMES)


def test_unified_law_is_scale_free_from_small_networks_to_language_models() -> None:
    """The same sweep at N ~ 1e3..3e5, T ~ 0.05..50, n ~ 1e3 and rescaled to N ~ 1e9..3e11,
    T ~ 5e4..5e7, n ~ 1e10 fits to the same predictions, and recovers the truth at both ends."""
    small = _unified_frame()
    large = _unified_frame(1e6, 1e6, 1e7)
    fits = [ScalingLawRegressor("unified").fit(f, groups=f["run_id"]) for f in (small, large)]
    np.testing.assert_allclose(fits[0].predict(small), fits[1].predict(large), rtol=1e-3)
    for est in fits:
        assert est.params_["gamma"] == pytest.approx(1.0, abs=0.1)
        assert est.params_["v"] == pytest.approx(2.0, rel=0.3)
    assert fits[1].derived_["c_raw"] == pytest.approx(fits[0].derived_["c_raw"] * 1e-12, rel=0.05)


def test_constant_roles_are_held_fixed_and_reported_not_identified() -> None:
    """One data size and no noise column: the fit runs, v is not identified (and absent),
    the data budget m stays; one size as well: gamma, mu and r are held fixed too."""
    df = _unified_frame()
    one = df[(df["data"] == 8000.0) & (df["noise"] == 0.0)].drop(columns=["noise"])
    est = ScalingLawRegressor("unified").fit(one, groups=one["run_id"])
    assert "v" in est.not_identified_ and "v" not in est.params_
    assert "m" in est.params_ and np.isfinite(est.predict(one)).all()
    single = one[one["size"] == one["size"].max()]
    est1 = ScalingLawRegressor("unified").fit(single, groups=single["run_id"])
    assert {"gamma", "mu", "r", "v"} <= set(est1.not_identified_)
    assert {"gamma", "mu", "r"}.isdisjoint(est1.params_)
    final = one[one["time"] == one["time"].max()].drop(columns=["time"])  # no time axis
    est2 = ScalingLawRegressor("unified").fit(final, groups=final["run_id"])
    assert {"c", "gamma", "r"} <= set(est2.not_identified_)


def test_unified_floor_is_fitted_only_when_the_runs_support_it() -> None:
    """BIC over runs: a sweep drawn with a floor of 0.02 keeps it; the same law drawn with no
    floor and large data does not fit one."""
    df = _unified_frame()
    est = ScalingLawRegressor("unified").fit(df, groups=df["run_id"])
    assert est.law_.fit_floor and est.params_["floor"] == pytest.approx(0.02, rel=0.3)
    assert len(est.selection_) == 4  # floor on/off × kappa free/harmonic


def test_get_params_follows_the_constructor_and_sklearn_clone_works() -> None:
    import inspect

    names = [p for p in inspect.signature(ScalingLawRegressor.__init__).parameters if p != "self"]
    est = ScalingLawRegressor("chinchilla-time", n_starts=3, confidence=0.8)
    assert list(est.get_params()) == names
    with pytest.raises(ValueError, match="unknown parameter"):
        est.set_params(no_such=1)
    sklearn_base = pytest.importorskip("sklearn.base")
    copy = sklearn_base.clone(est)
    assert copy is not est and copy.get_params() == est.get_params()
    assert not hasattr(copy, "params_")

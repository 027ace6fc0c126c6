"""Per-width training budgets (``train.epochs_by_width``, written by ``scaletime plan``):
validated, planned into units of one budget, trained, exported per run, and hash-neutral when
absent."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from scaletime.cli import app
from scaletime.errors import ScaletimeError
from scaletime.forecasting.design import plan_sweep
from scaletime.sweep.executor import run_sweep
from scaletime.sweep.export import load_table
from scaletime.sweep.plan import plan_runs, plan_units, train_config
from scaletime.sweep.spec import SpecError, load_spec, parse_spec

BASE = {
    "name": "budgets",
    "seeds": [0],
    "data": {"dataset": "digits", "sizes": [300]},
    "model": {"arch": "mlp", "widths": [2, 4, 8]},
    "train": {"batch_size": 32, "epochs": 2, "checkpoints": 4, "first_checkpoint": 0.25},
    "execution": {"device": "cpu"},
}


def _spec(**train):
    data = {**BASE, "train": {**BASE["train"], **train}}
    return parse_spec(data)


def test_budgets_are_validated() -> None:
    with pytest.raises(SpecError, match=r"epochs_by_width names widths \[16\]"):
        _spec(epochs_by_width={"16": 3.0})
    with pytest.raises(SpecError, match="first_checkpoint"):
        _spec(epochs_by_width={"2": 0.1})
    with pytest.raises(SpecError, match="epochs_by_width"):
        _spec(epochs_by_width={"2": -1.0})


def test_empty_budgets_keep_the_spec_hash() -> None:
    assert _spec().spec_hash() == _spec(epochs_by_width={}).spec_hash()
    assert _spec().spec_hash() != _spec(epochs_by_width={"2": 4.0}).spec_hash()


def test_units_share_one_budget_and_configs_follow_it() -> None:
    spec = _spec(epochs_by_width={"2": 8.0, "4": 4.0})
    units = plan_units(spec, plan_runs(spec))
    budgets = sorted({spec.train.epochs_for(r.width) for u in units for r in u.runs})
    assert budgets == [2.0, 4.0, 8.0]
    for u in units:
        assert len({r.epochs for r in u.runs}) == 1
    cfg = train_config(spec, "cpu", 2)
    assert cfg.epochs == 8.0 and cfg.eval_epochs[-1] == 8.0 and len(cfg.eval_epochs) == 5


def test_a_planned_sweep_trains_each_width_to_its_budget(tmp_path: Path) -> None:
    spec = _spec(epochs_by_width={"2": 6.0, "4": 3.0})
    run_sweep(spec, tmp_path / "s", show_progress=False)
    table = load_table(tmp_path / "s")
    last = table.groupby("width")["epoch"].max().to_dict()
    assert last == {2: 6.0, 4: 3.0, 8: 2.0}
    assert table.groupby("width")["epochs"].first().to_dict() == {2: 6.0, 4: 3.0, 8: 2.0}
    assert (table["status"] == "done").all()
    again = run_sweep(spec, tmp_path / "s", show_progress=False)  # resume: nothing to do
    assert again.trained == 0 and len(load_table(tmp_path / "s")) == len(table)


def test_plan_trains_small_widths_longer_and_round_trips(tmp_path: Path) -> None:
    base = _spec()
    planned = plan_sweep(base, 32, gamma=0.5)
    table = planned.table.set_index("width")
    n = table["n_params"]
    for w in (2, 4, 8):  # T(N) = T (N*/N)^γ
        assert table.loc[w, "epochs"] == pytest.approx(
            2.0 * (planned.target_size / n[w]) ** 0.5, rel=1e-3
        )
    assert planned.flops > planned.equal_epochs_flops
    path = planned.write(tmp_path / "planned.toml")
    again = load_spec(path)
    assert again.spec_hash() == planned.spec.spec_hash()
    paid = plan_sweep(base, 32, gamma=0.5, budget=planned.flops)
    assert paid.horizon == pytest.approx(2.0, rel=1e-3)
    with pytest.raises(ScaletimeError, match="nothing smaller"):
        plan_sweep(base, 2)
    with pytest.raises(ScaletimeError, match="gamma"):
        plan_sweep(base, 32, gamma=-1)


def test_plan_cli_writes_a_spec_that_loads(tmp_path: Path) -> None:
    spec = tmp_path / "base.toml"
    spec.write_text(
        'name = "b"\nseeds = [0]\n[data]\ndataset = "digits"\nsizes = [300]\n'
        "[model]\nwidths = [2, 4]\n[train]\nepochs = 2\nfirst_checkpoint = 0.25\n"
    )
    out = tmp_path / "p.toml"
    res = CliRunner().invoke(
        app, ["plan", "--target-width", "16", "--spec", str(spec), "--gamma", "0.4", "-o", str(out)]
    )
    assert res.exit_code == 0, res.output
    assert "equal epochs" in res.output
    assert load_spec(out).train.epochs_by_width[2] > load_spec(out).train.epochs_by_width[4]
    res = CliRunner().invoke(
        app, ["plan", "--target-width", "2", "--spec", str(spec), "-o", str(out)]
    )
    assert res.exit_code == 2 and "nothing smaller" in res.output

"""``scaletime reproduce paper --scale smoke`` runs the whole pipeline; claims and reports are
computed from what was measured; re-running resumes."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from typer.testing import CliRunner

from scaletime.report.claims import CLAIMS, evaluate_claims
from scaletime.report.reproduce import EXPERIMENTS, build_spec
from scaletime.report.sweep import read_summary
from scaletime.sweep.store import ResultStore

SMOKE = [e.name for e in EXPERIMENTS if build_spec(e, "smoke") is not None]
VERDICTS = {"holds", "partly", "fails", "not tested"}


def test_smoke_runs_every_experiment_of_its_scale(smoke) -> None:
    assert smoke.exit_code == 0, smoke.stdout
    assert f"Claims: {(smoke.out / 'claims.md').resolve()}" in smoke.stdout
    for name in SMOKE:
        folder = smoke.out / name
        assert (folder / "report.html").is_file() and (folder / "summary.json").is_file()
        with ResultStore(folder) as store:
            progress = store.progress()
        assert (
            progress["pending"] == 0 and progress["runs"] == progress["done"] + progress["diverged"]
        )


def test_specs_shrink_the_shipped_paper_specs() -> None:
    for experiment in EXPERIMENTS:
        full = build_spec(experiment, "full")
        cpu = build_spec(experiment, "cpu")
        assert cpu is not None and full is not None
        assert max(cpu.data.sizes) <= max(full.data.sizes)
        assert cpu.train.epochs <= full.train.epochs
        assert cpu.data.dataset == full.data.dataset  # cpu runs the paper's datasets
        assert set(cpu.model.widths) <= set(full.model.widths) | {8}
    labels = build_spec(next(e for e in EXPERIMENTS if e.name == "mnist-label-noise"), "cpu")
    assert labels.data.label_noise == [0.0, 0.1, 0.2]


def test_claims_table_is_computed_from_the_summaries(smoke) -> None:
    text = (smoke.out / "claims.md").read_text()
    assert "these numbers are not evidence" in text
    rows = [line for line in text.splitlines() if re.match(r"^\| \d \|", line)]
    assert len(rows) == len(CLAIMS)
    for row in rows:
        verdict = re.search(r"\*\*(.+?)\*\*", row).group(1)
        assert verdict in VERDICTS
    stored = json.loads((smoke.out / "claims.json").read_text())
    summaries = {n: read_summary(smoke.out / n) for n in SMOKE}
    again = evaluate_claims(summaries)
    assert [c["verdict"] for c in stored["claims"]] == [c.verdict for c in again]
    assert [c["value"] for c in stored["claims"]] == [c.value for c in again]
    # every claim the smoke set can reach is measured (none silently skipped)
    measured = {c.key for c in again if c.verdict != "not tested"}
    assert {"tmin", "predict", "unified", "data", "noise", "larger"} <= measured


def test_summary_numbers_are_the_analysis_numbers(smoke) -> None:
    from scaletime.analysis import analyze
    from scaletime.report.reproduce import report_options
    from scaletime.sweep.export import load_table

    summary = read_summary(smoke.out / "mnist-mlp")
    table = load_table(smoke.out / "mnist-mlp")
    result = analyze(table, n_boot=report_options("smoke").n_boot)
    fit = result.settings[0].exponents["p"]
    stored = summary["settings"][0]["gamma_p"]
    assert stored["value"] == pytest.approx(fit.gamma_, rel=1e-12)
    assert stored["ci"] == pytest.approx(list(fit.ci_), rel=1e-12)
    assert summary["runs"]["runs"] == table["run_id"].nunique()


def test_index_report_links_every_experiment(smoke) -> None:
    page = (smoke.out / "report.html").read_text()
    for name in SMOKE:
        assert f"href='{name}/report.html'" in page
    assert page.count("class='verdict-") >= len(CLAIMS)


def test_rerun_resumes_without_training(app, smoke, tmp_path) -> None:
    out = tmp_path / "copy"
    shutil.copytree(smoke.out, out)
    before = (out / "claims.md").read_text()
    result = CliRunner().invoke(
        app,
        [
            "reproduce",
            "paper",
            "--scale",
            "smoke",
            "--out",
            str(out),
            "--only",
            "mnist-mlp,mnist-adam",
        ],
    )
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "mnist-mlp: done — trained 0, skipped 6" in said
    assert "mnist-adam: done — trained 0" in said
    # the experiments left out keep their earlier summaries: same claims table
    table = [line for line in before.splitlines() if re.match(r"^\| \d \|", line)]
    after = (out / "claims.md").read_text()
    assert table == [line for line in after.splitlines() if re.match(r"^\| \d \|", line)]


def test_unknown_experiment_is_refused(app, tmp_path) -> None:
    result = CliRunner().invoke(
        app, ["reproduce", "paper", "--out", str(tmp_path), "--only", "nope"]
    )
    assert result.exit_code == 2
    assert "unknown experiment(s) nope" in result.output


def test_a_folder_holding_another_sweep_fails_that_experiment_only(app, smoke, tmp_path) -> None:
    out = tmp_path / "copy"
    shutil.copytree(smoke.out, out)
    shutil.rmtree(out / "mnist-mlp")
    shutil.copytree(smoke.out / "mnist-adam", out / "mnist-mlp")  # a different spec
    result = CliRunner().invoke(
        app, ["reproduce", "paper", "--out", str(out), "--only", "mnist-mlp,mnist-data-volume"]
    )
    said = " ".join(result.output.split())
    assert result.exit_code == 0, said
    assert "mnist-mlp: failed" in said and "optimizer" in said
    assert "mnist-data-volume: done — trained 0" in said


def test_planned_experiment_trains_small_widths_longer_and_is_compared(smoke) -> None:
    planned = build_spec(next(e for e in EXPERIMENTS if e.planned_from), "smoke")
    budgets = [planned.train.epochs_for(w) for w in planned.model.widths]
    assert budgets == sorted(budgets, reverse=True) and budgets[0] > budgets[-1]
    text = (smoke.out / "claims.md").read_text()
    assert "smaller widths trained longer vs equal epochs" in text
    stored = json.loads((smoke.out / "claims.json").read_text())
    rows = stored["planned_comparison"]
    assert {r["ratio"] for r in rows} >= {"2", "largest"}
    assert {r["direction"] for r in rows} == {"small_to_large", "large_to_small"}

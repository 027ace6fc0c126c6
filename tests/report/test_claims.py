"""The verdict rules (docs/report.md) applied to measured numbers, and the claims table."""

from __future__ import annotations

import numpy as np
import pandas as pd

from scaletime.analysis import analyze, phenomena
from scaletime.report.claims import CLAIMS, claims_markdown, evaluate_claims
from scaletime.table import resolve

SGD = {
    "train": {"optimizer": "sgd", "lr_rule": "fixed"},
    "data": {"sizes": [1000], "label_noise": [0.0]},
}
ADAM = {"train": {"optimizer": "adam", "lr_rule": "fixed"}, "data": SGD["data"]}


def _setting(gamma_p: float, lo: float, hi: float, verdict: str = "holds") -> dict:
    return {
        "setting": {"data_size": 1000.0},
        "gamma_p": {"value": gamma_p, "ci": [lo, hi]},
        "verdict": verdict,
        "median_error_ratio": 1.2,
        "median_error_ratio_ci": [1.0, 1.5],
        "fraction_holding": 0.9,
        "tolerance": 2.0,
    }


def _verdicts(summaries: dict) -> dict[str, str]:
    return {c.key: c.verdict for c in evaluate_claims(summaries)}


def test_tmin_rule_uses_the_interval_around_one() -> None:
    holds = {"a": {"spec": SGD, "settings": [_setting(0.95, 0.8, 1.1)]}}
    partly = {"a": {"spec": SGD, "settings": [_setting(1.6, 1.4, 1.8)]}}
    fails = {"a": {"spec": SGD, "settings": [_setting(4.0, 3.0, 5.0)]}}
    assert _verdicts(holds)["tmin"] == "holds"
    assert _verdicts(partly)["tmin"] == "partly"
    assert _verdicts(fails)["tmin"] == "fails"
    mixed = {"a": holds["a"], "b": fails["a"]}
    assert _verdicts(mixed)["tmin"] == "partly"


def test_controls_are_reported_but_not_aggregated() -> None:
    summaries = {
        "sgd": {"spec": SGD, "settings": [_setting(1.0, 0.9, 1.1)]},
        "adam": {"spec": ADAM, "settings": [_setting(0.1, 0.0, 0.2, "breaks")]},
    }
    claims = {c.key: c for c in evaluate_claims(summaries)}
    assert claims["tmin"].verdict == "holds"
    assert claims["predict"].verdict == "holds"
    assert [i.control for i in claims["tmin"].items] == [False, True]
    assert "control adam" in claims["tmin"].where_fails


def test_unified_rule_compares_with_the_best_other_law() -> None:
    def laws(ratio: float) -> dict:
        return {
            "spec": SGD,
            "laws": [
                {
                    "axis": "size",
                    "ratio": ratio,
                    "unified_rmsle": 0.1 * ratio,
                    "unified_rmsle_ci": [0.05, 0.2],
                    "best_other": "power",
                    "best_other_rmsle": 0.1,
                    "scores": [],
                }
            ],
        }

    assert _verdicts({"a": laws(1.05)})["unified"] == "holds"
    assert _verdicts({"a": laws(1.3)})["unified"] == "partly"
    assert _verdicts({"a": laws(2.0)})["unified"] == "fails"


def test_existence_claim_holds_if_any_item_holds() -> None:
    def harm(v: float, lo: float, hi: float) -> dict:
        return {"spec": SGD, "larger_is_worse": {"value": v, "ci": [lo, hi], "where": "x"}}

    assert _verdicts({"a": harm(-0.2, -0.3, -0.1), "b": harm(0.2, 0.1, 0.3)})["larger"] == "holds"
    assert _verdicts({"a": harm(-0.2, -0.3, -0.1), "b": harm(0.1, -0.1, 0.3)})["larger"] == "partly"
    assert _verdicts({"a": harm(-0.2, -0.3, -0.1)})["larger"] == "fails"


def test_untested_claims_say_so() -> None:
    verdicts = _verdicts({"a": {"spec": SGD, "settings": [_setting(1.0, 0.9, 1.1)]}})
    assert verdicts["data"] == verdicts["noise"] == verdicts["cause"] == "not tested"


def test_shared_cause_holds_on_curves_built_with_it(make_table) -> None:
    # E depends on N^γ·t only, with a dip and a rise: the epoch-wise overfitting time moves
    # as N^(−γ), like t_min; the claim's rule must find both exponents consistent.
    def error(size, t, n, rho):
        x = size**0.5 * t
        return 0.2 + 0.6 * np.exp(-x) + 0.15 * (1 - np.exp(-x / 30))

    table = make_table(error, times=np.geomspace(1e-4, 100, 80), noises=(0.1,), jitter=0.002)
    resolved = resolve(table)
    [ew] = phenomena.epoch_wise(resolved.frame, resolved.setting_columns, n_boot=100)
    fit = analyze(table, n_boot=100).settings[0].exponents["size"]
    entry = {**ew.to_dict(), "gamma_tmin_n": {"value": fit.gamma_, "ci": list(fit.ci_)}}
    claims = {c.key: c for c in evaluate_claims({"dd": {"spec": SGD, "epoch_wise": [entry]}})}
    assert claims["cause"].verdict == "holds", claims["cause"].items[0].note


def test_claims_markdown_has_every_claim_and_rule() -> None:
    summaries = {"a": {"spec": SGD, "settings": [_setting(1.0, 0.9, 1.1)]}}
    claims = evaluate_claims(summaries)
    text = claims_markdown(claims, header="HEADER")
    table = [line for line in text.splitlines() if line.startswith("| ") and "**" in line]
    assert len(table) == len(CLAIMS) == 7
    for claim in claims:
        assert claim.rule in text
        assert f"**{claim.verdict}**" in text
    assert (
        pd.Series([c.verdict for c in claims])
        .isin(["holds", "partly", "fails", "not tested"])
        .all()
    )

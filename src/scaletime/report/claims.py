"""The paper's claims → the metric → the measured value with CI → holds / partly / fails.

Each claim is judged from the numbers in the experiments' ``summary.json`` (written by
:func:`scaletime.report.sweep.write_report`). Every rule is a plain comparison of a measured
number or interval with a fixed criterion, stated in :data:`RULES` and docs/report.md
("Verdict rules"); nothing is judged by eye.

Per claim, each *item* (a setting, an experiment or a held-out split) gets a verdict; the
claim's verdict aggregates them: **holds** if every tested item holds, **fails** if every one
fails, **partly** otherwise, **not tested** when no item could be measured. "A larger model is not
always better" is an existence claim: it holds if any item holds.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import pandas as pd

from scaletime.stats import finite_or_none

__all__ = [
    "CLAIMS",
    "RULES",
    "Claim",
    "ClaimItem",
    "Finding",
    "claims_markdown",
    "evaluate_claims",
    "findings",
]

HOLDS, PARTLY, FAILS, NOT_TESTED = "holds", "partly", "fails", "not tested"

#: (key, claim, metric) in the order of the paper's abstract.
CLAIMS: tuple[tuple[str, str, str], ...] = (
    (
        "tmin",
        "t_min ∝ 1/p (Figure 1)",
        "γ_p: slope of log t_min against log p = log N^(1/3), pooled over thresholds",
    ),
    (
        "predict",
        "A small model trained longer predicts a large one, and vice versa",
        "median prediction RMSLE in seed-noise floors over all ordered size pairs",
    ),
    (
        "unified",
        "The unified law fits (size × time × data × noise)",
        "held-out RMSLE of the unified law / that of the best other law",
    ),
    (
        "data",
        "Larger models need less data",
        "concordance: share of (smaller, larger) size pairs × final-error thresholds where the "
        "larger needs fewer training examples (censoring included; 0.5 = no relation)",
    ),
    (
        "noise",
        "Label-noise sensitivity grows with size",
        "slope of (E(ρ) − E(0))/ρ per decade of N, final test error",
    ),
    (
        "larger",
        "A larger model is not always better",
        "largest relative increase of final test error from a smaller to a larger model",
    ),
    (
        "cause",
        "Epoch-wise and model-wise double descent share a cause",
        "epoch-wise rise after the minimum, and γ_overfit of t_overfit ∝ N^(−γ) vs γ of t_min",
    ),
)

#: The verdict rule of each claim, in words (also in docs/report.md).
RULES: dict[str, str] = {
    "tmin": "per fixed-lr SGD setting: holds if the 95% CI of γ_p contains 1; partly if not but "
    "0.5 ≤ γ_p ≤ 2 (a power law with another exponent); fails otherwise. Adam and lr ∝ 1/width "
    "are controls (the theory predicts a break) and are not aggregated.",
    "predict": "per fixed-lr SGD setting, the analysis verdict (docs/scale-time.md §6): holds = "
    "median pair error ≤ 2× the floor and collapse within 2× the seed spread; partial → partly; "
    "breaks → fails; undetermined → not tested. Controls not aggregated.",
    "unified": "per experiment and held-out axis (size, time, data): holds if the unified law's "
    "held-out RMSLE ≤ 1.1 × the best other law's; partly if ≤ 1.5 ×; fails otherwise or if the "
    "unified fit failed. The interval is the unified RMSLE's (held-out runs resampled) divided "
    "by the other law's score.",
    "data": "per data-volume experiment: holds if the 95% CI of the concordance lies above 0.5; "
    "partly if the concordance > 0.5 but the CI reaches 0.5 (or there is none); fails if ≤ 0.5. "
    "The fitted γ_data of n_needed ∝ N^(−γ_data) is given alongside.",
    "noise": "per label-noise experiment: holds if the 95% CI of the slope lies above 0; partly if "
    "the slope > 0 but the CI reaches 0; fails if the slope ≤ 0.",
    "larger": "per experiment, the worst pair: holds if the 95% CI of the increase lies above 0; "
    "partly if the increase > 0 but the CI reaches 0; fails if ≤ 0. The claim holds if any "
    "experiment holds (it is an existence claim).",
    "cause": "per noisy setting: holds if ≥ 2 sizes rise ≥ 2% after their minimum with a 95% CI "
    "above 0, γ_overfit's CI lies above 0 and overlaps the CI of the t_min exponent γ_N; partly "
    "if the rise is there and γ_overfit > 0 but not all of that; fails otherwise.",
}


@dataclass
class ClaimItem:
    """One measured item of a claim (a setting, an experiment or a split)."""

    experiment: str
    where: str
    value: float
    ci: tuple[float, float]
    verdict: str
    note: str = ""
    control: bool = False

    def text(self, digits: int = 3) -> str:
        return value_text(self.value, self.ci, digits)


@dataclass
class Claim:
    """A claim with its items and verdict."""

    key: str
    claim: str
    metric: str
    rule: str
    items: list[ClaimItem] = field(default_factory=list)
    existence: bool = False
    headline: str = ""

    @property
    def verdict(self) -> str:
        tested = [i.verdict for i in self.items if not i.control and i.verdict != NOT_TESTED]
        if not tested:
            return NOT_TESTED
        if self.existence:
            return HOLDS if HOLDS in tested else PARTLY if PARTLY in tested else FAILS
        if all(v == HOLDS for v in tested):
            return HOLDS
        if all(v == FAILS for v in tested):
            return FAILS
        return PARTLY

    @property
    def value(self) -> str:
        """The headline measured value with CI, and how many items hold."""
        main = [i for i in self.items if not i.control and i.verdict != NOT_TESTED]
        if not main:
            return "not measured"
        first = main[0]
        if self.existence:  # the strongest item is the evidence for an existence claim
            first = max(main, key=lambda i: i.value if math.isfinite(i.value) else -math.inf)
        counts = f"{sum(i.verdict == HOLDS for i in main)}/{len(main)} hold"
        head = (
            self.headline
            or f"{first.text()} ({first.experiment}{', ' + first.where if first.where else ''})"
        )
        return f"{head}; {counts}"

    @property
    def where_fails(self) -> str:
        """The items that do not hold (short: value and verdict; notes are in the details)."""

        def label(i: ClaimItem) -> str:
            return f"{i.experiment}{' ' + i.where if i.where else ''}"

        parts = [
            f"{label(i)}: {i.verdict}, {i.text()}"
            for i in self.items
            if i.verdict in (FAILS, PARTLY) and not i.control
        ]
        parts += [
            f"{label(i)}: not measured"
            for i in self.items
            if i.verdict == NOT_TESTED and not i.control
        ]
        parts += [f"control {label(i)}: {i.verdict}, {i.text()}" for i in self.items if i.control]
        return "; ".join(parts) if parts else "—"

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "claim": self.claim,
            "metric": self.metric,
            "rule": self.rule,
            "verdict": self.verdict,
            "value": self.value,
            "where_fails": self.where_fails,
            "items": [
                {**i.__dict__, "value": _num(i.value), "ci": [_num(c) for c in i.ci]}
                for i in self.items
            ],
        }


_num = finite_or_none  # a finite float or None


def _f(x: Any) -> float:
    v = _num(x)
    return math.nan if v is None else v


def value_text(value: float, ci: Sequence[float] | None, digits: int = 3) -> str:
    """``"0.91 [0.80, 1.05]"``, ``"0.91 (no CI)"`` or ``"–"``."""
    if not math.isfinite(value):
        return "–"
    lo, hi = (ci or (math.nan, math.nan))[:2]
    if not (math.isfinite(_f(lo)) and math.isfinite(_f(hi))):
        return f"{value:.{digits}g} (no CI)"
    return f"{value:.{digits}g} [{_f(lo):.{digits}g}, {_f(hi):.{digits}g}]"


def _estimate(d: dict[str, Any] | None) -> tuple[float, tuple[float, float]]:
    if not d:
        return math.nan, (math.nan, math.nan)
    ci = d.get("ci") or [None, None]
    return _f(d.get("value")), (_f(ci[0]), _f(ci[1]))


def _positive_rule(value: float, ci: tuple[float, float]) -> str:
    """holds: CI above 0; partly: value > 0, CI reaches 0 or absent; fails: value ≤ 0."""
    if not math.isfinite(value):
        return NOT_TESTED
    if value <= 0:
        return FAILS
    if math.isfinite(ci[0]) and ci[0] > 0:
        return HOLDS
    return PARTLY


def _role(summary: dict[str, Any]) -> str:
    spec = summary.get("spec", {})
    train = spec.get("train", {})
    if train.get("optimizer") == "adam":
        return "adam"
    if train.get("lr_rule") == "inverse_width":
        return "inverse-width"
    return "sgd"


def _setting_where(setting: dict[str, Any], summary: dict[str, Any]) -> str:
    spec = summary.get("spec", {}).get("data", {})
    parts = []
    if len(spec.get("sizes", [])) > 1 and "data_size" in setting:
        parts.append(f"n={setting['data_size']:g}")
    if len(spec.get("label_noise", [])) > 1 and "label_noise" in setting:
        parts.append(f"noise={setting['label_noise']:g}")
    return ", ".join(parts)


def _tmin_items(name: str, summary: dict[str, Any]) -> list[ClaimItem]:
    items = []
    control = _role(summary) != "sgd"
    for s in summary.get("settings", []):
        value, ci = _estimate(s.get("gamma_p"))
        if not math.isfinite(value):
            verdict, note = NOT_TESTED, "no threshold reached by two sizes"
        elif math.isfinite(ci[0]) and ci[0] <= 1 <= ci[1]:
            verdict, note = HOLDS, ""
        elif 0.5 <= value <= 2:
            verdict, note = PARTLY, "power law, exponent ≠ 1" if math.isfinite(ci[0]) else "no CI"
        else:
            verdict, note = FAILS, "exponent far from 1"
        r2 = _num((s.get("gamma_p") or {}).get("r2"))
        if r2 is not None:
            note = f"{note + '; ' if note else ''}R² {r2:.2f}"
        items.append(
            ClaimItem(
                name,
                _setting_where(s.get("setting", {}), summary),
                value,
                ci,
                verdict,
                note,
                control,
            )
        )
    return items


def _predict_items(name: str, summary: dict[str, Any]) -> list[ClaimItem]:
    items = []
    control = _role(summary) != "sgd"
    mapping = {"holds": HOLDS, "partial": PARTLY, "breaks": FAILS, "undetermined": NOT_TESTED}
    for s in summary.get("settings", []):
        value = _f(s.get("median_error_ratio"))
        ci = cast(
            tuple[float, float],  # the summary stores a (low, high) pair
            tuple(_f(x) for x in (s.get("median_error_ratio_ci") or [None, None])),
        )
        frac = _num(s.get("fraction_holding"))
        s2l, l2s = s.get("max_ratio_small_to_large"), s.get("max_ratio_large_to_small")
        note = (
            f"{frac:.0%} of pairs within {s.get('tolerance', 2):g}× floor; "
            if frac is not None
            else ""
        )
        note += f"holds up to size ratio {_fmt(s2l)} (small→large), {_fmt(l2s)} (large→small); "
        note += f"collapse {_fmt(s.get('collapse_ratio'))}× spread"
        items.append(
            ClaimItem(
                name,
                _setting_where(s.get("setting", {}), summary),
                value,
                ci,
                mapping.get(s.get("verdict"), NOT_TESTED),
                note,
                control,
            )
        )
    return items


def _fmt(x: Any) -> str:
    v = _num(x)
    return "–" if v is None else f"{v:.3g}"


def _unified_items(name: str, summary: dict[str, Any]) -> list[ClaimItem]:
    items = []
    for e in summary.get("laws", []):
        ratio = _f(e.get("ratio"))
        unified = _f(e.get("unified_rmsle"))
        ci = tuple(_f(x) for x in (e.get("unified_rmsle_ci") or [None, None]))
        best = e.get("best_other") or "–"
        where = f"held out {e.get('axis')}"
        if not math.isfinite(unified):
            failed = [r for r in e.get("scores", []) if r.get("law") == "unified"]
            note = (failed[0].get("note") or failed[0].get("status")) if failed else "not scored"
            verdict = FAILS if failed and failed[0].get("status") == "failed" else NOT_TESTED
            items.append(
                ClaimItem(name, where, math.nan, (math.nan, math.nan), verdict, f"unified: {note}")
            )
            continue
        if not math.isfinite(ratio):
            verdict = NOT_TESTED
        elif ratio <= 1.1:
            verdict = HOLDS
        elif ratio <= 1.5:
            verdict = PARTLY
        else:
            verdict = FAILS
        scored = sorted(
            (_f(r.get("rmsle")), r.get("law"))
            for r in e.get("scores", [])
            if r.get("status") == "ok" and math.isfinite(_f(r.get("rmsle")))
        )
        rank = next((k + 1 for k, (_, law) in enumerate(scored) if law == "unified"), None)
        note = (
            f"unified RMSLE {value_text(unified, ci)} vs {best} {_fmt(e.get('best_other_rmsle'))}"
            + (f"; unified ranks {rank} of {len(scored)} laws" if rank else "")
        )
        # interval: the unified RMSLE's (held-out runs resampled) over the other law's score
        other = _f(e.get("best_other_rmsle"))
        ratio_ci = (ci[0] / other, ci[1] / other) if other > 0 else (math.nan, math.nan)
        items.append(ClaimItem(name, where, ratio, ratio_ci, verdict, note))
    return items


def _estimate_items(name: str, summary: dict[str, Any], key: str) -> list[ClaimItem]:
    d = summary.get(key)
    if not d:
        return []
    value, ci = _estimate(d)
    where = d.get("where", "")
    return [ClaimItem(name, "" if where == "all" else where, value, ci, _positive_rule(value, ci))]


def _data_items(name: str, summary: dict[str, Any]) -> list[ClaimItem]:
    d = summary.get("data_concordance")
    if not d:
        return []
    value, ci = _estimate(d)
    if not math.isfinite(value):
        verdict = NOT_TESTED
    elif value <= 0.5:
        verdict = FAILS
    elif math.isfinite(ci[0]) and ci[0] > 0.5:
        verdict = HOLDS
    else:
        verdict = PARTLY
    details = d.get("details", {})
    g, gci = _estimate(summary.get("data_needed"))
    note = (
        f"{details.get('concordant', 0)} concordant / {details.get('discordant', 0)} "
        f"discordant pairs; γ_data {value_text(g, gci)}"
    )
    return [
        ClaimItem(
            name, d.get("where", "") if d.get("where") != "all" else "", value, ci, verdict, note
        )
    ]


def _cause_items(name: str, summary: dict[str, Any]) -> list[ClaimItem]:
    items = []
    for e in summary.get("epoch_wise", []):
        if not (_f(e.get("noise")) > 0):
            continue
        per_size = e.get("per_size", [])
        min_rise = _f((e.get("gamma_overfit") or {}).get("details", {}).get("min_rise")) or 0.02
        rising = [
            r for r in per_size if _f(r.get("rise")) >= min_rise and _f(r.get("rise_low")) > 0
        ]
        g, gci = _estimate(e.get("gamma_overfit"))
        t, tci = _estimate(e.get("gamma_tmin_n"))
        overlap = (
            all(math.isfinite(x) for x in (*gci, *tci)) and gci[0] <= tci[1] and tci[0] <= gci[1]
        )
        rise_ok = len(rising) >= 2
        if rise_ok and math.isfinite(gci[0]) and gci[0] > 0 and overlap:
            verdict = HOLDS
        elif rise_ok and g > 0:
            verdict = PARTLY
        else:
            verdict = FAILS
        note = (
            f"{len(rising)}/{len(per_size)} sizes rise ≥ {min_rise:.0%} after their minimum; "
            f"γ_overfit {value_text(g, gci)} vs t_min γ_N {value_text(t, tci)}"
        )
        values = e.get("values", {})
        where = f"noise={_f(e.get('noise')):g}"
        if (
            "data_size" in values
            and len(summary.get("spec", {}).get("data", {}).get("sizes", [])) > 1
        ):
            where += f", n={_f(values['data_size']):g}"
        items.append(ClaimItem(name, where, g, gci, verdict, note))
    return items


def evaluate_claims(summaries: dict[str, dict[str, Any]]) -> list[Claim]:
    """Judge every claim of :data:`CLAIMS` from the experiments' summaries (name → summary)."""
    claims = {key: Claim(key, text, metric, RULES[key]) for key, text, metric in CLAIMS}
    claims["larger"].existence = True
    for name, s in summaries.items():
        claims["tmin"].items += _tmin_items(name, s)
        claims["predict"].items += _predict_items(name, s)
        if _role(s) == "sgd":
            claims["unified"].items += _unified_items(name, s)
        claims["data"].items += _data_items(name, s)
        claims["noise"].items += _estimate_items(name, s, "noise_sensitivity")
        claims["larger"].items += _estimate_items(name, s, "larger_is_worse")
        claims["cause"].items += _cause_items(name, s)
    for c in claims.values():
        c.items.sort(key=lambda i: i.control)  # controls last
    return list(claims.values())


def claims_table(claims: Sequence[Claim]) -> pd.DataFrame:
    """The summary table: one row per claim."""
    return pd.DataFrame(
        [
            {
                "#": k + 1,
                "claim": c.claim,
                "metric": c.metric,
                "measured (95% CI)": c.value,
                "verdict": c.verdict,
                "where it fails": c.where_fails,
            }
            for k, c in enumerate(claims)
        ]
    )


def _md_escape(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown_table(df: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table of ``df`` (no extra dependency)."""
    head = "| " + " | ".join(_md_escape(c) for c in df.columns) + " |"
    rule = "|" + "---|" * len(df.columns)
    body = ["| " + " | ".join(_md_escape(v) for v in row) + " |" for row in df.astype(str).values]
    return "\n".join([head, rule, *body])


def claims_markdown(claims: Sequence[Claim], header: str = "") -> str:
    """``claims.md``: the summary table, then each claim's rule and items."""
    lines = ["# The paper's claims, measured", ""]
    if header:
        lines += [header, ""]
    lines += [
        "| # | claim | metric | measured (95% CI) | verdict | where it fails |",
        "|---|---|---|---|---|---|",
    ]
    for k, c in enumerate(claims):
        lines.append(
            f"| {k + 1} | {_md_escape(c.claim)} | {_md_escape(c.metric)} | {_md_escape(c.value)} | "
            f"**{c.verdict}** | {_md_escape(c.where_fails)} |"
        )
    lines.append("")
    for k, c in enumerate(claims):
        lines += [
            f"## {k + 1}. {c.claim} — {c.verdict}",
            "",
            f"Metric: {c.metric}.",
            "",
            f"Rule: {c.rule}",
            "",
        ]
        if not c.items:
            lines += ["No experiment measured this claim.", ""]
            continue
        lines += [
            "| experiment | where | value (95% CI) | verdict | note |",
            "|---|---|---|---|---|",
        ]
        for i in c.items:
            exp = f"{i.experiment} (control)" if i.control else i.experiment
            lines.append(
                f"| {_md_escape(exp)} | {_md_escape(i.where or '–')} | {i.text()} | "
                f"{i.verdict} | {_md_escape(i.note or '–')} |"
            )
        lines.append("")
    return "\n".join(lines)


def claims_html(claims: Sequence[Claim]) -> str:
    """The summary table and each claim's items as an HTML fragment (verdicts coloured)."""

    def cell(x: object) -> str:
        return f"<td>{html.escape(str(x))}</td>"

    def verdict(v: str) -> str:
        cls = {HOLDS: "holds", PARTLY: "partly", FAILS: "fails"}.get(v, "")
        return f"<td class='verdict-{cls}'>{html.escape(v)}</td>"

    rows = [
        "<div class='scroll'><table class='claims text'><tr><th>#</th><th>claim</th><th>metric</th>"
        "<th>measured (95% CI)</th><th>verdict</th><th>where it fails</th></tr>"
    ]
    for k, c in enumerate(claims):
        rows.append(
            f"<tr>{cell(k + 1)}{cell(c.claim)}{cell(c.metric)}{cell(c.value)}"
            f"{verdict(c.verdict)}{cell(c.where_fails)}</tr>"
        )
    rows.append("</table></div>")
    for k, c in enumerate(claims):
        rows.append(
            f"<h3>{k + 1}. {html.escape(c.claim)}</h3><p class='meta'>Rule: "
            f"{html.escape(c.rule)}</p>"
        )
        if not c.items:
            rows.append("<p>No experiment measured this claim.</p>")
            continue
        rows.append(
            "<div class='scroll'><table class='text'><tr><th>experiment</th><th>where</th>"
            "<th>value (95% CI)</th><th>verdict</th><th>note</th></tr>"
        )
        for i in c.items:
            exp = f"{i.experiment} (control)" if i.control else i.experiment
            rows.append(
                f"<tr>{cell(exp)}{cell(i.where or '–')}{cell(i.text())}"
                f"{verdict(i.verdict)}{cell(i.note or '–')}</tr>"
            )
        rows.append("</table></div>")
    return "\n".join(rows)


#: How each claim's number reads in a findings line (claim key → the number's name).
_MEASURED = {
    "tmin": "γ_p = {} (paper: 1)",
    "predict": "median prediction error {}× the seed floor",
    "unified": "unified / best other law, held-out RMSLE = {}",
    "data": "concordance {} (0.5: no relation)",
    "noise": "sensitivity slope {} per decade of N",
    "larger": "largest error increase with size {}",
    "cause": "rise after the minimum {}",
}


@dataclass(frozen=True)
class Finding:
    """One line of a sweep's findings: a claim, its verdict, the number behind it, and where the
    evidence is drawn (``key`` names the claim; the report links it to its section)."""

    key: str
    claim: str
    verdict: str
    measured: str
    note: str

    def line(self) -> str:
        return f"{self.verdict:>10}  {self.claim}: {self.measured}" + (
            f" ({self.note})" if self.note else ""
        )


def findings(summary: dict[str, Any], name: str = "sweep") -> list[Finding]:
    """The paper's claims judged on one sweep's summary, one :class:`Finding` per claim that
    the sweep tests (its first item, controls last); the claims it cannot test are left out."""
    out = []
    for claim in evaluate_claims({name: summary}):
        tested = [i for i in claim.items if i.verdict != NOT_TESTED]
        if not tested:
            continue
        item = tested[0]
        measured = _MEASURED[claim.key].format(item.text())
        if item.where:
            measured += f" [{item.where}]"
        more = len(tested) - 1
        note = item.note + (f"; {more} more item(s) in the report" if more > 0 else "")
        out.append(Finding(claim.key, claim.claim, claim.verdict, measured, note.strip("; ")))
    return out

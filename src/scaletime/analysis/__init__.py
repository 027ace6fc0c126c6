"""Scale-time equivalence from measured curves (docs/scale-time.md).

``analyze(table, mapping)`` runs everything per setting; the pieces are small functions and
estimators: ``tmin_table`` (minimum time to reach each error threshold), ``fit_exponent``
(γ in t_min ∝ N^−γ with bootstrap CIs and the paper test), ``collapse`` (the γ that best
collapses E(N, t) onto one curve of N^γ·t), ``predict_curve`` / ``predict_pair`` (the paper's
small ↔ large predictor) and ``prediction_errors`` (MARE, RMSLE) against the seed noise floor.
"""

from scaletime.analysis.analyze import PAPER_GAMMA_N, AnalysisResult, SettingAnalysis, analyze
from scaletime.analysis.collapse import CollapseFit, CollapseScore, collapse, collapse_score
from scaletime.analysis.curves import SizeCurves, interp_log_time, size_curves
from scaletime.analysis.exponent import PAPER_GAMMA, ExponentFit, fit_exponent, pooled_gamma
from scaletime.analysis.predict import (
    PairPrediction,
    ValidityRegime,
    predict_all_pairs,
    predict_curve,
    predict_pair,
    prediction_errors,
    validity_regime,
)
from scaletime.analysis.tmin import auto_thresholds, crossing_time, tmin_summary, tmin_table

__all__ = [
    "PAPER_GAMMA",
    "PAPER_GAMMA_N",
    "AnalysisResult",
    "CollapseFit",
    "CollapseScore",
    "ExponentFit",
    "PairPrediction",
    "SettingAnalysis",
    "SizeCurves",
    "ValidityRegime",
    "analyze",
    "auto_thresholds",
    "collapse",
    "collapse_score",
    "crossing_time",
    "fit_exponent",
    "interp_log_time",
    "pooled_gamma",
    "predict_all_pairs",
    "predict_curve",
    "predict_pair",
    "prediction_errors",
    "size_curves",
    "tmin_summary",
    "tmin_table",
    "validity_regime",
]

"""Random-subspace model: scale-time equivalence at rate 1/√p, and what breaks it."""

from __future__ import annotations

import numpy as np
import pytest

from scaletime.theory import subspace
from scaletime.theory._checks import TheoryParameterError

SIZES = np.array([32, 64, 128, 256, 512])
TAUS = np.array([0.5, 1.0, 2.0])


@pytest.fixture(scope="module")
def model() -> subspace.SubspaceModel:
    return subspace.SubspaceModel(full_dim=1000, readout_dim=5, loss="logcosh")


@pytest.fixture(scope="module")
def plain_gap(model) -> subspace.GapTable:
    return subspace.equivalence_gap(model, SIZES, TAUS, seeds=6)


def test_gap_shrinks_like_inverse_sqrt_p_at_fixed_pt(plain_gap):
    slopes = subspace.gap_slope(plain_gap)
    assert np.all(np.abs(slopes + 0.5) < 0.1), slopes


@pytest.mark.parametrize("loss", ["quadratic", "teacher"])
def test_slope_minus_half_for_other_losses(loss):
    model = subspace.SubspaceModel(full_dim=1000, loss=loss, seed=3)
    table = subspace.equivalence_gap(model, SIZES, np.array([1.0]), seeds=6)
    assert abs(subspace.gap_slope(table)[0] + 0.5) < 0.1


def test_gap_grows_with_pt_while_the_flow_moves(plain_gap):
    # at fixed p the gap grows from p·t = 0.5 to 1 (the flow has not converged yet)
    assert np.all(plain_gap.gap[:, 1] > plain_gap.gap[:, 0])


def test_flows_agree_at_large_p_and_start_at_k_beta0(model):
    times = np.array([0.0, 2.0 / 4096])
    alpha = subspace.subspace_trajectory(model, 4096, times, seed=1)
    reference = subspace.reference_trajectory(model, np.array([0.0, 2.0]))
    np.testing.assert_allclose(alpha[0], model.projection @ model.beta0, atol=1e-12)
    moved = np.linalg.norm(reference[1] - reference[0])
    assert np.linalg.norm(alpha[1] - reference[1]) < 0.1 * moved


def test_learning_rate_inverse_in_p_breaks_equivalence(model, plain_gap):
    table = subspace.equivalence_gap(model, SIZES, TAUS, seeds=4, lr_rule="inverse")
    assert np.all(subspace.gap_slope(table) > -0.2)
    assert np.all(table.gap[-1] > 3 * plain_gap.gap[-1])


def test_adam_like_updates_break_equivalence_with_gradient_flow(model, plain_gap):
    sizes = SIZES[::2]
    taus = TAUS[1:2]
    table = subspace.equivalence_gap(model, sizes, taus, seeds=3, optimizer="sign")
    assert abs(subspace.gap_slope(table)[0]) < 0.15  # does not shrink with p
    assert table.gap[-1, 0] > 3 * plain_gap.gap[-1, 1]
    # ... but they follow their own size-independent (normalised) flow
    own = subspace.reference_trajectory(model, taus, optimizer="sign")
    table = subspace.equivalence_gap(model, sizes, taus, seeds=3, optimizer="sign", reference=own)
    assert abs(subspace.gap_slope(table)[0] + 0.5) < 0.15


def test_normalised_updates_break_equivalence(model):
    table = subspace.equivalence_gap(model, SIZES, TAUS[:1], seeds=2, optimizer="normalized")
    assert abs(subspace.gap_slope(table)[0]) < 0.15


def test_drifting_projection_spoils_the_small_model_trained_longer(model, plain_gap):
    table = subspace.equivalence_gap(model, SIZES, TAUS, seeds=6, drift=100.0)
    # the small model needs p_L/p_S times longer, so its projection has drifted further
    assert table.gap[0, -1] > 3 * plain_gap.gap[0, -1]
    assert table.gap[-1, 0] < 1.3 * plain_gap.gap[-1, 0]


def test_bad_arguments_name_the_field(model):
    with pytest.raises(TheoryParameterError, match="loss must be one of"):
        subspace.SubspaceModel(loss="hinge")
    with pytest.raises(TheoryParameterError, match="must exceed readout_dim"):
        subspace.subspace_trajectory(model, 3, np.array([0.1]))
    with pytest.raises(TheoryParameterError, match="optimizer"):
        subspace.subspace_trajectory(model, 16, np.array([0.1]), optimizer="adamw")
    with pytest.raises(TheoryParameterError, match="readout_dim"):
        subspace.SubspaceModel(full_dim=5, readout_dim=5)

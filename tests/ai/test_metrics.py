"""The quality figures against small cases worked out by hand (the arithmetic is in the
comments). W = the lead was later won, L = later lost."""

import math

import pytest

from services.ai.metrics import (
    CalibrationBand,
    NotEnoughOutcomes,
    brier_score,
    calibration_table,
    gate_errors,
    log_loss,
    roc_auc,
)

W, L = True, False


def test_roc_auc_is_the_share_of_win_loss_pairs_ordered_correctly() -> None:
    # given wins scored 0.9 and 0.7, losses scored 0.8 and 0.3
    pairs = [(0.9, W), (0.8, L), (0.7, W), (0.3, L)]
    # when
    auc = roc_auc(pairs)
    # then win-over-loss pairs: 0.9>0.8 yes, 0.9>0.3 yes, 0.7>0.8 no, 0.7>0.3 yes -> 3/4
    assert auc == pytest.approx(0.75)


def test_roc_auc_counts_a_tied_win_and_loss_as_half() -> None:
    # given a win and a loss both scored 0.5
    pairs = [(0.5, W), (0.5, L), (0.8, W), (0.2, L)]
    # when
    auc = roc_auc(pairs)
    # then 0.5 vs 0.5 tie = 0.5, 0.5>0.2 = 1, 0.8>0.5 = 1, 0.8>0.2 = 1 -> 3.5/4
    assert auc == pytest.approx(0.875)


def test_roc_auc_of_perfect_inverted_and_constant_scores() -> None:
    # given / when / then every win above every loss -> 1; every win below -> 0
    assert roc_auc([(0.9, W), (0.8, W), (0.2, L)]) == pytest.approx(1.0)
    assert roc_auc([(0.1, W), (0.8, L), (0.9, L)]) == pytest.approx(0.0)
    # and one score for all: every pair a tie -> 0.5
    assert roc_auc([(0.4, W), (0.4, L), (0.4, L)]) == pytest.approx(0.5)


def test_roc_auc_needs_both_a_win_and_a_loss() -> None:
    # given only wins, or nothing
    # when / then the figure is undefined, said plainly
    with pytest.raises(NotEnoughOutcomes):
        roc_auc([(0.9, W), (0.3, W)])
    with pytest.raises(NotEnoughOutcomes):
        roc_auc([])


def test_brier_score_is_the_mean_squared_error() -> None:
    # given
    pairs = [(0.9, W), (0.2, L), (0.6, L)]
    # when
    brier = brier_score(pairs)
    # then (0.9-1)^2 = 0.01, (0.2-0)^2 = 0.04, (0.6-0)^2 = 0.36 -> 0.41 / 3
    assert brier == pytest.approx(0.41 / 3)


def test_brier_score_of_a_perfect_and_of_a_coin_flip_scorer() -> None:
    # given / when / then
    assert brier_score([(1.0, W), (0.0, L)]) == 0.0
    assert brier_score([(0.5, W), (0.5, L)]) == pytest.approx(0.25)  # 0.5^2 each


def test_log_loss_is_the_mean_negative_log_likelihood() -> None:
    # given
    pairs = [(0.8, W), (0.4, L)]
    # when
    loss = log_loss(pairs)
    # then -ln(0.8) = 0.223144, -ln(1-0.4) = -ln(0.6) = 0.510826 -> mean 0.366985
    assert loss == pytest.approx(0.366985, abs=1e-6)
    assert loss == pytest.approx((-math.log(0.8) - math.log(0.6)) / 2)


def test_log_loss_clips_certain_wrong_scores_instead_of_going_infinite() -> None:
    # given a win scored 0 (certainly wrong) and a win scored 1 (certainly right)
    pairs = [(0.0, W), (1.0, W)]
    # when
    loss = log_loss(pairs, epsilon=0.01)
    # then 0 is read as 0.01 -> -ln(0.01) = 4.605170; 1 as 0.99 -> -ln(0.99) = 0.010050
    assert loss == pytest.approx((4.605170 + 0.010050) / 2, abs=1e-6)
    # and with the default epsilon 1e-15: -ln(1e-15) = 34.538776, finite
    assert log_loss([(0.0, W)]) == pytest.approx(34.538776, abs=1e-5)


def test_calibration_table_compares_mean_score_with_win_rate_per_band() -> None:
    # given scores on and between the band edges
    pairs = [
        (0.1, L), (0.15, W),  # 0-0.2
        (0.2, L),  # 0.2-0.4: the edge belongs to the upper band
        (0.5, W), (0.55, L), (0.59, W),  # 0.4-0.6
        (0.6, W),  # 0.6-0.8
        (1.0, W),  # 0.8-1.0: the last band includes 1.0
    ]  # fmt: skip
    # when
    table = calibration_table(pairs)
    # then
    assert [(band.low, band.high, band.count) for band in table] == [
        (0.0, 0.2, 2),
        (0.2, 0.4, 1),
        (0.4, 0.6, 3),
        (0.6, 0.8, 1),
        (0.8, 1.0, 1),
    ]
    # (0.1 + 0.15) / 2 = 0.125 predicted, 1 win of 2 = 0.5 actual
    assert table[0].mean_score == pytest.approx(0.125)
    assert table[0].win_rate == pytest.approx(0.5)
    assert table[1].mean_score == pytest.approx(0.2)
    assert table[1].win_rate == 0.0
    # (0.5 + 0.55 + 0.59) / 3 = 1.64 / 3 = 0.546667 predicted, 2 wins of 3 actual
    assert table[2].mean_score == pytest.approx(1.64 / 3)
    assert table[2].win_rate == pytest.approx(2 / 3)
    assert table[3].mean_score == pytest.approx(0.6)
    assert table[3].win_rate == 1.0
    assert table[4].mean_score == pytest.approx(1.0)
    assert table[4].win_rate == 1.0


def test_calibration_table_keeps_empty_bands_without_figures() -> None:
    # given every score in one band
    # when
    table = calibration_table([(0.7, W)])
    # then the other four bands are there, counted 0, with no mean and no rate
    assert table[0] == CalibrationBand(0.0, 0.2, 0, None, None)
    assert [band.count for band in table] == [0, 0, 0, 1, 0]


def test_gate_errors_count_later_lost_passes_and_later_won_holds() -> None:
    # given
    pairs = [
        (0.9, L), (0.6, L), (0.7, W), (0.8, W),  # >= 0.6: passed, 2 of 4 later lost
        (0.59, W), (0.3, L), (0.1, W),  # < 0.6: held, 2 of 3 later won
    ]  # fmt: skip
    # when
    errors = gate_errors(pairs)
    # then
    assert errors.threshold == 0.6
    assert (errors.passed_then_lost, errors.passed) == (2, 4)
    assert (errors.held_then_won, errors.held) == (2, 3)
    assert errors.passed_then_lost_rate == pytest.approx(0.5)  # 2 / 4
    assert errors.held_then_won_rate == pytest.approx(2 / 3)


def test_gate_errors_at_another_threshold_and_with_nothing_on_one_side() -> None:
    # given / when a gate at 0.95 that nothing passes
    errors = gate_errors([(0.9, L), (0.5, W)], threshold=0.95)
    # then both are held, one later won; no rate for the empty side
    assert (errors.passed, errors.held, errors.held_then_won) == (0, 2, 1)
    assert errors.passed_then_lost_rate is None
    assert errors.held_then_won_rate == pytest.approx(0.5)

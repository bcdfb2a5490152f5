"""Ranking metrics against hand-computed values."""

from __future__ import annotations

import math

import pytest

from focusdesk.rank.metrics import (
    alpha_dcg_at_k,
    alpha_ndcg_at_k,
    average_precision,
    coverage_at_k,
    dcg_at_k,
    ndcg_at_k,
    precision_at_k,
    proportionality_at_k,
)


def test_dcg_hand_computed() -> None:
    # Gains 3, 2, 3, 0, 1, 2 -> 2^g - 1 = 7, 3, 7, 0, 1, 3 over log2(2..7).
    expected = 7 / 1 + 3 / math.log2(3) + 7 / 2 + 0 + 1 / math.log2(6) + 3 / math.log2(7)
    assert dcg_at_k([3, 2, 3, 0, 1, 2], k=6) == pytest.approx(expected)
    assert dcg_at_k([3, 2, 3, 0, 1, 2], k=2) == pytest.approx(7 + 3 / math.log2(3))
    assert dcg_at_k([], k=5) == 0.0


def test_ndcg_hand_computed() -> None:
    # The only relevant item sits at rank 2: DCG = 1/log2(3), ideal DCG = 1.
    assert ndcg_at_k([0, 1], [1, 0], k=10) == pytest.approx(1 / math.log2(3))
    # Ranked 1, 2 against ideal 2, 1 (gains 1 and 3).
    expected = (1 + 3 / math.log2(3)) / (3 + 1 / math.log2(3))
    assert ndcg_at_k([1, 2], [2, 1], k=10) == pytest.approx(expected)


def test_ndcg_uses_all_gains_for_the_ideal() -> None:
    # A relevant item that was not retrieved lowers the score.
    assert ndcg_at_k([1, 0], [1, 0, 1], k=2) == pytest.approx(1 / (1 + 1 / math.log2(3)))


def test_ndcg_perfect_and_no_relevant() -> None:
    assert ndcg_at_k([3, 2, 1, 0], [0, 1, 2, 3], k=10) == pytest.approx(1.0)
    assert ndcg_at_k([3, 2], [3, 2, 1, 0], k=2) == pytest.approx(1.0)
    assert ndcg_at_k([0, 0, 0], [0, 0, 0], k=3) == 0.0
    assert ndcg_at_k([], [], k=3) == 0.0


def test_ndcg_ignores_ranks_beyond_k() -> None:
    assert ndcg_at_k([0, 0, 5], [5, 0, 0], k=2) == 0.0


def test_precision_at_k() -> None:
    ranked = [True, False, True, False]
    assert precision_at_k(ranked, 1) == 1.0
    assert precision_at_k(ranked, 2) == 0.5
    assert precision_at_k(ranked, 4) == 0.5
    # Shorter than k: the missing ranks count as not relevant.
    assert precision_at_k(ranked, 5) == pytest.approx(2 / 5)
    assert precision_at_k([], 3) == 0.0


def test_average_precision_hand_computed() -> None:
    ranked = [True, False, True, False, True]
    # Hits at ranks 1, 3, 5: precisions 1, 2/3, 3/5.
    assert average_precision(ranked, 3) == pytest.approx((1 + 2 / 3 + 3 / 5) / 3)
    # A fourth relevant item never retrieved counts as precision 0.
    assert average_precision(ranked, 4) == pytest.approx((1 + 2 / 3 + 3 / 5) / 4)
    # AP@3: hits at 1 and 3, divided by min(3, 3).
    assert average_precision(ranked, 3, k=3) == pytest.approx((1 + 2 / 3) / 3)
    # AP@2: one hit, divided by min(3, 2).
    assert average_precision(ranked, 3, k=2) == pytest.approx(1 / 2)


def test_average_precision_edges() -> None:
    assert average_precision([False, False], 0) == 0.0
    assert average_precision([], 0, k=5) == 0.0
    assert average_precision([True, True, False], 2) == 1.0
    # Perfect at k even though more relevant items exist than k.
    assert average_precision([True, True, False], 10, k=2) == 1.0
    assert average_precision([False, True], 1) == 0.5


@pytest.mark.parametrize("k", [0, -1])
def test_k_must_be_positive(k: int) -> None:
    with pytest.raises(ValueError, match="k must be"):
        precision_at_k([True], k)
    with pytest.raises(ValueError, match="k must be"):
        ndcg_at_k([1], [1], k)
    with pytest.raises(ValueError, match="k must be"):
        average_precision([True], 1, k)


def test_inconsistent_inputs_are_rejected() -> None:
    with pytest.raises(ValueError, match="total_relevant"):
        average_precision([True, True], 1)
    with pytest.raises(ValueError, match="non-negative"):
        ndcg_at_k([-1.0], [1.0])


# -- joint metrics (all goals in one list) ---------------------------------------------------
def test_coverage_counts_each_goal_once_within_k() -> None:
    ranked = [{"a"}, {"a"}, set(), {"b", "c"}, {"d"}]
    assert coverage_at_k(ranked, {"a", "b", "c", "d", "e"}, k=3) == 1
    assert coverage_at_k(ranked, {"a", "b", "c", "d", "e"}, k=4) == 3
    assert coverage_at_k(ranked, {"a", "b"}, k=10) == 2
    assert coverage_at_k([], {"a"}, k=10) == 0


def test_alpha_dcg_hand_computed() -> None:
    # alpha 0.5: a second item for the same goal gains half; an item for two goals gains 2.
    ranked = [{"a"}, {"a"}, {"b"}, set()]
    assert alpha_dcg_at_k(ranked, 0.5, k=4) == pytest.approx(1 + 0.5 / math.log2(3) + 1 / 2)
    assert alpha_dcg_at_k([{"a", "b"}, {"a"}], 0.5, k=2) == pytest.approx(2 + 0.5 / math.log2(3))
    # alpha 0: plain DCG of binary gains counted per goal.
    assert alpha_dcg_at_k([{"a"}, {"a"}], 0.0, k=2) == pytest.approx(1 + 1 / math.log2(3))


def test_alpha_ndcg_hand_computed_against_the_greedy_ideal() -> None:
    judged = [{"a"}, {"a"}, {"b"}, set()]
    # Ideal: a, b, a -> 1 + 1/log2(3) + 0.5/2.
    ideal = 1 + 1 / math.log2(3) + 0.25
    ranked = [{"a"}, {"a"}, {"b"}, set()]
    assert alpha_ndcg_at_k(ranked, judged, 0.5, k=4) == pytest.approx(
        (1 + 0.5 / math.log2(3) + 0.5) / ideal
    )
    assert alpha_ndcg_at_k([{"a"}, {"b"}, {"a"}], judged, 0.5, k=4) == pytest.approx(1.0)
    assert alpha_ndcg_at_k([set(), set()], [set(), set()], 0.5, k=2) == 0.0


def test_alpha_ndcg_rewards_diversity_over_repetition() -> None:
    judged = [{"a"}] * 5 + [{"b"}] * 5
    repeated = [{"a"}] * 5 + [{"b"}] * 5
    mixed = [{"a"}, {"b"}] * 5
    assert alpha_ndcg_at_k(mixed, judged, 0.5, k=10) > alpha_ndcg_at_k(repeated, judged, 0.5, k=10)


def test_proportionality_hand_computed() -> None:
    # k = 6: a holds 3 (0.5), b holds 1 (1/6), one row for an unknown goal, one None.
    seats = ["a", "a", "a", "b", None, "x"]
    assert proportionality_at_k(seats, {"a": 1.0, "b": 1.0}, k=6) == pytest.approx(1 - 1 / 6)
    assert proportionality_at_k(["a", "b"] * 3, {"a": 1.0, "b": 1.0}, k=6) == pytest.approx(1.0)
    # Weights 2 : 1 -> fair shares 2/3 and 1/3; seats 1/2 and 1/2.
    assert proportionality_at_k(["a", "b"], {"a": 2.0, "b": 1.0}, k=2) == pytest.approx(
        1 - 0.5 * (1 / 6 + 1 / 6)
    )
    # Every seat to one of two goals: 1 - (0.5 + 0.5) / 2.
    assert proportionality_at_k(["a"] * 4, {"a": 1.0, "b": 1.0}, k=4) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="weights"):
        proportionality_at_k(["a"], {}, k=1)

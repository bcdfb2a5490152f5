"""Ranking metrics against hand-computed values."""

from __future__ import annotations

import math

import pytest

from focusdesk.rank.metrics import average_precision, dcg_at_k, ndcg_at_k, precision_at_k


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

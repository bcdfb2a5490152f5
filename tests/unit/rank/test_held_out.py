"""The acceptance gate's rule: a new version is rejected only when the held-out pairs show
it worse than the version in use by more than their own sampling noise."""

from __future__ import annotations

import math

import numpy as np
import pytest

from focusdesk.rank.held_out import REJECT_Z, compare_held_out, pair_losses

SHARPNESS = 20.0


def test_one_unlucky_pair_among_few_held_out_items_does_not_reject() -> None:
    """The dev benchmark's failure: a version trained on 5 votes ordered the 7 held-out
    votes perfectly; the next one, trained on 13, misordered one positive against a few
    items. Its mean loss is higher, but one item is no evidence: it is used."""
    is_pos = np.array([True] * 4 + [False] * 8)
    current = np.array([0.60, 0.62, 0.64, 0.66] + [0.50] * 8)
    new = np.array([0.70, 0.72, 0.74, 0.48] + [0.40, 0.40, 0.40, 0.40, 0.40, 0.40, 0.50, 0.52])
    judged = compare_held_out(current, new, is_pos, np.ones(12), SHARPNESS)
    # The old rule (new loss below the current one, or rejected) would reject it.
    assert judged.loss_new > judged.loss_current
    assert judged.accuracy_new < judged.accuracy_current == 1.0
    assert judged.accepted
    assert judged.loss_new - judged.loss_current < REJECT_Z * judged.standard_error


def test_a_version_that_orders_many_held_out_items_worse_is_rejected() -> None:
    """Every held-out positive ranked below the negatives it used to beat: rejected."""
    rng = np.random.default_rng(3)
    is_pos = np.array([True] * 10 + [False] * 30)
    current = np.where(is_pos, 0.7, 0.4) + rng.normal(0, 0.05, 40)
    new = np.where(is_pos, 0.45, 0.5) + rng.normal(0, 0.05, 40)
    judged = compare_held_out(current, new, is_pos, np.ones(40), SHARPNESS)
    assert judged.loss_new - judged.loss_current > REJECT_Z * judged.standard_error
    assert not judged.accepted


def test_a_better_version_is_used() -> None:
    is_pos = np.array([True] * 3 + [False] * 5)
    current = np.array([0.5, 0.4, 0.3, 0.45, 0.35, 0.2, 0.1, 0.0])
    new = np.array([0.9, 0.8, 0.7, 0.3, 0.2, 0.1, 0.0, 0.0])
    judged = compare_held_out(current, new, is_pos, np.ones(8), SHARPNESS)
    assert judged.loss_new < judged.loss_current
    assert judged.accuracy_new == 1.0
    assert judged.accepted


def test_one_held_out_positive_cannot_tell_and_none_cannot_judge() -> None:
    """With a single relevant item held out, its spread is unknown: no rejection on it.
    With no relevant item held out there is nothing to judge the new version on."""
    is_pos = np.array([True, False, False, False])
    judged = compare_held_out(
        np.array([0.9, 0.1, 0.1, 0.1]), np.array([0.1, 0.9, 0.9, 0.9]), is_pos, np.ones(4), 20.0
    )
    assert judged.standard_error == math.inf
    assert judged.accepted
    nothing = compare_held_out(np.zeros(3), np.ones(3), np.zeros(3, bool), np.ones(3), 20.0)
    assert math.isnan(nothing.loss_new)
    assert not nothing.accepted


def test_losses_weigh_each_pair_by_its_two_items() -> None:
    is_pos = np.array([True, True, False, False])
    score = np.array([0.6, 0.2, 0.4, 0.1])
    weight = np.array([1.0, 0.5, 1.0, 0.25])
    judged = compare_held_out(score, score, is_pos, weight, SHARPNESS)
    losses, right = pair_losses(score, is_pos, SHARPNESS)
    pw = np.outer(weight[is_pos], weight[~is_pos])
    assert judged.loss_new == pytest.approx(float((pw * losses).sum() / pw.sum()))
    assert judged.accuracy_new == pytest.approx((1.0 + 0.25 + 0.5 * 0.25) / pw.sum())
    assert right.tolist() == [[1.0, 1.0], [0.0, 1.0]]
    assert judged.loss_new == judged.loss_current
    assert judged.accepted  # the same scores: no evidence against it


@pytest.mark.parametrize("weighted", [False, True])
def test_the_standard_error_is_the_spread_of_the_difference_over_resampled_items(
    weighted: bool,
) -> None:
    """DeLong's standard error agrees with resampling the held-out items themselves
    (positives and negatives each with replacement), weights included."""
    rng = np.random.default_rng(7)
    n_pos, n_neg = 25, 60
    is_pos = np.array([True] * n_pos + [False] * n_neg)
    truth = np.where(is_pos, 0.3, 0.0)
    current = truth + rng.normal(0, 0.08, len(is_pos))
    new = truth + rng.normal(0, 0.08, len(is_pos))
    weight = rng.choice([1.0, 0.25, 0.6], len(is_pos)) if weighted else np.ones(len(is_pos))
    judged = compare_held_out(current, new, is_pos, weight, SHARPNESS)
    pos, neg = np.flatnonzero(is_pos), np.flatnonzero(~is_pos)
    diffs = []
    for _ in range(1500):
        take = np.concatenate([rng.choice(pos, n_pos), rng.choice(neg, n_neg)])
        again = compare_held_out(current[take], new[take], is_pos[take], weight[take], SHARPNESS)
        diffs.append(again.loss_new - again.loss_current)
    assert judged.standard_error == pytest.approx(float(np.std(diffs)), rel=0.15)

"""Proportional attention (PM-2): seats shared among goals by weight and demand."""

from __future__ import annotations

import numpy as np

from focusdesk.rank.proportional import proportional_order

BAR = 0.5


def _goals(*columns: list[float]) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(columns, np.float64).T
    logit = np.log(p) - np.log1p(-p)
    return p, logit


def test_a_goal_that_floods_the_scores_shares_the_top() -> None:
    # Goal 0: 30 items all surer than goal 1's 12 best.
    a = [0.99 - 0.001 * i for i in range(30)] + [0.01] * 12
    b = [0.01] * 30 + [0.95 - 0.01 * i for i in range(12)]
    p, logit = _goals(a, b)
    s = proportional_order(p, logit, np.asarray([1.0, 1.0]), BAR)
    assert s.seat[:10].tolist().count(1) == 5
    assert s.seat[:10].tolist().count(0) == 5
    # Within a goal, calibrated relevance orders.
    b_rows = s.order[s.seat == 1][:6]
    assert b_rows.tolist() == [30, 31, 32, 33, 34, 35]
    assert sorted(s.order.tolist()) == list(range(42))


def test_a_goal_few_items_serve_holds_fewer_seats() -> None:
    # Goal 1's demand (summed probability of its serving items) is 0.9 of the 3 at which it
    # would hold its weight's share: its one row comes after goal 0's first two.
    a = [0.99 - 0.001 * i for i in range(30)] + [0.01]
    b = [0.01] * 30 + [0.9]
    p, logit = _goals(a, b)
    s = proportional_order(p, logit, np.asarray([1.0, 1.0]), BAR)
    assert abs(s.votes[1] - 0.3) < 1e-9
    assert s.seat[:3].tolist() == [0, 0, 1]
    assert s.order[2] == 30


def test_weights_set_the_shares() -> None:
    a = [0.95] * 40 + [0.01] * 40
    b = [0.01] * 40 + [0.95] * 40
    p, logit = _goals(a, b)
    logit = logit - np.arange(80)[:, None] * 1e-3  # a strict order within each goal
    s = proportional_order(p, logit, np.asarray([2.0, 1.0]), BAR)
    top = s.seat[:30].tolist()
    assert top.count(0) == 20
    assert top.count(1) == 10


def test_a_goal_nothing_serves_gets_no_row_until_the_served_ones_are_placed() -> None:
    a = [0.9 - 0.01 * i for i in range(10)] + [0.2] * 10
    absent = [0.3] * 20  # nothing clears the bar
    p, logit = _goals(a, absent)
    s = proportional_order(p, logit, np.asarray([1.0, 1.0]), BAR)
    assert s.votes[1] == 0.0
    assert s.seat[:10].tolist() == [0] * 10
    assert s.order[:10].tolist() == list(range(10))


def test_one_goal_is_its_calibrated_order() -> None:
    rng = np.random.default_rng(0)
    p = rng.uniform(0.01, 0.99, (50, 1))
    logit = np.log(p) - np.log1p(-p)
    s = proportional_order(p, logit, np.asarray([1.0]), BAR)
    assert s.order.tolist() == np.argsort(-p[:, 0], kind="stable").tolist()


def test_an_item_serving_two_goals_counts_for_both() -> None:
    # Item 0 serves both goals; goal 0 also has item 1, goal 1 item 2.
    a = [0.99, 0.9, 0.01]
    b = [0.98, 0.01, 0.8]
    p, logit = _goals(a, b)
    s = proportional_order(p, logit, np.asarray([1.0, 1.0]), BAR)
    # Item 0 counts in both goals' demand (0.99 + 0.9 and 0.98 + 0.8, of DEMAND_FULL 3).
    np.testing.assert_allclose(s.votes, [1.89 / 3, 1.78 / 3])
    # Goal 0's quotient is higher: item 0 is shown for it; goal 1 then shows item 2.
    assert s.order.tolist() == [0, 2, 1]
    assert s.seat.tolist() == [0, 1, 0]


def test_each_round_starts_with_the_surest_item() -> None:
    # Equal votes (both goals' demand past DEMAND_FULL): each round's first seat goes to the
    # goal whose next item is surer, whatever the goals' order.
    a = [0.8 - 0.001 * i for i in range(14)] + [0.01] * 14
    b = [0.01] * 14 + [0.99 - 0.001 * i for i in range(14)]
    p, logit = _goals(a, b)
    s = proportional_order(p, logit, np.asarray([1.0, 1.0]), BAR)
    np.testing.assert_allclose(s.votes, [1.0, 1.0])
    assert s.seat[:6].tolist() == [1, 0, 1, 0, 1, 0]


def test_limit_seats_only_a_page_and_orders_the_rest_by_best_logit() -> None:
    a = [0.9, 0.8, 0.7, 0.6, 0.01]
    b = [0.01, 0.01, 0.01, 0.01, 0.4]
    p, logit = _goals(a, b)
    s = proportional_order(p, logit, np.asarray([1.0, 1.0]), BAR, limit=2)
    assert s.order.tolist() == [0, 1, 2, 3, 4]
    assert s.seat.tolist() == [0, 0, 0, 0, 1]

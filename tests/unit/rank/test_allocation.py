from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from focusdesk.rank.allocation import allocate, attention_shares


def test_shares_are_a_softmax_of_scores_over_temperature() -> None:
    shares = attention_shares([1.0, 0.5, 0.0], temperature=0.5)
    assert sum(shares) == pytest.approx(1.0)
    assert shares[0] > shares[1] > shares[2]
    assert shares[0] / shares[1] == pytest.approx(2.718281828, rel=1e-6)


def test_better_items_get_more_minutes_and_the_total_is_exact() -> None:
    plan = allocate([0.9, 0.7, 0.6, 0.1], 90, top_k=3, temperature=0.2, floor_minutes=5)
    assert [a.index for a in plan] == [0, 1, 2]
    assert sum(a.minutes for a in plan) == 90
    assert plan[0].minutes > plan[1].minutes > plan[2].minutes
    assert all(a.minutes >= 5 for a in plan)
    assert sum(a.share for a in plan) == pytest.approx(1.0)


def test_a_short_block_shows_fewer_items_so_each_gets_the_floor() -> None:
    plan = allocate([0.9, 0.8, 0.7, 0.6], 12, top_k=4, floor_minutes=5)
    assert len(plan) == 2
    assert sum(a.minutes for a in plan) == 12


def test_nothing_to_allocate() -> None:
    assert allocate([], 60, top_k=5) == []
    assert allocate([0.5], 0, top_k=5) == []


@given(
    st.lists(st.floats(-2, 2), min_size=1, max_size=40).map(lambda x: sorted(x, reverse=True)),
    st.integers(1, 600),
    st.integers(1, 30),
    st.integers(0, 15),
)
def test_invariants(scores: list[float], minutes: int, k: int, floor: int) -> None:
    plan = allocate(scores, minutes, top_k=k, temperature=0.1, floor_minutes=floor)
    assert sum(a.minutes for a in plan) == minutes
    assert 1 <= len(plan) <= min(k, len(scores))
    assert [a.index for a in plan] == list(range(len(plan)))
    if floor and minutes >= floor:
        assert all(a.minutes >= floor for a in plan)
    assert all(plan[i].minutes >= plan[i + 1].minutes - 1 for i in range(len(plan) - 1))


def test_goal_minutes_follow_weight_times_demand() -> None:
    from focusdesk.rank.allocation import goal_minutes

    shares = goal_minutes({1: 1.0, 2: 2.0, 3: 1.0}, {1: 6, 2: 3, 3: 0}, 120)
    assert shares == {1: 60, 2: 60}  # 6 x 1 = 3 x 2; goal 3 serves nothing: no minutes
    assert list(goal_minutes({1: 1.0, 2: 1.0}, {1: 1, 2: 3}, 60)) == [2, 1]  # largest first


def test_goal_minutes_lift_a_small_goal_to_the_floor() -> None:
    from focusdesk.rank.allocation import goal_minutes

    assert goal_minutes({1: 1.0, 2: 1.0}, {1: 20, 2: 1}, 60, floor_minutes=5) == {1: 55, 2: 5}
    assert goal_minutes({1: 1.0, 2: 1.0}, {1: 20, 2: 1}, 60) == {1: 57, 2: 3}


@given(
    st.lists(st.tuples(st.floats(0, 5), st.integers(0, 50)), min_size=1, max_size=8),
    st.integers(1, 300),
    st.integers(0, 15),
)
def test_goal_minutes_invariants(goals: list[tuple[float, int]], minutes: int, floor: int) -> None:
    from focusdesk.rank.allocation import goal_minutes

    weights = {n: w for n, (w, _d) in enumerate(goals)}
    demand = {n: d for n, (_w, d) in enumerate(goals)}
    shares = goal_minutes(weights, demand, minutes, floor_minutes=floor)
    served = [n for n in weights if weights[n] > 0 and demand[n] > 0]
    assert set(shares) == set(served)
    if served:
        assert sum(shares.values()) == minutes
        if floor * len(served) <= minutes:
            assert all(m >= floor for m in shares.values())

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

"""A block's minutes shared among its goals in proportion to weight x demand."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from focusdesk.focus.planning import PlanGoal, minutes_by_goal, plan_by_goal
from focusdesk.records import RankedItem

A, B, C = 1, 2, 3
GOALS = [PlanGoal(A, "Firmware", 1.0), PlanGoal(B, "Hiring", 1.0), PlanGoal(C, "Sourdough", 1.0)]


def item(item_id: int, seat: int | None, calibrated: dict[int, float]) -> RankedItem:
    return RankedItem(
        item_id=item_id,
        source_id=1,
        source_kind="notes",
        source_name="Notes",
        external_id=f"{item_id}.md",
        title=f"item {item_id}",
        author=None,
        published_at=None,
        status="new",
        score=1.0 - item_id / 100,
        goal_id=seat,
        goal_title={A: "Firmware", B: "Hiring", C: "Sourdough"}.get(seat or 0),
        evidence="",
        evidence_span=None,
        calibrated=calibrated,
    )


def plan(ranked: list[RankedItem], goals: list[PlanGoal] = GOALS, minutes: int = 90, k: int = 9):
    return plan_by_goal(ranked, goals, minutes, top_k=k, temperature=0.05, floor_minutes=5)


def mix(serving_a: int, serving_b: int, weak: int = 0) -> list[RankedItem]:
    """``serving_a`` items that serve A, then ``serving_b`` that serve B, then weak ones."""
    out = [item(n, A, {A: 0.95 - n / 100, B: 0.1}) for n in range(serving_a)]
    out += [item(100 + n, B, {A: 0.1, B: 0.9 - n / 100}) for n in range(serving_b)]
    out += [item(200 + n, A, {A: 0.3, B: 0.2}) for n in range(weak)]
    return out


def per_goal(entries: list) -> dict[int | None, int]:
    out: dict[int | None, int] = {}
    for e in entries:
        out[e.item.goal_id] = out.get(e.item.goal_id, 0) + e.minutes
    return out


def test_minutes_follow_demand_and_a_goal_nothing_serves_gets_none() -> None:
    # A is served by 6 items, B by 3, C (sourdough) by none: 60 / 30 / 0 of 90 minutes.
    entries = plan(mix(6, 3, weak=4))
    assert per_goal(entries) == {A: 60, B: 30}
    assert sum(e.minutes for e in entries) == 90
    assert sum(e.share for e in entries) == pytest.approx(1.0)
    assert all(e.item.serves(e.item.goal_id) for e in entries)  # no weak match is planned


def test_minutes_follow_weight() -> None:
    goals = [PlanGoal(A, "Firmware", 1.0), PlanGoal(B, "Hiring", 2.0)]
    assert per_goal(plan(mix(4, 4), goals, minutes=60)) == {A: 20, B: 40}


def test_within_a_goal_the_best_calibrated_item_gets_most() -> None:
    entries = [e for e in plan(mix(3, 3)) if e.item.goal_id == A]
    assert [e.item.item_id for e in entries] == [0, 1, 2]
    assert entries[0].minutes >= entries[-1].minutes


def test_an_item_serving_two_goals_counts_for_both_and_is_planned_once() -> None:
    both = item(1, A, {A: 0.9, B: 0.8})
    only_b = item(2, B, {B: 0.7})
    entries = plan([both, only_b], [PlanGoal(A, "Firmware", 1.0), PlanGoal(B, "Hiring", 1.0)], 60)
    # Demand: A 1, B 2 → 20 and 40 minutes; the shared item is listed once.
    assert per_goal(entries) == {A: 20, B: 40}
    assert sorted(e.item.item_id for e in entries) == [1, 2]


def test_an_item_planned_for_another_goal_than_its_seat_says_which() -> None:
    shared = item(1, A, {A: 0.9, B: 0.95})
    entries = plan([shared], [PlanGoal(B, "Hiring", 1.0)], 30)
    assert [(e.item.goal_id, e.item.goal_title, e.minutes) for e in entries] == [(B, "Hiring", 30)]


def test_a_short_block_keeps_the_goals_with_the_largest_shares() -> None:
    # 10 minutes, a 5-minute floor: two places, for the two biggest goals.
    ranked = mix(6, 3) + [item(300, C, {C: 0.8})]
    entries = plan(ranked, minutes=10)
    assert per_goal(entries) == {A: 5, B: 5}


def test_nothing_serves_any_goal_plans_nothing() -> None:
    assert plan(mix(0, 0, weak=5)) == []


def test_entries_keep_the_order_of_the_mix() -> None:
    ranked = [item(1, B, {B: 0.7}), item(2, A, {A: 0.9}), item(3, B, {B: 0.6})]
    entries = plan(ranked, [PlanGoal(A, "Firmware", 1.0), PlanGoal(B, "Hiring", 1.0)], 60)
    assert [e.item.item_id for e in entries] == [1, 2, 3]


def test_a_ranking_without_calibration_is_one_pool_by_score() -> None:
    ranked = [item(n, A, {}) for n in range(4)]
    entries = plan(ranked, minutes=60, k=3)
    assert [e.item.item_id for e in entries] == [0, 1, 2]
    assert sum(e.minutes for e in entries) == 60


def test_minutes_by_goal_sums_a_plan() -> None:
    assert minutes_by_goal(plan(mix(6, 3))) == [("Firmware", 60, 6), ("Hiring", 30, 3)]


@given(
    st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1), st.floats(0, 1)), min_size=1, max_size=30),
    st.lists(st.floats(0.1, 5), min_size=3, max_size=3),
    st.integers(1, 240),
    st.integers(1, 12),
)
def test_invariants(
    cals: list[tuple[float, float, float]], weights: list[float], minutes: int, k: int
) -> None:
    ranked = [item(n, A, dict(zip((A, B, C), c, strict=True))) for n, c in enumerate(cals)]
    goals = [PlanGoal(g, str(g), w) for g, w in zip((A, B, C), weights, strict=True)]
    entries = plan(ranked, goals, minutes, k)
    served = any(r.serves(g) for r in ranked for g in (A, B, C))
    assert bool(entries) == served
    if entries:
        assert sum(e.minutes for e in entries) == minutes
        assert len(entries) <= k
        assert len({e.item.item_id for e in entries}) == len(entries)
        assert all(e.item.serves(e.item.goal_id) for e in entries)

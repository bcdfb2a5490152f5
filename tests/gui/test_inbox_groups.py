"""The inbox grouped by goal: groups in the order of their best row, headers, counts."""

from __future__ import annotations

from collections.abc import Sequence

from focusdesk.records import RankedItem
from focusdesk.ui.inbox_groups import (
    NO_GOAL,
    GroupHeader,
    group_by_goal,
    group_seat,
    served_goals,
)


def item(n: int, seat: int | None, calibrated: dict[int, float] | None = None) -> RankedItem:
    return RankedItem(
        item_id=n,
        source_id=1,
        source_kind="notes",
        source_name="vault",
        external_id=f"{n}.md",
        title=f"Note {n}",
        author=None,
        published_at=None,
        status="new",
        score=1.0 - n / 100,
        goal_id=seat,
        goal_title=None,
        evidence="",
        evidence_span=None,
        calibrated=calibrated or {},
    )


def group(order: Sequence[int], items: list[RankedItem]) -> tuple[list[int], list[GroupHeader]]:
    return group_by_goal(order, [i.goal_id for i in items], [served_goals(i) for i in items])


def test_rows_go_under_the_goal_they_are_shown_for_in_the_order_of_the_mix() -> None:
    items = [item(0, 2), item(1, 1), item(2, None), item(3, 2), item(4, 1)]
    layout, headers = group(range(5), items)
    assert layout == [-1, 0, 3, -2, 1, 4, -3, 2]  # goal 2 has the best row; no goal last
    assert [(h.goal_id, h.rows) for h in headers] == [(2, 2), (1, 2), (None, 1)]


def test_the_high_attention_count_is_every_shown_row_that_serves_the_goal() -> None:
    items = [
        item(0, 1, {1: 0.9, 2: 0.7}),  # serves both: counts for both
        item(1, 1, {1: 0.3, 2: 0.1}),  # shown for goal 1, but weakly
        item(2, 2, {2: 0.8}),
    ]
    _layout, headers = group([0, 1, 2], items)
    assert [(h.goal_id, h.rows, h.high) for h in headers] == [(1, 2, 1), (2, 1, 2)]


def test_only_the_shown_rows_are_grouped_and_counted() -> None:
    items = [item(0, 1, {1: 0.9}), item(1, 1, {1: 0.9}), item(2, 2, {2: 0.9})]
    layout, headers = group([2, 1], items)
    assert layout == [-1, 2, -2, 1]
    assert [(h.goal_id, h.high) for h in headers] == [(2, 1), (1, 1)]


def test_header_text() -> None:
    assert GroupHeader(1, 12, 4).text("Firmware v2") == "Firmware v2 · 4 high-attention · 12 items"
    assert GroupHeader(None, 1, 0).text(NO_GOAL) == "Serves no goal · 1 item"


def test_a_row_that_clears_no_bar_goes_to_the_last_group_not_under_its_seat() -> None:
    items = [
        item(0, 1, {1: 0.9}),
        item(1, 1, {1: 0.2, 2: 0.1}),  # the mix's tail, seated under its best goal
        item(2, 1, {1: 0.3, 2: 0.8}),  # serves goal 2 only
        item(3, 2),  # nothing calibrated: its seat
    ]
    seats = [group_seat(i) for i in items]
    assert seats == [1, None, 2, 2]
    layout, headers = group_by_goal(range(4), seats, [served_goals(i) for i in items])
    assert layout == [-1, 0, -2, 2, 3, -3, 1]
    assert [(h.goal_id, h.rows, h.high) for h in headers] == [(1, 1, 1), (2, 2, 1), (None, 1, 0)]

"""The inbox grouped by goal: each goal's rows under a header with its high-attention count.

Plain list work (no Qt), done by the inbox model when it lays out its rows: a row goes
under the goal it is shown for (``RankedItem.goal_id``, its seat in the proportional
mix); groups come in the order of their first row, so with the default order (the mix)
the goal with the best row leads, and rows keep their order inside a group. A header's
count of high-attention items is how many shown rows serve its goal (clear its
relevance bar), wherever they are seated: an item that serves two goals counts for both.
A row that clears no goal's bar (the tail of the mix, seated under its best goal) is not
filed under a goal: it goes to a last group, "Serves no goal".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from focusdesk.records import RankedItem

NO_GOAL = "Serves no goal"
"""The name of the last group: rows that clear no goal's relevance bar."""


@dataclass(frozen=True)
class GroupHeader:
    """The header row of one goal's group."""

    goal_id: int | None
    """None: the rows no goal claims."""
    rows: int
    """How many rows the group holds."""
    high: int
    """How many shown rows serve the goal (its high-attention items)."""

    def text(self, name: str) -> str:
        """ "Firmware v2 · 4 high-attention · 12 items" under the goal's short ``name``."""
        items = f"{self.rows} item{'s' if self.rows != 1 else ''}"
        if self.goal_id is None:
            return f"{name} · {items}"
        return f"{name} · {self.high} high-attention · {items}"

    def tooltip(self, title: str) -> str:
        if self.goal_id is None:
            return f"{self.rows} items that clear no goal's relevance bar"
        return (
            f"{title}\n{self.rows} items shown for this goal; {self.high} shown items "
            "clear its relevance bar (high attention), some perhaps shown under another goal"
        )


def served_goals(item: RankedItem) -> tuple[int, ...]:
    """The goals whose relevance bar ``item`` clears (worked out once per ranking)."""
    return tuple(g for g in item.calibrated if item.serves(g))


def group_seat(item: RankedItem) -> int | None:
    """The goal group ``item``'s row goes under: the goal it is shown for when it clears
    that goal's bar (or nothing is calibrated), else the goal it serves most surely, else
    None (the last group: it serves no goal)."""
    if not item.calibrated or (item.goal_id is not None and item.serves(item.goal_id)):
        return item.goal_id
    served = served_goals(item)
    return max(served, key=lambda g: item.calibrated[g]) if served else None


def group_by_goal(
    order: Sequence[int], seats: Sequence[int | None], served: Sequence[tuple[int, ...]]
) -> tuple[list[int], list[GroupHeader]]:
    """``order`` (row indices, as shown) regrouped by goal, with headers.

    ``seats[n]`` is the goal row ``n`` is shown for, ``served[n]`` the goals it serves.
    Returns the new layout, where a header is ``-(h + 1)`` for ``headers[h]`` and is
    followed by its group's indices, and the headers.
    """
    groups: dict[int | None, list[int]] = {}
    high: dict[int, int] = {}
    for n in order:
        groups.setdefault(seats[n], []).append(n)
        for goal_id in served[n]:
            high[goal_id] = high.get(goal_id, 0) + 1
    if None in groups:  # the rows no goal claims come last
        groups[None] = groups.pop(None)
    layout: list[int] = []
    headers: list[GroupHeader] = []
    for seat, members in groups.items():
        layout.append(-(len(headers) + 1))
        headers.append(
            GroupHeader(seat, len(members), high.get(seat, 0) if seat is not None else 0)
        )
        layout.extend(members)
    return layout, headers

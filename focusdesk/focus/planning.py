"""The plan of a block: the top items for its goals and their minutes.

The same attention allocation as ``FocusDesk.focus_plan`` (pi = softmax(S/T) over
the ranked list, renormalised over the top-k, with a floor), over the items that
still want attention: done, dismissed and still-snoozed items are left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import or_, select

from focusdesk.records import PlanEntry
from focusdesk.store.db import Store
from focusdesk.store.models import Item

if TYPE_CHECKING:
    from focusdesk.app import FocusDesk


class Planner(Protocol):
    """Makes the plan of a block of ``minutes``: top ``top_k`` items for ``goal_ids``."""

    def __call__(
        self, minutes: int, top_k: int | None, goal_ids: Sequence[int], now: datetime
    ) -> list[PlanEntry]: ...


def unavailable_item_ids(store: Store, now: datetime) -> set[int]:
    """Items that do not belong in a plan: done, dismissed, or snoozed beyond ``now``."""
    with store.session() as s:
        return set(
            s.scalars(
                select(Item.id).where(
                    or_(
                        Item.status.in_(("done", "dismissed")),
                        (Item.status == "snoozed")
                        & or_(Item.snoozed_until.is_(None), Item.snoozed_until > now),
                    )
                )
            )
        )


class DeskPlanner:
    """Plans blocks with a profile's ranker and allocation settings."""

    def __init__(self, desk: FocusDesk) -> None:
        self.desk = desk

    def __call__(
        self, minutes: int, top_k: int | None, goal_ids: Sequence[int], now: datetime
    ) -> list[PlanEntry]:
        if minutes <= 0:
            return []
        return self.desk.focus_plan(
            minutes, top_k or None, goal_ids=list(goal_ids) or None, now=now
        )

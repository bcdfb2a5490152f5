"""Goals: what the user wants to get done, which every ranking is for."""

from __future__ import annotations

import logging
import re
from dataclasses import replace

from sqlalchemy import select, update

from focusdesk.errors import KnownError, NotFoundError
from focusdesk.records import GoalInfo
from focusdesk.store.db import Store
from focusdesk.store.models import Feedback, Goal

log = logging.getLogger(__name__)


class GoalsService:
    """Adds, changes, lists and removes a profile's goals."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def add(
        self, title: str, weight: float = 1.0, description: str = "", name: str | None = None
    ) -> GoalInfo:
        title = title.strip()
        if not title:
            raise KnownError("A goal needs some text.")
        _check_weight(weight)
        with self.store.session() as s:
            goal = Goal(
                title=title,
                description=description.strip(),
                weight=weight,
                active=True,
                name=_check_goal_name(name),
            )
            s.add(goal)
            s.flush()
            return _goal_info(goal)

    def update(
        self,
        goal_id: int,
        *,
        title: str | None = None,
        weight: float | None = None,
        description: str | None = None,
        active: bool | None = None,
        name: str | None = None,
    ) -> GoalInfo:
        """Change a goal; ``name=""`` clears its short name (the first clause is shown)."""
        with self.store.session() as s:
            goal = s.get(Goal, goal_id)
            if goal is None:
                raise NotFoundError(f"There is no goal with id {goal_id}.")
            before = f"{goal.title} {goal.description or ''}"
            if title is not None:
                if not title.strip():
                    raise KnownError("A goal needs some text.")
                goal.title = title.strip()
            if weight is not None:
                _check_weight(weight)
                goal.weight = weight
            if description is not None:
                goal.description = description.strip()
            if active is not None:
                goal.active = active
            if name is not None:
                goal.name = _check_goal_name(name)
            restarted = substantially_changed(before, f"{goal.title} {goal.description or ''}")
            if restarted:
                # Votes given for what the goal was no longer train what it is now; they
                # still count for the goals as a whole.
                s.execute(update(Feedback).where(Feedback.goal_id == goal_id).values(goal_id=None))
            info = _goal_info(goal)
        if restarted:
            log.info("Goal %s changed substantially: its own learning starts afresh", goal_id)
        return replace(info, learning_restarted=restarted)

    def all(self, *, include_inactive: bool = True) -> list[GoalInfo]:
        with self.store.session() as s:
            stmt = select(Goal).order_by(Goal.id)
            if not include_inactive:
                stmt = stmt.where(Goal.active.is_(True))
            return [_goal_info(g) for g in s.scalars(stmt)]

    def remove(self, goal_id: int) -> None:
        with self.store.session() as s:
            goal = s.get(Goal, goal_id)
            if goal is None:
                raise NotFoundError(f"There is no goal with id {goal_id}.")
            s.delete(goal)


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if len(w) > 2}


def substantially_changed(before: str, after: str) -> bool:
    """True when a goal's text kept less than half of its words (Jaccard < 0.5): a new
    goal in all but id, whose own learning should start afresh."""
    a, b = _words(before), _words(after)
    if not a and not b:
        return False
    return len(a & b) / len(a | b) < 0.5


def _check_weight(weight: float) -> None:
    if not (0.0 <= weight <= 10.0):
        raise KnownError(f"A goal's weight must be between 0 and 10 (got {weight}).")


def _goal_info(goal: Goal) -> GoalInfo:
    return GoalInfo(
        id=goal.id,
        title=goal.title,
        description=goal.description or "",
        weight=float(goal.weight),
        active=bool(goal.active),
        name=goal.name,
        colour=goal.colour,
    )


GOAL_NAME_CHARS = 80


def _check_goal_name(name: str | None) -> str | None:
    """A goal's short name, tidied; None (or blank) for none."""
    if name is None or not name.strip():
        return None
    name = " ".join(name.split())
    if len(name) > GOAL_NAME_CHARS:
        raise KnownError(
            f"A goal's short name can be at most {GOAL_NAME_CHARS} characters.",
            hint="The goal's full sentence goes in its title.",
        )
    return name

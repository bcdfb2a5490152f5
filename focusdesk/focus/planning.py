"""The plan of a block: the top items for its goals and their minutes.

The same attention allocation as ``FocusPlanner.plan`` over the items that still
want attention: done, dismissed and still-snoozed items are left out. With several
goals the block is shared first among the goals, in proportion to weight x demand
(how many items clear each goal's relevance bar): a goal nothing serves gets no
minutes. Each goal's minutes then go to its best items (by calibrated relevance) as
pi = softmax(./T) renormalised over them, with a floor (``rank.allocation``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import or_, select

from focusdesk.errors import KnownError
from focusdesk.rank.allocation import allocate, goal_minutes, round_to_total
from focusdesk.records import PlanEntry, RankedItem
from focusdesk.store.db import Store
from focusdesk.store.models import Item

if TYPE_CHECKING:
    from focusdesk.clock import Clock
    from focusdesk.progress import CancelToken
    from focusdesk.rank.ranker import Ranker
    from focusdesk.settings import Settings


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


@dataclass(frozen=True)
class PlanGoal:
    """A goal as a plan shares minutes among goals."""

    id: int
    title: str
    weight: float


def plan_by_goal(
    ranked: Sequence[RankedItem],
    goals: Sequence[PlanGoal],
    minutes: int,
    *,
    top_k: int,
    temperature: float,
    floor_minutes: int,
) -> list[PlanEntry]:
    """A block of ``minutes`` over ``ranked`` (best first), shared among ``goals``.

    Each goal gets minutes in proportion to weight x demand (``goal_minutes``), and as
    many of the ``top_k`` places; its places go to the items that clear its bar, best
    calibrated first, each listed once (an item serving two goals goes to the first
    goal that takes it). When the block is too short for every goal to have an item
    with the floor, the goals with the largest shares keep theirs. Entries come in the
    order of ``ranked`` (the inbox's mix), each shown for the goal its minutes are for.

    A ranking without calibration (no item has any) is planned as one pool, as before.
    """
    if minutes <= 0 or top_k <= 0 or not ranked:
        return []
    if not any(r.calibrated for r in ranked):
        plan = allocate(
            [r.score for r in ranked],
            minutes,
            top_k=top_k,
            temperature=temperature,
            floor_minutes=floor_minutes,
        )
        return [PlanEntry(item=ranked[a.index], minutes=a.minutes, share=a.share) for a in plan]
    weights = {g.id: g.weight for g in goals}
    titles = {g.id: g.title for g in goals}
    demand = {g: sum(1 for r in ranked if r.serves(g)) for g in weights}
    places = min(top_k, max(1, minutes // floor_minutes) if floor_minutes > 0 else top_k)
    chosen = list(goal_minutes(weights, demand, minutes))[:places]
    while chosen:
        shares = goal_minutes(
            {g: weights[g] for g in chosen}, demand, minutes, floor_minutes=floor_minutes
        )
        chosen = [g for g in shares if shares[g] > 0]
        need = [weights[g] * demand[g] for g in chosen]
        extra = round_to_total(
            [(places - len(chosen)) * n / sum(need) for n in need], places - len(chosen)
        )
        quota = {g: 1 + more for g, more in zip(chosen, extra, strict=True)}
        picks = _pick(ranked, chosen, quota)
        if all(picks.values()):
            break
        chosen = [g for g in chosen if picks[g]]
    else:
        return []
    position = {r.item_id: n for n, r in enumerate(ranked)}
    entries: list[tuple[int, PlanEntry]] = []
    for g in chosen:
        items = sorted(picks[g], key=_best_for(g))
        plan = allocate(
            [r.calibrated[g] for r in items],
            shares[g],
            top_k=len(items),
            temperature=temperature,
            floor_minutes=floor_minutes,
        )
        for a in plan:
            item = items[a.index]
            if item.goal_id != g:
                item = replace(item, goal_id=g, goal_title=titles[g])
            share = a.share * shares[g] / minutes
            entries.append((position[item.item_id], PlanEntry(item, a.minutes, share)))
    return [e for _n, e in sorted(entries, key=lambda t: t[0])]


def _pick(
    ranked: Sequence[RankedItem], goals: Sequence[int], quota: dict[int, int]
) -> dict[int, list[RankedItem]]:
    """Each goal's items, taken in turns (largest share first) so that no goal's first
    place goes to another goal's second item. A goal prefers the items the ranker
    seated with it, then the best calibrated; an item is taken once."""
    queues = {
        g: iter(
            sorted(
                sorted((r for r in ranked if r.serves(g)), key=_best_for(g)),
                key=_seated_with(g),
            )
        )
        for g in goals
    }
    picks: dict[int, list[RankedItem]] = {g: [] for g in goals}
    used: set[int] = set()
    turning = True
    while turning:
        turning = False
        for g in goals:
            if len(picks[g]) >= quota[g]:
                continue
            for r in queues[g]:
                if r.item_id not in used:
                    picks[g].append(r)
                    used.add(r.item_id)
                    turning = True
                    break
    return picks


def _best_for(goal_id: int) -> Callable[[RankedItem], float]:
    """A sort key: the item's calibrated relevance to ``goal_id``, best first."""
    return lambda r: -r.calibrated[goal_id]


def _seated_with(goal_id: int) -> Callable[[RankedItem], bool]:
    """A sort key: the items the ranker seated with ``goal_id`` first."""
    return lambda r: r.goal_id != goal_id


def minutes_by_goal(plan: Sequence[PlanEntry]) -> list[tuple[str, int, int]]:
    """``(goal title, minutes, items)`` of each goal of a plan, most minutes first."""
    minutes: dict[str, int] = {}
    items: dict[str, int] = {}
    for e in plan:
        title = e.item.goal_title or "(no goal)"
        minutes[title] = minutes.get(title, 0) + e.minutes
        items[title] = items.get(title, 0) + 1
    return sorted(((t, minutes[t], items[t]) for t in minutes), key=lambda r: -r[1])


class FocusPlanner:
    """Plans a focus block over the ranking: which items, and how many minutes each."""

    def __init__(
        self, store: Store, settings: Settings, clock: Clock, ranker: Callable[[], Ranker]
    ) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self._ranker = ranker

    def plan(
        self,
        minutes: int,
        top: int | None = None,
        *,
        goal_ids: Sequence[int] | None = None,
        cancel: CancelToken | None = None,
        now: datetime | None = None,
    ) -> list[PlanEntry]:
        """The top items for a focus block of ``minutes`` and each one's minutes.

        Items done, dismissed or snoozed beyond ``now`` are left out, as a block would.

        The minutes are shared among the goals in proportion to weight x demand (how
        many items serve each), then within a goal as pi = softmax(. / T) (T = the
        allocation temperature setting) over its top items, with a floor per item
        (``focus.planning.plan_by_goal``).
        """
        if minutes <= 0:
            raise KnownError("A focus block needs at least one minute.")
        k = top if top is not None else self.settings.focus_top_k
        ranker = self._ranker()
        ranked = ranker.rank(None, goal_ids=goal_ids, cancel=cancel)
        skip = unavailable_item_ids(self.store, now or self.clock.now())
        ranked = [r for r in ranked if r.item_id not in skip]
        goals = [PlanGoal(g.id, g.title, g.weight) for g in ranker.active_goals(goal_ids)]
        return plan_by_goal(
            ranked,
            goals,
            minutes,
            top_k=k,
            temperature=self.settings.allocation_temperature,
            floor_minutes=self.settings.focus_floor_minutes,
        )

"""Review assembly: a period's items grouped by goal, with stories, summaries and stats."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Protocol

import numpy as np
from sqlalchemy import select

from focusdesk.errors import KnownError
from focusdesk.records import RankedItem
from focusdesk.review.stats import (
    GoalFocus,
    SourceSignal,
    focus_by_goal,
    mute_suggestions,
    signal_to_noise,
)
from focusdesk.review.summaries import Summariser, Summary
from focusdesk.store.models import Feedback, Item, Source

if TYPE_CHECKING:
    from focusdesk.clock import Clock
    from focusdesk.goals import GoalsService
    from focusdesk.items import ItemsService
    from focusdesk.paths import Paths
    from focusdesk.progress import CancelToken
    from focusdesk.rank.ranker import Ranker
    from focusdesk.rank.service import RankingService
    from focusdesk.store.db import Store

STATE_FILE = "review_state.json"
SUMMARY_CACHE = "review_summaries.json"
PER_GOAL = 10
"""Entries listed per goal."""
HIGH_SCORE = 0.5
"""A score at or above this counts as ranking high for signal-to-noise."""
_RELATIVE = re.compile(r"^\s*(\d+)\s*([hdw])\s*$", re.IGNORECASE)
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


class ReviewDesk(Protocol):
    """What a review reads of a profile (``focusdesk.app.FocusDesk`` is one)."""

    @property
    def paths(self) -> Paths: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def store(self) -> Store: ...

    @property
    def ranker(self) -> Ranker: ...

    @property
    def ranking(self) -> RankingService: ...

    @property
    def items(self) -> ItemsService: ...

    @property
    def goals(self) -> GoalsService: ...


@dataclass
class StoryEntry:
    """One entry of the review: an item (or a story of near-duplicates) with its summary."""

    item_id: int
    title: str
    source_name: str
    score: float
    status: str
    goal_id: int | None
    goal_title: str | None
    evidence: str
    summary: Summary
    published_at: datetime | None
    story_size: int = 1
    story_item_ids: tuple[int, ...] = ()
    story_sources: tuple[str, ...] = ()


@dataclass
class GoalGroup:
    """A goal and its entries, best first."""

    goal_id: int | None
    goal_title: str
    entries: list[StoryEntry] = field(default_factory=list)
    total: int = 0
    """Entries of this goal in the period (``entries`` holds at most ``per_goal``)."""
    weak: int = 0
    """Items shown for this goal that did not clear its relevance bar (not listed)."""

    @property
    def weak_text(self) -> str:
        """ "12 more matched this goal weakly" ('' when none did)."""
        if not self.weak:
            return ""
        more = "more " if self.total else ""
        return f"{self.weak} {more}matched this goal weakly"


@dataclass
class Review:
    """Everything a review shows for one period."""

    since: datetime
    until: datetime
    groups: list[GoalGroup]
    items_in_period: int
    done: list[tuple[int, str]]
    dismissed: list[tuple[int, str]]
    open_count: int
    focus: list[GoalFocus]
    sources: list[SourceSignal]
    suggestions: list[SourceSignal]

    @property
    def entries(self) -> list[StoryEntry]:
        """All entries, goal groups in order."""
        return [e for g in self.groups for e in g.entries]

    def ranked_entries(self) -> list[StoryEntry]:
        """All entries across goals, best score first."""
        return sorted(self.entries, key=lambda e: -e.score)

    @property
    def focus_planned(self) -> float:
        return sum(g.planned_minutes for g in self.focus)

    @property
    def focus_actual(self) -> float:
        return sum(g.actual_minutes for g in self.focus)


def _aware(value: datetime) -> datetime:
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def parse_when(text: str, now: datetime, *, end: bool = False) -> datetime:
    """``1d``, ``12h``, ``2w`` (before ``now``) or an ISO date/time (local time if naive).

    A bare date as an end (``--until``) means the end of that day.
    """
    m = _RELATIVE.match(text)
    if m:
        return now - int(m.group(1)) * _UNITS[m.group(2).lower()]
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise KnownError(
            f"{text!r} is not a period: use 1d, 7d, 12h, 2w or a date like 2026-11-20."
        ) from None
    if end and len(text.strip()) == 10:
        value = datetime.combine(value.date() + timedelta(days=1), time())
    if value.tzinfo is None:
        value = value.astimezone()
    return _aware(value)


def last_review_at(fd: ReviewDesk) -> datetime | None:
    """When the last review was made (None: never)."""
    try:
        data = json.loads((fd.paths.data_dir / STATE_FILE).read_text("utf-8"))
        return _aware(datetime.fromisoformat(data["last_review_at"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def mark_reviewed(fd: ReviewDesk, when: datetime) -> None:
    """Remember ``when`` as the last review time (for ``--since last``)."""
    path = fd.paths.data_dir / STATE_FILE
    path.write_text(json.dumps({"last_review_at": _aware(when).isoformat()}), "utf-8")


def resolve_period(
    fd: ReviewDesk, since: str | None, until: str | None, now: datetime | None = None
) -> tuple[datetime, datetime]:
    """The period: ``since`` (default: since the last review, else one day) to ``until``.

    With no review before ``until`` (or none at all), "since the last review" is one day.
    """
    now = _aware(now or fd.clock.now())
    end = parse_when(until, now, end=True) if until else now
    if since is None or since.strip().lower() in ("", "last"):
        last = last_review_at(fd)
        start = last if last is not None and last < end else end - timedelta(days=1)
    else:
        start = parse_when(since, end)
    if start >= end:
        raise KnownError("The review period is empty: --since must be before --until.")
    return start, end


def assemble_review(
    fd: ReviewDesk,
    since: datetime,
    until: datetime,
    *,
    goal_ids: list[int] | None = None,
    per_goal: int = PER_GOAL,
    cancel: CancelToken | None = None,
) -> Review:
    """Build the review of items received or published in [since, until)."""
    since, until = _aware(since), _aware(until)
    with fd.store.session() as s:
        rows = s.execute(
            select(
                Item.id,
                Item.title,
                Item.status,
                Item.source_id,
                Source.name,
                Item.received_at,
                Item.published_at,
            )
            .join(Source, Source.id == Item.source_id)
            .where(Item.vanished.is_(False))
        ).all()
        opened_or_up = set(
            s.scalars(select(Feedback.item_id).where(Feedback.signal.in_(("open", "up")))).all()
        )
    in_period: dict[int, tuple[str, str, int, str]] = {}
    for r in rows:
        times = [t for t in (r.received_at, r.published_at) if t is not None]
        if any(since <= t < until for t in times):
            in_period[r.id] = (r.title, r.status, r.source_id, r.name)
    source_of = {r.id: r.name for r in rows}

    ranked: list[RankedItem] = []
    has_goals = bool(fd.ranker.active_goals(goal_ids))
    if has_goals and in_period:
        # Exactly the period's items, however large the profile (no candidate pass).
        ranked = fd.ranking.rank(None, goal_ids=goal_ids, item_ids=set(in_period), cancel=cancel)

    # Stories and conversations: a head stands for its members; it is in the period when
    # any member is.
    head_of: dict[int, RankedItem] = {}
    for head in ranked:
        for iid in (head.item_id, *head.story_item_ids, *head.thread_item_ids):
            head_of[iid] = head
    scores = {iid: r.score for iid, r in head_of.items()}

    summariser = Summariser(fd.ranker, fd.paths.cache_dir / SUMMARY_CACHE)
    titles = {g.id: g.title for g in fd.ranker.active_goals(goal_ids)} if ranked else {}
    groups: dict[int | None, GoalGroup] = {}
    for rk in ranked:
        members = (rk.item_id, *rk.story_item_ids, *rk.thread_item_ids)
        if not any(m in in_period for m in members):
            continue
        if cancel is not None:
            cancel.raise_if_cancelled()
        goal_id, clears = filed_under(rk)
        title = titles.get(goal_id, rk.goal_title) if goal_id is not None else None
        group = groups.setdefault(goal_id, GoalGroup(goal_id, title or "(no goal)"))
        if not clears:
            group.weak += 1
            continue
        group.total += 1
        if len(group.entries) >= per_goal:
            continue
        detail = fd.items.get(rk.item_id)
        summary = summariser.summarise(rk.item_id, detail.text, rk.goal_id, rk.evidence_span)
        sources = tuple(dict.fromkeys(source_of.get(m, "?") for m in members))
        group.entries.append(
            StoryEntry(
                item_id=rk.item_id,
                title=rk.title or "(untitled)",
                source_name=rk.source_name,
                score=rk.score,
                status=rk.status,
                goal_id=goal_id,
                goal_title=title,
                evidence=rk.evidence,
                summary=summary,
                published_at=rk.published_at,
                story_size=rk.story_size,
                story_item_ids=tuple(rk.story_item_ids),
                story_sources=sources,
            )
        )
    summariser.save()
    ordered = sorted(
        groups.values(),
        key=lambda g: -(g.entries[0].score if g.entries else float("-inf")),
    )

    # Signal-to-noise: ranked high (top quartile of the period, or above a threshold),
    # opened, voted up or done.
    period_scores = np.asarray([scores[i] for i in in_period if i in scores], np.float64)
    quartile = float(np.quantile(period_scores, 0.75)) if period_scores.size >= 4 else np.inf
    # A source that brings signal for the highest-weighted goal is never suggested for
    # muting, however noisy it is otherwise: muting it would starve what matters most.
    top_goal = _top_goal(fd, goal_ids)
    feeds_top: set[int] = set()
    sn_rows = []
    for iid, (_title, status, sid, name) in in_period.items():
        score = scores.get(iid)
        high = score is not None and (score >= quartile or score >= HIGH_SCORE)
        good = high or iid in opened_or_up or status == "done"
        sn_rows.append((sid, name, good))
        best = head_of.get(iid)
        if good and top_goal is not None and best is not None and best.goal_id == top_goal:
            feeds_top.add(sid)
    signals = signal_to_noise(sn_rows)

    by_status: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for iid, (title, status, _sid, _name) in in_period.items():
        by_status[status].append((iid, title or "(untitled)"))
    open_count = sum(len(v) for k, v in by_status.items() if k not in ("done", "dismissed"))
    return Review(
        since=since,
        until=until,
        groups=ordered,
        items_in_period=len(in_period),
        done=sorted(by_status["done"]),
        dismissed=sorted(by_status["dismissed"]),
        open_count=open_count,
        focus=focus_by_goal(fd.store, since, until),
        sources=signals,
        suggestions=mute_suggestions(signals, keep=feeds_top),
    )


def filed_under(item: RankedItem) -> tuple[int | None, bool]:
    """The goal the review files ``item`` under, and whether it clears that goal's bar.

    Under the goal it is shown for when it serves that goal, else under the goal it
    serves best; an item that serves none is only counted, under the goal it is shown
    for ("12 more matched this goal weakly"). An item ranked without calibration (no
    calibrated relevance at all) is filed under its best goal, as before calibration.
    """
    if not item.calibrated:
        return item.goal_id, True
    if item.goal_id is not None and item.serves(item.goal_id):
        return item.goal_id, True
    served = [g for g in item.calibrated if item.serves(g)]
    if served:
        return max(served, key=lambda g: (item.calibrated[g], -g)), True
    return item.goal_id, False


def _top_goal(fd: ReviewDesk, goal_ids: list[int] | None) -> int | None:
    """The active goal with the highest weight (of ``goal_ids`` when given)."""
    goals = [
        g
        for g in fd.goals.all(include_inactive=False)
        if g.weight > 0 and (goal_ids is None or g.id in goal_ids)
    ]
    return max(goals, key=lambda g: (g.weight, -g.id)).id if goals else None


def review_period(
    fd: ReviewDesk,
    since: str | None = None,
    until: str | None = None,
    *,
    goal_ids: list[int] | None = None,
    per_goal: int = PER_GOAL,
    mark: bool = True,
    cancel: CancelToken | None = None,
) -> Review:
    """Resolve the period, assemble the review and (``mark``) remember it as the last one."""
    start, end = resolve_period(fd, since, until)
    review = assemble_review(fd, start, end, goal_ids=goal_ids, per_goal=per_goal, cancel=cancel)
    if mark:
        mark_reviewed(fd, end)
    return review

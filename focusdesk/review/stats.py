"""Review statistics: focus minutes per goal (planned vs actual) and sources' signal-to-noise."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from focusdesk.store.db import Store
from focusdesk.store.models import FocusSession, FocusSessionItem

SN_MIN_ITEMS = 5
"""A source needs this many items in the period before it is suggested for muting."""
SN_MUTE_BELOW = 0.2
"""Signal-to-noise under which a source with enough items is suggested for muting."""


@dataclass
class GoalFocus:
    """Focus minutes spent on one goal in the period."""

    goal_id: int | None
    goal_title: str
    planned_minutes: float = 0.0
    actual_minutes: float = 0.0
    per_day: dict[str, float] = field(default_factory=dict)
    """Actual minutes by local date (ISO) of the session's start."""
    planned_per_day: dict[str, float] = field(default_factory=dict)
    """Planned minutes by local date (ISO) of the session's start."""


@dataclass
class SourceSignal:
    """How much of a source's output in the period deserved attention."""

    source_id: int
    source_name: str
    items: int
    signal: int
    """Items that ranked high, were opened, voted up or done."""

    @property
    def ratio(self) -> float:
        return self.signal / self.items if self.items else 0.0


def focus_by_goal(store: Store, since: datetime, until: datetime) -> list[GoalFocus]:
    """Planned and actual focus minutes per goal from the sessions started in the period."""
    totals: dict[int | None, GoalFocus] = {}
    with store.session() as s:
        sessions = s.scalars(
            select(FocusSession).where(
                FocusSession.planned_start >= since, FocusSession.planned_start < until
            )
        ).all()
        for sess in sessions:
            started = (sess.actual_start or sess.planned_start).astimezone()
            day = started.date().isoformat()
            items: list[FocusSessionItem] = list(sess.items)
            for it in items:
                key = it.goal_id
                title = it.goal_title or ("(no goal)" if key is None else f"goal {key}")
                entry = totals.setdefault(key, GoalFocus(key, title))
                entry.planned_minutes += float(it.planned_minutes)
                entry.planned_per_day[day] = entry.planned_per_day.get(day, 0.0) + float(
                    it.planned_minutes
                )
                minutes = float(it.actual_seconds) / 60.0
                entry.actual_minutes += minutes
                if minutes:
                    entry.per_day[day] = entry.per_day.get(day, 0.0) + minutes
    return sorted(totals.values(), key=lambda g: (-g.actual_minutes, -g.planned_minutes))


def signal_to_noise(
    rows: list[tuple[int, str, bool]],
) -> list[SourceSignal]:
    """Per source, from (source id, source name, is signal) rows: items and signal count.

    Worst ratio first.
    """
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    names: dict[int, str] = {}
    for sid, name, good in rows:
        counts[sid][0] += 1
        counts[sid][1] += int(good)
        names[sid] = name
    out = [SourceSignal(sid, names[sid], c[0], c[1]) for sid, c in counts.items()]
    return sorted(out, key=lambda x: (x.ratio, -x.items, x.source_id))


def mute_suggestions(signals: list[SourceSignal], keep: Collection[int] = ()) -> list[SourceSignal]:
    """Sources noisy enough to mute or unsubscribe from: low S/N with enough items.

    Sources in ``keep`` (those that feed the highest-weighted goal) are never suggested.
    """
    return [
        x
        for x in signals
        if x.items >= SN_MIN_ITEMS and x.ratio < SN_MUTE_BELOW and x.source_id not in keep
    ]

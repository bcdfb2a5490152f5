"""Plain records the focus services hand to the CLI, the headless runner and the UI."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from focusdesk.focus.due import Occurrence


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass(frozen=True)
class BlockInfo:
    """A recurring focus block as listed by `focus blocks list`."""

    id: int
    title: str
    rrule: str
    start_time: str
    duration_minutes: int
    goal_ids: tuple[int, ...]
    top_k: int | None
    enabled: bool
    timezone: str
    starts_on: str
    next_start: datetime | None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "rrule": self.rrule,
            "start_time": self.start_time,
            "duration_minutes": self.duration_minutes,
            "goal_ids": list(self.goal_ids),
            "top_k": self.top_k,
            "enabled": self.enabled,
            "timezone": self.timezone,
            "starts_on": self.starts_on,
            "next_start": _iso(self.next_start),
        }


@dataclass(frozen=True)
class ScheduleInfo:
    """A periodic sync of one source, or the daily review."""

    id: int
    kind: str
    source_id: int | None
    interval_minutes: int | None
    time_of_day: str | None
    timezone: str | None
    enabled: bool
    last_run_at: datetime | None
    next_run: datetime | None


@dataclass(frozen=True)
class SessionItemView:
    """One planned item of a session, as of the snapshot."""

    position: int
    item_id: int | None
    title: str
    source_name: str
    goal_id: int | None
    goal_title: str | None
    planned_minutes: int
    actual_seconds: float
    outcome: str
    note: str
    evidence: str = ""
    score: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "item_id": self.item_id,
            "title": self.title,
            "source": self.source_name,
            "goal_id": self.goal_id,
            "goal": self.goal_title,
            "planned_minutes": self.planned_minutes,
            "actual_minutes": round(self.actual_seconds / 60, 2),
            "outcome": self.outcome,
            "note": self.note,
        }


@dataclass(frozen=True)
class SessionView:
    """A focus session at one moment; the live numbers are computed for any ``now``."""

    id: int
    block_id: int | None
    title: str
    goal_ids: tuple[int, ...]
    state: str
    planned_start: datetime
    planned_end: datetime
    actual_start: datetime | None
    actual_end: datetime | None
    paused_seconds: float
    paused_at: datetime | None
    extended_minutes: int
    away_seconds: float
    current_item_id: int | None
    item_clock_at: datetime | None
    items: tuple[SessionItemView, ...]
    notes: str
    held_item_ids: tuple[int, ...]
    end_reason: str | None

    @property
    def active(self) -> bool:
        """Running or paused (not ended, not missed)."""
        return self.state in ("running", "paused")

    @property
    def late_by(self) -> timedelta:
        """How late it started after its planned start (zero when on time or on demand)."""
        if self.actual_start is None:
            return timedelta(0)
        return max(timedelta(0), self.actual_start - self.planned_start)

    def pause_seconds(self, now: datetime) -> float:
        """All paused time so far, the pause in progress included."""
        current = (now - self.paused_at).total_seconds() if self.paused_at is not None else 0.0
        return self.paused_seconds + max(0.0, current)

    def end_at(self, now: datetime) -> datetime:
        """When the block ends: planned end + extensions + pauses."""
        if self.actual_end is not None:
            return self.actual_end
        return (
            self.planned_end
            + timedelta(minutes=self.extended_minutes)
            + timedelta(seconds=self.pause_seconds(now))
        )

    def remaining_seconds(self, now: datetime) -> float:
        return max(0.0, (self.end_at(now) - now).total_seconds())

    def item(self, item_id: int | None) -> SessionItemView | None:
        return next((i for i in self.items if i.item_id == item_id), None)

    @property
    def current_item(self) -> SessionItemView | None:
        return self.item(self.current_item_id)

    def item_seconds(self, item_id: int | None, now: datetime) -> float:
        """Seconds spent on an item, the current stretch on the current item included."""
        item = self.item(item_id)
        if item is None:
            return 0.0
        spent = item.actual_seconds
        if (
            self.state == "running"
            and item_id == self.current_item_id
            and self.item_clock_at is not None
        ):
            spent += max(0.0, (now - self.item_clock_at).total_seconds())
        return spent

    def to_json(self, now: datetime) -> dict[str, Any]:
        """As JSON, the live numbers (time left, minutes spent) as of ``now``."""
        return {
            "id": self.id,
            "block_id": self.block_id,
            "title": self.title,
            "goal_ids": list(self.goal_ids),
            "state": self.state,
            "planned_start": _iso(self.planned_start),
            "planned_end": _iso(self.planned_end),
            "actual_start": _iso(self.actual_start),
            "actual_end": _iso(self.actual_end),
            "ends_at": _iso(self.end_at(now)) if self.state != "missed" else None,
            "remaining_seconds": round(self.remaining_seconds(now)) if self.active else 0,
            "paused_seconds": round(self.pause_seconds(now)),
            "extended_minutes": self.extended_minutes,
            "current_item_id": self.current_item_id,
            "items": [
                {**i.to_json(), "actual_minutes": round(self.item_seconds(i.item_id, now) / 60, 2)}
                for i in self.items
            ],
            "notes": self.notes,
            "held_item_ids": list(self.held_item_ids),
            "end_reason": self.end_reason,
        }


@dataclass(frozen=True)
class HeldItem:
    """An item that arrived during a block: ranked as usual, announced after it."""

    item_id: int
    title: str
    source_name: str
    received_at: datetime


@dataclass(frozen=True)
class GoalTotals:
    """Planned and spent minutes of a session for one goal."""

    goal_id: int | None
    goal_title: str
    planned_minutes: int
    actual_minutes: float
    done: int
    items: int


@dataclass(frozen=True)
class SessionSummary:
    """The end-of-block summary: planned vs actual per item and per goal, outcomes, held items."""

    session: SessionView
    planned_minutes: int
    actual_minutes: float
    goals: tuple[GoalTotals, ...]
    outcomes: dict[str, int]
    held: tuple[HeldItem, ...]

    def lines(self) -> list[str]:
        """The summary as plain text lines (CLI and headless output)."""
        s = self.session
        out = [
            f"Focus block {s.title!r} ended ({(s.end_reason or 'ended').replace('_', ' ')}): "
            f"{self.actual_minutes:.0f} of {self.planned_minutes} planned minutes.",
        ]
        counts = ", ".join(f"{n} {k}" for k, n in self.outcomes.items() if n)
        if counts:
            out.append(f"Items: {counts}.")
        for i in s.items:
            note = f" — {i.note}" if i.note else ""
            out.append(
                f"  {i.outcome:<8} {i.planned_minutes:>3} min planned, "
                f"{i.actual_seconds / 60:>5.1f} spent  {i.title[:60]}{note}"
            )
        for g in self.goals:
            out.append(
                f"  goal {g.goal_title[:50]}: {g.actual_minutes:.0f} of {g.planned_minutes} min"
            )
        if self.held:
            out.append(f"{len(self.held)} new item(s) arrived during the block:")
            out.extend(f"  [{h.item_id}] {h.title[:70]} ({h.source_name})" for h in self.held)
        return out


@dataclass(frozen=True)
class Overlap:
    """A block occurrence that overlaps an imported busy time (a meeting)."""

    block_id: int | None
    block_title: str
    start: datetime
    end: datetime
    busy_summary: str
    busy_start: datetime
    busy_end: datetime

    def describe(self) -> str:
        when = self.start.astimezone().strftime("%a %Y-%m-%d %H:%M")
        busy = (
            f"{self.busy_start.astimezone():%H:%M}–{self.busy_end.astimezone():%H:%M}"
            if self.busy_start.date() == self.busy_end.date()
            else f"{self.busy_start.astimezone():%Y-%m-%d %H:%M}–"
            f"{self.busy_end.astimezone():%Y-%m-%d %H:%M}"
        )
        return f"{self.block_title!r} on {when} overlaps {self.busy_summary!r} ({busy})"


@dataclass(frozen=True)
class DueBlock:
    """A block occurrence that should start now; starting it plans it (ranking: slow)."""

    block_id: int
    title: str
    occurrence: Occurrence
    handled_until: datetime
    """The watermark it was decided against (starting it moves it, once)."""


EventKind = Literal["started", "resumed", "ended", "missed"]


@dataclass(frozen=True)
class FocusEvent:
    """Something that happened to a session: the UI and the headless runner react to these."""

    kind: EventKind
    session: SessionView
    summary: SessionSummary | None = None
    late: bool = False


@dataclass
class TickResult:
    """What one evaluation did (events) and what it left to start (slow: planning)."""

    events: list[FocusEvent] = field(default_factory=list)
    due: list[DueBlock] = field(default_factory=list)
    syncs_due: list[ScheduleInfo] = field(default_factory=list)
    review_due: ScheduleInfo | None = None

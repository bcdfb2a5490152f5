"""Focus sessions: the state machine, persisted after every step so a restart resumes.

States: running ⇄ paused → ended; an occurrence that never started is ``missed``.
At most one session is running or paused at a time. Every step is written to the
store at once, so quitting the app (or a crash) mid-block loses nothing: the next
process finds the session, counts the time it was away (``last_seen_at`` is the
heartbeat) as neither work nor pause, and carries on. The block's countdown keeps
to the wall clock, like a calendar entry; a pause stops it.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from focusdesk.clock import Clock
from focusdesk.errors import KnownError, NotFoundError
from focusdesk.focus.due import Occurrence
from focusdesk.focus.records import (
    GoalTotals,
    HeldItem,
    SessionItemView,
    SessionSummary,
    SessionView,
)
from focusdesk.records import PlanEntry
from focusdesk.store.db import Store
from focusdesk.store.models import (
    FOCUS_ITEM_OUTCOMES,
    FocusSession,
    FocusSessionItem,
    Item,
)

log = logging.getLogger(__name__)

ACTIVE = ("running", "paused")
MAX_PAUSE = timedelta(hours=4)
"""A block paused longer than this ends (at the moment it was paused)."""
MAX_EXTEND_MINUTES = 240


class ItemActions(Protocol):
    """What an item outcome does to the item itself (``FocusDesk.triage``)."""

    def done(self, item_id: int, goal_id: int | None = None) -> object: ...

    def snooze(self, item_id: int, until: datetime, goal_id: int | None = None) -> object: ...

    def restore(self, item_id: int) -> object: ...


SnoozeUntil = Callable[[datetime], datetime]


class SessionRunner:
    """Starts, steers and ends focus sessions in the store."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        item_actions: ItemActions | None = None,
        snooze_until: SnoozeUntil | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.item_actions = item_actions
        self.snooze_until = snooze_until or (lambda now: now + timedelta(days=1))

    # -- reading --------------------------------------------------------------------------
    def active(self) -> SessionView | None:
        """The running or paused session, if any."""
        with self.store.session() as s:
            row = active_row(s)
            return view_of(row) if row is not None else None

    def get(self, session_id: int) -> SessionView:
        with self.store.session() as s:
            return view_of(_row(s, session_id))

    def recent(self, *, states: Sequence[str] | None = None, limit: int = 20) -> list[SessionView]:
        """Newest first (by planned start)."""
        with self.store.session() as s:
            stmt = select(FocusSession).order_by(FocusSession.planned_start.desc()).limit(limit)
            if states:
                stmt = stmt.where(FocusSession.state.in_(list(states)))
            return [view_of(r) for r in s.scalars(stmt)]

    def unnotified_missed(self) -> list[SessionView]:
        with self.store.session() as s:
            rows = s.scalars(
                select(FocusSession)
                .where(FocusSession.state == "missed", FocusSession.notified.is_(False))
                .order_by(FocusSession.planned_start)
            )
            return [view_of(r) for r in rows]

    def mark_notified(self, session_ids: Sequence[int]) -> None:
        with self.store.session() as s:
            for row in s.scalars(select(FocusSession).where(FocusSession.id.in_(session_ids))):
                row.notified = True

    # -- starting -------------------------------------------------------------------------
    def create(
        self,
        s: Session,
        *,
        title: str,
        block_id: int | None,
        goal_ids: Sequence[int],
        plan: Sequence[PlanEntry],
        planned_start: datetime,
        planned_end: datetime,
        now: datetime,
    ) -> FocusSession:
        """A running session inside ``s`` (the caller checked that none is active)."""
        row = FocusSession(
            block_id=block_id,
            title=title,
            goal_ids=list(goal_ids),
            state="running",
            planned_start=planned_start,
            planned_end=planned_end,
            actual_start=now,
            paused_seconds=0.0,
            extended_minutes=0,
            away_seconds=0.0,
            last_seen_at=now,
            plan=[_plan_json(e) for e in plan],
            notes="",
            held_items=[],
            notified=True,
            created_at=now,
        )
        for position, entry in enumerate(plan):
            row.items.append(
                FocusSessionItem(
                    position=position,
                    item_id=entry.item.item_id,
                    title=entry.item.title,
                    goal_id=entry.item.goal_id,
                    goal_title=entry.item.goal_title,
                    planned_minutes=entry.minutes,
                    actual_seconds=0.0,
                    outcome="open",
                    note="",
                )
            )
        if plan:
            row.current_item_id = plan[0].item.item_id
            row.item_clock_at = now
        s.add(row)
        s.flush()
        return row

    def record_missed(
        self,
        s: Session,
        *,
        block_id: int,
        title: str,
        goal_ids: Sequence[int],
        occurrence: Occurrence,
        reason: str,
    ) -> FocusSession:
        """A ``missed`` session inside ``s``: shown to the user, never silently dropped."""
        row = FocusSession(
            block_id=block_id,
            title=title,
            goal_ids=list(goal_ids),
            state="missed",
            planned_start=occurrence.start,
            planned_end=occurrence.end,
            paused_seconds=0.0,
            extended_minutes=0,
            away_seconds=0.0,
            plan=[],
            notes="",
            held_items=[],
            end_reason=reason,
            notified=False,
            created_at=self.clock.now(),
        )
        s.add(row)
        s.flush()
        return row

    # -- steering ---------------------------------------------------------------------------
    def pause(self) -> SessionView:
        now = self.clock.now()
        with self.store.session() as s:
            row = _require_active(s)
            if row.state == "running":
                _accrue(row, now)
                row.state, row.paused_at = "paused", now
            row.last_seen_at = now
            return view_of(row)

    def resume(self) -> SessionView:
        now = self.clock.now()
        with self.store.session() as s:
            row = _require_active(s)
            if row.state == "paused":
                _end_pause(row, now)
                row.state, row.item_clock_at = "running", now
            row.last_seen_at = now
            return view_of(row)

    def extend(self, minutes: int) -> SessionView:
        if not (1 <= minutes <= MAX_EXTEND_MINUTES):
            raise KnownError(f"Extend a block by 1 to {MAX_EXTEND_MINUTES} minutes.")
        with self.store.session() as s:
            row = _require_active(s)
            row.extended_minutes += minutes
            return view_of(row)

    def select_item(self, item_id: int) -> SessionView:
        """Work on ``item_id`` now (its timer runs; the previous item's stops)."""
        now = self.clock.now()
        with self.store.session() as s:
            row = _require_active(s)
            _session_item(row, item_id)
            _accrue(row, now)
            row.current_item_id, row.item_clock_at = item_id, now
            return view_of(row)

    def set_outcome(self, item_id: int, outcome: str) -> SessionView:
        """done / skipped / snoozed (or open, to take it back); the next open item follows."""
        if outcome not in FOCUS_ITEM_OUTCOMES:
            raise KnownError(f"Unknown outcome {outcome!r}; use {', '.join(FOCUS_ITEM_OUTCOMES)}.")
        now = self.clock.now()
        with self.store.session() as s:
            row = _require_active(s)
            entry = _session_item(row, item_id)
            before = entry.outcome
            _accrue(row, now)
            entry.outcome = outcome
            if outcome != "open" and row.current_item_id == item_id:
                row.current_item_id = _next_open(row, entry.position)
                row.item_clock_at = now
            view = view_of(row)
        self._apply_to_item(item_id, entry.goal_id, before, outcome, now)
        return view

    def set_note(self, item_id: int, note: str) -> SessionView:
        with self.store.session() as s:
            row = _require_active(s)
            _session_item(row, item_id).note = note.strip()[:500]
            return view_of(row)

    def set_notes(self, text: str) -> SessionView:
        with self.store.session() as s:
            row = _require_active(s)
            row.notes = text.strip()[:4000]
            return view_of(row)

    def _apply_to_item(
        self, item_id: int, goal_id: int | None, before: str, outcome: str, now: datetime
    ) -> None:
        actions = self.item_actions
        if actions is None or before == outcome:
            return
        try:
            if outcome == "done":
                actions.done(item_id, goal_id)
            elif outcome == "snoozed":
                actions.snooze(item_id, self.snooze_until(now), goal_id)
            elif before in ("done", "snoozed"):  # back to open, or skipped
                actions.restore(item_id)
        except NotFoundError:
            log.info("item %s is gone; its outcome is kept in the session only", item_id)

    # -- time -----------------------------------------------------------------------------
    def heartbeat(self, now: datetime) -> SessionView | None:
        """Count the current item's time up to ``now`` (never past the session's end) and
        note that we were here."""
        with self.store.session() as s:
            row = active_row(s)
            if row is None:
                return None
            _accrue(row, min(now, view_of(row).end_at(now)))
            row.last_seen_at = now
            return view_of(row)

    def recover_gap(self, now: datetime, tolerance: timedelta) -> bool:
        """At process start: if the last heartbeat is older than ``tolerance``, the time
        since was away (the app was closed or crashed). True when a gap was noted."""
        with self.store.session() as s:
            row = active_row(s)
            seen = row.last_seen_at if row is not None else None
        if seen is None or now - seen <= tolerance:
            return False
        self.note_gap(seen, now)
        return True

    def note_gap(self, start: datetime, end: datetime) -> SessionView | None:
        """Nobody was here from ``start`` to ``end`` (app closed, machine asleep): that time
        is neither work on the current item nor pause; the countdown went on."""
        with self.store.session() as s:
            row = active_row(s)
            if row is not None and row.last_seen_at is not None:
                start = max(start, row.last_seen_at)  # we were here until then
            if row is None or end <= start:
                return view_of(row) if row is not None else None
            view = view_of(row)
            stop = min(start, view.end_at(start))
            if row.state == "running":  # a pause just goes on while nobody is here
                _accrue(row, max(stop, row.item_clock_at or stop))
                row.item_clock_at = end
                begin = max(start, row.actual_start or start)
                away = (min(end, view.end_at(end)) - begin).total_seconds()
                row.away_seconds += max(0.0, away)
            row.last_seen_at = end
            return view_of(row)

    def clock_set_back(self, offset: timedelta) -> SessionView | None:
        """The wall clock was set back by ``-offset`` while real time went on: move the
        active session's wall-clock marks with it, so that the time worked, paused and
        left stay what they were (the block does not grow by the jump)."""
        with self.store.session() as s:
            row = active_row(s)
            if row is None:
                return None
            row.planned_end += offset
            for name in ("actual_start", "paused_at", "item_clock_at", "last_seen_at"):
                mark = getattr(row, name)
                if mark is not None:
                    setattr(row, name, mark + offset)
            return view_of(row)

    def expire(self, now: datetime) -> SessionView | None:
        """End the active session when its time is up (or it was paused too long); the
        ended session, or None when nothing ended."""
        with self.store.session() as s:
            row = active_row(s)
            if row is None:
                return None
            view = view_of(row)
            if row.state == "paused" and row.paused_at and now - row.paused_at > MAX_PAUSE:
                self._end(s, row, row.paused_at, "paused_too_long", count_pause=False)
            elif row.state == "running" and now >= view.end_at(now):
                self._end(s, row, view.end_at(now), "completed")
            else:
                return None
            return view_of(row)

    def stop(self, reason: str = "ended_early") -> SessionView:
        """End the active session now."""
        now = self.clock.now()
        with self.store.session() as s:
            row = _require_active(s)
            at = min(now, view_of(row).end_at(now))
            self._end(s, row, at, reason)
            return view_of(row)

    def _end(
        self, s: Session, row: FocusSession, at: datetime, reason: str, *, count_pause: bool = True
    ) -> None:
        if row.state == "running":
            _accrue(row, at)
        elif row.paused_at is not None and count_pause:
            _end_pause(row, at)
        row.paused_at = None
        row.state, row.actual_end, row.end_reason = "ended", at, reason
        row.current_item_id, row.item_clock_at = None, None
        row.last_seen_at = at
        start = row.actual_start or row.planned_start
        planned = {i.item_id for i in row.items}
        row.held_items = [
            i
            for i in s.scalars(
                select(Item.id)
                .where(
                    Item.received_at > start,
                    Item.received_at <= at,
                    Item.vanished.is_(False),
                )
                .order_by(Item.received_at, Item.id)
            )
            if i not in planned
        ]

    # -- held items and summaries -------------------------------------------------------
    def held_items(self, session: SessionView, now: datetime | None = None) -> list[HeldItem]:
        """Items that arrived during ``session`` (so far, when it is still running)."""
        with self.store.session() as s:
            if session.active:
                start = session.actual_start or session.planned_start
                end = now or self.clock.now()
                planned = {i.item_id for i in session.items}
                rows = [
                    r
                    for r in s.scalars(
                        select(Item).where(
                            Item.received_at > start,
                            Item.received_at <= end,
                            Item.vanished.is_(False),
                        )
                    )
                    if r.id not in planned
                ]
            else:
                ids = list(session.held_item_ids)
                rows = list(s.scalars(select(Item).where(Item.id.in_(ids)))) if ids else []
            rows.sort(key=lambda r: (r.received_at, r.id))
            return [
                HeldItem(
                    item_id=r.id,
                    title=r.title or "(untitled)",
                    source_name=r.source.name,
                    received_at=r.received_at,
                )
                for r in rows
            ]

    def summarise(self, session: SessionView) -> SessionSummary:
        """Planned vs actual minutes per item and per goal, outcomes, held items."""
        end = session.actual_end or self.clock.now()
        start = session.actual_start or session.planned_start
        active = (end - start).total_seconds() - session.pause_seconds(end) - session.away_seconds
        planned = round(
            (session.planned_end - session.planned_start).total_seconds() / 60
            + session.extended_minutes
        )
        goals: dict[int | None, dict[str, Any]] = {}
        for item in session.items:
            g = goals.setdefault(
                item.goal_id,
                {"title": item.goal_title or "(no goal)", "planned": 0, "actual": 0.0, "done": 0},
            )
            g["planned"] += item.planned_minutes
            g["actual"] += session.item_seconds(item.item_id, end) / 60
            g["done"] += item.outcome == "done"
            g["items"] = g.get("items", 0) + 1
        outcomes = Counter({k: 0 for k in FOCUS_ITEM_OUTCOMES})
        outcomes.update(i.outcome for i in session.items)
        return SessionSummary(
            session=session,
            planned_minutes=planned,
            actual_minutes=max(0.0, active / 60),
            goals=tuple(
                GoalTotals(
                    goal_id=gid,
                    goal_title=g["title"],
                    planned_minutes=g["planned"],
                    actual_minutes=round(g["actual"], 2),
                    done=g["done"],
                    items=g["items"],
                )
                for gid, g in goals.items()
            ),
            outcomes=dict(outcomes),
            held=tuple(self.held_items(session)),
        )


# -- helpers ----------------------------------------------------------------------------------
def active_row(s: Session) -> FocusSession | None:
    return s.scalar(
        select(FocusSession)
        .where(FocusSession.state.in_(ACTIVE))
        .order_by(FocusSession.id.desc())
        .limit(1)
    )


def _require_active(s: Session) -> FocusSession:
    row = active_row(s)
    if row is None:
        raise KnownError(
            "No focus block is running.", hint="Start one with `focusdesk focus start`."
        )
    return row


def _row(s: Session, session_id: int) -> FocusSession:
    row = s.get(FocusSession, session_id)
    if row is None:
        raise NotFoundError(f"There is no focus session with id {session_id}.")
    return row


def _session_item(row: FocusSession, item_id: int) -> FocusSessionItem:
    for entry in row.items:
        if entry.item_id == item_id:
            return entry
    raise NotFoundError(f"Item {item_id} is not part of this focus block.")


def _next_open(row: FocusSession, after_position: int) -> int | None:
    """The next open item after ``after_position`` (wrapping round), or None."""
    ordered = sorted(row.items, key=lambda e: e.position)
    later = [e for e in ordered if e.position > after_position]
    earlier = [e for e in ordered if e.position < after_position]
    for entry in later + earlier:
        if entry.outcome == "open":
            return entry.item_id
    return None


def _accrue(row: FocusSession, until: datetime) -> None:
    """Add the current stretch (item_clock_at → until) to the current item's time."""
    if row.state == "running" and row.current_item_id is not None and row.item_clock_at:
        delta = (until - row.item_clock_at).total_seconds()
        if delta > 0:
            for entry in row.items:
                if entry.item_id == row.current_item_id:
                    entry.actual_seconds += delta
                    break
    if row.state == "running":
        row.item_clock_at = until


def _end_pause(row: FocusSession, at: datetime) -> None:
    if row.paused_at is not None:
        row.paused_seconds += max(0.0, (at - row.paused_at).total_seconds())
    row.paused_at = None


def _plan_json(entry: PlanEntry) -> dict[str, Any]:
    item = entry.item
    return {
        "item_id": item.item_id,
        "title": item.title,
        "source": item.source_name,
        "source_kind": item.source_kind,
        "goal_id": item.goal_id,
        "goal": item.goal_title,
        "minutes": entry.minutes,
        "share": round(entry.share, 6),
        "score": round(item.score, 6),
        "evidence": item.evidence[:600],
    }


def view_of(row: FocusSession) -> SessionView:
    extra = {p.get("item_id"): p for p in (row.plan or []) if isinstance(p, dict)}
    items = tuple(
        SessionItemView(
            position=e.position,
            item_id=e.item_id,
            title=e.title,
            source_name=str(extra.get(e.item_id, {}).get("source", "")),
            goal_id=e.goal_id,
            goal_title=e.goal_title,
            planned_minutes=e.planned_minutes,
            actual_seconds=float(e.actual_seconds or 0.0),
            outcome=e.outcome,
            note=e.note or "",
            evidence=str(extra.get(e.item_id, {}).get("evidence", "")),
            score=float(extra.get(e.item_id, {}).get("score", 0.0)),
        )
        for e in sorted(row.items, key=lambda e: e.position)
    )
    return SessionView(
        id=row.id,
        block_id=row.block_id,
        title=row.title,
        goal_ids=tuple(row.goal_ids or ()),
        state=row.state,
        planned_start=row.planned_start,
        planned_end=row.planned_end,
        actual_start=row.actual_start,
        actual_end=row.actual_end,
        paused_seconds=float(row.paused_seconds or 0.0),
        paused_at=row.paused_at,
        extended_minutes=int(row.extended_minutes or 0),
        away_seconds=float(row.away_seconds or 0.0),
        current_item_id=row.current_item_id,
        item_clock_at=row.item_clock_at,
        items=items,
        notes=row.notes or "",
        held_item_ids=tuple(row.held_items or ()),
        end_reason=row.end_reason,
    )

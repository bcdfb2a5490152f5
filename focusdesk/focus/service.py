"""``FocusService``: focus blocks, sessions, schedules and the calendar of one profile.

The one entry point the CLI, the headless runner and the UI use (``FocusDesk.focus``).
``tick(now)`` is the whole of "what should happen now": it keeps the running
session's time, ends it when its time is up, records missed occurrences and
reports which blocks, syncs and reviews are due. Starting a due block plans it,
which ranks (slow), so it is a separate step: ``start_due``. Nothing here waits on
a timer; the APScheduler adapter (``focusdesk.focus.scheduler``) decides when to call.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select

from focusdesk.clock import Clock, SystemClock
from focusdesk.errors import KnownError
from focusdesk.focus.clock import ClockJump
from focusdesk.focus.due import Occurrence, decide_block, occurrences
from focusdesk.focus.planning import Planner
from focusdesk.focus.records import (
    BlockInfo,
    DueBlock,
    FocusEvent,
    HeldItem,
    Overlap,
    ScheduleInfo,
    SessionSummary,
    SessionView,
    TickResult,
)
from focusdesk.focus.recurrence import local_zone_name, zone
from focusdesk.focus.runner import ItemActions, SessionRunner, SnoozeUntil, active_row, view_of
from focusdesk.focus.schedule import BlockSpec, ScheduleBook
from focusdesk.store.db import Store
from focusdesk.store.models import BusyTime, FocusBlock, Goal

if TYPE_CHECKING:
    from focusdesk.focus.ics import Busy

log = logging.getLogger(__name__)

DEFAULT_MINUTES = 90
AWAY_TOLERANCE = timedelta(minutes=2)
"""A heartbeat older than this when a process starts means nobody was there meanwhile."""
FUTURE_WATERMARK_SLACK = timedelta(days=2)
OVERLAP_HORIZON = timedelta(days=28)


class FocusService:
    """Focus blocks, sessions and schedules over one store."""

    def __init__(
        self,
        store: Store,
        planner: Planner,
        *,
        clock: Clock | None = None,
        default_timezone: str | None = None,
        item_actions: ItemActions | None = None,
        snooze_until: SnoozeUntil | None = None,
    ) -> None:
        self.store = store
        self.planner = planner
        self.clock: Clock = clock or SystemClock()
        self.book = ScheduleBook(store, self.clock, default_timezone or local_zone_name())
        self.runner = SessionRunner(
            store, self.clock, item_actions=item_actions, snooze_until=snooze_until
        )

    # -- blocks and schedules (the table is the source of truth) --------------------------
    def add_block(self, title: str, **fields: Any) -> BlockInfo:
        """See ``ScheduleBook.add_block``."""
        return self.book.add_block(title, **fields)

    def update_block(self, block_id: int, **changes: Any) -> BlockInfo:
        return self.book.update_block(block_id, **changes)

    def remove_block(self, block_id: int) -> None:
        self.book.remove_block(block_id)

    def list_blocks(self) -> list[BlockInfo]:
        return self.book.list_blocks()

    def get_block(self, block_id: int) -> BlockInfo:
        return self.book.get_block(block_id)

    def set_sync_schedule(self, source_id: int, every_minutes: int | None) -> ScheduleInfo | None:
        return self.book.set_sync(source_id, every_minutes)

    def set_review_schedule(
        self, time_of_day: str | None, timezone: str | None = None
    ) -> ScheduleInfo | None:
        return self.book.set_review(time_of_day, timezone)

    def list_schedules(self) -> list[ScheduleInfo]:
        return self.book.list_schedules()

    def claim_schedule(self, schedule_id: int, now: datetime | None = None) -> bool:
        """Take a due sync or review (False: not due, or another process took it)."""
        return self.book.claim_schedule(schedule_id, now or self.clock.now())

    # -- sessions -------------------------------------------------------------------------
    def current(self) -> SessionView | None:
        """The running or paused session."""
        return self.runner.active()

    def get_session(self, session_id: int) -> SessionView:
        return self.runner.get(session_id)

    def start(
        self,
        minutes: int = DEFAULT_MINUTES,
        *,
        goal_ids: Sequence[int] = (),
        top_k: int | None = None,
        title: str | None = None,
    ) -> SessionView:
        """Start a block now, on demand (ranks and plans: slow, keep it off the UI thread)."""
        if not (5 <= minutes <= 12 * 60):
            raise KnownError(f"A focus block lasts 5 to 720 minutes (got {minutes}).")
        self._refuse_if_active()
        goals = self._check_goals(goal_ids)
        now = self.clock.now()
        plan = self.planner(minutes, top_k, goals, now)
        with self.store.session() as s:
            if active_row(s) is not None:
                self._refuse_if_active()
            row = self.runner.create(
                s,
                title=(title or "").strip() or self._default_title(goals),
                block_id=None,
                goal_ids=goals,
                plan=plan,
                planned_start=now,
                planned_end=now + timedelta(minutes=minutes),
                now=now,
            )
            return view_of(row)

    def pause(self) -> SessionView:
        return self.runner.pause()

    def resume(self) -> SessionView:
        return self.runner.resume()

    def extend(self, minutes: int) -> SessionView:
        return self.runner.extend(minutes)

    def select_item(self, item_id: int) -> SessionView:
        return self.runner.select_item(item_id)

    def mark_item(self, item_id: int, outcome: str) -> SessionView:
        """done, skipped, snoozed (or open again) for an item of the running block."""
        return self.runner.set_outcome(item_id, outcome)

    def note_item(self, item_id: int, note: str) -> SessionView:
        return self.runner.set_note(item_id, note)

    def set_notes(self, text: str) -> SessionView:
        return self.runner.set_notes(text)

    def stop(self, reason: str = "ended_early") -> SessionSummary:
        """End the running block now; its summary (held items released)."""
        return self.runner.summarise(self.runner.stop(reason))

    def summary(self, session_id: int) -> SessionSummary:
        return self.runner.summarise(self.runner.get(session_id))

    def held_items(self, session: SessionView | None = None) -> list[HeldItem]:
        """Items that arrived during ``session`` (default: the running one, so far)."""
        session = session or self.current()
        return self.runner.held_items(session) if session is not None else []

    def holding(self) -> bool:
        """Whether new items are being held (a block is running or paused)."""
        return self.current() is not None

    def recent_sessions(self, limit: int = 20) -> list[SessionView]:
        return self.runner.recent(limit=limit)

    def missed_to_announce(self) -> list[SessionView]:
        """Missed occurrences the user has not been told about yet."""
        return self.runner.unnotified_missed()

    def mark_announced(self, session_ids: Sequence[int]) -> None:
        self.runner.mark_notified(session_ids)

    # -- time -------------------------------------------------------------------------------
    def tick(self, now: datetime | None = None, *, present: bool = True) -> TickResult:
        """Everything that should happen at ``now`` except starting due blocks.

        ``present``: this process is the one keeping the session (desktop app or
        headless runner) and counts as a heartbeat; a one-shot CLI call is not.
        """
        now = now or self.clock.now()
        result = TickResult()
        if present:
            self.runner.heartbeat(now)
        ended = self.runner.expire(now)
        if ended is not None:
            result.events.append(FocusEvent("ended", ended, summary=self.runner.summarise(ended)))
        active = self.runner.active()
        for spec in self.book.specs():
            decision = decide_block(spec.recurrence, spec.duration, spec.handled_until, now)
            if decision.nothing:
                continue
            missed = [(o, _why_missed(o, active)) for o in decision.missed]
            start = decision.start
            if start is not None and active is not None:
                # It waits: when the running session ends it starts late if its window
                # is still open, and is recorded as overlapped once the window closes.
                start = None
            handled = spec.handled_until
            if missed:
                events = self._record_missed(spec, handled, missed)
                if events is None:
                    continue  # another process dealt with this block meanwhile
                result.events.extend(events)
                handled = missed[-1][0].start
            if start is not None:
                result.due.append(DueBlock(spec.id, spec.title, start, handled))
        for info in self.book.due_schedules(now):
            if info.kind == "sync":
                result.syncs_due.append(info)
            elif info.kind == "review":
                result.review_due = info
        return result

    def start_due(self, due: DueBlock, now: datetime | None = None) -> FocusEvent | None:
        """Start a due block (late if need be), or record it missed when its window has
        closed or another block runs. None when another process already handled it."""
        now = now or self.clock.now()
        occ = due.occurrence
        try:
            spec = self.book.spec(due.block_id)
        except KnownError:
            return None  # removed meanwhile
        active = self.runner.active()
        if not occ.open_at(now):
            events = self._record_missed(spec, due.handled_until, [(occ, _why_missed(occ, active))])
            return events[0] if events else None
        if active is not None:
            return None  # waits for the running session to end (see `tick`)
        minutes = max(1, int((occ.end - now).total_seconds() // 60))
        try:
            plan = self.planner(minutes, spec.top_k, spec.goal_ids, now)
        except KnownError as exc:  # e.g. no active goals: the block still happens, unplanned
            log.warning("focus block %r starts without a plan: %s", spec.title, exc.user_text())
            plan = []
        with self.store.session() as s:
            if active_row(s) is not None:
                return None  # started on demand meanwhile; the next tick records it
            if not self.book.claim_block(s, spec.id, due.handled_until, occ.start):
                return None
            row = self.runner.create(
                s,
                title=spec.title,
                block_id=spec.id,
                goal_ids=spec.goal_ids,
                plan=plan,
                planned_start=occ.start,
                planned_end=occ.end,
                now=now,
            )
            view = view_of(row)
        log.info("focus block %r started%s", spec.title, " late" if occ.late_at(now) else "")
        return FocusEvent("started", view, late=occ.late_at(now))

    def run_due(self, now: datetime | None = None, *, present: bool = True) -> TickResult:
        """``tick``, then start what is due (the headless runner's whole step)."""
        result = self.tick(now, present=present)
        for due in result.due:
            event = self.start_due(due)
            if event is not None:
                result.events.append(event)
        result.due = []
        return result

    def recover(self, now: datetime | None = None) -> TickResult:
        """What a process does when it starts: time since the last heartbeat was away, a
        session still running is resumed (a "resumed" event first), missed blocks are
        recorded, due ones reported."""
        now = now or self.clock.now()
        self.book.clamp_future_watermarks(now, FUTURE_WATERMARK_SLACK)
        self.runner.recover_gap(now, AWAY_TOLERANCE)
        result = self.tick(now)
        active = self.runner.active()
        if active is not None:
            result.events.insert(0, FocusEvent("resumed", active))
        return result

    def clock_jumped(self, jump: ClockJump) -> TickResult:
        """The machine slept or the clock changed: a forward gap was away time, a clock set
        back takes the active block's marks back with it; re-evaluate."""
        if jump.forward:
            self.runner.note_gap(jump.gap_start, jump.after)
        else:
            self.runner.clock_set_back(jump.offset)
        log.info("wall clock jumped by %s; re-evaluating schedules", jump.offset)
        return self.tick(self.clock.now())

    # -- calendar -------------------------------------------------------------------------
    def export_ics(self, path: Path | None = None) -> bytes:
        """The enabled blocks as an iCalendar file (written to ``path`` when given)."""
        from focusdesk.focus.ics import ExportBlock, export_blocks  # icalendar: on first use

        now = self.clock.now()
        with self.store.session() as s:
            goals = {gid: title for gid, title in s.execute(select(Goal.id, Goal.title))}
            rows = list(
                s.scalars(
                    select(FocusBlock).where(FocusBlock.enabled.is_(True)).order_by(FocusBlock.id)
                )
            )
            created = {r.id: r.created_at for r in rows}
        blocks = []
        for spec in self.book.specs():
            names = [goals[g] for g in spec.goal_ids if g in goals] or ["all active goals"]
            top = f"the top {spec.top_k} items" if spec.top_k else "the top items"
            blocks.append(
                ExportBlock(
                    id=spec.id,
                    uid=f"focus-block-{spec.id}-{created[spec.id]:%Y%m%dT%H%M%S}@focusdesk",
                    title=spec.title,
                    recurrence=spec.recurrence,
                    duration=spec.duration,
                    description=f"FocusDesk focus block: {top} for {'; '.join(names)}.",
                )
            )
        data = export_blocks(blocks, now=now)
        if path is not None:
            try:
                Path(path).write_bytes(data)
            except OSError as exc:
                raise KnownError(f"Could not write {path}: {exc.strerror or exc}") from exc
        return data

    def import_busy(self, path: Path) -> list[Busy]:
        """Replace the busy times of calendar ``path`` (by file name) with what it holds for
        the next 90 days."""
        from focusdesk.focus.ics import BUSY_HORIZON, parse_busy

        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise KnownError(f"Could not read {path}: {exc.strerror or exc}") from exc
        now = self.clock.now()
        busy = parse_busy(
            data,
            start=now - timedelta(days=1),
            end=now + BUSY_HORIZON,
            local_tz=zone(self.book.default_timezone),
        )
        name = Path(path).name[:200]
        with self.store.session() as s:
            s.execute(delete(BusyTime).where(BusyTime.calendar == name))
            s.add_all(
                BusyTime(
                    calendar=name,
                    uid=b.uid,
                    summary=b.summary,
                    start=b.start,
                    end=b.end,
                    imported_at=now,
                )
                for b in busy
            )
        return busy

    def busy_between(self, start: datetime, end: datetime) -> list[Busy]:
        from focusdesk.focus.ics import Busy

        with self.store.session() as s:
            rows = s.scalars(
                select(BusyTime)
                .where(BusyTime.start < end, BusyTime.end > start)
                .order_by(BusyTime.start)
            )
            return [Busy(r.summary, r.start, r.end, r.uid) for r in rows]

    def overlaps(
        self, block_id: int | None = None, *, horizon: timedelta = OVERLAP_HORIZON
    ) -> list[Overlap]:
        """Upcoming block occurrences that overlap an imported meeting."""
        from focusdesk.focus.ics import find_overlaps

        now = self.clock.now()
        out: list[Overlap] = []
        specs = [self.book.spec(block_id)] if block_id is not None else self.book.specs()
        for spec in specs:
            occs = occurrences(spec.recurrence, spec.duration, now - spec.duration, now + horizon)
            occs = [o for o in occs if o.end > now]
            if occs:
                busy = self.busy_between(occs[0].start, occs[-1].end)
                out.extend(find_overlaps(spec.id, spec.title, occs, busy))
        return out

    def session_overlaps(self, session: SessionView) -> list[Overlap]:
        """Meetings during a session's remaining time."""
        from focusdesk.focus.ics import find_overlaps

        now = self.clock.now()
        occ = Occurrence(max(now, session.actual_start or now), session.end_at(now))
        if occ.end <= occ.start:
            return []
        busy = self.busy_between(occ.start, occ.end)
        return find_overlaps(session.block_id, session.title, [occ], busy)

    # -- helpers --------------------------------------------------------------------------
    def _record_missed(
        self, spec: BlockSpec, seen: datetime, missed: Sequence[tuple[Occurrence, str]]
    ) -> list[FocusEvent] | None:
        with self.store.session() as s:
            if not self.book.claim_block(s, spec.id, seen, missed[-1][0].start):
                return None
            rows = [
                self.runner.record_missed(
                    s,
                    block_id=spec.id,
                    title=spec.title,
                    goal_ids=spec.goal_ids,
                    occurrence=occ,
                    reason=reason,
                )
                for occ, reason in missed
            ]
            views = [view_of(r) for r in rows]
        for v in views:
            log.info("focus block %r at %s was missed (%s)", v.title, v.planned_start, v.end_reason)
        return [FocusEvent("missed", v) for v in views]

    def _refuse_if_active(self) -> None:
        active = self.runner.active()
        if active is not None:
            ends = active.end_at(self.clock.now()).astimezone()
            raise KnownError(
                f"The focus block {active.title!r} is already running (until {ends:%H:%M}).",
                hint="End it first with `focusdesk focus stop`.",
            )

    def _check_goals(self, goal_ids: Sequence[int]) -> list[int]:
        ids = list(dict.fromkeys(int(g) for g in goal_ids))
        if not ids:
            return []
        with self.store.session() as s:
            found = set(s.scalars(select(Goal.id).where(Goal.id.in_(ids))))
        missing = [g for g in ids if g not in found]
        if missing:
            raise KnownError(f"There is no goal with id {missing[0]}.")
        return ids

    def _default_title(self, goal_ids: Sequence[int]) -> str:
        if len(goal_ids) == 1:
            with self.store.session() as s:
                title = s.scalar(select(Goal.title).where(Goal.id == goal_ids[0]))
            if title:
                return f"Focus: {title}"[:200]
        return "Focus block"


def _why_missed(occ: Occurrence, active: SessionView | None) -> str:
    """Why an occurrence did not start: "overlapped" when the session running now was
    already running as its window closed, else "missed"."""
    if active is not None and (active.actual_start or active.planned_start) <= occ.latest_start:
        return "overlapped"
    return "missed"

"""The schedule tables (the source of truth): focus blocks, periodic syncs, the daily review.

``ScheduleBook`` adds, changes, removes and lists them, tells what is due through
``focusdesk.focus.due``, and claims a due run with a conditional update of its
watermark, so that two processes (the desktop app and ``run --headless``) never
start the same occurrence twice. Listeners hear about every change (the APScheduler
adapter rebuilds the job of the row that changed); ``signature()`` lets a process
notice changes made by another one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from focusdesk.clock import Clock
from focusdesk.errors import KnownError, NotFoundError
from focusdesk.focus.due import next_block_start, next_sync_at, review_due
from focusdesk.focus.records import BlockInfo, ScheduleInfo
from focusdesk.focus.recurrence import (
    Recurrence,
    days_to_rrule,
    format_time_of_day,
    normalise_rrule,
    parse_time_of_day,
    zone,
)
from focusdesk.store.db import Store
from focusdesk.store.models import FocusBlock, Goal, Schedule, Source

log = logging.getLogger(__name__)

MIN_BLOCK_MINUTES = 5
MAX_BLOCK_MINUTES = 12 * 60
MAX_TOP_K = 50
_TIMING_FIELDS = ("rrule", "start_time", "duration_minutes", "timezone", "starts_on", "enabled")


@dataclass(frozen=True)
class BlockSpec:
    """A block row as the scheduler needs it."""

    id: int
    title: str
    recurrence: Recurrence
    duration: timedelta
    goal_ids: tuple[int, ...]
    top_k: int | None
    enabled: bool
    handled_until: datetime


def _spec(row: FocusBlock) -> BlockSpec:
    return BlockSpec(
        id=row.id,
        title=row.title,
        recurrence=Recurrence(
            row.rrule, parse_time_of_day(row.start_time), row.timezone, row.starts_on
        ),
        duration=timedelta(minutes=row.duration_minutes),
        goal_ids=tuple(row.goal_ids or ()),
        top_k=row.top_k,
        enabled=row.enabled,
        handled_until=row.handled_until,
    )


def review_recurrence(row: Schedule) -> Recurrence:
    """The daily review's times, in its time zone."""
    return Recurrence(
        "FREQ=DAILY",
        parse_time_of_day(row.time_of_day or "18:00"),
        row.timezone or "UTC",
        row.created_at.date() - timedelta(days=1),
    )


class ScheduleBook:
    """CRUD and due-ness of the schedule tables."""

    def __init__(self, store: Store, clock: Clock, default_timezone: str) -> None:
        self.store = store
        self.clock = clock
        self.default_timezone = default_timezone
        self._listeners: list[Callable[[str, int | None], None]] = []

    # -- change notification --------------------------------------------------------------
    def add_listener(self, listener: Callable[[str, int | None], None]) -> None:
        """``listener(kind, id)`` after a change: kind is "block" or "schedule"."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[str, int | None], None]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _changed(self, kind: str, row_id: int | None) -> None:
        for listener in list(self._listeners):
            try:
                listener(kind, row_id)
            except Exception:  # noqa: BLE001 - a listener must not undo the change
                log.exception("schedule listener failed")

    def signature(self) -> tuple[Any, ...]:
        """Changes whenever any schedule row changes (cheap; compared on every tick)."""
        with self.store.session() as s:
            blocks = s.execute(
                select(
                    FocusBlock.id, FocusBlock.updated_at, FocusBlock.enabled, FocusBlock.rrule
                ).order_by(FocusBlock.id)
            ).all()
            scheds = s.execute(
                select(
                    Schedule.id,
                    Schedule.interval_minutes,
                    Schedule.time_of_day,
                    Schedule.timezone,
                    Schedule.enabled,
                ).order_by(Schedule.id)
            ).all()
        return (tuple(map(tuple, blocks)), tuple(map(tuple, scheds)))

    # -- blocks -----------------------------------------------------------------------------
    def add_block(
        self,
        title: str,
        *,
        start_time: str | time,
        duration_minutes: int,
        days: Sequence[str] | None = None,
        rrule: str | None = None,
        goal_ids: Sequence[int] = (),
        top_k: int | None = None,
        timezone: str | None = None,
        starts_on: date | None = None,
        enabled: bool = True,
    ) -> BlockInfo:
        """Add a recurring block (``days`` of the week or an ``rrule``; default weekdays)."""
        if days and rrule:
            raise KnownError("Give the days of the week or an RRULE, not both.")
        rule = normalise_rrule(rrule) if rrule else days_to_rrule(days or ["weekdays"])
        tz = timezone or self.default_timezone
        zone(tz)
        at = start_time if isinstance(start_time, time) else parse_time_of_day(start_time)
        now = self.clock.now()
        with self.store.session() as s:
            goals = _check_goals(s, goal_ids)
            row = FocusBlock(
                title=_check_title(title),
                rrule=rule,
                start_time=format_time_of_day(at),
                duration_minutes=_check_minutes(duration_minutes),
                goal_ids=goals,
                top_k=_check_top_k(top_k),
                enabled=enabled,
                timezone=tz,
                starts_on=starts_on or now.astimezone(zone(tz)).date(),
                handled_until=now,
                created_at=now,
                updated_at=now,
            )
            _ = _spec(row).recurrence.rule  # the rule parses with this anchor
            s.add(row)
            s.flush()
            block_id = row.id
        self._changed("block", block_id)
        return self.get_block(block_id)

    def update_block(self, block_id: int, **changes: Any) -> BlockInfo:
        """Change a block (None leaves a field as it is; ``top_k=0`` means the setting).

        A change of timing, or enabling it again, never makes past occurrences due.
        """
        allowed = {
            "title",
            "start_time",
            "duration_minutes",
            "days",
            "rrule",
            "goal_ids",
            "top_k",
            "timezone",
            "starts_on",
            "enabled",
        }
        unknown = set(changes) - allowed
        if unknown:
            raise TypeError(f"unknown block fields: {sorted(unknown)}")
        changes = {k: v for k, v in changes.items() if v is not None}
        now = self.clock.now()
        with self.store.session() as s:
            row = s.get(FocusBlock, block_id)
            if row is None:
                raise NotFoundError(f"There is no focus block with id {block_id}.")
            timing_before = tuple(getattr(row, f) for f in _TIMING_FIELDS)
            if "days" in changes and "rrule" in changes:
                raise KnownError("Give the days of the week or an RRULE, not both.")
            if "days" in changes:
                row.rrule = days_to_rrule(changes["days"])
            if "rrule" in changes:
                row.rrule = normalise_rrule(changes["rrule"])
            if "title" in changes:
                row.title = _check_title(changes["title"])
            if "start_time" in changes:
                at = changes["start_time"]
                row.start_time = format_time_of_day(
                    at if isinstance(at, time) else parse_time_of_day(at)
                )
            if "duration_minutes" in changes:
                row.duration_minutes = _check_minutes(changes["duration_minutes"])
            if "goal_ids" in changes:
                row.goal_ids = _check_goals(s, changes["goal_ids"])
            if "top_k" in changes:  # 0: back to the focus_top_k setting
                row.top_k = _check_top_k(changes["top_k"] or None)
            if "timezone" in changes:
                zone(changes["timezone"])
                row.timezone = changes["timezone"]
            if "starts_on" in changes:
                row.starts_on = changes["starts_on"]
            if "enabled" in changes:
                row.enabled = bool(changes["enabled"])
            _ = _spec(row).recurrence.rule
            if tuple(getattr(row, f) for f in _TIMING_FIELDS) != timing_before:
                row.handled_until = max(row.handled_until, now)
            row.updated_at = now
        self._changed("block", block_id)
        return self.get_block(block_id)

    def remove_block(self, block_id: int) -> None:
        with self.store.session() as s:
            row = s.get(FocusBlock, block_id)
            if row is None:
                raise NotFoundError(f"There is no focus block with id {block_id}.")
            s.delete(row)
        self._changed("block", block_id)

    def get_block(self, block_id: int) -> BlockInfo:
        with self.store.session() as s:
            row = s.get(FocusBlock, block_id)
            if row is None:
                raise NotFoundError(f"There is no focus block with id {block_id}.")
            return self._info(row)

    def list_blocks(self) -> list[BlockInfo]:
        with self.store.session() as s:
            return [self._info(r) for r in s.scalars(select(FocusBlock).order_by(FocusBlock.id))]

    def specs(self, *, enabled_only: bool = True) -> list[BlockSpec]:
        with self.store.session() as s:
            stmt = select(FocusBlock).order_by(FocusBlock.id)
            if enabled_only:
                stmt = stmt.where(FocusBlock.enabled.is_(True))
            return [_spec(r) for r in s.scalars(stmt)]

    def spec(self, block_id: int) -> BlockSpec:
        with self.store.session() as s:
            row = s.get(FocusBlock, block_id)
            if row is None:
                raise NotFoundError(f"There is no focus block with id {block_id}.")
            return _spec(row)

    def _info(self, row: FocusBlock) -> BlockInfo:
        spec = _spec(row)
        upcoming = (
            next_block_start(spec.recurrence, row.handled_until, self.clock.now())
            if row.enabled
            else None
        )
        return BlockInfo(
            id=row.id,
            title=row.title,
            rrule=row.rrule,
            start_time=row.start_time,
            duration_minutes=row.duration_minutes,
            goal_ids=tuple(row.goal_ids or ()),
            top_k=row.top_k,
            enabled=row.enabled,
            timezone=row.timezone,
            starts_on=row.starts_on.isoformat(),
            next_start=upcoming,
        )

    def claim_block(self, s: Session, block_id: int, seen: datetime, new: datetime) -> bool:
        """Move a block's watermark from ``seen`` to ``new`` inside ``s``; False when another
        process (or thread) moved it first."""
        result = s.execute(
            update(FocusBlock)
            .where(FocusBlock.id == block_id, FocusBlock.handled_until == seen)
            .values(handled_until=new)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    def clamp_future_watermarks(self, now: datetime, slack: timedelta) -> int:
        """Watermarks beyond ``now + slack`` (the clock was wrong, then fixed) come back to
        ``now``; returns how many did."""
        with self.store.session() as s:
            result = s.execute(
                update(FocusBlock)
                .where(FocusBlock.handled_until > now + slack)
                .values(handled_until=now)
            )
            count = int(getattr(result, "rowcount", 0) or 0)
        if count:
            log.warning("%d focus block watermark(s) were in the future; reset to now", count)
        return count

    # -- periodic sync and the daily review ---------------------------------------------
    def set_sync(self, source_id: int, interval_minutes: int | None) -> ScheduleInfo | None:
        """Sync ``source_id`` every ``interval_minutes`` (None or 0: no periodic sync)."""
        with self.store.session() as s:
            if s.get(Source, source_id) is None:
                raise NotFoundError(f"There is no source with id {source_id}.")
            row = s.scalar(
                select(Schedule).where(Schedule.kind == "sync", Schedule.source_id == source_id)
            )
            if not interval_minutes:
                if row is not None:
                    s.delete(row)
                    row_id: int | None = row.id
                else:
                    row_id = None
                result_id = None
            else:
                if interval_minutes < 1 or interval_minutes > 7 * 24 * 60:
                    raise KnownError("Sync every 1 minute to 7 days.")
                if row is None:
                    row = Schedule(kind="sync", source_id=source_id, created_at=self.clock.now())
                    s.add(row)
                row.interval_minutes = interval_minutes
                row.enabled = True
                s.flush()
                row_id = result_id = row.id
        self._changed("schedule", row_id)
        return None if result_id is None else self.get_schedule(result_id)

    def set_review(
        self, time_of_day: str | None, timezone: str | None = None
    ) -> ScheduleInfo | None:
        """The daily review at ``time_of_day`` local (None: no scheduled review)."""
        now = self.clock.now()
        with self.store.session() as s:
            row = s.scalar(select(Schedule).where(Schedule.kind == "review"))
            if time_of_day is None:
                row_id = row.id if row is not None else None
                if row is not None:
                    s.delete(row)
                result_id = None
            else:
                at = format_time_of_day(parse_time_of_day(time_of_day))
                tz = timezone or self.default_timezone
                zone(tz)
                if row is None:
                    row = Schedule(kind="review", created_at=now)
                    s.add(row)
                if row.time_of_day != at or row.timezone != tz:
                    row.last_run_at = max(row.last_run_at or now, now)  # nothing due backwards
                row.time_of_day, row.timezone, row.enabled = at, tz, True
                s.flush()
                row_id = result_id = row.id
        self._changed("schedule", row_id)
        return None if result_id is None else self.get_schedule(result_id)

    def get_schedule(self, schedule_id: int) -> ScheduleInfo:
        with self.store.session() as s:
            row = s.get(Schedule, schedule_id)
            if row is None:
                raise NotFoundError(f"There is no schedule with id {schedule_id}.")
            return self._schedule_info(row)

    def list_schedules(self) -> list[ScheduleInfo]:
        with self.store.session() as s:
            return [
                self._schedule_info(r) for r in s.scalars(select(Schedule).order_by(Schedule.id))
            ]

    def _schedule_info(self, row: Schedule) -> ScheduleInfo:
        now = self.clock.now()
        upcoming: datetime | None = None
        if row.enabled and row.kind == "sync" and row.interval_minutes:
            upcoming = next_sync_at(row.last_run_at, timedelta(minutes=row.interval_minutes), now)
        elif row.enabled and row.kind == "review" and row.time_of_day:
            rec = review_recurrence(row)
            handled = row.last_run_at or row.created_at
            upcoming = now if review_due(rec, handled, now) else rec.next_after(now)
        return ScheduleInfo(
            id=row.id,
            kind=row.kind,
            source_id=row.source_id,
            interval_minutes=row.interval_minutes,
            time_of_day=row.time_of_day,
            timezone=row.timezone,
            enabled=row.enabled,
            last_run_at=row.last_run_at,
            next_run=upcoming,
        )

    def due_schedules(self, now: datetime) -> list[ScheduleInfo]:
        """Enabled syncs and the review that should run now (each once, however late)."""
        return [
            info
            for info in self.list_schedules()
            if info.enabled and info.next_run is not None and info.next_run <= now
        ]

    def claim_schedule(self, schedule_id: int, now: datetime) -> bool:
        """Mark a due sync or review as run at ``now``; False when it is not due any more
        (another process ran it)."""
        with self.store.session() as s:
            row = s.get(Schedule, schedule_id)
            if row is None or not row.enabled:
                return False
            info = self._schedule_info(row)
            if info.next_run is None or info.next_run > now:
                return False
            seen = row.last_run_at
            cond = Schedule.last_run_at.is_(None) if seen is None else Schedule.last_run_at == seen
            result = s.execute(
                update(Schedule).where(Schedule.id == schedule_id, cond).values(last_run_at=now)
            )
            return bool(getattr(result, "rowcount", 0) == 1)


def _check_title(title: str) -> str:
    title = (title or "").strip()
    if not title:
        raise KnownError("A focus block needs a title.")
    return title[:200]


def _check_minutes(minutes: int) -> int:
    if not (MIN_BLOCK_MINUTES <= minutes <= MAX_BLOCK_MINUTES):
        raise KnownError(
            f"A focus block lasts {MIN_BLOCK_MINUTES} to {MAX_BLOCK_MINUTES} minutes "
            f"(got {minutes})."
        )
    return int(minutes)


def _check_top_k(top_k: int | None) -> int | None:
    if top_k is not None and not (1 <= top_k <= MAX_TOP_K):
        raise KnownError(f"A focus block shows 1 to {MAX_TOP_K} items (got {top_k}).")
    return top_k


def _check_goals(s: Session, goal_ids: Sequence[int]) -> list[int]:
    ids = list(dict.fromkeys(int(g) for g in goal_ids))
    if ids:
        found = set(s.scalars(select(Goal.id).where(Goal.id.in_(ids))))
        missing = [g for g in ids if g not in found]
        if missing:
            raise NotFoundError(f"There is no goal with id {missing[0]}.")
    return ids

"""The APScheduler (3.x) adapter: an alarm clock over the schedule table.

Jobs mirror the table and are rebuilt from it at start (``FocusScheduler.start``);
a change made in this process updates the job of the row that changed, and a change
made by another process is noticed on the next tick (the table's signature). Every
job only *wakes* the owner (``on_due``): what actually happens is decided by
``FocusService.tick``, which reads the table, so a late wake-up can never start a
block twice or skip one silently.

Block jobs have ``misfire_grace_time`` = the block's length minus the late-start
minimum and ``coalesce``: a run that is late but inside the window still wakes the
owner (the block starts late); later than that APScheduler reports the job missed,
which wakes the owner too (the occurrence is recorded as missed). Syncs and the
review coalesce and run however late. A periodic tick (default 30 s) compares the
wall clock with the monotonic clock to notice sleep/resume and clock changes.

Callbacks run on APScheduler's worker threads and must return at once: the desktop
app re-emits them as Qt signals (to the main thread), the headless runner queues them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED, BaseScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from focusdesk.focus.clock import ClockJump, JumpDetector
from focusdesk.focus.due import LATE_START_MINIMUM
from focusdesk.focus.records import SessionView
from focusdesk.focus.recurrence import Recurrence
from focusdesk.focus.schedule import BlockSpec, review_recurrence
from focusdesk.focus.service import FocusService
from focusdesk.store.models import Schedule

log = logging.getLogger(__name__)

TICK = timedelta(seconds=30)
TICK_JOB = "focus:tick"
SESSION_END_JOB = "focus:session-end"


class OccurrenceTrigger(BaseTrigger):
    """Fires at the start instants of a ``Recurrence`` (local time, DST-aware)."""

    def __init__(self, recurrence: Recurrence) -> None:
        self.recurrence = recurrence

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        if previous_fire_time is None:
            after = now - timedelta(microseconds=1)  # a start exactly now still fires
        else:
            after = previous_fire_time
        return self.recurrence.next_after(after.astimezone(UTC))

    def __str__(self) -> str:
        rec = self.recurrence
        return f"occurrence[{rec.rule_text} at {rec.start_time:%H:%M} {rec.tz.key}]"


def block_job_id(block_id: int) -> str:
    return f"focus:block:{block_id}"


def schedule_job_id(schedule_id: int) -> str:
    return f"focus:schedule:{schedule_id}"


class FocusScheduler:
    """Keeps APScheduler jobs in step with the schedule table and wakes the owner."""

    def __init__(
        self,
        service: FocusService,
        *,
        on_due: Callable[[], None],
        on_clock_jump: Callable[[ClockJump], None],
        tick: timedelta = TICK,
        scheduler: BaseScheduler | None = None,
    ) -> None:
        self.service = service
        self.on_due = on_due
        self.on_clock_jump = on_clock_jump
        self.tick_interval = tick
        self.scheduler = scheduler or BackgroundScheduler(
            timezone=UTC,
            executors={"default": ThreadPoolExecutor(max_workers=2)},
            job_defaults={"coalesce": True, "max_instances": 1},
        )
        self.scheduler.add_listener(self._on_missed, EVENT_JOB_MISSED)
        self._detector = JumpDetector(service.clock)
        self._signature: tuple[Any, ...] | None = None
        self._lock = threading.RLock()

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self, *, paused: bool = False) -> None:
        """Build the jobs from the table and start the scheduler thread."""
        self.rebuild()
        self.service.book.add_listener(self._on_table_change)
        if self.scheduler.state == STATE_STOPPED:
            self.scheduler.start(paused=paused)

    def shutdown(self, *, wait: bool = True) -> None:
        self.service.book.remove_listener(self._on_table_change)
        if self.scheduler.state != STATE_STOPPED:
            self.scheduler.shutdown(wait=wait)

    @property
    def running(self) -> bool:
        return self.scheduler.state != STATE_STOPPED

    # -- jobs -----------------------------------------------------------------------------------
    def rebuild(self) -> None:
        """Every job again from the table (at start, and when another process changed it)."""
        with self._lock:
            self._signature = self.service.book.signature()
            for job in self.scheduler.get_jobs():
                if job.id.startswith(("focus:block:", "focus:schedule:")):
                    job.remove()
            self.scheduler.add_job(
                self._tick,
                IntervalTrigger(seconds=self.tick_interval.total_seconds(), timezone=UTC),
                id=TICK_JOB,
                name="focus tick (clock jumps, schedule changes, session time)",
                replace_existing=True,
                misfire_grace_time=None,
            )
            for spec in self.service.book.specs():
                self._add_block_job(spec)
            for info in self.service.list_schedules():
                self._add_schedule_job(info.id)

    def _add_block_job(self, spec: BlockSpec) -> None:
        grace = max(1, int((spec.duration - LATE_START_MINIMUM).total_seconds()))
        self.scheduler.add_job(
            self._tick,
            OccurrenceTrigger(spec.recurrence),
            id=block_job_id(spec.id),
            name=f"focus block {spec.title!r}",
            replace_existing=True,
            misfire_grace_time=grace,
            coalesce=True,
        )

    def _add_schedule_job(self, schedule_id: int) -> None:
        info = self.service.book.get_schedule(schedule_id)
        job_id = schedule_job_id(schedule_id)
        if not info.enabled or info.next_run is None:
            self._remove(job_id)
            return
        trigger: BaseTrigger
        if info.kind == "sync" and info.interval_minutes:
            trigger = IntervalTrigger(minutes=info.interval_minutes, timezone=UTC)
        elif info.kind == "review":
            trigger = OccurrenceTrigger(self._review_recurrence(schedule_id))
        else:
            return
        self.scheduler.add_job(
            self._tick,
            trigger,
            id=job_id,
            name=f"{info.kind} schedule {schedule_id}",
            replace_existing=True,
            next_run_time=max(info.next_run, self.service.clock.now()),
            misfire_grace_time=None,  # a sync or review runs however late (once: coalesced)
            coalesce=True,
        )

    def _review_recurrence(self, schedule_id: int) -> Recurrence:
        with self.service.store.session() as s:
            row = s.get(Schedule, schedule_id)
            assert row is not None
            return review_recurrence(row)

    def _remove(self, job_id: str) -> None:
        if self.scheduler.get_job(job_id) is not None:
            self.scheduler.remove_job(job_id)

    def _on_table_change(self, kind: str, row_id: int | None) -> None:
        """A row changed in this process: update its job only."""
        with self._lock:
            self._signature = self.service.book.signature()
            if row_id is None:
                return
            if kind == "block":
                specs = {s.id: s for s in self.service.book.specs()}
                if row_id in specs:
                    self._add_block_job(specs[row_id])
                else:
                    self._remove(block_job_id(row_id))
            else:
                try:
                    self._add_schedule_job(row_id)
                except Exception:  # noqa: BLE001 - the row is gone
                    self._remove(schedule_job_id(row_id))
        self.scheduler.wakeup()

    def watch_session(self, session: SessionView | None) -> None:
        """Wake the owner when ``session`` is due to end (none: forget the end)."""
        with self._lock:
            self._remove(SESSION_END_JOB)
            if session is None or session.state != "running":
                return
            self.scheduler.add_job(
                self._tick,
                DateTrigger(session.end_at(self.service.clock.now()), timezone=UTC),
                id=SESSION_END_JOB,
                name="focus session end",
                replace_existing=True,
                misfire_grace_time=None,
            )

    # -- wake-ups -------------------------------------------------------------------------------
    def check(self) -> ClockJump | None:
        """One tick: clock jump? table changed elsewhere? then wake the owner.

        Every job wakes the owner through here, so a wake-up right after the machine
        resumed (a block's start, a session's end) reports the sleep as a clock jump
        first and the sleep is never counted as work.
        """
        with self._lock:
            jump = self._detector.check()
        signature = self.service.book.signature()
        if signature != self._signature:
            log.info("the schedule table changed; rebuilding the jobs")
            self.rebuild()
        if jump is not None:
            log.info("clock jump of %s detected", jump.offset)
            self.on_clock_jump(jump)
            self.scheduler.wakeup()
        else:
            self.on_due()
        return jump

    def _tick(self) -> None:
        try:
            self.check()
        except Exception:  # noqa: BLE001 - keep ticking whatever happened
            log.exception("focus tick failed")

    def _on_missed(self, event: JobExecutionEvent) -> None:
        if str(event.job_id).startswith("focus:"):
            log.info("job %s missed its run at %s", event.job_id, event.scheduled_run_time)
            self._tick()

    def next_run_time(self, job_id: str) -> datetime | None:
        job = self.scheduler.get_job(job_id)
        return None if job is None else getattr(job, "next_run_time", None)

    def job_ids(self) -> list[str]:
        return sorted(j.id for j in self.scheduler.get_jobs())

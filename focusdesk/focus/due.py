"""What is due at time t: the pure core of the scheduler (no database, no APScheduler).

Given a schedule and its watermark (every occurrence at or before it was dealt
with) the functions here say what should happen now. A block occurrence that was
not started on time (app closed, machine asleep, clock changed) starts late while
its window is still open — at least ``LATE_START_MINIMUM`` of it left — and is
missed otherwise; when several were skipped, only the newest can still start and
the older ones are missed. Syncs and the daily review that were missed run once,
late (coalesced).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from focusdesk.focus.recurrence import Recurrence

ON_TIME_GRACE = timedelta(minutes=1)
"""A block started within this of its start counts as on time."""
LATE_START_MINIMUM = timedelta(minutes=5)
"""A late block starts only while at least this much of it is left."""


@dataclass(frozen=True)
class Occurrence:
    """One occurrence of a block: its planned start and end (UTC)."""

    start: datetime
    end: datetime

    @property
    def latest_start(self) -> datetime:
        """After this the occurrence is missed rather than started late."""
        return max(self.start + ON_TIME_GRACE, self.end - LATE_START_MINIMUM)

    def open_at(self, now: datetime) -> bool:
        """Whether the block can still start at ``now``."""
        return self.start <= now < self.latest_start

    def late_at(self, now: datetime) -> bool:
        return now - self.start > ON_TIME_GRACE


@dataclass(frozen=True)
class BlockDecision:
    """What to do about one block at one moment."""

    start: Occurrence | None
    """The occurrence to start now (on time or late), if any."""
    missed: tuple[Occurrence, ...]
    """Occurrences whose window closed unstarted, oldest first: record them as missed."""

    @property
    def nothing(self) -> bool:
        return self.start is None and not self.missed


def occurrences(
    rec: Recurrence, duration: timedelta, after: datetime, until: datetime
) -> list[Occurrence]:
    """Occurrences starting in ``(after, until]``."""
    return [Occurrence(s, s + duration) for s in rec.between(after, until)]


def decide_block(
    rec: Recurrence, duration: timedelta, handled_until: datetime, now: datetime
) -> BlockDecision:
    """What is due for a block whose occurrences up to ``handled_until`` were dealt with.

    A watermark in the future (the clock was set back) makes nothing due until the
    clock passes it again: an occurrence never fires twice.
    """
    due = occurrences(rec, duration, handled_until, now)
    if not due:
        return BlockDecision(None, ())
    last = due[-1]
    if last.open_at(now):
        return BlockDecision(last, tuple(due[:-1]))
    return BlockDecision(None, tuple(due))


def next_block_start(rec: Recurrence, handled_until: datetime, now: datetime) -> datetime | None:
    """When the block next needs attention: its next start after the watermark and now."""
    return rec.next_after(max(handled_until, now))


def sync_due(last_run_at: datetime | None, interval: timedelta, now: datetime) -> bool:
    """A periodic sync is due when it never ran, its interval passed, or the clock went back
    past its last run (which would otherwise hold it back for the size of the jump)."""
    if last_run_at is None or last_run_at > now:
        return True
    return now - last_run_at >= interval


def next_sync_at(last_run_at: datetime | None, interval: timedelta, now: datetime) -> datetime:
    """When a periodic sync should next run (now when it is overdue: once, coalesced)."""
    if sync_due(last_run_at, interval, now):
        return now
    assert last_run_at is not None
    return last_run_at + interval


def review_due(rec: Recurrence, handled_until: datetime, now: datetime) -> datetime | None:
    """The newest review time in ``(handled_until, now]``; run once even if several were
    missed (the review covers everything since the last one)."""
    times = rec.between(handled_until, now)
    return times[-1] if times else None

"""The pure core: what is due at time t given a schedule and its watermark."""

from __future__ import annotations

from datetime import date, time, timedelta

from focus_fixtures import berlin

from focusdesk.focus.due import (
    LATE_START_MINIMUM,
    decide_block,
    next_block_start,
    next_sync_at,
    review_due,
    sync_due,
)
from focusdesk.focus.recurrence import Recurrence

DAILY_9 = Recurrence("FREQ=DAILY", time(9, 0), "Europe/Berlin", date(2026, 11, 1))
NINETY = timedelta(minutes=90)


def test_nothing_before_the_start_then_the_start_on_time() -> None:
    handled = berlin(2026, 11, 23, 8, 0)
    assert decide_block(DAILY_9, NINETY, handled, berlin(2026, 11, 23, 8, 59, 59)).nothing
    d = decide_block(DAILY_9, NINETY, handled, berlin(2026, 11, 23, 9, 0))
    assert d.start is not None
    assert d.start.start == berlin(2026, 11, 23, 9, 0)
    assert d.start.end == berlin(2026, 11, 23, 10, 30)
    assert not d.start.late_at(berlin(2026, 11, 23, 9, 0, 30))
    assert d.missed == ()


def test_a_late_start_inside_the_window_still_starts() -> None:
    d = decide_block(DAILY_9, NINETY, berlin(2026, 11, 23, 8), berlin(2026, 11, 23, 10, 20))
    assert d.start is not None
    assert d.start.late_at(berlin(2026, 11, 23, 10, 20))
    assert d.missed == ()


def test_too_late_is_missed_never_dropped() -> None:
    last_chance = berlin(2026, 11, 23, 10, 30) - LATE_START_MINIMUM
    d = decide_block(DAILY_9, NINETY, berlin(2026, 11, 23, 8), last_chance)
    assert d.start is None
    assert [o.start for o in d.missed] == [berlin(2026, 11, 23, 9)]


def test_after_days_away_old_ones_are_missed_and_todays_can_still_start() -> None:
    d = decide_block(DAILY_9, NINETY, berlin(2026, 11, 20, 12), berlin(2026, 11, 23, 9, 10))
    assert [o.start.day for o in d.missed] == [21, 22]
    assert d.start is not None
    assert d.start.start == berlin(2026, 11, 23, 9)


def test_a_watermark_in_the_future_fires_nothing_again() -> None:
    """The clock went back an hour after the 09:00 block started: no second start."""
    handled = berlin(2026, 11, 23, 9, 0)
    assert decide_block(DAILY_9, NINETY, handled, berlin(2026, 11, 23, 8, 30)).nothing
    assert decide_block(DAILY_9, NINETY, handled, berlin(2026, 11, 23, 9, 0)).nothing
    assert next_block_start(DAILY_9, handled, berlin(2026, 11, 23, 8, 30)) == berlin(
        2026, 11, 24, 9
    )


def test_syncs_run_once_when_overdue_however_late() -> None:
    last = berlin(2026, 11, 23, 9)
    every = timedelta(minutes=30)
    assert not sync_due(last, every, berlin(2026, 11, 23, 9, 29))
    assert sync_due(last, every, berlin(2026, 11, 23, 9, 30))
    assert next_sync_at(last, every, berlin(2026, 11, 23, 9, 10)) == berlin(2026, 11, 23, 9, 30)
    days_later = berlin(2026, 11, 26, 7)
    assert next_sync_at(last, every, days_later) == days_later  # once, now
    assert sync_due(None, every, days_later)
    assert sync_due(last, every, berlin(2026, 11, 23, 8))  # the clock went back


def test_the_daily_review_runs_once_for_several_missed_days() -> None:
    rec = Recurrence("FREQ=DAILY", time(18, 0), "Europe/Berlin", date(2026, 11, 1))
    handled = berlin(2026, 11, 20, 18)
    assert review_due(rec, handled, berlin(2026, 11, 20, 23)) is None
    assert review_due(rec, handled, berlin(2026, 11, 23, 19)) == berlin(2026, 11, 23, 18)

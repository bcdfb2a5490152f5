"""Blocks start and end at the right moments under a fake clock; missed, late, DST,
sleep, clock changes, restarts mid-block, pauses, outcomes and held items."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fakes import FakeEncoder
from focus_fixtures import TravelClock, add_note, berlin

from focusdesk.app import FocusDesk
from focusdesk.errors import KnownError
from focusdesk.focus.clock import JumpDetector
from focusdesk.focus.records import FocusEvent
from focusdesk.focus.service import FocusService
from focusdesk.paths import resolve_paths


def deep_work(svc: FocusService, **kw: object) -> int:
    fields: dict[str, object] = {
        "start_time": "09:00",
        "duration_minutes": 90,
        "days": ["weekdays"],
        "timezone": "Europe/Berlin",
    }
    fields.update(kw)
    return svc.add_block("Deep work", **fields).id


def start_due_now(svc: FocusService) -> FocusEvent:
    result = svc.tick()
    assert len(result.due) == 1, result
    event = svc.start_due(result.due[0])
    assert event is not None
    return event


def kinds(events: list[FocusEvent]) -> list[str]:
    return [e.kind for e in events]


def test_a_block_starts_and_ends_exactly_on_time(desk: FocusDesk, clock: TravelClock) -> None:
    svc = desk.focus
    block_id = deep_work(svc)
    clock.move_to(berlin(2026, 11, 23, 8, 59, 59))
    result = svc.tick()
    assert result.due == []
    assert result.events == []
    clock.move_to(berlin(2026, 11, 23, 9, 0))
    event = start_due_now(svc)
    session = event.session
    assert event.kind == "started"
    assert not event.late
    assert session.block_id == block_id
    assert session.planned_start == berlin(2026, 11, 23, 9)
    assert session.planned_end == berlin(2026, 11, 23, 10, 30)
    assert sum(i.planned_minutes for i in session.items) == 90
    assert 1 <= len(session.items) <= desk.settings.focus_top_k
    assert svc.tick().due == []  # started once

    clock.move_to(berlin(2026, 11, 23, 10, 29, 59))
    assert svc.tick().events == []
    assert svc.current() is not None
    clock.move_to(berlin(2026, 11, 23, 10, 30))
    ended = svc.tick().events
    assert kinds(ended) == ["ended"]
    summary = ended[0].summary
    assert summary is not None
    assert summary.session.end_reason == "completed"
    assert summary.session.actual_end == berlin(2026, 11, 23, 10, 30)
    assert summary.planned_minutes == 90
    assert summary.actual_minutes == pytest.approx(90)
    assert svc.current() is None

    clock.move_to(berlin(2026, 11, 24, 9, 0))  # and again the next weekday
    assert [d.occurrence.start for d in svc.tick().due] == [berlin(2026, 11, 24, 9)]
    clock.move_to(berlin(2026, 11, 28, 9, 0))  # not on a Saturday
    result = svc.tick()
    assert result.due == []
    assert [e.session.planned_start for e in result.events if e.kind == "missed"] == [
        berlin(2026, 11, 24, 9),
        berlin(2026, 11, 25, 9),
        berlin(2026, 11, 26, 9),
        berlin(2026, 11, 27, 9),
    ]


def test_a_block_missed_while_the_app_was_closed_is_recorded_once(
    desk: FocusDesk, clock: TravelClock
) -> None:
    svc = desk.focus
    deep_work(svc)
    clock.move_to(berlin(2026, 11, 23, 11, 0))  # the app starts after the block's window
    result = svc.recover()
    assert kinds(result.events) == ["missed"]
    assert result.due == []
    missed = result.events[0].session
    assert missed.state == "missed"
    assert missed.end_reason == "missed"
    assert missed.planned_start == berlin(2026, 11, 23, 9)
    assert [m.id for m in svc.missed_to_announce()] == [missed.id]
    assert svc.recover().events == []  # never twice
    svc.mark_announced([missed.id])
    assert svc.missed_to_announce() == []


def test_a_block_starts_late_while_inside_its_window(desk: FocusDesk, clock: TravelClock) -> None:
    svc = desk.focus
    deep_work(svc)
    clock.move_to(berlin(2026, 11, 23, 9, 40))  # machine woke up / app opened at 09:40
    result = svc.recover()
    assert result.events == []
    assert len(result.due) == 1
    event = svc.start_due(result.due[0])
    assert event is not None
    assert event.kind == "started"
    assert event.late
    s = event.session
    assert s.planned_end == berlin(2026, 11, 23, 10, 30)  # the window does not move
    assert sum(i.planned_minutes for i in s.items) == 50  # only what is left is planned
    assert s.late_by == timedelta(minutes=40)


def test_days_away_missed_ones_are_recorded_and_todays_still_starts(
    desk: FocusDesk, clock: TravelClock
) -> None:
    clock.move_to(berlin(2026, 11, 20, 7, 0))  # a Friday
    svc = desk.focus
    deep_work(svc)
    clock.move_to(berlin(2026, 11, 23, 9, 10))  # back on Monday
    result = svc.recover()
    assert [e.session.planned_start for e in result.events] == [berlin(2026, 11, 20, 9)]
    assert [d.occurrence.start for d in result.due] == [berlin(2026, 11, 23, 9)]


def test_a_start_that_was_due_while_starting_late_closes_is_missed(
    desk: FocusDesk, clock: TravelClock
) -> None:
    """Planning took so long (a long sync ahead of it) that the window closed."""
    svc = desk.focus
    deep_work(svc)
    clock.move_to(berlin(2026, 11, 23, 10, 0))
    due = svc.tick().due[0]
    clock.move_to(berlin(2026, 11, 23, 10, 26))
    event = svc.start_due(due)
    assert event is not None
    assert event.kind == "missed"
    assert svc.current() is None


@pytest.mark.parametrize(
    ("day", "due_utc", "quiet_utc"),
    [
        # spring forward: 02:30 does not exist on 29 March; the block starts at 03:00 CEST
        ((2026, 3, 28, 12), datetime(2026, 3, 29, 1, 0, tzinfo=UTC), None),
        # fall back: 02:30 happens twice on 25 October; the block starts once (CEST)
        (
            (2026, 10, 24, 12),
            datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
            datetime(2026, 10, 25, 1, 30, tzinfo=UTC),
        ),
    ],
)
def test_dst_changes(
    desk: FocusDesk,
    clock: TravelClock,
    day: tuple[int, int, int, int],
    due_utc: datetime,
    quiet_utc: datetime | None,
) -> None:
    clock.move_to(berlin(*day))
    svc = desk.focus
    svc.add_block(
        "Night owl",
        start_time="02:30",
        duration_minutes=30,
        days=["daily"],
        timezone="Europe/Berlin",
    )
    clock.move_to(due_utc - timedelta(seconds=1))
    assert svc.tick().due == []
    clock.move_to(due_utc)
    assert start_due_now(svc).session.planned_start == due_utc
    if quiet_utc is not None:
        clock.move_to(quiet_utc)  # the second 02:30
        result = svc.tick()
        assert kinds(result.events) == ["ended"]
        assert result.due == []


def test_the_clock_set_back_never_fires_a_block_twice(desk: FocusDesk, clock: TravelClock) -> None:
    svc = desk.focus
    deep_work(svc)
    clock.move_to(berlin(2026, 11, 23, 9, 0))
    start_due_now(svc)
    clock.move_to(berlin(2026, 11, 23, 8, 30))  # someone set the clock back
    assert svc.tick().due == []
    clock.move_to(berlin(2026, 11, 23, 9, 0, 30))
    result = svc.tick()
    assert result.due == []
    assert result.events == []


def test_sleep_mid_block_is_neither_work_nor_pause(desk: FocusDesk, clock: TravelClock) -> None:
    svc = desk.focus
    deep_work(svc)
    clock.move_to(berlin(2026, 11, 23, 9, 0))
    first = start_due_now(svc).session.items[0].item_id
    clock.move_to(berlin(2026, 11, 23, 9, 10))
    svc.tick()
    detector = JumpDetector(clock)
    clock.shift(timedelta(minutes=40))  # asleep: the wall clock moves, monotonic does not
    jump = detector.check()
    assert jump is not None
    assert jump.forward
    assert jump.offset == pytest.approx(timedelta(minutes=40), abs=timedelta(seconds=5))
    result = svc.clock_jumped(jump)
    assert result.events == []
    s = svc.current()
    assert s is not None
    now = berlin(2026, 11, 23, 9, 50)
    assert s.item_seconds(first, now) == pytest.approx(600, abs=5)  # 09:00-09:10 only
    assert s.away_seconds == pytest.approx(2400, abs=5)
    assert s.end_at(now) == berlin(2026, 11, 23, 10, 30)  # the countdown kept going
    assert detector.check() is None


def test_the_clock_set_back_mid_block_keeps_the_time_worked_and_the_time_left(
    desk: FocusDesk, clock: TravelClock
) -> None:
    svc = desk.focus
    deep_work(svc)
    clock.move_to(berlin(2026, 11, 23, 9, 0))
    first = start_due_now(svc).session.items[0].item_id
    clock.move_to(berlin(2026, 11, 23, 9, 10))
    svc.tick()
    detector = JumpDetector(clock)
    clock.shift(-timedelta(minutes=30))  # set back: the wall clock moves, monotonic does not
    jump = detector.check()
    assert jump is not None
    assert not jump.forward
    result = svc.clock_jumped(jump)
    assert result.events == []
    assert result.due == []  # 09:00 comes round again: not a second block
    s = svc.current()
    assert s is not None
    now = berlin(2026, 11, 23, 8, 40)
    assert s.item_seconds(first, now) == pytest.approx(600, abs=5)  # 10 minutes worked
    assert s.remaining_seconds(now) == pytest.approx(80 * 60, abs=5)  # 80 left, not 110
    assert abs(s.end_at(now) - berlin(2026, 11, 23, 10, 0)) < timedelta(seconds=5)
    assert s.away_seconds == pytest.approx(0, abs=5)

    clock.move_to(berlin(2026, 11, 23, 9, 50))
    assert svc.tick().events == []
    clock.move_to(berlin(2026, 11, 23, 10, 0))
    ended = svc.tick().events
    assert kinds(ended) == ["ended"]
    assert ended[0].summary is not None
    assert ended[0].summary.actual_minutes == pytest.approx(90, abs=0.1)
    assert svc.tick().due == []


def test_quitting_and_restarting_mid_block_resumes_where_it_was(
    desk: FocusDesk, clock: TravelClock, data_dir: Path
) -> None:
    svc = desk.focus
    deep_work(svc)
    clock.move_to(berlin(2026, 11, 23, 9, 0))
    items = [i.item_id for i in start_due_now(svc).session.items]
    assert len(items) >= 2
    clock.move_to(berlin(2026, 11, 23, 9, 20))
    svc.mark_item(items[0], "done")
    svc.note_item(items[0], "shipped the rollback fix")
    clock.move_to(berlin(2026, 11, 23, 9, 30))
    svc.tick()  # the last heartbeat before the app quits
    desk.close()

    clock.move_to(berlin(2026, 11, 23, 9, 45))
    again = FocusDesk(resolve_paths(data_dir), encoder=FakeEncoder(), clock=clock)  # type: ignore[arg-type]
    try:
        result = again.focus.recover()
        assert kinds(result.events) == ["resumed"]
        s = result.events[0].session
        now = berlin(2026, 11, 23, 9, 45)
        assert s.state == "running"
        first = s.item(items[0])
        assert first is not None
        assert first.outcome == "done"
        assert first.note == "shipped the rollback fix"
        assert s.current_item_id == items[1]
        assert s.item_seconds(items[0], now) == pytest.approx(1200)
        assert s.item_seconds(items[1], now) == pytest.approx(600)  # 09:20-09:30, not 09:45
        assert s.remaining_seconds(now) == pytest.approx(45 * 60)
        clock.move_to(berlin(2026, 11, 23, 10, 30))
        ended = again.focus.tick().events
        assert kinds(ended) == ["ended"]
        assert ended[0].summary is not None
        assert ended[0].summary.actual_minutes == pytest.approx(90 - 15)
    finally:
        again.close()


def test_a_block_that_ran_out_while_the_app_was_closed_ends_on_restart(
    desk: FocusDesk, clock: TravelClock
) -> None:
    svc = desk.focus
    deep_work(svc)
    clock.move_to(berlin(2026, 11, 23, 9, 0))
    start_due_now(svc)
    clock.move_to(berlin(2026, 11, 23, 9, 30))
    svc.tick()
    clock.move_to(berlin(2026, 11, 23, 13, 0))
    result = svc.recover()
    assert kinds(result.events) == ["ended"]
    summary = result.events[0].summary
    assert summary is not None
    assert summary.session.actual_end == berlin(2026, 11, 23, 10, 30)
    assert summary.actual_minutes == pytest.approx(30)


def test_pause_extend_and_resume(desk: FocusDesk, clock: TravelClock) -> None:
    svc = desk.focus
    clock.move_to(berlin(2026, 11, 23, 9, 0))
    s = svc.start(30)
    assert s.block_id is None
    assert s.end_at(berlin(2026, 11, 23, 9)) == berlin(2026, 11, 23, 9, 30)
    first = s.items[0].item_id
    clock.move_to(berlin(2026, 11, 23, 9, 10))
    assert svc.pause().state == "paused"
    clock.move_to(berlin(2026, 11, 23, 9, 20))
    s = svc.resume()
    assert s.end_at(berlin(2026, 11, 23, 9, 20)) == berlin(2026, 11, 23, 9, 40)
    s = svc.extend(15)
    assert s.end_at(berlin(2026, 11, 23, 9, 20)) == berlin(2026, 11, 23, 9, 55)
    clock.move_to(berlin(2026, 11, 23, 9, 54, 59))
    assert svc.tick().events == []
    clock.move_to(berlin(2026, 11, 23, 9, 55))
    (ended,) = svc.tick().events
    assert ended.summary is not None
    assert ended.summary.planned_minutes == 45
    assert ended.summary.actual_minutes == pytest.approx(45)  # 55 minus the 10 paused
    assert ended.session.item_seconds(first, berlin(2026, 11, 23, 10)) == pytest.approx(45 * 60)


def test_paused_too_long_ends_at_the_pause(desk: FocusDesk, clock: TravelClock) -> None:
    svc = desk.focus
    svc.start(60)
    clock.move_to(berlin(2026, 11, 23, 7, 20))
    svc.pause()
    clock.move_to(berlin(2026, 11, 23, 12, 0))
    (ended,) = svc.tick().events
    assert ended.session.end_reason == "paused_too_long"
    assert ended.session.actual_end == berlin(2026, 11, 23, 7, 20)


def test_outcomes_mark_the_items_and_the_next_plan_leaves_them_out(
    desk: FocusDesk, clock: TravelClock
) -> None:
    svc = desk.focus
    s = svc.start(60, top_k=4)
    ids = [i.item_id for i in s.items]
    assert s.current_item_id == ids[0]
    s = svc.mark_item(ids[0], "done")
    assert s.current_item_id == ids[1]  # the next open item follows
    s = svc.mark_item(ids[1], "snoozed")
    s = svc.mark_item(ids[2], "skipped")
    assert [i.outcome for i in s.items[:3]] == ["done", "snoozed", "skipped"]
    done, snoozed = desk.items.get(ids[0]), desk.items.get(ids[1])
    assert (done.status, snoozed.status) == ("done", "snoozed")
    with pytest.raises(KnownError, match="not part of this focus block"):
        svc.mark_item(10_000, "done")
    summary = svc.stop()
    assert summary.outcomes["done"] == 1
    assert summary.outcomes["skipped"] == 1
    assert summary.session.end_reason == "ended_early"
    again = svc.start(60, top_k=5)
    assert not {ids[0], ids[1]} & {i.item_id for i in again.items}
    assert ids[2] in {i.item_id for i in again.items}  # skipped is not done


def test_changing_done_to_skipped_puts_the_item_back(desk: FocusDesk, clock: TravelClock) -> None:
    svc = desk.focus
    ids = [i.item_id for i in svc.start(60, top_k=3).items]
    svc.mark_item(ids[0], "done")
    svc.mark_item(ids[1], "snoozed")
    assert desk.items.get(ids[0]).status == "done"
    svc.mark_item(ids[0], "skipped")  # a slip of the key: it was not done after all
    svc.mark_item(ids[1], "skipped")
    assert {desk.items.get(i).status for i in ids[:2]} == {"read"}  # open again


def test_time_past_the_end_of_a_block_is_not_counted(desk: FocusDesk, clock: TravelClock) -> None:
    svc = desk.focus
    s = svc.start(30, top_k=2)
    clock.move_to(berlin(2026, 11, 23, 9, 0))  # a wake-up long after the end
    svc.runner.heartbeat(svc.clock.now())
    (ended,) = svc.tick().events
    assert s.items
    assert sum(i.actual_seconds for i in ended.session.items) == pytest.approx(30 * 60, abs=1)


def test_per_goal_totals(desk: FocusDesk, clock: TravelClock) -> None:
    svc = desk.focus
    s = svc.start(60, top_k=5)
    clock.move_to(berlin(2026, 11, 23, 7, 30))
    summary = svc.stop()
    goals = {g.goal_title: g for g in summary.goals}
    assert sum(g.planned_minutes for g in goals.values()) == 60
    assert sum(g.actual_minutes for g in goals.values()) == pytest.approx(30)
    assert sum(g.items for g in goals.values()) == len(s.items)


def test_items_arriving_during_a_block_are_held_and_released_at_its_end(
    desk: FocusDesk, clock: TravelClock, vault: Path
) -> None:
    svc = desk.focus
    deep_work(svc)
    clock.move_to(berlin(2026, 11, 23, 9, 0))
    start_due_now(svc)
    assert svc.holding()
    clock.move_to(berlin(2026, 11, 23, 9, 15))
    add_note(vault, "rc1.md", "# RC1 blocker\n\nOTA rollback fails on the RC1 firmware build.")
    desk.sources.sync()
    held = svc.held_items()
    assert [h.title for h in held] == ["RC1 blocker"]
    assert desk.ranking.rank()  # ranked as usual meanwhile
    clock.move_to(berlin(2026, 11, 23, 10, 30))
    (ended,) = svc.tick().events
    assert ended.summary is not None
    assert [h.title for h in ended.summary.held] == ["RC1 blocker"]
    assert ended.session.held_item_ids == tuple(h.item_id for h in held)
    assert not svc.holding()
    clock.move_to(berlin(2026, 11, 23, 11, 0))
    add_note(vault, "later.md", "# After the block\n\nArrived later.")
    desk.sources.sync()
    assert [h.title for h in svc.summary(ended.session.id).held] == ["RC1 blocker"]


def test_two_processes_never_start_the_same_block_twice(
    desk: FocusDesk, clock: TravelClock, data_dir: Path
) -> None:
    deep_work(desk.focus)
    other = FocusDesk(resolve_paths(data_dir), encoder=FakeEncoder(), clock=clock)  # type: ignore[arg-type]
    try:
        clock.move_to(berlin(2026, 11, 23, 9, 0))
        due_a, due_b = desk.focus.tick().due[0], other.focus.tick().due[0]
        started = [desk.focus.start_due(due_a), other.focus.start_due(due_b)]
        assert [e.kind if e else None for e in started] == ["started", None]
    finally:
        other.close()


def test_a_block_due_while_another_runs_is_recorded_as_overlapped(
    desk: FocusDesk, clock: TravelClock
) -> None:
    svc = desk.focus
    deep_work(svc)
    clock.move_to(berlin(2026, 11, 23, 8, 30))
    svc.start(120)
    with pytest.raises(KnownError, match="already running"):
        svc.start(30)
    clock.move_to(berlin(2026, 11, 23, 9, 0))
    result = svc.tick()
    assert result.due == []
    assert result.events == []  # it waits while its window is open
    clock.move_to(berlin(2026, 11, 23, 10, 26))  # 4 minutes left: too late to start
    result = svc.tick()
    assert result.due == []
    assert [(e.kind, e.session.end_reason) for e in result.events] == [("missed", "overlapped")]
    assert svc.tick().events == []  # recorded once


def test_a_block_due_during_a_short_session_starts_late_when_it_ends(
    desk: FocusDesk, clock: TravelClock
) -> None:
    svc = desk.focus
    deep_work(svc)
    clock.move_to(berlin(2026, 11, 23, 8, 50))
    svc.start(20)
    clock.move_to(berlin(2026, 11, 23, 9, 0))
    assert svc.tick().events == []
    clock.move_to(berlin(2026, 11, 23, 9, 11))
    result = svc.tick()
    assert [e.kind for e in result.events] == ["ended"]
    assert len(result.due) == 1
    event = svc.start_due(result.due[0])
    assert event is not None
    assert event.kind == "started"
    assert event.late
    assert event.session.title == "Deep work"


def test_changing_a_block_never_makes_past_occurrences_due(
    desk: FocusDesk, clock: TravelClock
) -> None:
    svc = desk.focus
    block = deep_work(svc, start_time="10:00")
    clock.move_to(berlin(2026, 11, 23, 9, 30))
    svc.update_block(block, start_time="08:00")  # 08:00 today has passed: not missed
    assert svc.tick().events == []
    assert svc.get_block(block).next_start == berlin(2026, 11, 24, 8)
    svc.update_block(block, enabled=False)
    clock.move_to(berlin(2026, 11, 25, 12))
    assert svc.tick().events == []
    svc.update_block(block, enabled=True)  # the days it was off are not "missed"
    assert svc.tick().events == []


def test_a_scheduled_block_starts_even_with_nothing_to_plan(
    data_dir: Path, clock: TravelClock
) -> None:
    """No goals yet: the block still happens (unplanned) rather than failing every tick."""
    fd = FocusDesk(resolve_paths(data_dir), encoder=FakeEncoder(), clock=clock)  # type: ignore[arg-type]
    try:
        svc = fd.focus
        deep_work(svc)
        clock.move_to(berlin(2026, 11, 23, 9, 0))
        event = start_due_now(svc)
        assert event.kind == "started"
        assert event.session.items == ()
        svc.stop()
        with pytest.raises(KnownError, match="no active goals"):
            svc.start(30)  # on demand, the user hears why
    finally:
        fd.close()

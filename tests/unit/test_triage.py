"""Triage: status changes with their implicit feedback, snooze presets in local time, undo."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from focusdesk.app import FocusDesk
from focusdesk.errors import KnownError, NotFoundError
from focusdesk.store.models import Chunk, Feedback, Item
from focusdesk.triage import later_today_available, snooze_until

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture
def items(fd: FocusDesk, tmp_path: Path) -> list[int]:
    """Three synced notes; returns their item ids (firmware, hiring, soup)."""
    root = tmp_path / "notes"
    root.mkdir()
    for name, text in {
        "firmware.md": "# Firmware\n\nShip the firmware release.",
        "hiring.md": "# Hiring\n\nInterview two engineers.",
        "soup.md": "# Soup\n\nLeek soup.",
    }.items():
        (root / name).write_text(text)
    fd.sources.add("notes", str(root))
    fd.sources.sync()
    with fd.store.session() as s:
        return list(s.scalars(select(Item.id).order_by(Item.title)))


def status(fd: FocusDesk, item_id: int) -> tuple[str, datetime | None]:
    with fd.store.session() as s:
        item = s.get(Item, item_id)
        assert item is not None
        until = item.snoozed_until
        return item.status, until.replace(tzinfo=UTC) if until else None


def signals(fd: FocusDesk) -> list[tuple[int, str, float | None]]:
    with fd.store.session() as s:
        return [
            (f.item_id, f.signal, f.value)
            for f in s.scalars(select(Feedback).order_by(Feedback.id))
        ]


# -- presets ------------------------------------------------------------------------------
def test_later_today_is_three_hours_on_the_hour_in_local_time() -> None:
    now = datetime(2026, 3, 10, 9, 20, tzinfo=BERLIN)  # 09:20 local
    until = snooze_until("later_today", now=now, tz=BERLIN)
    assert until.tzinfo is UTC
    assert until.astimezone(BERLIN).replace(tzinfo=None) == datetime(2026, 3, 10, 13, 0)
    late = datetime(2026, 3, 10, 20, 30, tzinfo=BERLIN)
    assert not later_today_available(late, tz=BERLIN)
    with pytest.raises(KnownError, match="too late"):
        snooze_until("later_today", now=late, tz=BERLIN)


def test_tomorrow_morning_is_eight_local_across_a_dst_change() -> None:
    # Europe/Berlin moves to summer time on Sunday 29 March 2026 at 02:00.
    now = datetime(2026, 3, 28, 22, 0, tzinfo=BERLIN)
    until = snooze_until("tomorrow", now=now, tz=BERLIN)
    assert until.astimezone(BERLIN).replace(tzinfo=None) == datetime(2026, 3, 29, 8, 0)
    assert until == datetime(2026, 3, 29, 6, 0, tzinfo=UTC)  # UTC+2 from that morning
    # Less than 10 wall-clock hours later, but only 9 real ones.
    assert until - now == timedelta(hours=9)


def test_next_week_is_the_next_monday_morning() -> None:
    wednesday = datetime(2026, 11, 18, 15, 0, tzinfo=NEW_YORK)
    until = snooze_until("next_week", now=wednesday, tz=NEW_YORK).astimezone(NEW_YORK)
    assert (until.date(), until.hour) == (date(2026, 11, 23), 8)
    monday = datetime(2026, 11, 23, 7, 0, tzinfo=NEW_YORK)  # a Monday: the one after
    until = snooze_until("next_week", now=monday, tz=NEW_YORK).astimezone(NEW_YORK)
    assert until.date() == date(2026, 11, 30)


def test_a_picked_date_is_its_morning_and_must_be_in_the_future() -> None:
    now = datetime(2026, 11, 18, 15, 0, tzinfo=BERLIN)
    until = snooze_until("date", now=now, on=date(2026, 12, 1), tz=BERLIN)
    assert until.astimezone(BERLIN).replace(tzinfo=None) == datetime(2026, 12, 1, 8, 0)
    exact = snooze_until("date", now=now, on=datetime(2026, 11, 18, 17, 30), tz=BERLIN)
    assert exact.astimezone(BERLIN).hour == 17
    with pytest.raises(KnownError, match="future"):
        snooze_until("date", now=now, on=date(2026, 11, 18), tz=BERLIN)  # 08:00 passed
    with pytest.raises(KnownError):
        snooze_until("date", now=now, tz=BERLIN)
    with pytest.raises(KnownError, match="Unknown snooze"):
        snooze_until("someday", now=now)


def test_presets_default_to_the_system_local_time() -> None:
    now = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
    until = snooze_until("tomorrow", now=now)
    assert until.tzinfo is UTC
    local = until.astimezone()
    assert (local.hour, local.minute) == (8, 0)
    assert local.date() == now.astimezone().date() + timedelta(days=1)


# -- actions ------------------------------------------------------------------------------
def test_done_dismiss_and_snooze_record_their_feedback_in_the_same_step(
    fd: FocusDesk, items: list[int]
) -> None:
    firmware, hiring, soup = items
    goal = fd.goals.add("firmware")
    fd.triage.done(firmware, goal_id=goal.id)
    fd.triage.dismiss(soup)
    until = datetime.now(UTC) + timedelta(hours=5)
    fd.triage.snooze(hiring, until)
    assert status(fd, firmware) == ("done", None)
    assert status(fd, soup) == ("dismissed", None)
    st, when = status(fd, hiring)
    assert st == "snoozed"
    assert when is not None
    assert abs((when - until).total_seconds()) < 1
    got = signals(fd)
    assert [(i, sig) for i, sig, _ in got] == [
        (firmware, "done"),
        (soup, "dismiss"),
        (hiring, "snooze"),
    ]
    assert got[2][2] == pytest.approx(5.0, abs=0.01)  # snoozed for five hours
    with fd.store.session() as s:
        assert s.scalar(select(Feedback.goal_id).where(Feedback.item_id == firmware)) == goal.id


def test_open_marks_read_with_the_dwell_time_and_is_not_undoable(
    fd: FocusDesk, items: list[int]
) -> None:
    firmware, hiring, _ = items
    fd.triage.done(hiring)
    fd.triage.open(firmware, dwell_seconds=12.34567)
    assert status(fd, firmware)[0] == "read"
    assert signals(fd)[-1] == (firmware, "open", 12.346)
    fd.triage.open(hiring, 3)  # reading a done item keeps it done
    assert status(fd, hiring)[0] == "done"
    assert fd.triage.last is not None
    assert fd.triage.last.item_id == hiring
    assert fd.triage.undo() is not None
    assert status(fd, hiring)[0] == "new"


def test_undo_restores_the_status_and_removes_the_feedback(fd: FocusDesk, items: list[int]) -> None:
    firmware, hiring, _ = items
    assert fd.triage.undo() is None  # nothing yet
    first = datetime.now(UTC) + timedelta(days=1)
    fd.triage.snooze(hiring, first)
    fd.triage.snooze(hiring, first + timedelta(days=1))
    record = fd.triage.last
    assert record is not None
    assert record.description == "Snoozed: Hiring"
    undone = fd.triage.undo()
    assert undone == record
    st, when = status(fd, hiring)
    assert st == "snoozed"  # back to the first snooze, with its time
    assert when is not None
    assert abs((when - first).total_seconds()) < 1
    assert [sig for _, sig, _ in signals(fd)] == ["snooze"]
    assert fd.triage.undo() is None  # only the last action is kept

    fd.triage.vote(firmware, "up")
    assert [sig for _, sig, _ in signals(fd)] == ["snooze", "up"]
    assert fd.triage.undo() is not None
    assert [sig for _, sig, _ in signals(fd)] == ["snooze"]
    assert status(fd, firmware)[0] == "new"  # a vote leaves the status alone
    with pytest.raises(KnownError):
        fd.triage.vote(firmware, "sideways")


def test_restore_moves_an_item_back_to_the_inbox(fd: FocusDesk, items: list[int]) -> None:
    soup = items[2]
    fd.triage.dismiss(soup)
    record = fd.triage.restore(soup)
    assert status(fd, soup)[0] == "read"
    assert record.description == "Moved back to the inbox: Soup"
    fd.triage.undo()
    assert status(fd, soup)[0] == "dismissed"


def test_snoozed_items_wake_up_when_due(fd: FocusDesk, items: list[int]) -> None:
    firmware, hiring, _ = items
    soon = datetime.now(UTC) + timedelta(minutes=30)
    later = datetime.now(UTC) + timedelta(days=2)
    fd.triage.snooze(firmware, soon)
    fd.triage.snooze(hiring, later)
    next_wake = fd.triage.next_wake()
    assert next_wake is not None
    assert abs((next_wake - soon).total_seconds()) < 1
    assert fd.triage.wake_due() == []
    assert fd.triage.wake_due(now=soon + timedelta(seconds=1)) == [firmware]
    assert status(fd, firmware) == ("new", None)
    assert status(fd, hiring)[0] == "snoozed"
    with pytest.raises(KnownError):
        fd.triage.snooze(firmware, datetime.now(UTC) - timedelta(hours=1))


def test_unknown_items_are_reported(fd: FocusDesk) -> None:
    with pytest.raises(NotFoundError):
        fd.triage.done(999)
    with pytest.raises(NotFoundError):
        fd.triage.open(999, 1.0)


def test_old_dismissals_lose_their_text_but_stay_dismissed_through_a_sync(
    fd: FocusDesk, items: list[int]
) -> None:
    _, hiring, soup = items
    fd.triage.dismiss(soup)
    fd.triage.dismiss(hiring)
    assert fd.triage.purge_dismissed(30) == 0  # both dismissed just now
    assert fd.triage.purge_dismissed(0) == 0  # 0 keeps everything
    in_40_days = datetime.now(UTC) + timedelta(days=40)
    assert fd.triage.purge_dismissed(30, now=in_40_days) == 2
    with fd.store.session() as s:
        soup_item = s.get(Item, soup)
        assert soup_item is not None
        assert (soup_item.text, soup_item.body, soup_item.status) == ("", "", "dismissed")
        assert s.scalars(select(Chunk).where(Chunk.item_id == soup)).first() is None
    summary = fd.sources.sync()
    assert summary.total("added") == 0
    assert summary.items_chunked == 0  # the purged items are not chunked again
    assert status(fd, soup)[0] == "dismissed"
    assert fd.triage.purge_dismissed(30, now=in_40_days) == 0  # already done


def test_the_vote_that_stands_is_the_last_and_undo_takes_it_back(
    fd: FocusDesk, items: list[int]
) -> None:
    from focusdesk.triage import Vote

    goal = fd.goals.add("firmware")
    a, b = items[0], items[1]
    assert fd.triage.votes() == {}
    fd.triage.vote(a, "up", goal_id=goal.id)
    fd.triage.vote(b, "down")
    fd.triage.vote(a, "down", goal_id=goal.id)
    assert fd.triage.votes() == {a: Vote("down", goal.id), b: Vote("down", None)}
    fd.triage.undo()  # the last vote on a
    assert fd.triage.votes() == {a: Vote("up", goal.id), b: Vote("down", None)}
    assert fd.triage.votes([b]) == {b: Vote("down", None)}


def test_pin_and_an_early_unsnooze_are_signals_and_unpin_takes_the_pin_back(
    fd: FocusDesk, items: list[int]
) -> None:
    from focusdesk.rank.learning import collect_labels

    firmware, hiring, soup = items
    fd.goals.add("firmware release")
    fd.triage.pin(firmware)
    fd.triage.pin(firmware)  # already pinned: nothing more
    fd.triage.snooze(hiring, datetime.now(UTC) + timedelta(days=1))
    fd.triage.restore(hiring)  # wanted now, before its time
    fd.triage.dismiss(soup)
    fd.triage.restore(soup)  # not snoozed: no signal
    assert [(i, sig) for i, sig, _ in signals(fd)] == [
        (firmware, "pin"),
        (hiring, "snooze"),
        (hiring, "unsnooze"),
        (soup, "dismiss"),
    ]
    labels = {x.item_id: x.label for x in collect_labels(fd.ranker)}
    assert labels[firmware] == 1.0
    assert labels[hiring] == 1.0  # the un-snooze outweighs the snooze
    fd.triage.pin(firmware, False)
    assert firmware not in {x.item_id for x in collect_labels(fd.ranker)}


def test_the_pinned_items_are_read_through_their_partial_index(
    fd: FocusDesk, items: list[int]
) -> None:
    from sqlalchemy import event

    firmware, hiring, _soup = items
    fd.triage.pin(firmware)
    fd.triage.pin(hiring)
    fd.triage.pin(hiring, False)
    plans: list[str] = []

    def explain(conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if "pinned" in statement and statement.lstrip().upper().startswith("SELECT"):
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params).all()
            plans.extend(str(row[-1]) for row in rows)

    event.listen(fd.store.engine, "before_cursor_execute", explain)
    try:
        assert fd.triage.pinned() == {firmware}
    finally:
        event.remove(fd.store.engine, "before_cursor_execute", explain)
    assert plans == ["SCAN items USING INDEX ix_items_pinned"]  # not a scan of every item


class FixedClock:
    """A clock stopped at ``at`` (years before the wall clock)."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def monotonic(self) -> float:
        return 0.0


PAST = datetime(2020, 1, 1, 12, tzinfo=UTC)


def test_snoozing_reads_the_desks_clock_not_the_wall_clock(
    fd: FocusDesk, items: list[int], fake_encoder: object
) -> None:
    _, hiring, _ = items
    desk = FocusDesk(fd.paths, encoder=fake_encoder, clock=FixedClock(PAST))  # type: ignore[arg-type]
    try:
        desk.triage.snooze(hiring, PAST + timedelta(hours=5))  # long past by the wall clock
        assert signals(desk)[-1] == (hiring, "snooze", 5.0)
        assert status(desk, hiring) == ("snoozed", PAST + timedelta(hours=5))
    finally:
        desk.close()


def test_a_focus_plan_leaves_out_what_is_snoozed_by_the_desks_clock(
    fd: FocusDesk, items: list[int], fake_encoder: object
) -> None:
    firmware, _, _ = items
    fd.goals.add("Ship the firmware release")
    fd.triage.snooze(firmware, datetime.now(UTC) + timedelta(days=1))
    with fd.store.session() as s:  # snoozed until a time long past by the wall clock
        s.execute(
            update(Item).where(Item.id == firmware).values(snoozed_until=PAST + timedelta(days=1))
        )
    assert firmware in {e.item.item_id for e in fd.planner.plan(30)}  # the wall clock: awake again
    desk = FocusDesk(fd.paths, encoder=fake_encoder, clock=FixedClock(PAST))  # type: ignore[arg-type]
    try:
        assert firmware not in {e.item.item_id for e in desk.planner.plan(30)}
    finally:
        desk.close()

"""iCalendar: exported blocks parse back (icalendar) with the right recurrence; busy times
import from events (recurring, overridden, cancelled, all-day) and free/busy; overlaps warn."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr
from focus_fixtures import BERLIN, TravelClock, berlin
from icalendar import Calendar

from focusdesk.app import FocusDesk
from focusdesk.focus import ics
from focusdesk.focus.ics import parse_busy


def exported(desk: FocusDesk, tmp_path: Path) -> Calendar:
    path = tmp_path / "blocks.ics"
    desk.focus.export_ics(path)
    return Calendar.from_ical(path.read_bytes())


def test_exported_blocks_parse_back_with_their_recurrence(
    desk: FocusDesk, clock: TravelClock, tmp_path: Path
) -> None:
    svc = desk.focus
    goal = desk.goals.all()[0]
    deep = svc.add_block(
        "Deep work",
        start_time="09:00",
        duration_minutes=90,
        days=["mon", "wed", "fri"],
        goal_ids=[goal.id],
        top_k=3,
        timezone="Europe/Berlin",
    )
    svc.add_block(
        "Fortnightly planning",
        start_time="14:30",
        duration_minutes=60,
        rrule="FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;UNTIL=20270301",
        timezone="America/New_York",
    )
    off = svc.add_block("Off", start_time="07:00", duration_minutes=30, enabled=False)

    cal = exported(desk, tmp_path)
    assert str(cal["VERSION"]) == "2.0"
    assert "FocusDesk" in str(cal["PRODID"])
    events = {str(e["SUMMARY"]): e for e in cal.walk("VEVENT")}
    assert set(events) == {"Focus: Deep work", "Focus: Fortnightly planning"}
    assert str(off.id) not in {str(e["X-FOCUSDESK-BLOCK-ID"]) for e in events.values()}
    assert {str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")} == {
        "Europe/Berlin",
        "America/New_York",
    }

    ev = events["Focus: Deep work"]
    start = ev.decoded("DTSTART")
    assert start == datetime(2026, 11, 23, 9, 0, tzinfo=BERLIN)  # first Monday
    assert ev["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert ev.decoded("DTEND") - start == timedelta(minutes=90)
    assert dict(ev["RRULE"]) == {"FREQ": ["WEEKLY"], "BYDAY": ["MO", "WE", "FR"]}
    assert "Ship the sensor firmware" in str(ev["DESCRIPTION"])
    assert str(ev["UID"]).startswith(f"focus-block-{deep.id}-")

    plan = events["Focus: Fortnightly planning"]
    rule = plan["RRULE"]
    assert rule["FREQ"] == ["WEEKLY"]
    assert rule["INTERVAL"] == [2]
    assert rule["BYDAY"] == ["TU"]
    until = rule["UNTIL"][0]
    assert until.utcoffset() == timedelta(0)  # UTC, as RFC 5545 wants with a TZID
    assert until == datetime(2027, 3, 2, 4, 59, 59, tzinfo=UTC)  # end of 1 March in New York

    # Expanded by another implementation, the exported rule gives our own starts
    # (09:00 Berlin, across the March DST change).
    rec = svc.book.spec(deep.id).recurrence
    theirs = rrulestr(rule_text(ev), dtstart=start)
    window = (berlin(2026, 11, 23), berlin(2027, 4, 15))
    ours = rec.between(window[0] - timedelta(seconds=1), window[1])
    assert [s.astimezone(UTC) for s in theirs.between(*window, inc=True)] == ours
    assert {s.astimezone(BERLIN).hour for s in ours} == {9}
    ny = ZoneInfo("America/New_York")
    planning = rrulestr(rule_text(plan), dtstart=plan.decoded("DTSTART"))
    assert {s.astimezone(ny).strftime("%a %H:%M") for s in planning} == {"Tue 14:30"}


def rule_text(event: object) -> str:
    return event["RRULE"].to_ical().decode()  # type: ignore[index]


def test_re_export_keeps_the_uids(desk: FocusDesk, clock: TravelClock, tmp_path: Path) -> None:
    desk.focus.add_block("Deep work", start_time="09:00", duration_minutes=60)
    first = {str(e["UID"]) for e in exported(desk, tmp_path).walk("VEVENT")}
    clock.move_to(berlin(2026, 11, 24, 7))
    assert {str(e["UID"]) for e in exported(desk, tmp_path).walk("VEVENT")} == first


MEETINGS = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Test//Meetings//EN
BEGIN:VEVENT
UID:standup@example.com
DTSTAMP:20261101T000000Z
SUMMARY:Stand-up
DTSTART;TZID=Europe/Berlin:20261102T093000
DTEND;TZID=Europe/Berlin:20261102T094500
RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR
EXDATE;TZID=Europe/Berlin:20261124T093000
END:VEVENT
BEGIN:VEVENT
UID:standup@example.com
DTSTAMP:20261101T000000Z
RECURRENCE-ID;TZID=Europe/Berlin:20261125T093000
SUMMARY:Stand-up (moved)
DTSTART;TZID=Europe/Berlin:20261125T113000
DTEND;TZID=Europe/Berlin:20261125T114500
END:VEVENT
BEGIN:VEVENT
UID:cancelled@example.com
DTSTAMP:20261101T000000Z
SUMMARY:Cancelled review
STATUS:CANCELLED
DTSTART:20261123T090000Z
DTEND:20261123T100000Z
END:VEVENT
BEGIN:VEVENT
UID:free@example.com
DTSTAMP:20261101T000000Z
SUMMARY:Focus reminder
TRANSP:TRANSPARENT
DTSTART:20261123T090000Z
DTEND:20261123T100000Z
END:VEVENT
BEGIN:VEVENT
UID:holiday@example.com
DTSTAMP:20261101T000000Z
SUMMARY:Holiday
DTSTART;VALUE=DATE:20261126
DTEND;VALUE=DATE:20261127
END:VEVENT
BEGIN:VEVENT
UID:offsite@example.com
DTSTAMP:20261101T000000Z
SUMMARY:Offsite
TRANSP:OPAQUE
DTSTART;VALUE=DATE:20261127
DTEND;VALUE=DATE:20261128
END:VEVENT
BEGIN:VEVENT
UID:floating@example.com
DTSTAMP:20261101T000000Z
SUMMARY:Dentist
DTSTART:20261123T160000
DURATION:PT1H
END:VEVENT
BEGIN:VFREEBUSY
UID:fb@example.com
DTSTAMP:20261101T000000Z
FREEBUSY;FBTYPE=BUSY:20261124T130000Z/PT30M
FREEBUSY;FBTYPE=FREE:20261124T150000Z/PT30M
END:VFREEBUSY
END:VCALENDAR
"""


def test_busy_times_from_events_and_free_busy() -> None:
    busy = parse_busy(
        MEETINGS, start=berlin(2026, 11, 23), end=berlin(2026, 11, 28), local_tz=BERLIN
    )
    got = [(b.summary, b.start.astimezone(BERLIN).strftime("%a %H:%M")) for b in busy]
    assert got == [
        ("Stand-up", "Mon 09:30"),
        ("Dentist", "Mon 16:00"),  # floating: the user's local time
        ("Busy", "Tue 14:00"),  # VFREEBUSY, BUSY only
        ("Stand-up (moved)", "Wed 11:30"),  # the override replaces Wednesday's
        ("Stand-up", "Thu 09:30"),
        ("Offsite", "Fri 00:00"),  # all-day, marked OPAQUE
        ("Stand-up", "Fri 09:30"),
    ]  # Tuesday's stand-up is an EXDATE; cancelled, transparent and the holiday are free
    assert busy[0].end - busy[0].start == timedelta(minutes=15)


def test_importing_busy_times_warns_about_overlapping_blocks(
    desk: FocusDesk, clock: TravelClock, tmp_path: Path
) -> None:
    svc = desk.focus
    svc.add_block(
        "Deep work", start_time="09:00", duration_minutes=60, days=["mon"], timezone="Europe/Berlin"
    )
    svc.add_block(
        "Afternoon", start_time="14:00", duration_minutes=60, days=["mon"], timezone="Europe/Berlin"
    )
    path = tmp_path / "work.ics"
    path.write_text(MEETINGS)
    busy = svc.import_busy(path)
    assert len(busy) > 10
    overlaps = svc.overlaps()
    assert {o.block_title for o in overlaps} == {"Deep work"}
    first = overlaps[0]
    assert first.busy_summary == "Stand-up"
    assert first.start == berlin(2026, 11, 23, 9)
    assert "overlaps 'Stand-up'" in first.describe()
    path.write_text(MEETINGS.replace("BYDAY=MO,TU,WE,TH,FR", "BYDAY=TU,WE,TH,FR"))
    svc.import_busy(path)  # re-importing the same file replaces its busy times
    assert svc.overlaps() == []


CRAFTED = Path(__file__).parents[2] / "data" / "calendar"


def test_rdate_periods_rdate_only_events_exdates_and_overrides() -> None:
    busy = parse_busy(
        (CRAFTED / "rdate-periods.ics").read_bytes(),
        start=berlin(2026, 11, 23),
        end=berlin(2026, 11, 28),
        local_tz=BERLIN,
    )
    got = [
        (
            b.summary,
            b.start.astimezone(BERLIN).strftime("%a %H:%M"),
            int((b.end - b.start).total_seconds() // 60),
        )
        for b in busy
    ]
    assert got == [
        ("Clinic", "Mon 09:00", 60),
        ("Daily sync", "Mon 12:00", 15),
        ("Extra sessions", "Mon 17:00", 30),
        ("Clinic", "Tue 14:00", 120),  # an RDATE period keeps its own length
        ("Daily sync (moved into the week)", "Wed 08:00", 15),  # the 21st's, moved
        ("Daily sync", "Wed 12:00", 15),
        ("Clinic", "Thu 11:00", 30),  # a period given as start/duration
        ("Extra sessions", "Fri 17:00", 30),  # Wednesday's is an EXDATE
    ]  # Tue and Thu syncs are EXDATEs, Friday's is cancelled by its override


def test_a_bad_event_is_skipped_alone_and_a_flood_is_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ics, "_MAX_OCCURRENCES", 50)
    data = (
        "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//t//t//EN\n"
        "BEGIN:VEVENT\nUID:bad@x\nDTSTAMP:20261101T000000Z\nSUMMARY:Bad\n"
        "DTSTART:20261123T080000Z\nDTEND:20261123T090000Z\nRRULE:FREQ=DAILY;UNTIL=garbage\n"
        "END:VEVENT\n"
        "BEGIN:VEVENT\nUID:flood@x\nDTSTAMP:20261101T000000Z\nSUMMARY:Flood\n"
        "DTSTART:20261123T080000Z\nDURATION:PT1S\nRRULE:FREQ=SECONDLY\nEND:VEVENT\n"
        "BEGIN:VEVENT\nUID:good@x\nDTSTAMP:20261101T000000Z\nSUMMARY:Good\n"
        "DTSTART:20261124T080000Z\nDTEND:20261124T090000Z\nEND:VEVENT\n"
        "END:VCALENDAR\n"
    )
    busy = parse_busy(data, start=berlin(2026, 11, 23), end=berlin(2026, 11, 28), local_tz=BERLIN)
    assert "Good" in {b.summary for b in busy}
    assert "Bad" not in {b.summary for b in busy}
    assert sum(b.summary == "Flood" for b in busy) == 50

"""Recurrences in local time: days of the week, RRULEs, and the DST rules."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from focus_fixtures import BERLIN, berlin

from focusdesk.errors import KnownError
from focusdesk.focus.recurrence import (
    Recurrence,
    days_to_rrule,
    local_zone_name,
    localize,
    normalise_rrule,
    parse_time_of_day,
)


def test_days_of_the_week_become_a_weekly_rule() -> None:
    assert days_to_rrule(["mon, wed", "fri"]) == "FREQ=WEEKLY;BYDAY=MO,WE,FR"
    assert days_to_rrule(["weekdays"]) == "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"
    assert days_to_rrule(["Sunday saturday"]) == "FREQ=WEEKLY;BYDAY=SA,SU"
    assert days_to_rrule(["daily"]) == "FREQ=DAILY"
    with pytest.raises(KnownError, match="not a day"):
        days_to_rrule(["someday"])


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("FREQ=HOURLY", "at most once a day"),
        ("FREQ=DAILY;BYHOUR=9", "BYHOUR"),
        ("BYDAY=MO", "no FREQ"),
        ("FREQ=WEEKLY;BYDAY", "not a valid RRULE"),
        ("FREQ=WEEKLY;BYDAY=XX", "not a valid RRULE"),
    ],
)
def test_bad_rules_are_refused_clearly(rule: str, message: str) -> None:
    with pytest.raises(KnownError, match=message):
        normalise_rrule(rule)


def test_rules_are_normalised() -> None:
    assert normalise_rrule("RRULE:freq=weekly;byday=tu;") == "FREQ=WEEKLY;BYDAY=TU"


def test_times_of_day() -> None:
    assert parse_time_of_day("9") == time(9, 0)
    assert parse_time_of_day("09:30") == time(9, 30)
    assert parse_time_of_day("1745") == time(17, 45)
    with pytest.raises(KnownError):
        parse_time_of_day("25:00")


def test_nine_local_stays_nine_local_across_both_dst_changes() -> None:
    rec = Recurrence("FREQ=DAILY", time(9, 0), "Europe/Berlin", date(2026, 3, 27))
    spring = rec.between(berlin(2026, 3, 27), berlin(2026, 3, 31))
    assert [s.astimezone(BERLIN).hour for s in spring] == [9, 9, 9, 9]
    assert [s.hour for s in spring] == [8, 8, 7, 7]  # UTC moves, local does not
    autumn = rec.between(berlin(2026, 10, 23), berlin(2026, 10, 27))
    assert [s.astimezone(BERLIN).hour for s in autumn] == [9, 9, 9, 9]
    assert [s.hour for s in autumn] == [7, 7, 8, 8]


def test_a_start_in_the_spring_forward_gap_moves_to_the_next_valid_minute() -> None:
    # 29 March 2026, Berlin: 02:00 CET jumps to 03:00 CEST; 02:30 does not exist.
    rec = Recurrence("FREQ=DAILY", time(2, 30), "Europe/Berlin", date(2026, 3, 28))
    starts = rec.between(berlin(2026, 3, 28), berlin(2026, 3, 31))
    local = [s.astimezone(BERLIN).strftime("%d %H:%M") for s in starts]
    assert local == ["28 02:30", "29 03:00", "30 02:30"]
    assert localize(datetime(2026, 3, 29, 2, 30), BERLIN) == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)


def test_a_start_in_the_fall_back_hour_happens_once_the_first_time() -> None:
    # 25 October 2026, Berlin: 03:00 CEST goes back to 02:00 CET; 02:30 happens twice.
    rec = Recurrence("FREQ=DAILY", time(2, 30), "Europe/Berlin", date(2026, 10, 24))
    starts = rec.between(berlin(2026, 10, 25), berlin(2026, 10, 25, 23))
    assert starts == [datetime(2026, 10, 25, 0, 30, tzinfo=UTC)]  # 02:30 CEST, not CET


def test_interval_rules_keep_the_phase_of_their_first_day() -> None:
    rec = Recurrence("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU", time(14, 0), "UTC", date(2026, 11, 22))
    first = rec.first()
    assert first == datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
    assert rec.next_after(first) == first + timedelta(days=14)


def test_until_in_utc_or_as_a_date_ends_the_rule() -> None:
    utc = Recurrence(
        "FREQ=DAILY;UNTIL=20261203T080000Z", time(9, 0), "Europe/Berlin", date(2026, 12, 1)
    )
    assert len(utc.between(berlin(2026, 11, 30), berlin(2026, 12, 31))) == 3  # 1, 2, 3 Dec
    as_date = Recurrence(
        "FREQ=DAILY;UNTIL=20261202", time(9, 0), "Europe/Berlin", date(2026, 12, 1)
    )
    assert len(as_date.between(berlin(2026, 11, 30), berlin(2026, 12, 31))) == 2
    assert as_date.next_after(berlin(2026, 12, 2, 10)) is None
    assert as_date.until_utc() == berlin(2026, 12, 2, 23, 59, 59)


def test_weekly_days_only() -> None:
    rec = Recurrence(days_to_rrule(["mon,wed"]), time(9, 0), "Europe/Berlin", date(2026, 11, 22))
    starts = rec.between(berlin(2026, 11, 22), berlin(2026, 11, 30))
    assert [s.astimezone(BERLIN).strftime("%a") for s in starts] == ["Mon", "Wed"]


def test_the_local_zone_follows_tz_even_after_tzlocal_has_answered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TZ", raising=False)
    first = local_zone_name()  # tzlocal caches this answer for the process
    monkeypatch.setenv("TZ", "America/Santiago" if first != "America/Santiago" else "Asia/Tokyo")
    assert local_zone_name() in {"America/Santiago", "Asia/Tokyo"}
    monkeypatch.setenv("TZ", ":Europe/Berlin")
    assert local_zone_name() == "Europe/Berlin"
    monkeypatch.setenv("TZ", "Not/AZone")
    assert local_zone_name() == first

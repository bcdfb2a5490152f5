"""iCalendar (.ics): export focus blocks with their recurrence; import busy times.

Export writes one VEVENT per enabled block: DTSTART/DTEND in the block's time zone
(with its VTIMEZONE), the block's RRULE (UNTIL in UTC, as RFC 5545 asks), a stable
UID so re-importing updates rather than duplicates. Import reads VEVENTs (RRULE,
RDATE with periods, EXDATE and RECURRENCE-ID overrides expanded by recurring-ical-events)
and VFREEBUSY busy periods; cancelled and transparent events are not busy, nor are
all-day events unless marked OPAQUE.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vRecur

from focusdesk import __version__
from focusdesk.errors import KnownError
from focusdesk.focus.due import Occurrence
from focusdesk.focus.records import Overlap
from focusdesk.focus.recurrence import Recurrence, rule_parts

log = logging.getLogger(__name__)

PRODID = f"-//FocusDesk//Focus blocks {__version__}//EN"
BUSY_HORIZON = timedelta(days=90)


@dataclass(frozen=True)
class ExportBlock:
    """What the export needs of a block."""

    id: int
    uid: str
    title: str
    recurrence: Recurrence
    duration: timedelta
    description: str


@dataclass(frozen=True)
class Busy:
    """A busy period (UTC)."""

    summary: str
    start: datetime
    end: datetime
    uid: str = ""


# -- export -------------------------------------------------------------------------------------
def export_blocks(blocks: Sequence[ExportBlock], *, now: datetime) -> bytes:
    """An iCalendar file with one recurring event per block (blocks whose rule ended are left
    out)."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", "FocusDesk focus blocks")
    first_day = now.date()
    for block in blocks:
        rec = block.recurrence
        first = rec.first_local()
        if first is None:
            continue
        start = first.replace(tzinfo=rec.tz)
        first_day = min(first_day, start.date())
        event = Event()
        event.add("uid", block.uid)
        event.add("dtstamp", now.astimezone(UTC))
        event.add("summary", f"Focus: {block.title}")
        event.add("dtstart", start)
        event.add("dtend", start + block.duration)
        event.add("rrule", vRecur.from_ical(export_rule(rec)))
        if block.description:
            event.add("description", block.description)
        event.add("categories", ["Focus"])
        event.add("transp", "OPAQUE")
        event.add("x-focusdesk-block-id", str(block.id))
        cal.add_component(event)
    cal.add_missing_timezones(
        first_date=first_day - timedelta(days=366),
        last_date=date(now.year + 15, 1, 1),
    )
    return bytes(cal.to_ical())


def export_rule(rec: Recurrence) -> str:
    """The block's RRULE as written to a calendar: UNTIL (if any) in UTC."""
    parts = rule_parts(rec.rule_text)
    until = rec.until_utc()
    if until is not None:
        parts["UNTIL"] = until.strftime("%Y%m%dT%H%M%SZ")
    return ";".join(f"{k}={v}" for k, v in parts.items())


# -- import -----------------------------------------------------------------------------------
def parse_busy(
    data: bytes | str, *, start: datetime, end: datetime, local_tz: ZoneInfo
) -> list[Busy]:
    """Busy periods overlapping ``[start, end)`` in an iCalendar file, sorted by start."""
    try:
        cal = Calendar.from_ical(data)
    except (ValueError, IndexError, KeyError) as exc:
        raise KnownError(f"That is not a valid iCalendar file: {exc}") from exc
    out: list[Busy] = []
    for series in _series(cal):
        try:
            out.extend(_series_busy(series, start, end, local_tz))
        except Exception as exc:  # one unreadable event never hides the others
            uid = next((str(c.get("UID", "?")) for c in series.walk("VEVENT")), "?")
            log.warning("skipping calendar event %s: %s", uid, exc)
    for fb in cal.walk("VFREEBUSY"):
        out.extend(_freebusy(fb, start, end, local_tz))
    out.sort(key=lambda b: (b.start, b.end, b.summary))
    return out


def _series(cal: Calendar) -> list[Calendar]:
    """Each recurring series (an event and its RECURRENCE-ID overrides, by UID) as a calendar
    of its own with the time zones, so that one bad event is skipped alone."""
    zones = list(cal.walk("VTIMEZONE"))
    by_uid: dict[str, list[Any]] = {}
    for position, ev in enumerate(cal.walk("VEVENT")):
        uid = str(ev.get("UID", "")) or f"#no-uid-{position}"
        by_uid.setdefault(uid, []).append(ev)
    out = []
    for events in by_uid.values():
        series = Calendar()
        for component in (*zones, *events):
            series.add_component(component)
        out.append(series)
    return out


def _series_busy(
    series: Calendar, start: datetime, end: datetime, local_tz: ZoneInfo
) -> list[Busy]:
    """The busy occurrences of one series: RRULE, RDATE (periods too), EXDATE and
    RECURRENCE-ID expanded by recurring-ical-events."""
    import recurring_ical_events

    # Floating times are the user's: the window is given in the user's zone, a day wider.
    lo = (start.astimezone(local_tz) - timedelta(days=1)).replace(tzinfo=None)
    hi = (end.astimezone(local_tz) + timedelta(days=1)).replace(tzinfo=None)
    out = []
    # In order of start: stop past the window, or after a flood (FREQ=SECONDLY, say).
    for count, ev in enumerate(recurring_ical_events.of(series).after(lo)):
        if _local_start(ev.decoded("DTSTART"), local_tz) >= hi.replace(tzinfo=local_tz):
            break
        if count >= _MAX_OCCURRENCES:
            log.warning("calendar event %s recurs too often; read up to here", ev.get("UID"))
            break
        busy = _occurrence_busy(ev, local_tz)
        if busy is not None and busy.start < end and busy.end > start:
            out.append(busy)
    return out


_MAX_OCCURRENCES = 10_000


def _occurrence_busy(ev: Any, local_tz: ZoneInfo) -> Busy | None:
    """One occurrence as a busy period, or None when it leaves the time free."""
    if str(ev.get("STATUS", "")).upper() == "CANCELLED" or "DTSTART" not in ev:
        return None
    dtstart = ev.decoded("DTSTART")
    all_day = isinstance(dtstart, date) and not isinstance(dtstart, datetime)
    transp = str(ev.get("TRANSP", "")).upper()
    if transp == "TRANSPARENT" or (all_day and transp != "OPAQUE"):
        return None
    first = _local_start(dtstart, local_tz)
    if "DTEND" in ev:
        length = _local_start(ev.decoded("DTEND"), local_tz) - first
    elif "DURATION" in ev:
        length = ev.decoded("DURATION")
    else:
        length = timedelta(days=1) if all_day else timedelta(0)
    if length <= timedelta(0):
        return None
    summary = str(ev.get("SUMMARY", "")) or "Busy"
    return Busy(
        summary=summary,
        start=first.astimezone(UTC),
        end=(first + length).astimezone(UTC),
        uid=str(ev.get("UID", "")),
    )


def _instant(value: Any, local_tz: ZoneInfo) -> datetime:
    """A DATE or DATE-TIME (floating: in ``local_tz``) as aware UTC."""
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=local_tz)
        return aware.astimezone(UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(0), tzinfo=local_tz).astimezone(UTC)
    raise TypeError(f"not a date or time: {value!r}")


def _local_start(value: Any, local_tz: tzinfo) -> datetime:
    """DTSTART as an aware datetime in its own zone (for wall-clock recurrence)."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=local_tz)
    return datetime.combine(value, time(0), tzinfo=local_tz)


def _freebusy(comp: Any, start: datetime, end: datetime, local_tz: ZoneInfo) -> list[Busy]:
    props = comp.get("FREEBUSY")
    if props is None:
        return []
    out = []
    for prop in props if isinstance(props, list) else [props]:
        if str(prop.params.get("FBTYPE", "BUSY")).upper() == "FREE":
            continue
        periods = prop.dt if isinstance(prop.dt, list) else [prop.dt]
        for begin, until in _periods(periods):
            b_start = _instant(begin, local_tz)
            b_end = b_start + until if isinstance(until, timedelta) else _instant(until, local_tz)
            if b_start < end and b_end > start:
                out.append(Busy(summary="Busy", start=b_start, end=b_end))
    return out


def _periods(values: Iterable[Any]) -> Iterable[tuple[Any, Any]]:
    for v in values:
        if isinstance(v, tuple) and len(v) == 2:
            yield v


# -- overlaps -----------------------------------------------------------------------------------
def find_overlaps(
    block_id: int | None, title: str, occurrences: Iterable[Occurrence], busy: Sequence[Busy]
) -> list[Overlap]:
    """Every (occurrence, busy period) pair that overlaps."""
    out = []
    for occ in occurrences:
        for b in busy:
            if b.start < occ.end and b.end > occ.start:
                out.append(
                    Overlap(
                        block_id=block_id,
                        block_title=title,
                        start=occ.start,
                        end=occ.end,
                        busy_summary=b.summary,
                        busy_start=b.start,
                        busy_end=b.end,
                    )
                )
    return out

"""iCalendar (.ics): export focus blocks with their recurrence; import busy times.

Export writes one VEVENT per enabled block: DTSTART/DTEND in the block's time zone
(with its VTIMEZONE), the block's RRULE (UNTIL in UTC, as RFC 5545 asks), a stable
UID so re-importing updates rather than duplicates. Import reads VEVENTs (RRULE,
RDATE, EXDATE and RECURRENCE-ID overrides expanded with dateutil) and VFREEBUSY
busy periods; cancelled and transparent events are not busy, nor are all-day
events unless marked OPAQUE.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
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
    events = list(cal.walk("VEVENT"))
    overrides: dict[str, set[datetime]] = {}
    for ev in events:
        if "RECURRENCE-ID" in ev:
            rid = _instant(ev.decoded("RECURRENCE-ID"), local_tz)
            overrides.setdefault(str(ev.get("UID", "")), set()).add(rid)
    out: list[Busy] = []
    for ev in events:
        try:
            out.extend(_event_busy(ev, start, end, local_tz, overrides))
        except (ValueError, TypeError, KeyError) as exc:
            log.warning("skipping calendar event %s: %s", ev.get("UID", "?"), exc)
    for fb in cal.walk("VFREEBUSY"):
        out.extend(_freebusy(fb, start, end, local_tz))
    out.sort(key=lambda b: (b.start, b.end, b.summary))
    return out


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


def _event_busy(
    ev: Any,
    start: datetime,
    end: datetime,
    local_tz: ZoneInfo,
    overrides: dict[str, set[datetime]],
) -> list[Busy]:
    if str(ev.get("STATUS", "")).upper() == "CANCELLED":
        return []
    if "DTSTART" not in ev:
        return []
    dtstart = ev.decoded("DTSTART")
    all_day = isinstance(dtstart, date) and not isinstance(dtstart, datetime)
    transp = str(ev.get("TRANSP", "")).upper()
    if transp == "TRANSPARENT" or (all_day and transp != "OPAQUE"):
        return []
    first = _local_start(dtstart, local_tz)
    if "DTEND" in ev:
        length = _local_start(ev.decoded("DTEND"), local_tz) - first
    elif "DURATION" in ev:
        length = ev.decoded("DURATION")
    else:
        length = timedelta(days=1) if all_day else timedelta(0)
    if length <= timedelta(0):
        return []
    summary = str(ev.get("SUMMARY", "")) or "Busy"
    uid = str(ev.get("UID", ""))
    if "RRULE" in ev and "RECURRENCE-ID" not in ev:
        starts = _expand(ev, first, start - length, end, local_tz)
        skip = overrides.get(uid, set())
        starts = [s for s in starts if s.astimezone(UTC) not in skip]
    else:
        starts = [first]
    out = []
    for s in starts:
        b_start = s.astimezone(UTC)
        b_end = (s + length).astimezone(UTC)
        if b_start < end and b_end > start:
            out.append(Busy(summary=summary, start=b_start, end=b_end, uid=uid))
    return out


def _expand(
    ev: Any, first: datetime, lo: datetime, hi: datetime, local_tz: ZoneInfo
) -> list[datetime]:
    """Starts of a recurring event in ``[lo, hi]`` (aware, in the event's zone)."""
    rules = ev.get("RRULE")
    rules = rules if isinstance(rules, list) else [rules]
    starts: set[datetime] = set()
    for rule in rules:
        text = rule.to_ical().decode()
        parts = rule_parts(text.upper())
        if "UNTIL" in parts and not parts["UNTIL"].endswith("Z"):
            until = _local_start(
                vRecur.from_ical(f"UNTIL={parts['UNTIL']}")["UNTIL"][0], first.tzinfo or local_tz
            )
            parts["UNTIL"] = until.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        body = ";".join(f"{k}={v}" for k, v in parts.items())
        parsed = rrulestr(body, dtstart=first)
        starts.update(parsed.between(lo.astimezone(first.tzinfo), hi, inc=True))
    for rdate in _date_list(ev.get("RDATE")):
        starts.add(_local_start(rdate, local_tz))
    excluded = {_instant(x, local_tz) for x in _date_list(ev.get("EXDATE"))}
    return sorted(s for s in starts if s.astimezone(UTC) not in excluded)


def _date_list(prop: Any) -> list[Any]:
    if prop is None:
        return []
    props = prop if isinstance(prop, list) else [prop]
    values: list[Any] = []
    for p in props:
        for d in getattr(p, "dts", []):
            if isinstance(d.dt, date):  # periods (tuples) in RDATE are left out
                values.append(d.dt)
    return values


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

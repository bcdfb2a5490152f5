"""Recurrences in local time: RFC 5545 RRULEs expanded with dateutil in an IANA zone.

A block at 09:00 local stays at 09:00 local across DST changes. A local time that
does not exist (the spring-forward gap) moves to the next valid minute; one that
happens twice (fall back) is taken once, the first time. All instants handed out
are timezone-aware UTC.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rrule, rrulestr

from focusdesk.errors import KnownError

WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_DAY_NAMES = {
    **{code.lower(): code for code in WEEKDAY_CODES},
    **{
        name: code
        for code, names in zip(
            WEEKDAY_CODES,
            (
                ("mon", "monday"),
                ("tue", "tues", "tuesday"),
                ("wed", "wednesday"),
                ("thu", "thur", "thurs", "thursday"),
                ("fri", "friday"),
                ("sat", "saturday"),
                ("sun", "sunday"),
            ),
            strict=True,
        )
        for name in names
    },
}
_DAY_GROUPS = {
    "daily": WEEKDAY_CODES,
    "everyday": WEEKDAY_CODES,
    "weekdays": WEEKDAY_CODES[:5],
    "weekends": WEEKDAY_CODES[5:],
}
_ALLOWED_FREQ = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
_REFUSED_PARTS = ("BYHOUR", "BYMINUTE", "BYSECOND", "DTSTART")
_TIME = re.compile(r"^(\d{1,2})(?::?(\d{2}))?$")
_MAX_SCAN_MINUTES = 24 * 60


def parse_time_of_day(text: str) -> time:
    """ "9:00", "09:30", "0930" or "9" as a local time of day."""
    m = _TIME.match(text.strip())
    if not m:
        raise KnownError(f"{text!r} is not a time of day; write it as HH:MM, e.g. 09:00.")
    hour, minute = int(m.group(1)), int(m.group(2) or 0)
    if hour > 23 or minute > 59:
        raise KnownError(f"{text!r} is not a time of day; write it as HH:MM, e.g. 09:00.")
    return time(hour, minute)


def format_time_of_day(value: time) -> str:
    return f"{value.hour:02d}:{value.minute:02d}"


def days_to_rrule(days: Sequence[str]) -> str:
    """An RRULE for days of the week: "mon,wed", "weekdays", "daily" (order kept Mon–Sun)."""
    codes: set[str] = set()
    for raw in days:
        for word in re.split(r"[\s,;]+", raw.strip().lower()):
            if not word:
                continue
            if word in _DAY_GROUPS:
                codes.update(_DAY_GROUPS[word])
            elif word in _DAY_NAMES:
                codes.add(_DAY_NAMES[word])
            else:
                raise KnownError(
                    f"{word!r} is not a day of the week; use mon, tue, … sun, weekdays or daily."
                )
    if not codes:
        raise KnownError("Name at least one day of the week.")
    if len(codes) == 7:
        return "FREQ=DAILY"
    return "FREQ=WEEKLY;BYDAY=" + ",".join(c for c in WEEKDAY_CODES if c in codes)


def normalise_rrule(text: str) -> str:
    """Check an RRULE value (with or without "RRULE:") and return it in upper case.

    Blocks start once a day at most, at their own start time: FREQ must be DAILY or
    less often, and BYHOUR/BYMINUTE/BYSECOND are refused.
    """
    value = text.strip()
    if value.upper().startswith("RRULE:"):
        value = value[6:]
    value = value.strip().rstrip(";").upper()
    parts = rule_parts(value)
    freq = parts.get("FREQ")
    if freq is None:
        raise KnownError(f"The rule {text!r} has no FREQ (e.g. FREQ=WEEKLY;BYDAY=MO,WE).")
    if freq not in _ALLOWED_FREQ:
        raise KnownError(
            f"A focus block starts at most once a day; FREQ={freq} is not supported.",
            hint="Use FREQ=DAILY, WEEKLY, MONTHLY or YEARLY.",
        )
    refused = [p for p in _REFUSED_PARTS if p in parts]
    if refused:
        raise KnownError(
            f"The rule may not set {', '.join(refused)}: the block's start time sets the time."
        )
    _ = Recurrence(value, time(9, 0), "UTC", date(2000, 1, 3)).rule  # parses it, or raises
    return value


def rule_parts(value: str) -> dict[str, str]:
    parts: dict[str, str] = {}
    for chunk in value.split(";"):
        if not chunk:
            continue
        key, sep, val = chunk.partition("=")
        if not sep or not key or not val:
            raise KnownError(f"{value!r} is not a valid RRULE (bad part {chunk!r}).")
        parts[key] = val
    return parts


def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``, or a clear error."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise KnownError(
            f"{name!r} is not a known time zone; use an IANA name such as Europe/Berlin."
        ) from exc


def local_zone_name() -> str:
    """The user's time zone as an IANA name (UTC when it cannot be told).

    ``TZ`` wins when it names a zone: tzlocal remembers the first answer it gave for
    the life of the process, so a ``TZ`` set later would otherwise be ignored.
    """
    env = os.environ.get("TZ", "").lstrip(":")
    if env and not env.startswith("/"):
        try:
            ZoneInfo(env)
            return env
        except (ZoneInfoNotFoundError, ValueError):
            pass
    try:
        from tzlocal import get_localzone_name

        name = get_localzone_name()
    except Exception:  # noqa: BLE001 - tzlocal raises several kinds on odd systems
        return "UTC"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return "UTC"
    return name


def localize(naive: datetime, tz: ZoneInfo) -> datetime:
    """The UTC instant of the local wall time ``naive`` in ``tz``.

    A wall time skipped by a DST change moves to the next valid minute; one that
    occurs twice resolves to its first occurrence.
    """
    candidate = naive
    for _ in range(_MAX_SCAN_MINUTES):
        aware = candidate.replace(tzinfo=tz, fold=0)
        if aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == candidate:
            return aware.astimezone(UTC)
        candidate = candidate.replace(second=0, microsecond=0) + timedelta(minutes=1)
    raise ValueError(f"no valid local time near {naive} in {tz}")


def to_local_naive(instant: datetime, tz: ZoneInfo) -> datetime:
    return instant.astimezone(tz).replace(tzinfo=None)


class Recurrence:
    """The start instants of a rule that fires at ``start_time`` local in ``timezone``."""

    def __init__(self, rule: str, start_time: time, timezone: str, starts_on: date) -> None:
        self.rule_text = rule
        self.start_time = start_time
        self.tz = zone(timezone)
        self.starts_on = starts_on

    @property
    def dtstart(self) -> datetime:
        """The anchor of the rule, naive local (RFC 5545 DTSTART with TZID)."""
        return datetime.combine(self.starts_on, self.start_time)

    @cached_property
    def rule(self) -> rrule:
        """The dateutil rule over naive local wall times."""
        parts = rule_parts(self.rule_text)
        until = parts.pop("UNTIL", None)
        body = ";".join(f"{k}={v}" for k, v in parts.items())
        try:
            parsed = rrulestr(body, dtstart=self.dtstart, cache=True)
            if not isinstance(parsed, rrule):
                raise KnownError(f"{self.rule_text!r} is not a single RRULE.")
            if until is not None:
                parsed = parsed.replace(until=self._until(until))
        except (ValueError, TypeError) as exc:
            raise KnownError(f"{self.rule_text!r} is not a valid RRULE: {exc}") from exc
        return parsed

    def _until(self, text: str) -> datetime:
        """UNTIL as a naive local time: a date means through that day; Z means UTC."""
        try:
            if len(text) == 8:
                day = datetime.strptime(text, "%Y%m%d")
                return day.replace(hour=23, minute=59, second=59)
            if text.endswith("Z"):
                utc = datetime.strptime(text, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
                return to_local_naive(utc, self.tz)
            return datetime.strptime(text, "%Y%m%dT%H%M%S")
        except ValueError as exc:
            raise KnownError(f"UNTIL={text} is not a date or time.") from exc

    def until_utc(self) -> datetime | None:
        """The rule's UNTIL as a UTC instant (for iCalendar export), if it has one."""
        text = rule_parts(self.rule_text).get("UNTIL")
        return None if text is None else localize(self._until(text), self.tz)

    def between(self, after: datetime, until: datetime) -> list[datetime]:
        """Start instants ``s`` with ``after < s <= until`` (UTC), in order."""
        if until <= after:
            return []
        lo = to_local_naive(after, self.tz) - timedelta(days=1)
        hi = to_local_naive(until, self.tz) + timedelta(days=1)
        out: list[datetime] = []
        for naive in self.rule.between(lo, hi, inc=True):
            instant = localize(naive, self.tz)
            if after < instant <= until and (not out or instant != out[-1]):
                out.append(instant)
        return out

    def iter_after(self, after: datetime) -> Iterator[datetime]:
        """Start instants strictly after ``after``, in order (finite rules end)."""
        last: datetime | None = None
        start = to_local_naive(after, self.tz) - timedelta(days=1)
        for naive in self.rule.xafter(start, inc=True):
            instant = localize(naive, self.tz)
            if instant > after and instant != last:
                last = instant
                yield instant

    def next_after(self, after: datetime) -> datetime | None:
        """The first start strictly after ``after``; None when the rule has ended."""
        return next(self.iter_after(after), None)

    def first_local(self) -> datetime | None:
        """The first occurrence as a naive local wall time (iCalendar DTSTART)."""
        found = self.rule.after(self.dtstart, inc=True)
        return found if isinstance(found, datetime) else None

    def first(self) -> datetime | None:
        """The first start of the rule (its first occurrence on or after ``starts_on``)."""
        return self.next_after(localize(self.dtstart, self.tz) - timedelta(seconds=1))

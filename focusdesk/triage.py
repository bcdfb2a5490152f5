"""Triage: what the user does with an item — read it, finish it, dismiss it, snooze it.

Every action changes the item's status and records the matching implicit feedback
signal (open with dwell seconds, done, dismiss, snooze, or a vote) in the same
transaction, so the scorer learns from what the user does. The last action can be
undone: the status comes back and its feedback row goes. Snooze presets are
resolved in local time ("tomorrow morning" is 08:00 where the user is, across DST
changes) and stored in UTC; snoozed items come back as new once due.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from sqlalchemy import and_, delete, func, select, true, update
from sqlalchemy.orm import Session

from focusdesk.clock import Clock, SystemClock
from focusdesk.errors import KnownError, NotFoundError
from focusdesk.store.db import Store
from focusdesk.store.models import Chunk, Feedback, Goal, Item
from focusdesk.store.threads import status_group

log = logging.getLogger(__name__)

MORNING = time(8, 0)
"""When "tomorrow morning", "next week" and a picked date begin, in local time."""
LATER_TODAY_HOURS = 3
LATEST_LATER_TODAY = time(23, 0)
""""Later today" is never later than this; after ~20:00 the preset is unavailable."""

SNOOZE_PRESETS = ("later_today", "tomorrow", "next_week", "date")
PRESET_LABELS = {
    "later_today": "Later today",
    "tomorrow": "Tomorrow morning",
    "next_week": "Next week",
    "date": "Pick a date…",
}
ACTION_WORDS = {
    "done": "marked done",
    "dismiss": "dismissed",
    "snooze": "snoozed",
    "restore": "moved back to the inbox",
    "up": "voted up",
    "down": "voted down",
    "pin": "pinned",
    "unpin": "unpinned",
}
PIN_ACTIONS = ("pin", "unpin")
STATUS_OF_ACTION = {"done": "done", "dismiss": "dismissed", "snooze": "snoozed", "restore": "read"}


# -- snooze presets ---------------------------------------------------------------------
def _local(now: datetime, tz: tzinfo | None) -> datetime:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(tz) if tz is not None else now.astimezone()


def _at(day: date, at: time, tz: tzinfo | None) -> datetime:
    """``day`` at wall-clock time ``at`` in ``tz`` (None: the system's local time rules)."""
    naive = datetime.combine(day, at)
    return naive.replace(tzinfo=tz) if tz is not None else naive.astimezone()


def snooze_until(
    preset: str,
    *,
    now: datetime,
    on: date | datetime | None = None,
    tz: tzinfo | None = None,
) -> datetime:
    """When a snooze preset ends, as an aware UTC time (``now``: the caller's clock).

    ``later_today``: in three hours, on the hour, at the latest 23:00 today;
    ``tomorrow``: tomorrow at 08:00; ``next_week``: next Monday at 08:00;
    ``date``: the day ``on`` at 08:00 (or the exact local time when ``on`` is a
    datetime). Wall-clock times are local (``tz``, default the system's), so a DST
    change in between does not shift "08:00".
    """
    local = _local(now, tz)
    today = local.date()
    if preset == "later_today":
        target = local.replace(minute=0, second=0, microsecond=0) + timedelta(
            hours=LATER_TODAY_HOURS + 1
        )
        if target.date() != today or target.time() > LATEST_LATER_TODAY:
            raise KnownError(
                "It is too late in the day for “later today”.",
                hint="Snooze it until tomorrow morning instead.",
            )
        result = _at(today, target.time(), tz)
    elif preset == "tomorrow":
        result = _at(today + timedelta(days=1), MORNING, tz)
    elif preset == "next_week":
        result = _at(today + timedelta(days=7 - today.weekday()), MORNING, tz)
    elif preset == "date":
        if on is None:
            raise KnownError("Pick a date to snooze until.")
        if isinstance(on, datetime):
            result = on if on.tzinfo is not None else _at(on.date(), on.time(), tz)
        else:
            result = _at(on, MORNING, tz)
    else:
        raise KnownError(
            f"Unknown snooze {preset!r}; use one of {', '.join(SNOOZE_PRESETS)}.",
        )
    if result <= local:
        raise KnownError("Pick a time in the future to snooze until.")
    return result.astimezone(UTC)


def later_today_available(now: datetime, tz: tzinfo | None = None) -> bool:
    """Whether "later today" still means something (the menu greys it out otherwise)."""
    try:
        snooze_until("later_today", now=now, tz=tz)
    except KnownError:
        return False
    return True


# -- actions ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Vote:
    """The vote that stands on an item: up or down, for a goal (None: no goal)."""

    signal: str
    goal_id: int | None


@dataclass(frozen=True)
class UndoRecord:
    """What one action changed, so that it can be taken back."""

    action: str
    item_id: int
    title: str
    status: str
    """The status before the action."""
    snoozed_until: datetime | None
    """The snooze time before the action."""
    new_status: str
    feedback_id: int | None
    """The feedback row the action added (removed again on undo)."""
    others: tuple[tuple[int, str, datetime | None], ...] = ()
    """The other messages of the item's conversation that the action moved along with
    it: ``(item id, status before, snooze time before)``."""

    @property
    def description(self) -> str:
        """“Marked done: Board prep”, for the status bar and the Undo menu item."""
        words = ACTION_WORDS.get(self.action, self.action)
        text = f"{words[0].upper()}{words[1:]}: {self.title or '(untitled)'}"
        if self.others:
            n = len(self.others)
            text += f" and {n} more message{'s' if n != 1 else ''} of its conversation"
        return text


class Triage:
    """Status changes of items, their feedback, and the undo of the last action."""

    def __init__(self, store: Store, clock: Clock | None = None) -> None:
        self.store = store
        self.clock: Clock = clock or SystemClock()
        """Where snoozing, waking and purging read the time."""
        self._lock = threading.Lock()
        self._last: UndoRecord | None = None

    @property
    def last(self) -> UndoRecord | None:
        """The action that ``undo`` would take back."""
        return self._last

    def open(self, item_id: int, dwell_seconds: float | None = None) -> None:
        """The user read an item for ``dwell_seconds``: a new item becomes read.

        Records the ``open`` signal with the dwell time. Not an undoable action (reading
        the next item must not replace the undo of a "done").
        """
        with self.store.session() as s:
            item = _get(s, item_id)
            if item.status == "new":
                item.status = "read"
            value = round(float(dwell_seconds), 3) if dwell_seconds is not None else None
            s.add(Feedback(item_id=item_id, signal="open", value=value))

    def done(self, item_id: int, goal_id: int | None = None) -> UndoRecord:
        """Mark an item done (records ``done``)."""
        return self._act("done", item_id, goal_id=goal_id)

    def dismiss(self, item_id: int, goal_id: int | None = None) -> UndoRecord:
        """Dismiss an item: not worth attention (records ``dismiss``)."""
        return self._act("dismiss", item_id, goal_id=goal_id)

    def snooze(self, item_id: int, until: datetime, goal_id: int | None = None) -> UndoRecord:
        """Hide an item until ``until`` (aware); records ``snooze`` with the hours as value."""
        if until.tzinfo is None:
            raise ValueError("until must be timezone-aware")
        until = until.astimezone(UTC)
        hours = (until - self.clock.now()).total_seconds() / 3600
        if hours <= 0:
            raise KnownError("Pick a time in the future to snooze until.")
        return self._act("snooze", item_id, goal_id=goal_id, until=until, value=round(hours, 3))

    def restore(self, item_id: int) -> UndoRecord:
        """Move a done, dismissed or snoozed item back to the inbox (as read). Bringing a
        snoozed item back before its time records ``unsnooze`` (wanted now); else no
        feedback."""
        return self._act("restore", item_id)

    def votes(self, item_ids: list[int] | None = None) -> dict[int, Vote]:
        """The vote that stands on each voted item (its latest; an undone one is gone)."""
        stmt = (
            select(Feedback.item_id, Feedback.signal, Feedback.goal_id)
            .where(Feedback.signal.in_(("up", "down")))
            .order_by(Feedback.id)
        )
        if item_ids is not None:
            stmt = stmt.where(Feedback.item_id.in_(item_ids))
        with self.store.session() as s:
            return {iid: Vote(signal, gid) for iid, signal, gid in s.execute(stmt)}

    def pin(
        self, item_id: int, pinned: bool = True, goal_id: int | None = None
    ) -> UndoRecord | None:
        """Pin an item (records ``pin``, a strong positive) or unpin it (``unpin`` takes
        the pin's signal back). Undoable like the other actions; None when the item
        already was so."""
        with self.store.session() as s:
            if _get(s, item_id).pinned == pinned:
                return None
        return self._act("pin" if pinned else "unpin", item_id, goal_id=goal_id)

    def pinned(self, item_ids: list[int] | None = None) -> set[int]:
        """The pinned items (among ``item_ids``, when given)."""
        stmt = select(Item.id).where(Item.pinned == true())  # "= 1": the partial index
        if item_ids is not None:
            stmt = stmt.where(Item.id.in_(item_ids))
        with self.store.session() as s:
            return set(s.scalars(stmt))

    def vote(self, item_id: int, signal: str, goal_id: int | None = None) -> UndoRecord:
        """Record an up or down vote (for ``goal_id`` when given); the status stays."""
        if signal not in ("up", "down"):
            raise KnownError(f"A vote is up or down, not {signal!r}.")
        return self._act(signal, item_id, goal_id=goal_id)

    def _act(
        self,
        action: str,
        item_id: int,
        *,
        goal_id: int | None = None,
        until: datetime | None = None,
        value: float | None = None,
    ) -> UndoRecord:
        with self._lock, self.store.session() as s:
            item = _get(s, item_id)
            if goal_id is not None and s.get(Goal, goal_id) is None:
                goal_id = None  # the goal went away meanwhile; the signal still counts
            before, before_until = item.status, item.snoozed_until
            new_status = STATUS_OF_ACTION.get(action, item.status)
            others: list[tuple[int, str, datetime | None]] = []
            if action in STATUS_OF_ACTION:
                item.status = new_status
                item.snoozed_until = until if action == "snooze" else None
                for other in _conversation(s, item, before):
                    others.append((other.id, other.status, other.snoozed_until))
                    other.status = new_status
                    other.snoozed_until = item.snoozed_until
            if action in PIN_ACTIONS:
                item.pinned = action == "pin"
            feedback_id: int | None = None
            signal = action if action != "restore" else ("unsnooze" if before == "snoozed" else "")
            if signal:
                fb = Feedback(item_id=item_id, goal_id=goal_id, signal=signal, value=value)
                s.add(fb)
                s.flush()
                feedback_id = fb.id
            record = UndoRecord(
                action=action,
                item_id=item_id,
                title=item.title,
                status=before,
                snoozed_until=before_until,
                new_status=new_status,
                feedback_id=feedback_id,
                others=tuple(others),
            )
            self._last = record
            return record

    def undo(self, record: UndoRecord | None = None) -> UndoRecord | None:
        """Take back ``record`` (default: the last action); returns what was undone.

        The item gets its earlier status and snooze time back and the action's feedback
        row is deleted. Returns None when there is nothing to undo.
        """
        with self._lock:
            record = record or self._last
            if record is None:
                return None
            with self.store.session() as s:
                item = s.get(Item, record.item_id)
                if item is None:
                    self._last = None
                    raise NotFoundError("The item to undo is gone.")
                if record.action in STATUS_OF_ACTION:
                    item.status = record.status
                    item.snoozed_until = record.snoozed_until
                    for other_id, status, until in record.others:
                        other = s.get(Item, other_id)
                        if other is not None:
                            other.status, other.snoozed_until = status, until
                if record.action in PIN_ACTIONS:
                    item.pinned = record.action != "pin"
                if record.feedback_id is not None:
                    s.execute(delete(Feedback).where(Feedback.id == record.feedback_id))
            if record is self._last or record == self._last:
                self._last = None
            return record

    # -- snoozes and retention ----------------------------------------------------------
    def wake_due(self, now: datetime | None = None) -> list[int]:
        """Snoozed items whose time has come become new again; returns their ids."""
        now = (now or self.clock.now()).astimezone(UTC)
        with self.store.session() as s:
            ids = list(
                s.scalars(
                    select(Item.id).where(
                        Item.status == "snoozed",
                        Item.snoozed_until.is_not(None),
                        Item.snoozed_until <= now,
                    )
                )
            )
            if ids:
                s.execute(
                    update(Item).where(Item.id.in_(ids)).values(status="new", snoozed_until=None)
                )
        if ids:
            log.info("%d snoozed items are due again", len(ids))
        return ids

    def next_wake(self) -> datetime | None:
        """When the next snoozed item is due (aware UTC), or None."""
        with self.store.session() as s:
            when = s.scalar(select(func.min(Item.snoozed_until)).where(Item.status == "snoozed"))
        return when

    def purge_dismissed(self, older_than_days: int, now: datetime | None = None) -> int:
        """Forget the text of items dismissed more than ``older_than_days`` ago.

        The row stays (so the next sync does not bring the item back) with its
        feedback; its text, body and passages go (and, as its chunking key still
        matches, they are not made again). 0 days keeps everything.
        """
        if older_than_days <= 0:
            return 0
        cutoff = (now or self.clock.now()).astimezone(UTC) - timedelta(days=older_than_days)
        last_dismiss = (
            select(Feedback.item_id, func.max(Feedback.created_at).label("at"))
            .where(Feedback.signal == "dismiss")
            .group_by(Feedback.item_id)
            .subquery()
        )
        with self.store.session() as s:
            ids = list(
                s.scalars(
                    select(Item.id)
                    .join(last_dismiss, last_dismiss.c.item_id == Item.id)
                    .where(
                        and_(
                            Item.status == "dismissed",
                            last_dismiss.c.at < cutoff,
                            Item.text != "",
                        )
                    )
                )
            )
            for start in range(0, len(ids), 500):
                part = ids[start : start + 500]
                s.execute(delete(Chunk).where(Chunk.item_id.in_(part)))
                s.execute(update(Item).where(Item.id.in_(part)).values(text="", body="", meta={}))
        return len(ids)


def _conversation(s: Session, item: Item, status: str) -> list[Item]:
    """The other live messages of ``item``'s conversation that share its row in the
    inbox (the same state as ``status``): done, dismiss, snooze and restore act on the
    whole row, so that a conversation marked done is gone until a new message comes."""
    if item.thread_key is None:
        return []
    group = status_group(status)
    return [
        other
        for other in s.scalars(
            select(Item).where(
                Item.thread_key == item.thread_key,
                Item.id != item.id,
                Item.vanished.is_(False),
            )
        )
        if status_group(other.status) == group
    ]


def _get(s: Session, item_id: int) -> Item:
    item = s.get(Item, item_id)
    if item is None:
        raise NotFoundError(f"There is no item with id {item_id}.")
    return item

"""What the keyboard does to the selected item: done, dismiss, snooze, votes, pin, undo,
open the original, and the "open" signal with the time spent reading.

The inbox changes at once (optimistically) and the change is written by the task
manager; a failure puts the row back. Every action records its implicit feedback
through ``FocusDesk.triage``; ``u`` takes the last one back.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from email.utils import parseaddr
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from PySide6.QtCore import QObject, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices

from focusdesk.records import ItemDetail
from focusdesk.triage import PIN_ACTIONS, STATUS_OF_ACTION, UndoRecord, Vote

from .snooze import SnoozeMenu, when_text

if TYPE_CHECKING:
    from .main_window import MainWindow

log = logging.getLogger(__name__)

MIN_DWELL_S = 1.0
"""Reading an item at least this long counts as opening it (marks it read)."""
EMAIL_KINDS = ("mbox", "maildir", "imap")
VOTES = ("up", "down")
CLOSE_WAIT_MS = 10_000
"""How long the window's close waits for the last read item to be recorded."""


def original_url(detail: ItemDetail, external_id: str | None = None) -> QUrl | None:
    """Where an item lives, for "open the original".

    Mail: a ``mailto:`` reply to the sender (subject and In-Reply-To set), which opens
    the mail client on the thread. Feeds: the entry's web page. Notes: the file, which
    opens in the editor. None when there is nothing safe to open.
    """
    if detail.kind == "email" or detail.source_kind in EMAIL_KINDS:
        address = parseaddr(detail.author or "")[1]
        if "@" not in address:
            return None
        url = QUrl(f"mailto:{address}")
        subject = detail.title or ""
        if subject and not subject.lower().startswith("re:"):
            subject = f"Re: {subject}"
        query = [f"subject={quote(subject, safe='')}"]
        message_id = detail.meta.get("message_id") or external_id
        if isinstance(message_id, str) and message_id.startswith("<"):
            query.append(f"In-Reply-To={quote(message_id, safe='')}")
        url.setQuery("&".join(query))
        return url
    if not detail.url:
        return None
    url = QUrl(detail.url)
    scheme = url.scheme().lower()
    if scheme in ("http", "https"):
        return url
    if scheme == "file" and detail.source_kind == "notes":
        return url
    return None


class ItemActions(QObject):
    """The item keys of one main window."""

    item_did_change = Signal(object)
    """An action was stored; carries its ``UndoRecord``."""
    undo_did_finish = Signal(object)
    """An action was taken back; carries its ``UndoRecord`` (None: nothing to undo)."""
    item_did_open = Signal(int, float)
    """(item id, seconds read) once the reading counted as an open."""
    original_did_open = Signal(object)
    """After O: the ``QUrl`` handed to the desktop, or None when there was none to open."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.last: UndoRecord | None = None
        self.snooze_menu: SnoozeMenu | None = None
        self._reading: tuple[int, float] | None = None
        self.clock: Callable[[], float] = time.monotonic
        """Seconds of a monotonic clock (how long an item was read); tests move it."""

    @property
    def desk(self) -> Any:
        return self.window.desk

    # -- reading ----------------------------------------------------------------------
    def reading_did_start(self, item_id: int) -> None:
        """The reader now shows ``item_id`` (the previous one's time is recorded)."""
        if self._reading is not None and self._reading[0] == item_id:
            return
        self.reading_did_stop()
        self._reading = (item_id, self.clock())

    def reading_did_stop(self, *, now: bool = False) -> None:
        """The reader left its item: a long enough read is an open (new becomes read).

        ``now``: the window is closing and its operations were shut down; the open is
        written on the write lane and the close waits for it (at most ``CLOSE_WAIT_MS``).
        """
        if self._reading is None:
            return
        item_id, since = self._reading
        self._reading = None
        dwell = self.clock() - since
        if dwell < MIN_DWELL_S:
            return
        if now:

            def record(_p: Any, _c: Any) -> None:
                try:
                    self.desk.triage.open(item_id, dwell)
                except Exception:  # closing: never fail the close over a read mark
                    log.exception("Could not record the last read item")

            self.window.ops.write(record, name="record the last open")
            if not self.window.ops.wait(CLOSE_WAIT_MS):
                log.warning("The last read item was not recorded in %d ms", CLOSE_WAIT_MS)
            return
        if self.window.inbox_model.status_of(item_id) == "new":
            # After the selection change that led here has finished, and only while the
            # row is still new: done, dismiss or snooze may have come in between.
            QTimer.singleShot(0, lambda: self._mark_read(item_id))
        self.window.ops.write(
            lambda _p, _c: self.desk.triage.open(item_id, dwell),
            on_done=lambda _r: self.item_did_open.emit(item_id, dwell),
            on_error=self.window.show_status,
            name="record open",
        )

    def _mark_read(self, item_id: int) -> None:
        model = self.window.inbox_model
        if model.status_of(item_id) == "new":
            model.set_status(item_id, "read")

    # -- status actions ---------------------------------------------------------------
    def done(self) -> None:
        self._status_action("done")

    def dismiss(self) -> None:
        self._status_action("dismiss")

    def snooze(self, until: datetime | None = None) -> None:
        """Snooze until ``until``; without it, offer the presets menu at the item."""
        if until is not None:
            self._status_action("snooze", until)
            return
        if self.window.inbox_controller.current_item_id() is None:
            self.window.show_status("Select an item to snooze.")
            return
        menu = SnoozeMenu(self.window.desk.clock.now(), self.window)
        menu.snooze_chosen.connect(lambda u: self._status_action("snooze", u))
        menu.aboutToHide.connect(lambda: QTimer.singleShot(0, self._back_to_list))
        self.snooze_menu = menu
        menu.popup(self.window.inbox_controller.popup_position())

    def _back_to_list(self) -> None:
        """After the snooze menu: the keys go to the list again (J, E, D… go on)."""
        window = self.window
        if window.isVisible():
            window.activateWindow()  # the menu, closed, may still hold the activation
        window.inbox_controller.current_list().setFocus(Qt.FocusReason.PopupFocusReason)

    def _status_action(self, action: str, until: datetime | None = None) -> None:
        window = self.window
        item_id = window.inbox_controller.current_item_id()
        if item_id is None:
            window.show_status("Select an item first.")
            return
        self.reading_did_stop()
        model = window.inbox_model
        before = model.status_of(item_id)
        target = STATUS_OF_ACTION[action]
        if action in ("done", "dismiss") and before == target:
            action, target = "restore", "read"  # e on a done item: back to the inbox
        goal_id = model.filter.goal_id  # a goal filter makes the signal that goal's
        row = window.inbox_controller.current_row()
        model.set_status(item_id, target)
        if window.inbox_controller.current_item_id() != item_id and row is not None:
            window.inbox_controller.select_row(
                min(row, window.inbox_controller.list_row_count() - 1)
            )

        def run(_p: Any, _c: Any) -> UndoRecord:
            triage = self.desk.triage
            if action == "snooze":
                assert until is not None
                return triage.snooze(item_id, until, goal_id=goal_id)
            if action == "restore":
                return triage.restore(item_id)
            result: UndoRecord = getattr(triage, action)(item_id, goal_id=goal_id)
            return result

        def failed(message: str) -> None:
            if before is not None:
                model.set_status(item_id, before)
            window.show_status(message)

        window.ops.write(
            run, on_done=lambda record: self._did_act(record, until), on_error=failed, name=action
        )

    def vote(self, signal: str) -> None:
        window = self.window
        item_id = window.inbox_controller.current_item_id()
        if item_id is None:
            window.show_status("Select an item to vote on.")
            return
        # With a goal filter: that goal's vote.
        self.vote_on(item_id, signal, window.inbox_model.filter.goal_id)

    def vote_on(
        self,
        item_id: int,
        signal: str,
        goal_id: int | None,
        on_done: Callable[[UndoRecord], None] | None = None,
    ) -> None:
        """Vote on ``item_id`` for ``goal_id`` (None: all goals); undoable with U."""
        window = self.window

        def done(record: UndoRecord) -> None:
            self._vote_did_change(item_id, Vote(signal, goal_id))
            self._did_act(record)
            if on_done is not None:
                on_done(record)

        window.ops.write(
            lambda _p, _c: self.desk.triage.vote(item_id, signal, goal_id=goal_id),
            on_done=done,
            on_error=window.show_status,
            name=f"vote {signal}",
        )

    def toggle_pin(self) -> None:
        """P: pin the item (a strong "this matters"), or unpin it when it is pinned."""
        window = self.window
        item_id = window.inbox_controller.current_item_id()
        if item_id is None:
            window.show_status("Select an item to pin.")
            return
        model = window.inbox_model
        pinned = not model.is_pinned(item_id)
        goal_id = model.filter.goal_id  # with a goal filter: a signal for that goal
        model.set_pinned(item_id, pinned)

        def done(record: UndoRecord | None) -> None:
            if record is not None:
                self._did_act(record)

        def failed(message: str) -> None:
            model.set_pinned(item_id, not pinned)
            window.show_status(message)

        window.ops.write(
            lambda _p, _c: self.desk.triage.pin(item_id, pinned, goal_id=goal_id),
            on_done=done,
            on_error=failed,
            name="pin" if pinned else "unpin",
        )

    def _vote_did_change(self, item_id: int, vote: Vote | None) -> None:
        """Mark the row (and the Why panel, when it shows the item) with the vote."""
        window = self.window
        window.inbox_model.set_vote(item_id, vote)
        if window.reader.item_id == item_id:
            window.why_panel.set_vote(window.inbox_model.vote_text(item_id))

    def _did_act(self, record: UndoRecord, until: datetime | None = None) -> None:
        self.last = record
        now = self.window.desk.clock.now()
        extra = f" until {when_text(until, now)}" if until is not None else ""
        self.window.show_status(f"{record.description}{extra}. Press U to undo.")
        self.window.update_undo(record)
        self.item_did_change.emit(record)

    def undo(self) -> None:
        window = self.window

        def work(_p: Any, _c: Any) -> tuple[UndoRecord | None, Vote | None]:
            triage = self.desk.triage
            record = triage.undo()
            if record is None or record.action not in VOTES:
                return record, None
            return record, triage.votes([record.item_id]).get(record.item_id)

        def done(result: tuple[UndoRecord | None, Vote | None]) -> None:
            record, vote = result
            self.last = None
            window.update_undo(None)
            if record is None:
                window.show_status("Nothing to undo.")
            else:
                if record.action in STATUS_OF_ACTION:
                    window.inbox_model.set_status(record.item_id, record.status)
                if record.action in PIN_ACTIONS:
                    window.inbox_model.set_pinned(record.item_id, record.action != "pin")
                window.inbox_controller.select_item(record.item_id)
                if record.action in VOTES:  # the vote before it stands again, if any
                    self._vote_did_change(record.item_id, vote)
                window.show_status(f"Undone: {record.description}.")
            self.undo_did_finish.emit(record)

        window.ops.write(work, on_done=done, on_error=window.show_status, name="undo")

    # -- the original -----------------------------------------------------------------
    def open_original(self) -> None:
        """Open the item in the mail client, the browser or the editor, once its details
        are read in the background; ``original_did_open`` tells what was opened."""
        window = self.window
        item_id = window.inbox_controller.current_item_id()
        if item_id is None:
            window.show_status("Select an item to open.")
            return
        ranked = window.inbox_model.find_item(item_id)
        external_id = ranked.external_id if ranked is not None else None

        def done(detail: ItemDetail) -> None:
            url = original_url(detail, external_id)
            if url is None:
                window.show_status("This item has no original that can be opened.")
            elif not QDesktopServices.openUrl(url):
                window.show_status(f"Nothing on this computer opens {url.scheme()} links.")
            self.original_did_open.emit(url)

        window.ops.read(
            lambda _p, _c: self.desk.items.get(item_id),
            on_done=done,
            on_error=window.show_status,  # a KnownError: the item went away
            name="open the original",
        )

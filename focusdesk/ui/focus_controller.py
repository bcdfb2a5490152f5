"""Focus blocks in the desktop app: scheduler wake-ups, the focus window, the main window.

The APScheduler adapter wakes us from its own threads; the wake-ups are re-emitted
as Qt signals (queued to the UI thread) and turned into checks that run in the
background — a small pool of our own for the quick session writes, the window's
task pool for starting a block (planning ranks, which shares the encoder and index
with sync). When a block starts (on time, late, on demand, or still running from
before a restart) the focus window opens and the main window hides; notifications
are held. When it ends the main window comes back with the summary and the items
that arrived meanwhile.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox, QWidget

from focusdesk.focus.records import (
    DueBlock,
    FocusEvent,
    Overlap,
    ScheduleInfo,
    SessionSummary,
    SessionView,
    TickResult,
)

from .focus_dialogs import FocusSummaryDialog, StartFocusDialog, StartRequest
from .focus_window import FocusWindow
from .operations import Job

if TYPE_CHECKING:
    from focusdesk.focus.clock import ClockJump
    from focusdesk.focus.scheduler import FocusScheduler
    from focusdesk.focus.service import FocusService

    from .main_window import MainWindow

log = logging.getLogger(__name__)

ICS_FILTER = "iCalendar files (*.ics);;All files (*)"
MISSED_WHY = {
    "missed": "FocusDesk was not running, or the computer was asleep",
    "overlapped": "another focus block was running",
}


class FocusController(QObject):
    """Runs focus blocks for one main window."""

    block_did_start = Signal(object)
    """The focus window opened for a ``SessionView`` (started, or resumed after a restart)."""
    block_did_end = Signal(object)
    """A block ended; carries its ``SessionSummary``."""
    blocks_were_missed = Signal(list)
    session_did_change = Signal(object)
    review_did_become_due = Signal()
    focus_did_fail = Signal(str)
    scheduler_did_wake = Signal()
    """Emitted from APScheduler's threads; handled on the UI thread."""
    clock_did_jump = Signal(object)

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.desk = window.desk
        self.scheduler: FocusScheduler | None = None
        self._new_scheduler: FocusScheduler | None = None
        self.focus_window: FocusWindow | None = None
        self.summary_dialog: FocusSummaryDialog | None = None
        self.start_dialog: StartFocusDialog | None = None
        self._service: FocusService | None = None
        self._started = False
        self._stopped = False
        self._tick_job: Job | None = None
        self._starting: set[tuple[int, datetime]] = set()
        self._build_actions()
        self.scheduler_did_wake.connect(self.request_tick, Qt.ConnectionType.QueuedConnection)
        self.clock_did_jump.connect(self._on_clock_jump, Qt.ConnectionType.QueuedConnection)
        window.installEventFilter(self)

    @property
    def service(self) -> FocusService:
        if self._service is None:
            self._service = self.desk.focus
        return self._service

    # -- construction -----------------------------------------------------------------------
    def _build_actions(self) -> None:
        w = self.window

        def action(text: str, name: str, tip: str, slot: Callable[[], None]) -> QAction:
            a = QAction(text, w)
            a.setObjectName(name)
            a.setToolTip(tip)
            a.setStatusTip(tip)
            a.triggered.connect(lambda _checked=False: slot())
            w.addAction(a)
            return a

        self.start_action = action(
            "Start &focus block…",
            "start_focus_block",
            "Hide the inbox and work through the top items for your goals",
            self.start_on_demand,
        )
        self.start_action.setShortcut(QKeySequence("Ctrl+Shift+F"))
        self.export_action = action(
            "&Export focus blocks to calendar…",
            "export_focus_blocks",
            "Write the recurring focus blocks to an .ics file for your calendar",
            self.export_ics,
        )
        self.import_action = action(
            "&Import busy times from calendar…",
            "import_busy_times",
            "Read meetings from an .ics file and warn when a focus block overlaps one",
            self.import_ics,
        )
        self.menu = QMenu("F&ocus", w.menuBar())
        self.menu.setObjectName("focus_menu")
        self.menu.addAction(self.start_action)
        self.menu.addSeparator()
        self.menu.addActions([self.export_action, self.import_action])
        help_menu = getattr(w, "menus", {}).get("help")
        if isinstance(help_menu, QMenu):
            w.menuBar().insertMenu(help_menu.menuAction(), self.menu)
        else:
            w.menuBar().addMenu(self.menu)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if watched is self.window:
            if event.type() == QEvent.Type.Show and not self._started:
                QTimer.singleShot(0, self.start)
            elif event.type() == QEvent.Type.Close:
                self.shutdown()
        return False

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> None:
        """Start the scheduler and resume (or catch up on) blocks; once, after the first show.

        All of it (imports, reading the table, the first check) runs in the background.
        """
        if self._started or self._stopped:
            return
        self._started = True
        self._run(self._start_in_background, self._did_start, "start")

    def _start_in_background(self) -> tuple[TickResult, SessionView | None]:
        try:
            from focusdesk.focus.scheduler import FocusScheduler

            scheduler = FocusScheduler(
                self.service,
                on_due=self.scheduler_did_wake.emit,
                on_clock_jump=self.clock_did_jump.emit,
            )
            scheduler.start()
            self._new_scheduler = scheduler
        except Exception:  # noqa: BLE001 - the app works without scheduled blocks
            log.exception("the focus scheduler could not start")
        return self._with_current(self.service.recover())

    def _did_start(self, outcome: tuple[TickResult, SessionView | None]) -> None:
        self.scheduler, self._new_scheduler = self._new_scheduler, None
        self._on_tick(outcome)

    def shutdown(self) -> None:
        """Stop the scheduler and the checks; a running block stays running (it resumes)."""
        if self._stopped:
            return
        self._stopped = True
        self.window.ops.shutdown()  # the window is closing: its ticks end first
        for scheduler in (self.scheduler, self._new_scheduler):
            if scheduler is not None:
                scheduler.shutdown(wait=True)
        self.scheduler = self._new_scheduler = None
        if self._service is not None:
            try:
                self._service.runner.heartbeat(self._service.clock.now())
            except Exception:  # noqa: BLE001 - closing anyway
                log.exception("could not note the last moment of the focus session")
        if self.focus_window is not None:
            self.focus_window.finish()
            self.focus_window.deleteLater()
            self.focus_window = None

    # -- checks -----------------------------------------------------------------------------
    def request_tick(self) -> None:
        """Check what is due now (in the background; one check at a time)."""
        if self._stopped or self._tick_job is not None:
            return

        def finished() -> None:
            self._tick_job = None

        self._tick_job = self._run(
            lambda: self._with_current(self.service.tick()), self._on_tick, "tick", finished
        )

    def _with_current(self, result: TickResult) -> tuple[TickResult, SessionView | None]:
        return result, self.service.current()

    def _on_clock_jump(self, jump: ClockJump) -> None:
        if not self._stopped:
            self._run(
                lambda: self._with_current(self.service.clock_jumped(jump)),
                self._on_tick,
                "clock jump",
            )

    def _on_tick(self, outcome: tuple[TickResult, SessionView | None]) -> None:
        if self._stopped:  # a result that arrives after the window closed opens nothing
            return
        result, current = outcome
        missed: list[SessionView] = []
        for event in result.events:
            self._on_event(event, missed)
        if missed:
            self._announce_missed(missed)
        for due in result.due:
            self._start_due(due)
        for info in result.syncs_due:
            self._claim_and(info, self._sync)
        if result.review_due is not None:
            self._claim_and(result.review_due, self._review)
        self._follow(current)

    def _on_event(self, event: FocusEvent, missed: list[SessionView]) -> None:
        if event.kind in ("started", "resumed"):
            self.show_block(event.session)
        elif event.kind == "ended" and event.summary is not None:
            self._block_ended(event.summary)
        elif event.kind == "missed":
            missed.append(event.session)

    def _follow(self, current: SessionView | None) -> None:
        """Catch up with changes made by another process (the CLI, run --headless)."""
        fw = self.focus_window
        shown = fw.session if fw is not None and fw.isVisible() else None
        if current is not None and (shown is None or shown.id != current.id):
            self.show_block(current)
        elif current is not None and shown is not None and _visible(current) != _visible(shown):
            self._session_changed(current)
        elif current is None and shown is not None and shown.active:
            self._run(lambda: self.service.summary(shown.id), self._block_ended, "summary")
        self._watch(current)

    def _start_due(self, due: DueBlock) -> None:
        key = (due.block_id, due.occurrence.start)
        if key in self._starting:
            return
        self._starting.add(key)
        self.window.show_status(f"Focus block “{due.title}” is starting…")

        def done(event: FocusEvent | None) -> None:
            if event is not None:
                self._on_tick((TickResult(events=[event]), None))

        self.window.ops.write(
            lambda _p, _c: self.service.start_due(due),
            on_done=done,
            on_error=self._on_error,
            on_finished=lambda: self._starting.discard(key),
            name="focus: start block",
        )

    def _claim_and(self, info: ScheduleInfo, then: Callable[[ScheduleInfo], None]) -> None:
        self._run(
            lambda: self.service.claim_schedule(info.id),
            lambda ok: then(info) if ok else None,
            f"claim {info.kind}",
        )

    def _sync(self, info: ScheduleInfo) -> None:
        if info.source_id is not None:
            self.window.start_sync(info.source_id)

    def _review(self, _info: ScheduleInfo) -> None:
        self.window.show_status("Time for the daily review.")
        self.review_did_become_due.emit()

    def _announce_missed(self, missed: list[SessionView]) -> None:
        latest = missed[-1]
        when = latest.planned_start.astimezone().strftime("%a %H:%M")
        why = MISSED_WHY.get(latest.end_reason or "", "")
        if len(missed) == 1:
            text = f"Missed focus block “{latest.title}” at {when} ({why})."
        else:
            text = f"Missed {len(missed)} focus blocks (latest “{latest.title}”, {when}): {why}."
        self.window.show_status(text)
        self.blocks_were_missed.emit(missed)
        ids = [m.id for m in missed]
        self._run(lambda: self.service.mark_announced(ids), lambda _: None, "announce missed")

    # -- the focus window -------------------------------------------------------------------
    def _vote(self, item_id: int, signal: str, goal_id: int | None) -> None:
        """+/- in the focus window: the inbox's vote (same triage path, same undo)."""

        def done(_record: object) -> None:
            if self.focus_window is not None:
                self.focus_window.show_vote(self.window.inbox_model.vote_text(item_id))

        self.window.item_actions.vote_on(item_id, signal, goal_id, on_done=done)

    def _ensure_window(self) -> FocusWindow:
        if self.focus_window is None:
            fw = FocusWindow(self.service.clock, item_text=self._item_text)
            fw.item_select_requested.connect(
                lambda item_id: self._edit(lambda: self.service.select_item(item_id))
            )
            fw.item_outcome_requested.connect(
                lambda item_id, outcome: self._edit(
                    lambda: self.service.mark_item(item_id, outcome)
                )
            )
            fw.item_note_requested.connect(
                lambda item_id, note: self._edit(lambda: self.service.note_item(item_id, note))
            )
            fw.pause_requested.connect(lambda: self._edit(self.service.pause))
            fw.resume_requested.connect(lambda: self._edit(self.service.resume))
            fw.extend_requested.connect(lambda m: self._edit(lambda: self.service.extend(m)))
            fw.vote_requested.connect(self._vote)
            fw.end_requested.connect(self.end_block)
            fw.countdown_did_finish.connect(self.request_tick)
            fw.quit_requested.connect(self.quit_app)
            fw.full_screen_did_change.connect(
                lambda on: self.window.ui_settings.setValue("focus/full_screen", on)
            )
            self.focus_window = fw
        return self.focus_window

    def _item_text(self, item_id: int) -> str:
        return self.desk.items.get(item_id).text

    def show_block(self, session: SessionView) -> None:
        """Open the focus window on ``session`` and hide everything else."""
        if self._stopped:
            return
        fw = self._ensure_window()
        opening = not fw.isVisible() or fw.session is None or fw.session.id != session.id
        fw.set_session(session)
        if opening:
            full = _truthy(self.window.ui_settings.value("focus/full_screen", False))
            fw.full_screen_button.blockSignals(True)
            fw.full_screen_button.setChecked(full)
            fw.full_screen_button.blockSignals(False)
            if full:
                fw.showFullScreen()
            else:
                fw.showNormal()
            _bring_forward(fw)
            self.window.hide()
            self._hold_notifications(True)
            self.window.show_status(f"In the focus block “{session.title}”.")
            self.block_did_start.emit(session)
            self._run(
                lambda: self.service.session_overlaps(session), self._show_overlaps, "overlaps"
            )
        self._watch(session)

    def _show_overlaps(self, overlaps: list[Overlap]) -> None:
        if self.focus_window is not None:
            self.focus_window.set_overlaps(overlaps)

    def _edit(self, fn: Callable[[], SessionView]) -> None:
        self._run(fn, self._session_changed, "focus edit")

    def _session_changed(self, session: SessionView) -> None:
        if self.focus_window is not None:
            self.focus_window.set_session(session)
        self.session_did_change.emit(session)
        self._watch(session)

    def end_block(self) -> None:
        """End the running block now (the focus window already asked)."""
        self._run(self.service.stop, self._block_ended, "end block")

    def _block_ended(self, summary: SessionSummary) -> None:
        self.window.show()
        _bring_forward(self.window)
        if self.focus_window is not None:
            self.focus_window.finish()
        self._hold_notifications(False)
        s = summary.session
        self.window.show_status(
            f"Focus block “{s.title}” ended: {summary.actual_minutes:.0f} of "
            f"{summary.planned_minutes} minutes; {len(summary.held)} new item(s) waited."
        )
        if self.summary_dialog is not None:
            self.summary_dialog.close()
        dialog = FocusSummaryDialog(summary, self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.item_open_requested.connect(self._open_item)
        dialog.destroyed.connect(lambda *_: setattr(self, "summary_dialog", None))
        dialog.show()
        self.summary_dialog = dialog
        self.block_did_end.emit(summary)
        self._watch(None)
        request_rank = getattr(self.window, "request_rank", None)
        if callable(request_rank):
            request_rank()

    def _open_item(self, item_id: int) -> None:
        select = getattr(self.window, "select_item", None)
        if callable(select) and not select(item_id):
            self.window.show_status("That item is not in the inbox list right now.")

    def quit_app(self) -> None:
        """Quit FocusDesk mid-block: the block keeps going and resumes at the next start."""
        self.window.close()

    def _hold_notifications(self, hold: bool) -> None:
        tray = getattr(self.window, "tray", None)
        hold_fn = getattr(tray, "hold_notifications", None)
        if callable(hold_fn):
            hold_fn(hold)

    def _watch(self, session: SessionView | None) -> None:
        if self.scheduler is not None and not self._stopped:
            self.scheduler.watch_session(session)

    # -- menu actions -----------------------------------------------------------------------
    def start_on_demand(self) -> None:
        """ "Start focus block…": ask how long and for which goals (or show the running one)."""
        current = self.service.current()
        if current is not None:
            self.show_block(current)
            return
        settings = self.window.ui_settings
        dialog = StartFocusDialog(
            self.desk.goals.all(include_inactive=False),
            minutes=_int(settings.value("focus/minutes", 90), 90),
            top_k=self.desk.settings.focus_top_k,
            full_screen=_truthy(settings.value("focus/full_screen", False)),
            parent=self.window,
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.start_block(dialog.request()))
        dialog.destroyed.connect(lambda *_: setattr(self, "start_dialog", None))
        self.start_dialog = dialog
        dialog.open()

    def start_block(self, request: StartRequest) -> Job:
        """Plan and start a block now (in the background: planning ranks)."""
        settings = self.window.ui_settings
        settings.setValue("focus/minutes", request.minutes)
        settings.setValue("focus/full_screen", request.full_screen)
        self.window.show_status("Planning your focus block…")
        return self.window.ops.write(
            lambda _p, _c: self.service.start(
                request.minutes,
                goal_ids=request.goal_ids,
                top_k=request.top_k,
                title=request.title or None,
            ),
            on_done=self.show_block,
            on_error=self._on_error,
            name="focus: start",
        )

    def export_ics(self, path: str | None = None) -> None:
        if path is None:
            path, _ = QFileDialog.getSaveFileName(
                self.window, "Export focus blocks", "focus-blocks.ics", ICS_FILTER
            )
        if not path:
            return
        chosen = Path(path)

        def export() -> int:
            self.service.export_ics(chosen)
            return sum(1 for b in self.service.list_blocks() if b.enabled)

        self._run(
            export,
            lambda n: self.window.show_status(f"Exported {n} focus block(s) to {chosen.name}."),
            "export ics",
        )

    def import_ics(self, path: str | None = None) -> None:
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self.window, "Import busy times", "", ICS_FILTER)
        if not path:
            return
        chosen = Path(path)

        def read() -> tuple[int, list[Overlap]]:
            busy = self.service.import_busy(chosen)
            return len(busy), self.service.overlaps()

        self._run(read, self._imported, "import ics")

    def _imported(self, outcome: tuple[int, list[Overlap]]) -> None:
        count, overlaps = outcome
        self.window.show_status(
            f"Imported {count} busy time(s); {len(overlaps)} focus block start(s) overlap "
            "a meeting in the next four weeks."
        )
        if overlaps:
            lines = [o.describe() for o in overlaps[:8]]
            if len(overlaps) > 8:
                lines.append(f"… and {len(overlaps) - 8} more")
            box = QMessageBox(
                QMessageBox.Icon.Warning,
                "Focus blocks overlap meetings",
                "These focus blocks overlap meetings:\n\n" + "\n".join(lines),
                QMessageBox.StandardButton.Close,
                self.window,
            )
            box.setAccessibleName("Focus blocks overlap meetings")
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.open()

    # -- plumbing ---------------------------------------------------------------------------
    def _run(
        self,
        fn: Callable[[], Any],
        done: Callable[[Any], None],
        name: str,
        finished: Callable[[], None] | None = None,
    ) -> Job | None:
        if self._stopped:
            return None
        return self.window.ops.write(
            lambda _p, _c: fn(),
            on_done=done,
            on_error=self._on_error,
            on_finished=finished,
            name=f"focus: {name}",
        )

    def _on_error(self, message: str) -> None:
        self.window.show_status(message)
        self.focus_did_fail.emit(message)
        fw = self.focus_window
        parent: QWidget = fw if fw is not None and fw.isVisible() else self.window
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Focus block",
            message,
            QMessageBox.StandardButton.Close,
            parent,
        )
        box.setAccessibleName("Focus block problem")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()


def _bring_forward(widget: QWidget) -> None:
    """Raise and activate ``widget`` (not on platforms that cannot: offscreen, minimal)."""
    if QGuiApplication.platformName() not in ("offscreen", "minimal"):
        widget.raise_()
        widget.activateWindow()


def _visible(s: SessionView) -> tuple[object, ...]:
    """What the focus window shows of a session, apart from the clocks."""
    return (
        s.state,
        s.extended_minutes,
        s.paused_seconds,
        s.current_item_id,
        tuple((i.outcome, i.note) for i in s.items),
    )


def _truthy(value: object) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in ("true", "1", "yes"))


def _int(value: object, default: int) -> int:
    try:
        return int(str(value))
    except ValueError:
        return default

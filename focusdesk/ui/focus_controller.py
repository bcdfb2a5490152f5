"""Focus blocks in the desktop app: the Qt owner of the focus agent, the focus window,
the main window.

What a scheduler wake-up means is decided by ``focusdesk.focus.agent.FocusAgent``, the
same agent ``run --headless`` owns. Here its wake-ups (from APScheduler's threads) are
re-emitted as Qt signals, queued to the UI thread; its work runs on the window's
operations runner (the serial lane: a check, a block's start, which plans and ranks,
an edit of the session); and what it reports is shown: when a block starts (on time,
late, on demand, or still running from before a restart) the focus window opens and
the main window hides; notifications are held. When it ends the main window comes back
with the summary and the items that arrived meanwhile. The UI thread never reads the
store: an item's text, the running session and the goals come through the read lane.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox, QWidget

from focusdesk.focus.agent import MISSED_WHY, FocusAgent
from focusdesk.focus.records import (
    DueBlock,
    FocusEvent,
    Overlap,
    SessionSummary,
    SessionView,
)

from .focus_dialogs import FocusSummaryDialog, StartFocusDialog, StartRequest
from .focus_window import FocusWindow
from .operations import Job

if TYPE_CHECKING:
    from focusdesk.focus.scheduler import FocusScheduler
    from focusdesk.focus.service import FocusService
    from focusdesk.records import GoalInfo

    from .main_window import MainWindow

log = logging.getLogger(__name__)

T = TypeVar("T")
ICS_FILTER = "iCalendar files (*.ics);;All files (*)"
CLOSE_WAIT_MS = 10_000
"""How long closing waits for the last note of the running session."""


class FocusController(QObject):
    """Runs focus blocks for one main window (the Qt owner of a ``FocusAgent``)."""

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
        self.focus_window: FocusWindow | None = None
        self.summary_dialog: FocusSummaryDialog | None = None
        self.start_dialog: StartFocusDialog | None = None
        self._agent: FocusAgent | None = None
        self._started = False
        self._stopped = False
        self._asking = False
        self._build_actions()
        self.scheduler_did_wake.connect(self.request_tick, Qt.ConnectionType.QueuedConnection)
        self.clock_did_jump.connect(self._on_clock_jump, Qt.ConnectionType.QueuedConnection)
        window.installEventFilter(self)

    @property
    def service(self) -> FocusService:
        return self.agent.service

    @property
    def agent(self) -> FocusAgent:
        """The focus agent (built on first use: the focus services load lazily)."""
        if self._agent is None:
            agent = FocusAgent(self.desk.focus, _Listener(self), run=self._work)
            agent.relay_wake = self.scheduler_did_wake.emit  # to the UI thread, queued
            agent.relay_jump = self.clock_did_jump.emit
            self._agent = agent
        return self._agent

    @property
    def scheduler(self) -> FocusScheduler | None:
        """The agent's scheduler, once it has started."""
        return None if self._agent is None else self._agent.scheduler

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
        if watched is self.window and event.type() == QEvent.Type.Show and not self._started:
            QTimer.singleShot(0, self.start)
        return False

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> None:
        """Start the scheduler and resume (or catch up on) blocks; once, after the first show.

        All of it (imports, reading the table, the first check) runs in the background.
        """
        if self._started or self._stopped:
            return
        self._started = True
        self.agent.start()

    def shutdown(self) -> None:
        """Stop the scheduler and the checks; a running block stays running (it resumes).
        The window calls it as it closes, once it is hidden and its operations stopped."""
        if self._stopped:
            return
        self._stopped = True
        ops = self.window.ops
        ops.shutdown()  # the window is closing: its checks end first (queued ones never run)
        if self._agent is not None:
            self._agent.stop()  # the scheduler, then the session's last heartbeat, queued...
            ops.wait(CLOSE_WAIT_MS)  # ...and written before the window goes
        if self.focus_window is not None:
            self.focus_window.finish()
            self.focus_window.deleteLater()
            self.focus_window = None

    def _work(
        self,
        name: str,
        task: Callable[[], T],
        on_done: Callable[[T], None],
        on_error: Callable[[str], None],
    ) -> Job:
        """The agent's executor: its work on the serial lane, outcomes on the UI thread."""
        return self.window.ops.write(
            lambda _p, _c: task(), on_done=on_done, on_error=on_error, name=f"focus: {name}"
        )

    # -- what the agent reports -------------------------------------------------------------
    def request_tick(self) -> None:
        """Check what is due now (in the background; a wake-up while one waits adds none)."""
        if not self._stopped:
            self.agent.wake()

    def _on_clock_jump(self, jump: object) -> None:
        if not self._stopped:
            from focusdesk.focus.clock import ClockJump

            assert isinstance(jump, ClockJump)
            self.agent.clock_jumped(jump)

    def _will_start(self, due: DueBlock) -> None:
        self.window.show_status(f"Focus block “{due.title}” is starting…")

    def _missed(self, missed: list[SessionView]) -> None:
        latest = missed[-1]
        when = latest.planned_start.astimezone().strftime("%a %H:%M")
        why = MISSED_WHY.get(latest.end_reason or "", "")
        if len(missed) == 1:
            text = f"Missed focus block “{latest.title}” at {when} ({why})."
        else:
            text = f"Missed {len(missed)} focus blocks (latest “{latest.title}”, {when}): {why}."
        self.window.show_status(text)
        self.blocks_were_missed.emit(missed)

    def _review_due(self) -> None:
        self.window.show_status("Time for the daily review.")
        self.review_did_become_due.emit()

    # -- the focus window -------------------------------------------------------------------
    def _vote(self, item_id: int, signal: str, goal_id: int | None) -> None:
        """+/- in the focus window: the inbox's vote (same triage path, same undo)."""

        def done(_record: object) -> None:
            if self.focus_window is not None:
                self.focus_window.show_vote(self.window.inbox_model.vote_text(item_id))

        self.window.item_actions.vote_on(item_id, signal, goal_id, on_done=done)

    def _ensure_window(self) -> FocusWindow:
        if self.focus_window is None:
            fw = FocusWindow(self.service.clock)
            fw.item_text_requested.connect(self._fetch_item_text)
            fw.item_select_requested.connect(
                lambda item_id: self._edit("select", lambda: self.service.select_item(item_id))
            )
            fw.item_outcome_requested.connect(
                lambda item_id, outcome: self._edit(
                    "outcome", lambda: self.service.mark_item(item_id, outcome)
                )
            )
            fw.item_note_requested.connect(
                lambda item_id, note: self._edit(
                    "note", lambda: self.service.note_item(item_id, note)
                )
            )
            fw.pause_requested.connect(lambda: self._edit("pause", self.service.pause))
            fw.resume_requested.connect(lambda: self._edit("resume", self.service.resume))
            fw.extend_requested.connect(
                lambda m: self._edit("extend", lambda: self.service.extend(m))
            )
            fw.vote_requested.connect(self._vote)
            fw.end_requested.connect(self.end_block)
            fw.countdown_did_finish.connect(self.request_tick)
            fw.quit_requested.connect(self.quit_app)
            fw.full_screen_did_change.connect(
                lambda on: self.window.ui_settings.setValue("focus/full_screen", on)
            )
            self.focus_window = fw
        return self.focus_window

    def _fetch_item_text(self, item_id: int) -> None:
        """An item's text for the focus window, read in the background (the window drops an
        answer for an item it no longer shows; a missing item shows its evidence)."""

        def show(text: str) -> None:
            if self.focus_window is not None:
                self.focus_window.show_item_text(item_id, text)

        self.window.ops.read(
            lambda _p, _c: self.desk.items.get(item_id).text,
            on_done=show,
            on_error=lambda _message: show(""),
            name="focus: item text",
        )

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
            self.window.ops.read(
                lambda _p, _c: self.service.session_overlaps(session),
                on_done=self._show_overlaps,
                name="focus: overlaps",
            )

    def _show_overlaps(self, overlaps: list[Overlap]) -> None:
        if self.focus_window is not None:
            self.focus_window.set_overlaps(overlaps)

    def _edit(self, name: str, change: Callable[[], SessionView]) -> None:
        if not self._stopped:
            self.agent.edit(name, change)

    def _session_changed(self, session: SessionView) -> None:
        if self.focus_window is not None:
            self.focus_window.set_session(session)
        self.session_did_change.emit(session)

    def end_block(self) -> None:
        """End the running block now (the focus window already asked)."""
        if not self._stopped:
            self.agent.end_now()

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

    # -- menu actions -----------------------------------------------------------------------
    def start_on_demand(self) -> None:
        """ "Start focus block…": ask how long and for which goals (or show the running one).

        The running session and the goals are read in the background first."""
        if self._stopped or self._asking:
            return
        self._asking = True

        def read(_p: object, _c: object) -> tuple[SessionView | None, list[GoalInfo]]:
            return self.service.current(), self.desk.goals.all(include_inactive=False)

        self.window.ops.read(
            read,
            on_done=self._ask_start,
            on_error=self._on_error,
            on_finished=lambda: setattr(self, "_asking", False),
            name="focus: current and goals",
        )

    def _ask_start(self, outcome: tuple[SessionView | None, list[GoalInfo]]) -> None:
        current, goals = outcome
        if self._stopped:
            return
        if current is not None:
            self.show_block(current)
            return
        settings = self.window.ui_settings
        dialog = StartFocusDialog(
            goals,
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

    def start_block(self, request: StartRequest) -> None:
        """Plan and start a block now (in the background: planning ranks)."""
        settings = self.window.ui_settings
        settings.setValue("focus/minutes", request.minutes)
        settings.setValue("focus/full_screen", request.full_screen)
        self.window.show_status("Planning your focus block…")
        self.agent.start_now(
            request.minutes,
            goal_ids=request.goal_ids,
            top_k=request.top_k,
            title=request.title or None,
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


class _Listener:
    """The agent's ``FocusListener`` for one controller (whose signals carry these names)."""

    def __init__(self, controller: FocusController) -> None:
        self.c = controller

    def block_did_start(self, event: FocusEvent) -> None:
        self.c.show_block(event.session)

    def block_will_start(self, due: DueBlock) -> None:
        self.c._will_start(due)

    def session_did_change(self, session: SessionView) -> None:
        self.c._session_changed(session)

    def block_did_end(self, summary: SessionSummary) -> None:
        self.c._block_ended(summary)

    def blocks_were_missed(self, missed: list[SessionView]) -> None:
        self.c._missed(missed)

    def sync_is_due(self, source_id: int, holding: bool) -> None:
        self.c.window.sync_controller.start_sync(
            source_id
        )  # the window's sync: progress, held items

    def review_is_due(self) -> None:
        self.c._review_due()

    def learning_did_run(self, message: str) -> None:
        self.c.window.show_status(message)  # the app learns in LearningController instead

    def focus_did_fail(self, message: str) -> None:
        self.c._on_error(message)


def _bring_forward(widget: QWidget) -> None:
    """Raise and activate ``widget`` (not on platforms that cannot: offscreen, minimal)."""
    if QGuiApplication.platformName() not in ("offscreen", "minimal"):
        widget.raise_()
        widget.activateWindow()


def _truthy(value: object) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in ("true", "1", "yes"))


def _int(value: object, default: int) -> int:
    try:
        return int(str(value))
    except ValueError:
        return default

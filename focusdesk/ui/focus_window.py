"""The focus window: only the block's planned items, their minutes, the current item's
timer and the block's countdown.

+ and - vote on the current item, for the block's goal when the block has exactly one
(``vote_goal_id``), else for no goal in particular.

It is passive: it shows a ``SessionView`` and says what the user asked for by signal
(the ``FocusController`` writes it and hands back the new view); an item's text is
asked for by signal too and shown when it comes. A one-second QTimer
redraws the clocks from the snapshot and the clock — nothing here touches the
store or waits. Ending early asks once; closing the window is ending early.
"""

from __future__ import annotations

import math
from datetime import datetime
from enum import IntEnum
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction, QCloseEvent, QFont, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from focusdesk.clock import Clock
from focusdesk.focus.records import Overlap, SessionItemView, SessionView

from .style import MutedLabel, heading

ItemIdRole = Qt.ItemDataRole.UserRole + 1
EXTEND_MINUTES = 10
OUTCOME_LABELS = {"open": "", "done": "Done ✓", "skipped": "Skipped", "snoozed": "Snoozed"}
Index = QModelIndex | QPersistentModelIndex


def vote_goal_id(session: SessionView) -> int | None:
    """The goal a vote given in the block is for: its only goal, else None (all goals)."""
    return session.goal_ids[0] if len(session.goal_ids) == 1 else None


def fmt_clock(seconds: float) -> str:
    """42:07, or 1:05:09 from an hour up."""
    total = max(0, int(math.ceil(seconds)) if seconds > 0 else 0)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def fmt_minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min"


class PlanColumn(IntEnum):
    NUMBER = 0
    TITLE = 1
    GOAL = 2
    PLANNED = 3
    SPENT = 4
    STATUS = 5


HEADERS = {
    PlanColumn.NUMBER: "#",
    PlanColumn.TITLE: "Item",
    PlanColumn.GOAL: "Goal",
    PlanColumn.PLANNED: "Planned",
    PlanColumn.SPENT: "Spent",
    PlanColumn.STATUS: "Status",
}


class FocusPlanModel(QAbstractTableModel):
    """The planned items of a session; the current item's time is live."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._session: SessionView | None = None
        self._items: tuple[SessionItemView, ...] = ()
        self._now: datetime | None = None

    def set_session(self, session: SessionView | None, now: datetime) -> None:
        self.beginResetModel()
        self._session = session
        self._items = session.items if session is not None else ()
        self._now = now
        self.endResetModel()

    def tick(self, now: datetime) -> None:
        """Redraw the live "Spent" of the current item."""
        self._now = now
        row = self.current_row()
        if row is not None:
            index = self.index(row, PlanColumn.SPENT)
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DisplayRole])

    def current_row(self) -> int | None:
        if self._session is None:
            return None
        for row, item in enumerate(self._items):
            if item.item_id == self._session.current_item_id:
                return row
        return None

    def item_at(self, row: int) -> SessionItemView | None:
        return self._items[row] if 0 <= row < len(self._items) else None

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self._items)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(PlanColumn)

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[PlanColumn(section)]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        item = self.item_at(index.row()) if index.isValid() else None
        if item is None or self._session is None:
            return None
        column = PlanColumn(index.column())
        current = item.item_id == self._session.current_item_id
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(item, column, current)
        if role == Qt.ItemDataRole.ToolTipRole:
            goal = f"\nFor: {item.goal_title}" if item.goal_title else ""
            note = f"\nNote: {item.note}" if item.note else ""
            return f"{item.title}{goal}{note}"
        if role == Qt.ItemDataRole.FontRole and current:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (
            PlanColumn.NUMBER,
            PlanColumn.PLANNED,
            PlanColumn.SPENT,
        ):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == ItemIdRole:
            return item.item_id
        return None

    def _display(self, item: SessionItemView, column: PlanColumn, current: bool) -> str:
        assert self._session is not None
        if column is PlanColumn.NUMBER:
            return str(item.position + 1)
        if column is PlanColumn.TITLE:
            return item.title or "(untitled)"
        if column is PlanColumn.GOAL:
            return item.goal_title or ""
        if column is PlanColumn.PLANNED:
            return f"{item.planned_minutes} min"
        if column is PlanColumn.SPENT:
            now = self._now or self._session.planned_start
            return fmt_minutes(self._session.item_seconds(item.item_id, now))
        if current and item.outcome == "open":
            return "Now"
        return OUTCOME_LABELS.get(item.outcome, item.outcome)


def _button(text: str, name: str, tip: str, parent: QWidget) -> QPushButton:
    button = QPushButton(text, parent)
    button.setObjectName(name)
    button.setAccessibleName(text.replace("&", "").split(" (")[0])
    button.setToolTip(tip)
    return button


class FocusWindow(QWidget):
    """The distraction-free window of a running focus block."""

    item_select_requested = Signal(int)
    item_outcome_requested = Signal(int, str)
    item_note_requested = Signal(int, str)
    pause_requested = Signal()
    resume_requested = Signal()
    extend_requested = Signal(int)
    vote_requested = Signal(int, str, object)
    """(item id, "up" or "down", the goal id it is for or None): + or - on the current item."""
    end_requested = Signal()
    """The user confirmed ending the block early."""
    quit_requested = Signal()
    """Quit FocusDesk; the block goes on and resumes at the next start."""
    countdown_did_finish = Signal()
    full_screen_did_change = Signal(bool)
    item_text_requested = Signal(int)
    """The current item's text is needed (answer with ``show_item_text``); until it comes
    the item's evidence passage is shown."""

    def __init__(self, clock: Clock, *, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.clock = clock
        self._texts: dict[int, str] = {}
        self.session: SessionView | None = None
        self._finishing = False
        self._end_confirmed = False
        self._finished_signalled = False
        self._shown_item: int | None = None
        self.setObjectName("focus_window")
        self.setWindowTitle("Focus — FocusDesk")
        self.setAccessibleName("Focus block")
        self.resize(1180, 740)
        self._build()
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self.refresh)

    # -- construction ---------------------------------------------------------------------
    def _build(self) -> None:
        self.title_label = heading(QLabel(self), 1.5)
        self.title_label.setAccessibleName("Block")
        self.title_label.setWordWrap(True)
        self.goals_label = MutedLabel("", self)
        self.goals_label.setAccessibleName("Goals")
        self.goals_label.setWordWrap(True)
        self.countdown_label = heading(QLabel(self), 2.2)
        self.countdown_label.setAccessibleName("Time left in the block")
        self.countdown_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        self.ends_label = MutedLabel("", self)
        self.ends_label.setAccessibleName("Block ends at")
        self.ends_label.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.overlap_label = QLabel(self)
        self.overlap_label.setAccessibleName("Meeting overlap warning")
        self.overlap_label.setWordWrap(True)
        self.overlap_label.hide()

        head_left = QVBoxLayout()
        head_left.addWidget(self.title_label)
        head_left.addWidget(self.goals_label)
        head_right = QVBoxLayout()
        head_right.addWidget(self.countdown_label)
        head_right.addWidget(self.ends_label)
        head = QHBoxLayout()
        head.addLayout(head_left, 1)
        head.addLayout(head_right)

        self.plan_model = FocusPlanModel(self)
        self.plan_view = QTableView(self)
        self.plan_view.setObjectName("focus_plan")
        self.plan_view.setAccessibleName("Planned items")
        self.plan_view.setAccessibleDescription(
            "The items of this block and their minutes; Enter or a click works on one"
        )
        self.plan_view.setModel(self.plan_model)
        self.plan_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.plan_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.plan_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.plan_view.setShowGrid(False)
        self.plan_view.setAlternatingRowColors(True)
        self.plan_view.setWordWrap(False)
        self.plan_view.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.plan_view.verticalHeader().hide()
        self.plan_view.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 12)
        header = self.plan_view.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setSectionResizeMode(PlanColumn.TITLE, QHeaderView.ResizeMode.Stretch)
        for column, width in (
            (PlanColumn.NUMBER, 34),
            (PlanColumn.GOAL, 170),
            (PlanColumn.PLANNED, 72),
            (PlanColumn.SPENT, 64),
            (PlanColumn.STATUS, 76),
        ):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(column, width)
        self.plan_view.clicked.connect(self._row_chosen)
        self.plan_view.activated.connect(self._row_chosen)

        self.card = QFrame(self)
        self.card.setObjectName("current_item")
        self.card.setAccessibleName("Current item")
        self.card.setFrameShape(QFrame.Shape.StyledPanel)
        self.item_title = heading(QLabel(self.card), 1.3)
        self.item_title.setAccessibleName("Current item title")
        self.item_title.setWordWrap(True)
        self.item_title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.item_meta = MutedLabel("", self.card)
        self.item_meta.setAccessibleName("Current item source and goal")
        self.item_meta.setWordWrap(True)
        self.vote_label = MutedLabel("", self.card)
        self.vote_label.setObjectName("focus_vote")
        self.vote_label.setAccessibleName("Your vote on the current item")
        self.vote_label.setWordWrap(True)
        self.vote_label.hide()
        self.item_timer = heading(QLabel(self.card), 1.2)
        self.item_timer.setAccessibleName("Time on the current item")
        self.item_progress = QProgressBar(self.card)
        self.item_progress.setAccessibleName("Share of the item's minutes used")
        self.item_progress.setTextVisible(False)
        self.item_progress.setMaximumHeight(10)
        self.item_text = QPlainTextEdit(self.card)
        self.item_text.setObjectName("current_item_text")
        self.item_text.setAccessibleName("Current item text")
        self.item_text.setReadOnly(True)
        self.item_text.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

        self.done_button = _button("&Done", "focus_done", "Mark this item done (E)", self.card)
        self.skip_button = _button("S&kip", "focus_skip", "Skip it for this block (N)", self.card)
        self.snooze_button = _button(
            "Sn&ooze", "focus_snooze", "Hide it until tomorrow morning (S)", self.card
        )
        self.done_button.clicked.connect(lambda: self._outcome("done"))
        self.skip_button.clicked.connect(lambda: self._outcome("skipped"))
        self.snooze_button.clicked.connect(lambda: self._outcome("snoozed"))
        self.note_edit = QLineEdit(self.card)
        self.note_edit.setObjectName("focus_note")
        self.note_edit.setAccessibleName("Note about the current item")
        self.note_edit.setPlaceholderText("A short note about this item (Enter saves it)")
        self.note_edit.setMaxLength(280)
        self.note_edit.setClearButtonEnabled(True)
        for clear in self.note_edit.findChildren(QToolButton):
            clear.setAccessibleName("Clear the note")
        self.note_edit.editingFinished.connect(self._note_edited)

        buttons = QHBoxLayout()
        for b in (self.done_button, self.skip_button, self.snooze_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        timer_row = QHBoxLayout()
        timer_row.addWidget(self.item_timer)
        timer_row.addWidget(self.item_progress, 1)
        card = QVBoxLayout(self.card)
        card.addWidget(self.item_title)
        card.addWidget(self.item_meta)
        card.addWidget(self.vote_label)
        card.addLayout(timer_row)
        card.addWidget(self.item_text, 1)
        card.addLayout(buttons)
        card.addWidget(self.note_edit)

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("focus_splitter")
        self.splitter.addWidget(self.plan_view)
        self.splitter.addWidget(self.card)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([580, 600])

        self.pause_button = _button("&Pause", "focus_pause", "Pause the block (P)", self)
        self.pause_button.clicked.connect(self._toggle_pause)
        self.extend_button = _button(
            f"+{EXTEND_MINUTES} min", "focus_extend", f"{EXTEND_MINUTES} more minutes (X)", self
        )
        self.extend_button.setAccessibleName(f"Extend by {EXTEND_MINUTES} minutes")
        self.extend_button.clicked.connect(lambda: self.extend_requested.emit(EXTEND_MINUTES))
        self.full_screen_button = _button(
            "&Full screen", "focus_full_screen", "Fill the screen (F11)", self
        )
        self.full_screen_button.setCheckable(True)
        self.full_screen_button.toggled.connect(self.set_full_screen)
        self.end_button = _button("&End block…", "focus_end", "End the block now (Ctrl+W)", self)
        self.end_button.clicked.connect(self.request_end)
        footer = QHBoxLayout()
        for b in (self.pause_button, self.extend_button, self.full_screen_button):
            footer.addWidget(b)
        footer.addStretch(1)
        footer.addWidget(self.end_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 14)
        layout.setSpacing(10)
        layout.addLayout(head)
        layout.addWidget(self.overlap_label)
        layout.addWidget(self.splitter, 1)
        layout.addLayout(footer)

        for keys, slot in (
            ("E", lambda: self._outcome("done")),
            ("N", lambda: self._outcome("skipped")),
            ("S", lambda: self._outcome("snoozed")),
            ("P", self._toggle_pause),
            ("X", lambda: self.extend_requested.emit(EXTEND_MINUTES)),
            ("+", lambda: self._vote("up")),
            ("=", lambda: self._vote("up")),
            ("-", lambda: self._vote("down")),
            ("F11", self.full_screen_button.toggle),
            ("Ctrl+W", self.request_end),
            ("Ctrl+Q", self.quit_requested.emit),
        ):
            action = QAction(self)
            action.setShortcut(QKeySequence(keys))
            action.triggered.connect(lambda _checked=False, s=slot: s())
            self.addAction(action)

    # -- showing a session ----------------------------------------------------------------
    def set_session(self, session: SessionView) -> None:
        """Show ``session`` (a new snapshot after every change)."""
        self.session = session
        now = self.clock.now()
        self.setWindowTitle(f"Focus — {session.title} — FocusDesk")
        self.title_label.setText(session.title)
        goals = sorted({i.goal_title for i in session.items if i.goal_title})
        self.goals_label.setText(" · ".join(goals) if goals else "All active goals")
        self.plan_model.set_session(session, now)
        one_goal = len({i.goal_id for i in session.items}) <= 1  # then it is in the heading
        self.plan_view.setColumnHidden(PlanColumn.GOAL, one_goal)
        row = self.plan_model.current_row()
        if row is not None:
            self.plan_view.selectRow(row)
        paused = session.state == "paused"
        self.pause_button.setText("&Resume" if paused else "&Pause")
        self.pause_button.setAccessibleName("Resume" if paused else "Pause")
        self.pause_button.setToolTip("Resume the block (P)" if paused else "Pause the block (P)")
        self._show_current(session)
        if session.state == "running":
            self._finished_signalled = False
        self.refresh()
        if not self._timer.isActive():
            self._timer.start()

    def set_overlaps(self, overlaps: list[Overlap]) -> None:
        """Warn about meetings during the rest of the block."""
        if not overlaps:
            self.overlap_label.hide()
            return
        first = overlaps[0]
        more = f" (and {len(overlaps) - 1} more)" if len(overlaps) > 1 else ""
        self.overlap_label.setText(
            f"⚠ This block overlaps “{first.busy_summary}” "
            f"{first.busy_start.astimezone():%H:%M}–{first.busy_end.astimezone():%H:%M}{more}."
        )
        self.overlap_label.show()

    def _show_current(self, session: SessionView) -> None:
        item = session.current_item
        enabled = item is not None and session.state == "running"
        for b in (self.done_button, self.skip_button, self.snooze_button):
            b.setEnabled(enabled)
        self.note_edit.setEnabled(item is not None)
        if item is None:
            self._shown_item = None
            self.item_title.setText(
                "Every planned item is dealt with." if session.items else "Nothing was planned."
            )
            self.item_meta.setText("Use the rest of the block as you like, or end it.")
            self.item_text.setPlainText("")
            self.note_edit.clear()
            self.item_timer.setText("")
            self.item_progress.hide()
            return
        self.item_progress.show()
        self.item_title.setText(item.title or "(untitled)")
        meta = [item.source_name] if item.source_name else []
        if item.goal_title:
            meta.append(f"for “{item.goal_title}”")
        self.item_meta.setText(" · ".join(meta))
        if self._shown_item != item.item_id:
            self._shown_item = item.item_id
            self.show_vote(None)
            self.item_text.setPlainText(self._text_of(item))
            self.item_text.moveCursor(self.item_text.textCursor().MoveOperation.Start)
            self.note_edit.setText(item.note)
        elif not self.note_edit.hasFocus():
            self.note_edit.setText(item.note)
        self.item_progress.setRange(0, max(1, item.planned_minutes * 60))

    def _text_of(self, item: SessionItemView) -> str:
        """The item's text when it has come, else its evidence (and the text is asked for)."""
        if item.item_id is None:
            return item.evidence
        if item.item_id not in self._texts:
            self.item_text_requested.emit(item.item_id)
            return item.evidence
        return self._texts[item.item_id] or item.evidence

    def show_item_text(self, item_id: int, text: str) -> None:
        """The text of ``item_id`` has come (empty: gone; its evidence stays). Shown only
        while that item is still the current one: a late answer is kept, not shown."""
        self._texts[item_id] = text
        if item_id != self._shown_item or self.session is None:
            return
        item = self.session.item(item_id)
        self.item_text.setPlainText(text or (item.evidence if item is not None else ""))
        self.item_text.moveCursor(self.item_text.textCursor().MoveOperation.Start)

    def refresh(self) -> None:
        """Redraw the clocks (every second)."""
        session = self.session
        if session is None:
            return
        now = self.clock.now()
        left = session.remaining_seconds(now)
        ends = session.end_at(now).astimezone()
        if session.state == "paused":
            self.countdown_label.setText(f"Paused · {fmt_clock(left)} left")
            self.ends_label.setText("The countdown waits while you pause")
        else:
            self.countdown_label.setText(f"{fmt_clock(left)} left")
            self.ends_label.setText(f"until {ends:%H:%M}")
        self.countdown_label.setAccessibleDescription(self.countdown_label.text())
        self.plan_model.tick(now)
        item = session.current_item
        if item is not None:
            spent = session.item_seconds(item.item_id, now)
            planned = item.planned_minutes * 60
            over = " — over its time" if spent > planned else ""
            self.item_timer.setText(f"{fmt_clock(spent)} of {fmt_clock(planned)}{over}")
            self.item_progress.setValue(int(min(spent, planned)))
        if session.state == "running" and left <= 0 and not self._finished_signalled:
            self._finished_signalled = True
            self.countdown_did_finish.emit()

    # -- user intents -----------------------------------------------------------------------
    def _row_chosen(self, index: QModelIndex) -> None:
        item = self.plan_model.item_at(index.row())
        if (
            item is not None
            and item.item_id is not None
            and self.session is not None
            and item.item_id != self.session.current_item_id
        ):
            self.item_select_requested.emit(item.item_id)

    def _outcome(self, outcome: str) -> None:
        session = self.session
        if session is None or session.state != "running" or session.current_item_id is None:
            return
        self._save_note()
        self.item_outcome_requested.emit(session.current_item_id, outcome)

    def _vote(self, signal: str) -> None:
        session = self.session
        if session is None or session.current_item_id is None:
            return
        self.vote_requested.emit(session.current_item_id, signal, vote_goal_id(session))

    def show_vote(self, text: str | None) -> None:
        """Say how the user voted on the current item ("You voted + for …")."""
        self.vote_label.setText(f"{text} (U in the inbox undoes it)" if text else "")
        self.vote_label.setVisible(bool(text))

    def _note_edited(self) -> None:
        self._save_note()

    def _save_note(self) -> None:
        session = self.session
        item = session.current_item if session is not None else None
        if item is None or item.item_id is None:
            return
        text = self.note_edit.text().strip()
        if text != item.note:
            self.item_note_requested.emit(item.item_id, text)

    def _toggle_pause(self) -> None:
        if self.session is None:
            return
        if self.session.state == "paused":
            self.resume_requested.emit()
        else:
            self.pause_requested.emit()

    def set_full_screen(self, on: bool) -> None:
        if self.full_screen_button.isChecked() != on:
            self.full_screen_button.setChecked(on)  # comes back here through toggled
            return
        if on:
            self.showFullScreen()
        elif self.isFullScreen():
            self.showNormal()
        self.full_screen_did_change.emit(on)

    def request_end(self) -> bool:
        """End the block early, after asking once; True when the user said yes."""
        if self.session is None or not self.session.active:
            return True
        if not self._end_confirmed:
            left = int(self.session.remaining_seconds(self.clock.now()) // 60)
            answer = QMessageBox.question(
                self,
                "End the focus block?",
                f"End “{self.session.title}” now, {left} minutes early?\n\n"
                "What you did so far is kept, and the items that arrived meanwhile are "
                "shown after it.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No,
            )
            if answer != QMessageBox.StandardButton.Yes:
                return False
            self._end_confirmed = True
        self._save_note()
        self.end_requested.emit()
        return True

    def finish(self) -> None:
        """Close without asking (the block has ended)."""
        self._finishing = True
        self._timer.stop()
        self.close()

    # -- events -----------------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        super().showEvent(event)
        self.plan_view.setFocus(Qt.FocusReason.OtherFocusReason)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        if self._finishing or self.session is None or not self.session.active:
            self._timer.stop()
            super().closeEvent(event)
            return
        event.ignore()  # the controller closes it once the block has ended
        self.request_end()

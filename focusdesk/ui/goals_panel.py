"""The goals panel: add, rename, reweight, switch on and off, and remove goals.

The goals are read in the background (``reload``, on the operations' read lane);
``goals_did_load`` is emitted when they are shown. Edits show at once (the model is
updated optimistically) and are written to the store on the write lane, one at a time;
``goals_did_change`` is emitted once a write is done, and the window re-ranks.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from PySide6.QtCore import (
    QEvent,
    QItemSelectionModel,
    QObject,
    Qt,
    Signal,
)
from PySide6.QtGui import QKeyEvent, QKeySequence, QPaintEvent, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from focusdesk.app import FocusDesk
from focusdesk.records import GoalInfo, goal_short_name

from .goals_model import TITLE, WEIGHT, WEIGHT_MAX, GoalsModel, WeightDelegate, make_weight_spin
from .operations import Operations
from .style import MutedLabel, heading, paint_empty_text

log = logging.getLogger(__name__)


class GoalDialog(QDialog):
    """Edit a goal's title, description, weight and whether it is active."""

    def __init__(self, goal: GoalInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Edit goal")
        self.setAccessibleName("Edit goal")
        self.goal = goal
        form = QFormLayout(self)
        self.title_edit = QLineEdit(goal.title)
        self.title_edit.setAccessibleName("Goal title")
        self.name_edit = QLineEdit(goal.name or "")
        self.name_edit.setAccessibleName("Goal short name")
        self.name_edit.setMaxLength(80)
        self.name_edit.setPlaceholderText(f"{goal_short_name(goal.title)} (the first clause)")
        self.name_edit.setToolTip("What the inbox's Goal column and the filters show")
        self.title_edit.textChanged.connect(
            lambda t: self.name_edit.setPlaceholderText(f"{goal_short_name(t)} (the first clause)")
        )
        self.description_edit = QPlainTextEdit(goal.description)
        self.description_edit.setAccessibleName("Goal description")
        self.description_edit.setPlaceholderText(
            "Optional: a few words on what this goal covers; they are ranked against too."
        )
        self.weight_spin = make_weight_spin()
        self.weight_spin.setValue(min(WEIGHT_MAX, goal.weight))
        self.active_box = QCheckBox("Use this goal for ranking")
        self.active_box.setAccessibleName("Goal active")
        self.active_box.setChecked(goal.active)
        form.addRow("&Title:", self.title_edit)
        form.addRow("Short &name:", self.name_edit)
        form.addRow("&Description:", self.description_edit)
        form.addRow("&Weight:", self.weight_spin)
        form.addRow("", self.active_box)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.title_edit.textChanged.connect(
            lambda t: buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(bool(t.strip()))
        )
        form.addRow(buttons)
        self.resize(420, 260)

    def changes(self) -> dict[str, Any]:
        """The fields that differ from the goal the dialog was opened with."""
        new = {
            "title": self.title_edit.text().strip(),
            "description": self.description_edit.toPlainText().strip(),
            "weight": round(self.weight_spin.value(), 2),
            "active": self.active_box.isChecked(),
            "name": " ".join(self.name_edit.text().split()),
        }
        old = {**self.goal.__dict__, "name": self.goal.name or ""}
        return {k: v for k, v in new.items() if v != old[k]}


class GoalsView(QTableView):
    """The goals table; says what to do when there are none."""

    EMPTY_TEXT = "No goals yet.\nType one below and press Enter."

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        super().paintEvent(event)
        model = self.model()
        if model is not None and model.rowCount() == 0:
            paint_empty_text(self, self.EMPTY_TEXT)


class GoalsPanel(QWidget):
    """Lists the profile's goals and edits them in the background."""

    goals_did_change = Signal()
    goals_did_load = Signal()
    """``reload``'s goals arrived and are shown (what depends on the goals follows this)."""
    goal_did_fail = Signal(str)
    new_goal_did_leave = Signal()
    """Esc in the new-goal field: the user goes back to the list (what was typed stays)."""
    goal_learning_did_restart = Signal(str)
    """A goal was edited so much that what it learnt from votes for it starts afresh."""

    def __init__(self, desk: FocusDesk, ops: Operations, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        self.ops = ops
        self.setAccessibleName("Goals panel")
        self.model = GoalsModel(self)
        self.model.goal_edit_requested.connect(self._write_changes)

        title = heading(QLabel("Goals"), 1.15)
        hint = MutedLabel("What you are working on. Items are ranked against the checked goals.")
        hint.setWordWrap(True)

        self.view = GoalsView(self)
        self.view.setModel(self.model)
        # After setModel: the view's own reset (which closes editors) must run first.
        self.model.modelReset.connect(self._open_editors)
        self.model.rowsInserted.connect(self._open_editors)
        self.view.setAccessibleName("Goals")
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.weight_delegate = WeightDelegate(self.view)
        self.view.setItemDelegateForColumn(WEIGHT, self.weight_delegate)
        self.view.verticalHeader().hide()
        self.view.setShowGrid(False)
        # A goal is a sentence: it wraps onto more lines rather than being cut.
        self.view.setWordWrap(True)
        self.view.setTextElideMode(Qt.TextElideMode.ElideNone)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(TITLE, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(WEIGHT, QHeaderView.ResizeMode.Fixed)
        header.resizeSection(WEIGHT, 76)
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.view.verticalHeader().setDefaultSectionSize(
            max(
                self.view.verticalHeader().defaultSectionSize(),
                make_weight_spin().sizeHint().height() + 6,
            )
        )
        self.view.verticalHeader().setMinimumSectionSize(
            self.view.verticalHeader().defaultSectionSize()
        )
        self.view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.sectionResized.connect(lambda *_: self.view.resizeRowsToContents())
        self.view.selectionModel().selectionChanged.connect(self._update_buttons)
        self.model.dataChanged.connect(self._update_buttons)

        self.add_edit = QLineEdit(self)
        self.add_edit.setPlaceholderText("New goal, e.g. Ship the v2 firmware")
        self.add_edit.setAccessibleName("New goal title")
        self.add_edit.setClearButtonEnabled(True)
        self.add_button = QPushButton("&Add", self)
        self.add_button.setAccessibleName("Add goal")
        self.add_button.setToolTip("Add the goal typed on the left (Enter)")
        self.add_edit.returnPressed.connect(self._add_from_edit)
        self.add_button.clicked.connect(self._add_from_edit)
        self.add_edit.textChanged.connect(self._update_buttons)
        self.add_edit.installEventFilter(self)

        self.edit_button = QPushButton("&Edit…", self)
        self.edit_button.setAccessibleName("Edit goal")
        self.edit_button.setToolTip("Edit the selected goal's title, description and weight")
        self.edit_button.clicked.connect(self._edit_selected)
        self.remove_button = QPushButton("&Remove", self)
        self.remove_button.setAccessibleName("Remove goal")
        self.remove_button.setToolTip("Remove the selected goal (Delete)")
        self.remove_button.clicked.connect(self._remove_selected)
        self.archive_button = QPushButton("Arc&hive", self)
        self.archive_button.setAccessibleName("Archive or restore goal")
        self.archive_button.clicked.connect(self._archive_selected)
        delete = QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.view)
        delete.setContext(Qt.ShortcutContext.WidgetShortcut)
        delete.activated.connect(self._remove_selected)

        add_row = QHBoxLayout()
        add_row.setContentsMargins(0, 0, 0, 0)
        add_row.addWidget(self.add_edit, 1)
        add_row.addWidget(self.add_button)
        edit_row = QHBoxLayout()
        edit_row.setContentsMargins(0, 0, 0, 0)
        edit_row.addStretch(1)
        edit_row.addWidget(self.archive_button)
        edit_row.addWidget(self.edit_button)
        edit_row.addWidget(self.remove_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 4, 8)
        layout.addWidget(title)
        layout.addWidget(hint)
        layout.addWidget(self.view, 1)
        layout.addLayout(edit_row)
        layout.addLayout(add_row)
        self._pending = 0
        self._writes = 0
        """Goal writes submitted so far (a read older than one of them may be stale)."""
        self._reload_wanted = False
        self.loaded = False
        """Whether the goals were read once (until then the panel is empty, not goal-less)."""
        self._update_buttons()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        escape = isinstance(event, QKeyEvent) and event.key() == Qt.Key.Key_Escape
        if watched is self.add_edit and escape:
            if event.type() == QEvent.Type.ShortcutOverride:
                event.accept()  # Esc leaves the field rather than cancelling a sync
                return True
            if event.type() == QEvent.Type.KeyPress:
                self.new_goal_did_leave.emit()
                return True
        return super().eventFilter(watched, event)

    # -- reading --------------------------------------------------------------------
    def reload(self) -> None:
        """Read the goals in the background and show them; ``goals_did_load`` follows.

        While goal writes are queued the read waits for them (they would make it stale),
        and a read that a write overtook is read again.
        """
        self._reload_wanted = True
        if self._pending:
            return  # the last write's end reads again
        self._reload_wanted = False
        writes = self._writes

        def done(goals: list[GoalInfo]) -> None:
            if writes != self._writes:
                self.reload()  # an edit was submitted meanwhile: read after it
                return
            self.model.set_goals(goals)
            self.loaded = True
            self._update_buttons()
            self.goals_did_load.emit()

        self.ops.read(
            lambda _p, _c: self.desk.goals.all(),
            on_done=done,
            on_error=self.goal_did_fail.emit,
            name="read goals",
        )

    def goals(self) -> list[GoalInfo]:
        return self.model.goals()

    def active_goals(self) -> list[GoalInfo]:
        return [g for g in self.model.goals() if g.active and g.weight > 0]

    def selected_goal(self) -> GoalInfo | None:
        rows = self.view.selectionModel().selectedRows()
        return self.model.goal_at(rows[0].row()) if rows else None

    def select_goal(self, goal_id: int) -> None:
        row = self.model.row_of(goal_id)
        if row is not None:
            self.view.selectionModel().select(
                self.model.index(row, TITLE),
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows,
            )
            self.view.setCurrentIndex(self.model.index(row, TITLE))

    def weight_editor(self, goal_id: int) -> QDoubleSpinBox:
        """The weight spin box of a goal's row (what a user clicks to reweight)."""
        return self.weight_delegate.editors[goal_id]

    # -- editing --------------------------------------------------------------------
    def add_goal(self, title: str, weight: float = 1.0, description: str = "") -> None:
        """Add a goal in the background; the row appears once it is stored."""
        title = title.strip()
        if not title:
            return

        def done(goal: GoalInfo) -> None:
            self.model.append(goal)
            self.select_goal(goal.id)
            self.goals_did_change.emit()

        self._run(
            lambda _p, _c: self.desk.goals.add(title, weight=weight, description=description),
            done,
            f"add goal {title!r}",
        )

    def set_weight(self, goal_id: int, weight: float) -> None:
        self._edit(goal_id, {"weight": weight})

    def set_title(self, goal_id: int, title: str) -> None:
        self._edit(goal_id, {"title": title})

    def set_active(self, goal_id: int, active: bool) -> None:
        self._edit(goal_id, {"active": active})

    def _edit(self, goal_id: int, changes: dict[str, Any]) -> None:
        row = self.model.row_of(goal_id)
        if row is None:
            return
        goal = self.model.goal_at(row)
        assert goal is not None
        self.model.replace_goal(replace(goal, **changes))
        self._write_changes(goal_id, changes)

    def remove_goal(self, goal_id: int, *, confirm: bool = True) -> bool:
        """Remove a goal, after asking; returns whether it goes."""
        row = self.model.row_of(goal_id)
        goal = self.model.goal_at(row) if row is not None else None
        if goal is None:
            return False
        if confirm:
            answer = QMessageBox.question(
                self,
                "Remove goal",
                f"Remove the goal “{goal.title}”?\n\nItems will no longer be ranked against it.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No,
            )
            if answer != QMessageBox.StandardButton.Yes:
                return False
        self.model.remove(goal_id)

        def done(_: object) -> None:
            self.goals_did_change.emit()

        self._run(lambda _p, _c: self.desk.goals.remove(goal_id), done, f"remove goal {goal_id}")
        return True

    def _write_changes(self, goal_id: int, changes: dict[str, Any]) -> None:
        def done(goal: GoalInfo) -> None:
            self.model.replace_goal(goal)
            self.goals_did_change.emit()
            if goal.learning_restarted:
                self.goal_learning_did_restart.emit(goal.title)

        self._run(
            lambda _p, _c: self.desk.goals.update(goal_id, **changes),
            done,
            f"update goal {goal_id}",
        )

    def _run(self, fn: Callable[[Any, Any], Any], done: Callable[[Any], None], name: str) -> None:
        def failed(message: str) -> None:
            self.reload()
            self.goal_did_fail.emit(message)

        def finished() -> None:
            self._pending -= 1
            if not self._pending and self._reload_wanted:
                self.reload()

        self._pending += 1
        self._writes += 1
        self.ops.write(fn, on_done=done, on_error=failed, on_finished=finished, name=name)

    @property
    def busy(self) -> bool:
        """Whether goal writes are still queued or running."""
        return self._pending > 0

    # -- UI handlers ----------------------------------------------------------------
    def _add_from_edit(self) -> None:
        text = self.add_edit.text().strip()
        if text:
            self.add_edit.clear()
            self.add_goal(text)

    def _remove_selected(self) -> None:
        goal = self.selected_goal()
        if goal is not None:
            self.remove_goal(goal.id)

    def _archive_selected(self) -> None:
        """Archive (stop ranking against) the selected goal, or restore an archived one."""
        goal = self.selected_goal()
        if goal is not None:
            self.set_active(goal.id, not goal.active)
            self._update_buttons()

    def _edit_selected(self) -> None:
        goal = self.selected_goal()
        if goal is None:
            return
        dialog = GoalDialog(goal, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def accepted() -> None:
            changes = dialog.changes()
            if changes:
                self._edit(goal.id, changes)

        dialog.accepted.connect(accepted)
        dialog.open()

    def _open_editors(self, *_: object) -> None:
        for row in range(self.model.rowCount()):
            self.view.openPersistentEditor(self.model.index(row, WEIGHT))
        # The view selects an editor's text when it opens it; unfocused, that reads as
        # a selection the user never made.
        for spin in self.weight_delegate.editors.values():
            line = spin.findChild(QLineEdit)
            if line is not None and not spin.hasFocus():
                line.deselect()

    def _update_buttons(self, *_: object) -> None:
        goal = self.selected_goal()
        selected = goal is not None
        self.edit_button.setEnabled(selected)
        self.remove_button.setEnabled(selected)
        self.archive_button.setEnabled(selected)
        archived = goal is not None and not goal.active
        self.archive_button.setText("Rest&ore" if archived else "Arc&hive")
        self.archive_button.setToolTip(
            "Use the goal for ranking again"
            if archived
            else "Stop ranking against the goal; it stays listed (unchecked) to restore"
        )
        self.add_button.setEnabled(bool(self.add_edit.text().strip()))

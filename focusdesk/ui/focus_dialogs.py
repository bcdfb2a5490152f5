"""The focus dialogs: start a block on demand, and the end-of-block summary."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from focusdesk.focus.records import SessionSummary
from focusdesk.records import GoalInfo

from .focus_window import OUTCOME_LABELS
from .style import MutedLabel, heading


@dataclass(frozen=True)
class StartRequest:
    """What the user asked for in the start dialog."""

    minutes: int
    top_k: int
    goal_ids: tuple[int, ...]
    """Empty: every active goal."""
    title: str
    full_screen: bool


class StartFocusDialog(QDialog):
    """Start a focus block now: how long, how many items, for which goals."""

    def __init__(
        self,
        goals: Sequence[GoalInfo],
        *,
        minutes: int = 90,
        top_k: int = 5,
        full_screen: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Start a focus block")
        self.setAccessibleName("Start a focus block")
        self.title_edit = QLineEdit(self)
        self.title_edit.setAccessibleName("Block title")
        self.title_edit.setPlaceholderText("Focus block")
        self.minutes_spin = QSpinBox(self)
        self.minutes_spin.setAccessibleName("Minutes")
        self.minutes_spin.setRange(5, 720)
        self.minutes_spin.setSingleStep(5)
        self.minutes_spin.setSuffix(" min")
        self.minutes_spin.setValue(minutes)
        self.items_spin = QSpinBox(self)
        self.items_spin.setAccessibleName("Items")
        self.items_spin.setRange(1, 20)
        self.items_spin.setValue(top_k)
        self.goals_list = QListWidget(self)
        self.goals_list.setAccessibleName("Goals")
        self.goals_list.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.goals_list.setWordWrap(True)  # a goal is a sentence: wrapped, never cut
        self.goals_list.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.goals_list.setResizeMode(QListWidget.ResizeMode.Adjust)
        for goal in goals:
            entry = QListWidgetItem(goal.title, self.goals_list)
            entry.setToolTip(goal.title)
            entry.setData(Qt.ItemDataRole.UserRole, goal.id)
            entry.setFlags(entry.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            entry.setCheckState(Qt.CheckState.Checked)
        self.goals_list.setMaximumHeight(220)
        self.full_screen_check = QCheckBox("Full screen", self)
        self.full_screen_check.setAccessibleName("Full screen")
        self.full_screen_check.setChecked(full_screen)

        form = QFormLayout()
        form.addRow("&Title:", self.title_edit)
        form.addRow("&Length:", self.minutes_spin)
        form.addRow("&Items:", self.items_spin)
        form.addRow("&Goals:", self.goals_list)
        form.addRow("", self.full_screen_check)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        start = buttons.button(QDialogButtonBox.StandardButton.Ok)
        start.setText("&Start")
        start.setAccessibleName("Start")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setAccessibleName("Cancel")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        intro = MutedLabel(
            "Only the top items for these goals are shown, with their minutes. The inbox "
            "stays hidden, and new items wait, until the block ends.",
            self,
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.resize(max(520, self.sizeHint().width()), self.sizeHint().height())

    def request(self) -> StartRequest:
        checked = [
            int(self.goals_list.item(i).data(Qt.ItemDataRole.UserRole))
            for i in range(self.goals_list.count())
            if self.goals_list.item(i).checkState() == Qt.CheckState.Checked
        ]
        every = len(checked) == self.goals_list.count()
        return StartRequest(
            minutes=self.minutes_spin.value(),
            top_k=self.items_spin.value(),
            goal_ids=() if every else tuple(checked),
            title=self.title_edit.text().strip(),
            full_screen=self.full_screen_check.isChecked(),
        )


def _cell(text: str, *, right: bool = False) -> QTableWidgetItem:
    cell = QTableWidgetItem(text)
    cell.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
    if right:
        cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return cell


def _table(
    headers: Sequence[str], name: str, parent: QWidget, widths: dict[int, int] | None = None
) -> QTableWidget:
    """A read-only table: the first column stretches, ``widths`` are fixed (elided), the
    rest fit their contents; never a horizontal scroll bar."""
    table = QTableWidget(0, len(headers), parent)
    table.setAccessibleName(name)
    table.setHorizontalHeaderLabels(list(headers))
    table.verticalHeader().hide()
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setShowGrid(False)
    table.setWordWrap(False)
    table.setTextElideMode(Qt.TextElideMode.ElideRight)
    table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    header = table.horizontalHeader()
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    for col in range(1, len(headers)):
        if widths and col in widths:
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(col, widths[col])
        else:
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
    return table


class FocusSummaryDialog(QDialog):
    """What a block achieved: planned vs actual per item and per goal, and what arrived."""

    item_open_requested = Signal(int)

    def __init__(self, summary: SessionSummary, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary = summary
        s = summary.session
        self.setWindowTitle("Focus block summary")
        self.setAccessibleName("Focus block summary")
        self.resize(760, 620)
        title = heading(QLabel(f"“{s.title}” ended", self), 1.3)
        title.setAccessibleName("Summary title")
        counts = ", ".join(
            f"{summary.outcomes[k]} {word}"
            for k, word in (
                ("done", "done"),
                ("skipped", "skipped"),
                ("snoozed", "snoozed"),
                ("open", "still open"),
            )
            if summary.outcomes.get(k)
        )
        line = f"{summary.actual_minutes:.0f} of {summary.planned_minutes} planned minutes"
        if s.pause_seconds(s.actual_end or s.planned_end) >= 60:
            line += f" · paused {s.pause_seconds(s.actual_end or s.planned_end) / 60:.0f} min"
        if s.away_seconds >= 60:
            line += f" · away {s.away_seconds / 60:.0f} min"
        self.totals_label = QLabel(line + (f"\nItems: {counts}" if counts else ""), self)
        self.totals_label.setAccessibleName("Totals")

        self.items_table = _table(
            ["Item", "Goal", "Planned", "Spent", "Outcome", "Note"],
            "Items",
            self,
            widths={1: 170, 5: 170},
        )
        self.items_table.setColumnHidden(1, len({i.goal_id for i in s.items}) <= 1)
        end = s.actual_end or s.planned_end
        for item in s.items:
            row = self.items_table.rowCount()
            self.items_table.insertRow(row)
            spent = s.item_seconds(item.item_id, end) / 60
            for col, cell in enumerate(
                (
                    _cell(item.title),
                    _cell(item.goal_title or ""),
                    _cell(f"{item.planned_minutes} min", right=True),
                    _cell(f"{spent:.0f} min", right=True),
                    _cell(OUTCOME_LABELS.get(item.outcome) or "Open"),
                    _cell(item.note),
                )
            ):
                if col in (0, 5) and cell.text():
                    cell.setToolTip(cell.text())
                self.items_table.setItem(row, col, cell)

        self.goals_table = _table(["Goal", "Planned", "Spent", "Done"], "Per goal", self)
        for goal in summary.goals:
            row = self.goals_table.rowCount()
            self.goals_table.insertRow(row)
            for col, cell in enumerate(
                (
                    _cell(goal.goal_title),
                    _cell(f"{goal.planned_minutes} min", right=True),
                    _cell(f"{goal.actual_minutes:.0f} min", right=True),
                    _cell(f"{goal.done} of {goal.items}", right=True),
                )
            ):
                self.goals_table.setItem(row, col, cell)
        self.goals_table.setMaximumHeight(
            self.goals_table.horizontalHeader().height()
            + self.goals_table.verticalHeader().defaultSectionSize() * max(1, len(summary.goals))
            + 6
        )

        held = summary.held
        self.held_label = heading(
            QLabel(
                f"Arrived during the block ({len(held)})" if held else "Nothing new arrived.", self
            )
        )
        self.held_label.setAccessibleName("Held items heading")
        self.held_list = QListWidget(self)
        self.held_list.setAccessibleName("Items that arrived during the block")
        for h in held:
            entry = QListWidgetItem(f"{h.title} — {h.source_name}", self.held_list)
            entry.setData(Qt.ItemDataRole.UserRole, h.item_id)
            entry.setToolTip("Double-click to open it in the inbox")
        self.held_list.itemActivated.connect(
            lambda entry: self.item_open_requested.emit(int(entry.data(Qt.ItemDataRole.UserRole)))
        )
        self.held_list.setVisible(bool(held))

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.button(QDialogButtonBox.StandardButton.Close).setAccessibleName("Close")
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(self.totals_label)
        layout.addWidget(self.items_table, 2)
        layout.addWidget(self.goals_table)
        layout.addWidget(self.held_label)
        layout.addWidget(self.held_list, 1)
        layout.addWidget(buttons)

    def held_titles(self) -> list[str]:
        return [self.held_list.item(i).text() for i in range(self.held_list.count())]

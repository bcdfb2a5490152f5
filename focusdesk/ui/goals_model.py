"""The goals as a Qt table model, and the always-open spin boxes that reweight them."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QGuiApplication, QPalette
from PySide6.QtWidgets import QDoubleSpinBox, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from focusdesk.records import GoalInfo

AnyIndex = QModelIndex | QPersistentModelIndex
WEIGHT_MIN, WEIGHT_MAX, WEIGHT_STEP = 0.0, 5.0, 0.1
GoalIdRole = Qt.ItemDataRole.UserRole + 1
TITLE, WEIGHT = 0, 1


class GoalsModel(QAbstractTableModel):
    """Goals as rows: a checkable, editable title and an editable weight."""

    goal_edit_requested = Signal(int, dict)
    """(goal id, changes) when the user edits a cell; the panel writes it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._goals: list[GoalInfo] = []

    def set_goals(self, goals: list[GoalInfo]) -> None:
        self.beginResetModel()
        self._goals = list(goals)
        self.endResetModel()

    def goals(self) -> list[GoalInfo]:
        return list(self._goals)

    def row_of(self, goal_id: int) -> int | None:
        for n, g in enumerate(self._goals):
            if g.id == goal_id:
                return n
        return None

    def goal_at(self, row: int) -> GoalInfo | None:
        return self._goals[row] if 0 <= row < len(self._goals) else None

    def append(self, goal: GoalInfo) -> None:
        n = len(self._goals)
        self.beginInsertRows(QModelIndex(), n, n)
        self._goals.append(goal)
        self.endInsertRows()

    def replace_goal(self, goal: GoalInfo) -> None:
        row = self.row_of(goal.id)
        if row is None:
            return
        self._goals[row] = goal
        self.dataChanged.emit(self.index(row, 0), self.index(row, 1))

    def remove(self, goal_id: int) -> None:
        row = self.row_of(goal_id)
        if row is None:
            return
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._goals[row]
        self.endRemoveRows()

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._goals)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else 2

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        goal = self._goals[index.row()]
        col = index.column()
        if role == GoalIdRole:
            return goal.id
        if col == TITLE:
            if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
                return goal.title
            if role == Qt.ItemDataRole.CheckStateRole:
                return Qt.CheckState.Checked if goal.active else Qt.CheckState.Unchecked
            if role == Qt.ItemDataRole.ToolTipRole:
                state = "active" if goal.active else "paused: not used for ranking"
                desc = f"\n{goal.description}" if goal.description else ""
                return (
                    f"{goal.title} ({state}){desc}\nShown as “{goal.short_name}” in the "
                    "inbox.\nDouble-click or F2 to rename; Edit… for its short name."
                )
            if role == Qt.ItemDataRole.AccessibleTextRole:
                return f"{goal.title}, {'active' if goal.active else 'paused'}"
            if role == Qt.ItemDataRole.ForegroundRole and not goal.active:
                return self._muted()
        elif col == WEIGHT:
            if role == Qt.ItemDataRole.DisplayRole:
                return f"{goal.weight:.1f}"
            if role == Qt.ItemDataRole.EditRole:
                return goal.weight
            if role == Qt.ItemDataRole.ToolTipRole:
                return "Weight: how much this goal counts (0 switches it off)"
            if role == Qt.ItemDataRole.AccessibleTextRole:
                return f"weight {goal.weight:.1f}"
        return None

    def _muted(self) -> Any:
        return QGuiApplication.palette().color(QPalette.ColorRole.PlaceholderText)

    def setData(self, index: AnyIndex, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:  # noqa: N802
        if not index.isValid():
            return False
        goal = self._goals[index.row()]
        changes: dict[str, Any] = {}
        if index.column() == TITLE and role == Qt.ItemDataRole.CheckStateRole:
            active = Qt.CheckState(value) == Qt.CheckState.Checked
            if active != goal.active:
                changes["active"] = active
        elif index.column() == TITLE and role == Qt.ItemDataRole.EditRole:
            title = str(value).strip()
            if not title or title == goal.title:
                return False
            changes["title"] = title
        elif index.column() == WEIGHT and role == Qt.ItemDataRole.EditRole:
            weight = round(float(value), 2)
            if abs(weight - goal.weight) < 1e-9:
                return False
            changes["weight"] = weight
        if not changes:
            return False
        self._goals[index.row()] = replace(goal, **changes)
        self.dataChanged.emit(index, index)
        self.goal_edit_requested.emit(goal.id, changes)
        return True

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEditable
        if index.column() == TITLE:
            return base | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemNeverHasChildren
        return base | Qt.ItemFlag.ItemNeverHasChildren

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return ("Goal", "Weight")[section] if 0 <= section < 2 else None
        return None


def make_weight_spin(parent: QWidget | None = None) -> QDoubleSpinBox:
    spin = QDoubleSpinBox(parent)
    spin.setRange(WEIGHT_MIN, WEIGHT_MAX)
    spin.setSingleStep(WEIGHT_STEP)
    spin.setDecimals(1)
    spin.setAccessibleName("Goal weight")
    spin.setToolTip("How much this goal counts (0 switches it off)")
    return spin


class WeightDelegate(QStyledItemDelegate):
    """An always-open spin box in the weight column that writes as it changes."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.editors: dict[int, QDoubleSpinBox] = {}
        """The open spin box of each goal id."""

    def createEditor(  # noqa: N802
        self, parent: QWidget, option: QStyleOptionViewItem, index: AnyIndex
    ) -> QWidget:
        spin = make_weight_spin(parent)
        spin.setFrame(False)
        spin.setKeyboardTracking(False)
        goal_id = index.data(GoalIdRole)
        title = index.model().index(index.row(), TITLE).data()
        spin.setAccessibleName(f"Weight of {title}")
        spin.valueChanged.connect(lambda _v, s=spin: self.commitData.emit(s))
        if isinstance(goal_id, int):
            self.editors[goal_id] = spin
        return spin

    def destroyEditor(self, editor: QWidget, index: AnyIndex) -> None:  # noqa: N802
        for goal_id, spin in list(self.editors.items()):
            if spin is editor:
                del self.editors[goal_id]
        super().destroyEditor(editor, index)

    def setEditorData(self, editor: QWidget, index: AnyIndex) -> None:  # noqa: N802
        if isinstance(editor, QDoubleSpinBox):
            value = float(index.data(Qt.ItemDataRole.EditRole) or 0.0)
            if abs(editor.value() - value) > 1e-9:
                editor.blockSignals(True)
                editor.setValue(value)
                editor.blockSignals(False)

    def setModelData(self, editor: QWidget, model: Any, index: AnyIndex) -> None:  # noqa: N802
        if isinstance(editor, QDoubleSpinBox):
            model.setData(index, editor.value(), Qt.ItemDataRole.EditRole)

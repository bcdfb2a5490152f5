"""The sources panel: which folders and mailboxes are read, how many items, what failed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QIcon, QKeySequence, QPaintEvent, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHBoxLayout,
    QLabel,
    QListView,
    QMessageBox,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from focusdesk.clock import Clock, SystemClock
from focusdesk.records import SourceInfo

from .inbox_model import format_age
from .style import heading, paint_empty_text, source_icon

AnyIndex = QModelIndex | QPersistentModelIndex
SourceIdRole = Qt.ItemDataRole.UserRole + 1
KIND_LABELS = {
    "notes": "Notes folder",
    "mbox": "Mailbox file",
    "maildir": "Maildir",
    "imap": "IMAP mailbox",
    "feed": "Feed",
}


def describe_source(src: SourceInfo, now: datetime) -> str:
    """One line under a source's name: its items and when it was last read."""
    if not src.enabled:
        return "Disabled"
    if src.last_error:
        return "Sync failed — hover for details"
    if src.last_sync_at is None:
        return "Not read yet"
    age = format_age(src.last_sync_at, now)
    when = "just now" if age == "now" else f"{age} ago"
    failed = f" · {src.failed} failed" if src.failed else ""
    return f"{src.item_count} item{'s' if src.item_count != 1 else ''}{failed} · read {when}"


def failures_text(src: SourceInfo) -> str:
    """The items a source could not read or save, each with why ("" when none)."""
    if not src.failed:
        return ""
    lines = [f"{src.failed} item{'s' if src.failed != 1 else ''} could not be read or saved:"]
    lines += [f"• {ref}: {reason}" for ref, reason in src.failures[-10:]]
    if src.failed > 10:
        lines.append(f"… and {src.failed - 10} more")
    return "\n".join(lines)


def confirm_remove(parent: QWidget, src: SourceInfo) -> bool:
    """Ask once before a source and its items leave FocusDesk (No is the default)."""
    answer = QMessageBox.question(
        parent,
        "Remove source",
        f"Stop reading “{src.name}” and remove its {src.item_count} items from FocusDesk?"
        "\n\nThe originals themselves (files, mailboxes, feeds) are not touched.",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes


class SourcesModel(QAbstractListModel):
    """The profile's sources as a list with a status line each."""

    def __init__(self, parent: QWidget | None = None, *, clock: Clock | None = None) -> None:
        super().__init__(parent)
        self._clock = clock or SystemClock()
        self._sources: list[SourceInfo] = []
        self._lines: list[str] = []
        self._icons: dict[str, QIcon] = {}

    def set_sources(self, sources: list[SourceInfo]) -> None:
        now = self._clock.now()  # "read 5 min ago"
        self.beginResetModel()
        self._sources = list(sources)
        self._lines = [f"{s.name}\n{describe_source(s, now)}" for s in sources]
        self.endResetModel()

    def sources(self) -> list[SourceInfo]:
        return list(self._sources)

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._sources)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        src = self._sources[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._lines[index.row()]
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return self._lines[index.row()].replace("\n", ", ")
        if role == Qt.ItemDataRole.ToolTipRole:
            tip = f"{KIND_LABELS.get(src.kind, src.kind)}: {src.uri}"
            if src.failed:
                tip += f"\n\n{failures_text(src)}"
            return f"{tip}\n\nLast sync failed:\n{src.last_error}" if src.last_error else tip
        if role == Qt.ItemDataRole.DecorationRole:
            if src.last_error:
                return QApplication.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
            icon = self._icons.get(src.kind)
            if icon is None:
                icon = self._icons[src.kind] = source_icon(src.kind)
            return icon
        if role == SourceIdRole:
            return src.id
        return None


class SourcesView(QListView):
    """The sources list; says how to add one when there are none."""

    EMPTY_TEXT = "No sources yet.\nUse “Add source…” above to add notes, mail or feeds."

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        super().paintEvent(event)
        model = self.model()
        if model is not None and model.rowCount() == 0:
            paint_empty_text(self, self.EMPTY_TEXT)


class SourcesPanel(QWidget):
    """Lists sources; asks before removing one. The window does the actual work."""

    source_remove_requested = Signal(int)
    manage_requested = Signal()

    def __init__(self, parent: QWidget | None = None, *, clock: Clock | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Sources panel")
        self.model = SourcesModel(self, clock=clock)
        self.view = SourcesView(self)
        self.view.setModel(self.model)
        self.view.setAccessibleName("Sources")
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setUniformItemSizes(True)
        self.view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.view.setSpacing(1)
        self.remove_button = QPushButton("Remo&ve source", self)
        self.remove_button.setAccessibleName("Remove source")
        self.remove_button.setToolTip("Stop reading the selected source and forget its items")
        self.remove_button.clicked.connect(self._remove_selected)
        self.manage_button = QPushButton("&Manage…", self)
        self.manage_button.setAccessibleName("Manage sources")
        self.manage_button.setToolTip(
            "Each source's status, last sync and errors; sync, switch off, add or remove"
        )
        self.manage_button.clicked.connect(self.manage_requested)
        delete = QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.view)
        delete.setContext(Qt.ShortcutContext.WidgetShortcut)
        delete.activated.connect(self._remove_selected)
        self.view.selectionModel().selectionChanged.connect(self._update_buttons)
        self.model.modelReset.connect(self._update_buttons)

        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.addStretch(1)
        buttons.addWidget(self.manage_button)
        buttons.addWidget(self.remove_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 8)
        layout.addWidget(heading(QLabel("Sources"), 1.15))
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)
        self._update_buttons()

    def set_sources(self, sources: list[SourceInfo]) -> None:
        self.model.set_sources(sources)

    def selected_source(self) -> SourceInfo | None:
        rows = self.view.selectionModel().selectedRows()
        return self.model.sources()[rows[0].row()] if rows else None

    def _remove_selected(self) -> None:
        src = self.selected_source()
        if src is None:
            return
        if confirm_remove(self, src):
            self.source_remove_requested.emit(src.id)

    def _update_buttons(self, *_: object) -> None:
        self.remove_button.setEnabled(self.selected_source() is not None)

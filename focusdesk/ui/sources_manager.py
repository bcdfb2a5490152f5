"""The sources manager: each source's status, last sync, last error and item count,
with enable/disable, sync now, remove (asks) and add.

The dialog only asks; the window does the work in the background and hands back the
new source list (``set_sources``).
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from focusdesk.clock import Clock, SystemClock
from focusdesk.records import SourceInfo

from .inbox_model import format_age
from .row_flags import read_only_row_flags
from .sources_panel import KIND_LABELS, confirm_remove, failures_text
from .style import MutedLabel, heading, source_icon

AnyIndex = QModelIndex | QPersistentModelIndex
SourceIdRole = Qt.ItemDataRole.UserRole + 1


class Col(IntEnum):
    NAME = 0
    KIND = 1
    STATUS = 2
    LAST_SYNC = 3
    ITEMS = 4
    ERROR = 5


HEADERS = ("Name", "Kind", "Status", "Last sync", "Items", "Last error")


def source_status(src: SourceInfo, syncing: bool = False) -> str:
    """One word or two for a source's state."""
    if syncing:
        return "Syncing…"
    if not src.enabled:
        return "Disabled"
    if src.last_error:
        return "Failed"
    if src.last_sync_at is None:
        return "Not read yet"
    return "OK"


class SourcesTableModel(QAbstractTableModel):
    """Sources as table rows."""

    def __init__(self, parent: QWidget | None = None, *, clock: Clock | None = None) -> None:
        super().__init__(parent)
        self._clock = clock or SystemClock()
        self._sources: list[SourceInfo] = []
        self._syncing: set[int] = set()
        self._icons: dict[str, QIcon] = {}

    def set_sources(self, sources: list[SourceInfo], syncing: set[int] | None = None) -> None:
        self.beginResetModel()
        self._sources = list(sources)
        self._syncing = set(syncing or ())
        self.endResetModel()

    def sources(self) -> list[SourceInfo]:
        return list(self._sources)

    def source_at(self, row: int) -> SourceInfo | None:
        return self._sources[row] if 0 <= row < len(self._sources) else None

    def row_of(self, source_id: int) -> int | None:
        for n, src in enumerate(self._sources):
            if src.id == source_id:
                return n
        return None

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._sources)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(Col)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        src = self._sources[index.row()]
        col = index.column()
        if role == SourceIdRole:
            return src.id
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            if col == Col.NAME:
                return src.name
            if col == Col.KIND:
                return KIND_LABELS.get(src.kind, src.kind)
            if col == Col.STATUS:
                return source_status(src, src.id in self._syncing)
            if col == Col.LAST_SYNC:
                if src.last_sync_at is None:
                    return "never"
                age = format_age(src.last_sync_at, self._clock.now())
                return "just now" if age == "now" else f"{age} ago"
            if col == Col.ITEMS:
                failed = f" ({src.failed} failed)" if src.failed else ""
                return f"{src.item_count}{failed}"
            if col == Col.ERROR:
                first = (src.last_error or "").strip().splitlines()
                return (
                    first[0] if first else ("" if role == Qt.ItemDataRole.DisplayRole else "none")
                )
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == Col.ERROR and src.last_error:
                return src.last_error
            if col == Col.ITEMS and src.failed:
                return failures_text(src)
            if col == Col.LAST_SYNC and src.last_sync_at is not None:
                return src.last_sync_at.astimezone().strftime("%Y-%m-%d %H:%M")
            return f"{KIND_LABELS.get(src.kind, src.kind)}: {src.uri}"
        if role == Qt.ItemDataRole.DecorationRole and col == Col.NAME:
            icon = self._icons.get(src.kind)
            if icon is None:
                icon = self._icons[src.kind] = source_icon(src.kind)
            return icon
        if role == Qt.ItemDataRole.TextAlignmentRole and col == Col.ITEMS:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section] if 0 <= section < len(HEADERS) else None
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        return read_only_row_flags(index)


class SourcesDialog(QDialog):
    """Manage sources; the window carries out what is asked and refreshes the list."""

    add_requested = Signal()
    sync_requested = Signal(int)
    enabled_change_requested = Signal(int, bool)
    remove_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None, *, clock: Clock | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Sources")
        self.setAccessibleName("Sources manager")
        self.setObjectName("sources_manager")
        self.model = SourcesTableModel(self, clock=clock)
        self.view = QTableView(self)
        self.view.setModel(self.model)
        self.view.setAccessibleName("Sources")
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.verticalHeader().hide()
        self.view.setShowGrid(False)
        self.view.setAlternatingRowColors(True)
        self.view.setWordWrap(False)
        header = self.view.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setSectionResizeMode(Col.ERROR, QHeaderView.ResizeMode.Stretch)
        for col, width in (
            (Col.NAME, 190),
            (Col.KIND, 110),
            (Col.STATUS, 96),
            (Col.LAST_SYNC, 96),
            (Col.ITEMS, 64),
        ):
            header.resizeSection(col, width)
        self.view.selectionModel().selectionChanged.connect(self._update)
        self.model.modelReset.connect(self._update)

        self.error_view = QPlainTextEdit(self)
        self.error_view.setReadOnly(True)
        self.error_view.setAccessibleName("Last error and failed items of the selected source")
        self.error_view.setPlaceholderText("The selected source's last error shows here.")
        self.error_view.setMaximumHeight(self.fontMetrics().lineSpacing() * 4 + 12)

        self.add_button = QPushButton("&Add…", self)
        self.add_button.setAccessibleName("Add source")
        self.sync_button = QPushButton("&Sync now", self)
        self.sync_button.setAccessibleName("Sync the selected source now")
        self.enable_button = QPushButton("&Disable", self)
        self.enable_button.setAccessibleName("Disable or enable the selected source")
        self.remove_button = QPushButton("&Remove…", self)
        self.remove_button.setAccessibleName("Remove the selected source")
        self.close_button = QPushButton("Close", self)
        self.close_button.setAccessibleName("Close the sources manager")
        self.add_button.clicked.connect(self.add_requested)
        self.sync_button.clicked.connect(self._sync)
        self.enable_button.clicked.connect(self._toggle)
        self.remove_button.clicked.connect(self._remove)
        self.close_button.clicked.connect(self.close)

        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addStretch(1)
        for b in (self.sync_button, self.enable_button, self.remove_button, self.close_button):
            buttons.addWidget(b)
        hint = MutedLabel(
            "A disabled source keeps its items but is not read by Sync. "
            "Removing a source removes its items from FocusDesk (the originals are not touched).",
            self,
        )
        hint.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(heading(QLabel("Sources", self), 1.2))
        layout.addWidget(hint)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.error_view)
        layout.addLayout(buttons)
        self.resize(860, 420)
        self._update()

    def set_sources(self, sources: list[SourceInfo], syncing: set[int] | None = None) -> None:
        """Show ``sources``, keeping the selected one selected."""
        keep = self.selected_source()
        self.model.set_sources(sources, syncing)
        if keep is not None:
            self.select_source(keep.id)
        elif sources:
            self.select_source(sources[0].id)

    def selected_source(self) -> SourceInfo | None:
        rows = self.view.selectionModel().selectedRows()
        return self.model.source_at(rows[0].row()) if rows else None

    def select_source(self, source_id: int) -> None:
        row = self.model.row_of(source_id)
        if row is not None:
            self.view.selectRow(row)

    def _update(self, *_: object) -> None:
        src = self.selected_source()
        for b in (self.sync_button, self.enable_button, self.remove_button):
            b.setEnabled(src is not None)
        self.sync_button.setEnabled(src is not None and src.enabled)
        self.enable_button.setText("&Enable" if src is not None and not src.enabled else "&Disable")
        details = [src.last_error or "", failures_text(src)] if src is not None else []
        self.error_view.setPlainText("\n\n".join(d for d in details if d))

    def _sync(self) -> None:
        src = self.selected_source()
        if src is not None:
            self.sync_requested.emit(src.id)

    def _toggle(self) -> None:
        src = self.selected_source()
        if src is not None:
            self.enabled_change_requested.emit(src.id, not src.enabled)

    def _remove(self) -> None:
        src = self.selected_source()
        if src is None:
            return
        if confirm_remove(self, src):
            self.remove_requested.emit(src.id)

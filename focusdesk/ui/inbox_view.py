"""The inbox table: Home/End go to the first and last item; it says so when the filter
leaves nothing to show."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QPaintEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from .inbox_model import Column, InboxModel, ScoreBarDelegate
from .style import paint_empty_text


class InboxView(QTableView):
    """The inbox table; says so when the filter leaves nothing to show."""

    EMPTY_TEXT = "Nothing here with these filters.\nChoose “Inbox” or “Everything” above."

    def __init__(self, model: InboxModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("inbox")
        self.setAccessibleName("Inbox")
        self.setAccessibleDescription("Your items, most deserving of attention first")
        self.setModel(model)
        self.setItemDelegateForColumn(Column.SCORE, ScoreBarDelegate(self))
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setShowGrid(False)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setSortingEnabled(True)
        self.sortByColumn(Column.SCORE, Qt.SortOrder.DescendingOrder)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        vheader = self.verticalHeader()
        vheader.hide()
        vheader.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vheader.setDefaultSectionSize(self.fontMetrics().height() + 10)
        header = self.horizontalHeader()
        header.setStretchLastSection(False)
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setSectionResizeMode(Column.TITLE, QHeaderView.ResizeMode.Stretch)
        for col, width in (  # the Title stretches into what is left: most of the row
            (Column.STORY, 52),
            (Column.SOURCE, 104),
            (Column.SCORE, 84),
            (Column.GOAL, 136),
            (Column.AGE, 72),
        ):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(col, width)

    def moveCursor(  # noqa: N802
        self, action: QAbstractItemView.CursorAction, modifiers: Qt.KeyboardModifier
    ) -> QModelIndex:
        """Home and End go to the first and last item (not the row's first/last cell)."""
        cursor = QAbstractItemView.CursorAction
        if action in (cursor.MoveHome, cursor.MoveEnd) and self.model() is not None:
            rows = self.model().rowCount()
            if rows == 0:
                return QModelIndex()
            column = max(0, self.currentIndex().column())
            row = 0 if action == cursor.MoveHome else rows - 1
            model = self.model()
            if isinstance(model, InboxModel):  # grouped by goal: past the header
                found = model.item_row(row, 1 if action == cursor.MoveHome else -1)
                row = row if found is None else found
            return self.model().index(row, column)
        return super().moveCursor(action, modifiers)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        super().paintEvent(event)
        model = self.model()
        if isinstance(model, InboxModel) and model.rowCount() == 0 and model.total_count():
            paint_empty_text(self, self.EMPTY_TEXT)

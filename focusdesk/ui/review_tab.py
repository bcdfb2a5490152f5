"""The Review tab: a period's items by goal, stories, summaries, focus time and S/N charts.

The review is assembled in the worker (never on the UI thread); activating an entry
emits ``item_activated(item_id)`` so the main window can show it in its reader.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import QAction, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QFileDialog,
    QGridLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from focusdesk.progress import CancelToken, ProgressCallback

from .charts import RatioBarChart, StackedBarChart

if TYPE_CHECKING:
    from focusdesk.app import FocusDesk
    from focusdesk.review.assemble import Review

    from .operations import Operations

ITEM_ID_ROLE = Qt.ItemDataRole.UserRole + 1
PERIODS = (("Since the last review", "last"), ("Last day", "1d"), ("Last week", "7d"))


class WrappingDelegate(QStyledItemDelegate):
    """Row heights for wrapped text in a tree (QTreeView does not tell the delegate the
    column's width, so long titles would be cut to "Re: …" instead of wrapping)."""

    def __init__(self, view: QTreeView) -> None:
        super().__init__(view)
        self.view = view

    def sizeHint(  # noqa: N802
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        hint = super().sizeHint(option, index)
        text = index.data(Qt.ItemDataRole.DisplayRole)
        if not isinstance(text, str) or not text:
            return hint
        depth, parent = 0, index.parent()
        while parent.isValid():
            depth, parent = depth + 1, parent.parent()
        indent = self.view.indentation() * (depth + int(self.view.rootIsDecorated()))
        width = self.view.header().sectionSize(index.column()) - (
            indent if index.column() == 0 else 0
        )
        width = max(40, width - 12)  # the item's text margins
        lines = option.fontMetrics.boundingRect(
            QRect(0, 0, width, 100_000), int(Qt.TextFlag.TextWordWrap), text
        )
        return QSize(hint.width(), max(hint.height(), lines.height() + 6))


class ReviewTab(QWidget):
    """Shows the review of a period; entries open the item in the reader."""

    item_activated = Signal(int)
    review_did_load = Signal()

    def __init__(self, desk: FocusDesk, ops: Operations, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        self.ops = ops
        self.review: Review | None = None
        self.period = QComboBox()
        for label, value in PERIODS:
            self.period.addItem(label, value)
        self.period.setCurrentIndex(1)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        self.export_button = QPushButton("Export…")
        self.export_button.setEnabled(False)
        self.export_button.clicked.connect(self.choose_export_file)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.period.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.period.setMinimumContentsLength(8)
        period_label = QLabel("&Period:")
        period_label.setBuddy(self.period)
        top = QGridLayout()  # two short rows: the dock stays narrow enough to fit beside
        top.addWidget(period_label, 0, 0)
        top.addWidget(self.period, 0, 1, 1, 2)
        top.addWidget(self.refresh_button, 1, 1)
        top.addWidget(self.export_button, 1, 2)
        top.setColumnStretch(3, 1)

        self.model = QStandardItemModel(self)
        self.model.setHorizontalHeaderLabels(["Item", "Score"])
        self.view = QTreeView()
        self.view.setModel(self.model)
        self.view.setUniformRowHeights(False)
        self.view.setWordWrap(True)
        self.view.setEditTriggers(QTreeView.EditTrigger.NoEditTriggers)
        self.view.setIndentation(14)
        self.view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        header = self.view.header()  # the titles get the width; long ones wrap
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.view.setItemDelegate(WrappingDelegate(self.view))
        header.sectionResized.connect(lambda *_: self.view.doItemsLayout())
        self.view.activated.connect(self._on_activated)
        self.view.doubleClicked.connect(self._on_activated)

        self.focus_chart = StackedBarChart()
        self.sn_chart = RatioBarChart()
        self.suggestions = QLabel("")
        self.suggestions.setWordWrap(True)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.addWidget(QLabel("<b>Focus minutes per day</b>"))
        side_layout.addWidget(self.focus_chart)
        side_layout.addWidget(QLabel("<b>Signal to noise per source</b>"))
        side_layout.addWidget(self.sn_chart)
        side_layout.addWidget(self.suggestions)
        side_layout.addStretch(1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.view)
        split.addWidget(side)
        split.setStretchFactor(0, 3)  # the items get most of the height
        split.setStretchFactor(1, 2)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.status)
        layout.addWidget(split, 1)

    def refresh(self) -> None:
        """Assemble the review of the chosen period in the worker."""
        since = str(self.period.currentData())
        desk = self.desk
        self.refresh_button.setEnabled(False)
        self.status.setText("Assembling the review…")

        def work(_progress: ProgressCallback, cancel: CancelToken) -> Review:
            return desk.review(since, mark=True, cancel=cancel)

        self.ops.write(
            work,
            on_done=self.show_review,
            on_error=self._failed,
            on_finished=lambda: self.refresh_button.setEnabled(True),
            name="review",
        )

    def _failed(self, message: str) -> None:
        self.status.setText(message)

    def show_review(self, review: Review) -> None:
        """Fill the tree and the charts from ``review``."""
        from focusdesk.review.export import days_in

        self.review = review
        self.export_button.setEnabled(True)
        self.model.removeRows(0, self.model.rowCount())
        for group in review.groups:
            head = QStandardItem(f"{group.goal_title} ({group.total})")
            head.setSelectable(False)
            if group.weak:
                head.setToolTip(
                    f"{group.total} items cleared this goal's relevance bar; {group.weak_text}"
                )
            for e in group.entries:
                text = e.title
                if e.story_size > 1:
                    text += f"  [{e.story_size} items: {', '.join(e.story_sources)}]"
                row = QStandardItem(text)
                row.setData(e.item_id, ITEM_ID_ROLE)
                row.setToolTip(f"{e.title}\n{e.source_name} · {e.status}")
                score = QStandardItem(f"{e.score:.2f}")
                score.setData(e.item_id, ITEM_ID_ROLE)
                if e.summary.sentences:
                    line = QStandardItem(e.summary.text)
                    line.setToolTip(e.summary.text)
                    line.setData(e.item_id, ITEM_ID_ROLE)
                    row.appendRow([line, QStandardItem("")])
                head.appendRow([row, score])
            if group.weak:
                weak = QStandardItem(group.weak_text)
                weak.setSelectable(False)
                weak.setForeground(self.palette().placeholderText())
                head.appendRow([weak, QStandardItem("")])
            self.model.appendRow([head, QStandardItem("")])
        self.view.expandAll()
        self.status.setText(
            f"{review.items_in_period} items: {len(review.done)} done, "
            f"{len(review.dismissed)} dismissed, {review.open_count} open · focus "
            f"{review.focus_actual:.0f} of {review.focus_planned:.0f} planned minutes"
        )
        days = sorted({*days_in(review), *(d for g in review.focus for d in g.planned_per_day)})
        self.focus_chart.set_data(
            days,
            [(g.goal_title, [g.per_day.get(d, 0.0) for d in days]) for g in review.focus],
            planned=[sum(g.planned_per_day.get(d, 0.0) for g in review.focus) for d in days],
        )
        self.sn_chart.set_data(
            [x.source_name for x in review.sources], [x.ratio for x in review.sources]
        )
        self.suggestions.setText(
            "\n".join(
                f"Consider muting {x.source_name}: {x.signal} of {x.items} items mattered."
                for x in review.suggestions
            )
        )
        self.review_did_load.emit()

    def choose_export_file(self) -> None:
        """Ask where to save the review (HTML or Markdown, by the file's extension)."""
        path, _filter = QFileDialog.getSaveFileName(
            self, "Export the review", "review.html", "HTML (*.html);;Markdown (*.md)"
        )
        if path:
            self.export_to(path)

    def export_to(self, path: str) -> None:
        """Write the review shown to ``path``: Markdown for ``.md``, else HTML."""
        from pathlib import Path

        from focusdesk.review.export import export

        if self.review is None:
            return
        fmt = "md" if path.lower().endswith((".md", ".markdown")) else "html"
        try:
            Path(path).write_text(export(self.review, fmt), "utf-8")
        except OSError as exc:
            self.status.setText(f"{path} could not be written: {exc.strerror or exc}.")
            return
        self.status.setText(f"Review exported to {path}.")

    def item_ids(self) -> list[int]:
        """The entries' item ids, top to bottom."""
        out = []
        for g in range(self.model.rowCount()):
            head = self.model.item(g, 0)
            for r in range(head.rowCount()):
                item_id = head.child(r, 0).data(ITEM_ID_ROLE)
                if item_id is not None:  # not the "matched this goal weakly" line
                    out.append(int(item_id))
        return out

    def _on_activated(self, index: QModelIndex) -> None:
        item_id: Any = index.data(ITEM_ID_ROLE)
        if item_id is not None:
            self.item_activated.emit(int(item_id))


REVIEW_DOCK_WIDTH = 420
"""The Review dock's width beside the inbox when the window has the room."""


def place_review_dock(window: Any, dock: QDockWidget) -> None:
    """Put the Review beside the inbox when it fits, else over the window: never past it.

    A docked widget whose minimum width does not fit beside the central area makes the
    main window grow (off the screen); where the window is too narrow for both, the
    review floats over the right part of the window instead.
    """
    if not dock.isHidden():
        return
    central = window.centralWidget()
    need = dock.minimumSizeHint().width()
    room = window.width() - (central.minimumSizeHint().width() if central is not None else 0)
    if room - 12 >= need:  # 12: the separator and margins
        if dock.isFloating():
            dock.setFloating(False)
        window.resizeDocks(
            [dock], [max(need, min(REVIEW_DOCK_WIDTH, room // 2))], Qt.Orientation.Horizontal
        )
        return
    dock.setFloating(True)
    frame = window.geometry()
    screen = window.screen().availableGeometry() if window.screen() is not None else frame
    area = frame.intersected(screen) if frame.intersects(screen) else screen
    width = min(max(need, REVIEW_DOCK_WIDTH), area.width())
    dock.setGeometry(area.right() - width + 1, area.top(), width, area.height())


def install_review(window: Any) -> QAction:
    """Add a "Review" dock (hidden) and a menu action showing it to the main window."""
    dock = QDockWidget("Review", window)
    dock.setObjectName("review_dock")
    tab = ReviewTab(window.desk, window.ops, dock)
    dock.setWidget(tab)
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    dock.hide()

    def open_item(item_id: int) -> None:
        if not window.inbox_controller.select_item(item_id):
            window.reader_controller.show_item(item_id)

    tab.item_activated.connect(open_item)

    def show() -> None:
        place_review_dock(window, dock)
        dock.show()
        dock.raise_()
        tab.refresh()

    action = QAction("&Review…", window)
    action.setObjectName("review_action")
    action.triggered.connect(show)
    window.review_tab = tab
    window.review_dock = dock
    return action

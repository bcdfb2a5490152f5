"""The ranked inbox as a Qt table model, and the delegate that draws its score bars.

Display strings are computed once in ``set_items`` so that ``data()`` is O(1).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import IntEnum
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QRectF,
    QSize,
    Qt,
)
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from focusdesk.records import RankedItem

ScoreRole = Qt.ItemDataRole.UserRole + 1
"""The item's score as a float."""
ItemRole = Qt.ItemDataRole.UserRole + 2
"""The ``RankedItem`` itself."""
ItemIdRole = Qt.ItemDataRole.UserRole + 3
SortRole = Qt.ItemDataRole.UserRole + 4
"""A value that sorts the column naturally (scores and ages as numbers)."""
BarRole = Qt.ItemDataRole.UserRole + 5
"""Score as a fraction of the best score in the list (0..1), for the score bar."""

AnyIndex = QModelIndex | QPersistentModelIndex


class Column(IntEnum):
    TITLE = 0
    SOURCE = 1
    SCORE = 2
    GOAL = 3
    AGE = 4


HEADERS = {
    Column.TITLE: "Title",
    Column.SOURCE: "Source",
    Column.SCORE: "Score",
    Column.GOAL: "Goal",
    Column.AGE: "Age",
}


@dataclass(frozen=True)
class _Row:
    item: RankedItem
    display: tuple[str, ...]
    tooltip: tuple[str, ...]
    sort: tuple[Any, ...]
    bar: float


def format_age(when: datetime | None, now: datetime) -> str:
    """A short age such as "5 min", "3 h", "2 d", "4 wk" or "Mar 2024"."""
    if when is None:
        return "—"
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    seconds = (now - when).total_seconds()
    if seconds < 60:
        return "now"
    minutes = seconds / 60
    if minutes < 60:
        return f"{int(minutes)} min"
    hours = minutes / 60
    if hours < 24:
        return f"{int(hours)} h"
    days = hours / 24
    if days < 14:
        return f"{int(days)} d"
    if days < 60:
        return f"{int(days / 7)} wk"
    return when.astimezone().strftime("%b %Y")


def _tooltip(item: RankedItem) -> str:
    lines = [item.title or "(untitled)"]
    if item.author:
        lines.append(f"From {item.author}")
    if item.goal_title:
        lines.append(f"Best goal: {item.goal_title} (score {item.score:.2f})")
    if item.evidence:
        snippet = " ".join(item.evidence.split())
        lines.append(f"“{snippet[:200]}{'…' if len(snippet) > 200 else ''}”")
    return "\n".join(lines)


class InboxModel(QAbstractTableModel):
    """Ranked items, one per row, with title, source, score, best goal and age."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list[_Row] = []
        self._by_id: dict[int, int] = {}

    # -- content ----------------------------------------------------------------------
    def set_items(self, items: list[RankedItem], now: datetime | None = None) -> None:
        """Replace every row (the list arrives already ranked)."""
        now = now or datetime.now(UTC)
        best = max((i.score for i in items), default=0.0)
        rows: list[_Row] = []
        for item in items:
            title = item.title or "(untitled)"
            age = format_age(item.published_at, now)
            published = item.published_at.timestamp() if item.published_at else float("-inf")
            tip = _tooltip(item)
            source_tip = f"{item.source_name} ({item.source_kind})"
            rows.append(
                _Row(
                    item=item,
                    display=(
                        title,
                        item.source_name,
                        f"{item.score:.2f}",
                        item.goal_title or "—",
                        age,
                    ),
                    tooltip=(tip, source_tip, tip, item.goal_title or "No goal", age),
                    sort=(
                        title.casefold(),
                        item.source_name.casefold(),
                        item.score,
                        (item.goal_title or "").casefold(),
                        published,
                    ),
                    bar=max(0.0, min(1.0, item.score / best)) if best > 0 else 0.0,
                )
            )
        self.beginResetModel()
        self._rows = rows
        self._by_id = {r.item.item_id: n for n, r in enumerate(rows)}
        self.endResetModel()

    def clear(self) -> None:
        self.set_items([])

    def items(self) -> list[RankedItem]:
        return [r.item for r in self._rows]

    def item_at(self, row: int) -> RankedItem | None:
        return self._rows[row].item if 0 <= row < len(self._rows) else None

    def row_of(self, item_id: int) -> int | None:
        """The row that shows ``item_id``, or None."""
        return self._by_id.get(item_id)

    # -- QAbstractTableModel ----------------------------------------------------------
    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(Column)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return row.display[col]
        if role == Qt.ItemDataRole.ToolTipRole:
            return row.tooltip[col]
        if role == SortRole:
            return row.sort[col]
        if role == ScoreRole:
            return row.item.score
        if role == ItemRole:
            return row.item
        if role == ItemIdRole:
            return row.item.item_id
        if role == BarRole:
            return row.bar
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (Column.SCORE, Column.AGE):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return row.display[col]
        return None

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(Column):
            if role == Qt.ItemDataRole.DisplayRole:
                return HEADERS[Column(section)]
            if role == Qt.ItemDataRole.ToolTipRole and section == Column.SCORE:
                return "How much this item deserves your attention, given your goals"
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemNeverHasChildren
        )


class ScoreBarDelegate(QStyledItemDelegate):
    """Paints the score as a small bar plus its number, legible in light and dark themes."""

    BAR_WIDTH = 56
    MARGIN = 6

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        text = opt.text
        opt.text = ""
        widget = opt.widget
        style = widget.style() if widget is not None else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        fraction = index.data(BarRole) or 0.0
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        palette = opt.palette
        text_role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        text_colour = palette.color(text_role)
        fill = QColor(palette.color(QPalette.ColorRole.Highlight))
        if selected:
            fill = QColor(text_colour)
        track = QColor(text_colour)
        track.setAlphaF(0.15)

        rect = opt.rect.adjusted(self.MARGIN, 0, -self.MARGIN, 0)
        bar_h = max(4.0, min(8.0, rect.height() / 3))
        bar_w = float(min(self.BAR_WIDTH, max(0, rect.width() - 40)))
        y = rect.center().y() - bar_h / 2 + 1
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        if bar_w > 0:
            painter.setBrush(track)
            painter.drawRoundedRect(QRectF(rect.left(), y, bar_w, bar_h), bar_h / 2, bar_h / 2)
            if fraction > 0:
                painter.setBrush(fill)
                painter.drawRoundedRect(
                    QRectF(rect.left(), y, max(bar_h, bar_w * fraction), bar_h),
                    bar_h / 2,
                    bar_h / 2,
                )
        painter.setPen(text_colour)
        painter.setFont(opt.font)
        text_rect = rect.adjusted(int(bar_w) + self.MARGIN, 0, 0, 0)
        painter.drawText(
            text_rect, int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), text
        )
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: AnyIndex) -> QSize:  # noqa: N802
        hint = super().sizeHint(option, index)
        return QSize(max(hint.width(), self.BAR_WIDTH + 3 * self.MARGIN + 36), hint.height())

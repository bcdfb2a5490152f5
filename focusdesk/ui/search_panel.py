"""Search as you type: the search bar, the results model and the delegate that highlights.

The bar debounces typing and asks for a search; the window runs it in the background
(``FocusDesk.search``: BM25 and vectors merged by reciprocal rank) and hands the hits
back. Each result shows its title and snippet with the matched words highlighted.
"""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRectF,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QKeyEvent, QPainter, QPalette, QTextDocument
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLineEdit,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolButton,
    QWidget,
)

from focusdesk.clock import Clock, SystemClock
from focusdesk.search import SearchHit

from .inbox_model import STATUS_LABELS, format_age
from .reader import MARK_STYLE
from .row_flags import read_only_row_flags
from .style import MutedLabel, muted_colour

AnyIndex = QModelIndex | QPersistentModelIndex
HitRole = Qt.ItemDataRole.UserRole + 1
HitIdRole = Qt.ItemDataRole.UserRole + 2
DEBOUNCE_MS = 150


def marked_html(text: str, spans: tuple[tuple[int, int], ...]) -> str:
    """``text`` escaped, with the ``spans`` wrapped in the highlight style."""
    out: list[str] = []
    pos = 0
    for a, b in sorted(spans):
        if a < pos or b > len(text):
            continue
        out.append(html.escape(text[pos:a], quote=False))
        out.append(f"<span style='{MARK_STYLE}'>{html.escape(text[a:b], quote=False)}</span>")
        pos = b
    out.append(html.escape(text[pos:], quote=False))
    return "".join(out)


def how_found(hit: SearchHit) -> str:
    """ "keywords + meaning", "keywords" or "meaning"."""
    parts = []
    if hit.keyword_rank is not None:
        parts.append("keywords")
    if hit.vector_rank is not None:
        parts.append("meaning")
    return " + ".join(parts)


class SearchModel(QAbstractListModel):
    """The hits of the last search, best first."""

    def __init__(self, parent: QObject | None = None, *, clock: Clock | None = None) -> None:
        super().__init__(parent)
        self._clock = clock or SystemClock()
        self._hits: list[SearchHit] = []
        self._lines: list[str] = []
        self.query = ""

    def set_hits(self, query: str, hits: list[SearchHit]) -> None:
        now = self._clock.now()  # the hits' ages
        self.beginResetModel()
        self.query = query
        self._hits = list(hits)
        self._lines = [
            " · ".join(
                p
                for p in (
                    h.source_name,
                    h.author or "",
                    format_age(h.published_at, now),
                    STATUS_LABELS.get(h.status, h.status),
                    how_found(h),
                )
                if p and p != "—"
            )
            for h in self._hits
        ]
        self.endResetModel()

    def hits(self) -> list[SearchHit]:
        return list(self._hits)

    def hit_at(self, row: int) -> SearchHit | None:
        return self._hits[row] if 0 <= row < len(self._hits) else None

    def row_of(self, item_id: int) -> int | None:
        for n, hit in enumerate(self._hits):
            if hit.item_id == item_id:
                return n
        return None

    def line(self, row: int) -> str:
        return self._lines[row]

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._hits)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        hit = self._hits[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return hit.title or "(untitled)"
        if role == HitRole:
            return hit
        if role == HitIdRole:
            return hit.item_id
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{hit.title}\n{self._lines[index.row()]}\n{hit.snippet}"
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{hit.title}. {self._lines[index.row()]}. {hit.snippet}"
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        return read_only_row_flags(index)


class SearchHitDelegate(QStyledItemDelegate):
    """Three lines per hit: the title, where it is from, the snippet; matches highlighted."""

    LINES = 3
    PADDING = 6

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        hit = index.data(HitRole)
        if not isinstance(hit, SearchHit):
            super().paint(painter, option, index)
            return
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        widget = opt.widget
        style = widget.style() if widget is not None else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        palette = opt.palette
        colour = palette.color(
            QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        ).name()
        muted = colour if selected else muted_colour(palette).name()
        model = index.model()
        line = model.line(index.row()) if isinstance(model, SearchModel) else ""
        doc = QTextDocument()
        doc.setDefaultFont(opt.font)
        doc.setDocumentMargin(0)
        title = marked_html(hit.title or "(untitled)", hit.title_spans)
        where = html.escape(line, quote=False)
        snippet = marked_html(hit.snippet, hit.snippet_spans)
        doc.setHtml(
            f"<div style='color:{colour}'><b>{title}</b><br>"
            f"<span style='color:{muted}'>{where}</span><br>{snippet}</div>"
        )
        rect = opt.rect.adjusted(self.PADDING, self.PADDING // 2, -self.PADDING, 0)
        doc.setTextWidth(rect.width())
        painter.save()
        painter.translate(rect.topLeft())
        # Whole lines only: a snippet wrapping past the third line is cut at a line, not
        # drawn half-hidden against the next hit.
        lines = self.LINES * opt.fontMetrics.lineSpacing()
        painter.setClipRect(QRectF(0, 0, rect.width(), min(rect.height(), lines)))
        doc.drawContents(painter)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: AnyIndex) -> QSize:  # noqa: N802
        line = option.fontMetrics.lineSpacing()
        return QSize(200, self.LINES * line + self.PADDING + 2)


class SearchResultsView(QListView):
    """The list of hits (uniform rows, keyboard-first)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("search_results")
        self.setAccessibleName("Search results")
        self.setUniformItemSizes(True)
        self.setWordWrap(True)
        self.setAlternatingRowColors(True)
        self.setItemDelegate(SearchHitDelegate(self))


class SearchBar(QWidget):
    """The search field: asks for a search as the user types (debounced)."""

    query_did_change = Signal(str)
    """The (debounced) text to search for; empty when the field was cleared."""
    search_did_close = Signal()
    results_requested = Signal()
    """Down or Enter in the field: move to the results."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Search bar")
        self.edit = QLineEdit(self)
        self.edit.setObjectName("search_edit")
        self.edit.setAccessibleName("Search")
        self.edit.setPlaceholderText("Search every item by keywords and meaning…")
        self.edit.setClearButtonEnabled(True)
        self.edit.installEventFilter(self)
        self.status = MutedLabel("", self)
        self.status.setAccessibleName("Search status")
        self.close_button = QToolButton(self)
        self.close_button.setText("Close")
        self.close_button.setAccessibleName("Close search")
        self.close_button.setToolTip("Back to the inbox (Esc)")
        self.close_button.clicked.connect(self.search_did_close)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self._emit)
        self.edit.textChanged.connect(lambda _t: self._timer.start())
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 2)
        layout.addWidget(self.edit, 1)
        layout.addWidget(self.status)
        layout.addWidget(self.close_button)

    def text(self) -> str:
        return self.edit.text()

    def flush(self) -> None:
        """Search for what is typed now, without waiting for the debounce."""
        if self._timer.isActive():
            self._timer.stop()
            self._emit()

    def _emit(self) -> None:
        self.query_did_change.emit(self.edit.text())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if watched is self.edit:
            if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent):
                if event.key() == Qt.Key.Key_Escape:
                    event.accept()  # Esc closes the search here, not "cancel sync"
                    return True
            elif event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
                if event.key() == Qt.Key.Key_Escape:
                    self.search_did_close.emit()
                    return True
                if event.key() in (Qt.Key.Key_Down, Qt.Key.Key_Return, Qt.Key.Key_Enter):
                    self.flush()
                    self.results_requested.emit()
                    return True
        return super().eventFilter(watched, event)

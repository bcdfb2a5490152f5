"""The keyboard help (?): every shortcut, grouped, over the window until Esc or ?."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import (
    QAction,
    QColor,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
)
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QVBoxLayout, QWidget

from .actions import ALL_SPECS, ActionSpec, key_text
from .style import MutedLabel, heading


def shortcut_rows(
    specs: tuple[ActionSpec, ...] = ALL_SPECS, window: QWidget | None = None
) -> list[tuple[str, str, str]]:
    """(group, keys, what) for every action with keys, in help order.

    With ``window``, its other actions that have keys (added by other features, such
    as focus blocks) are listed too, under "More".
    """
    rows = []
    for spec in specs:
        keys = key_text(spec)
        if keys:
            rows.append((spec.group, " / ".join(keys), spec.plain_text))
    if window is not None:
        known = {spec.name for spec in specs}
        for action in window.findChildren(QAction):
            shortcuts = [
                s.toString(QKeySequence.SequenceFormat.NativeText) for s in action.shortcuts()
            ]
            if action.objectName() in known or not any(shortcuts):
                continue
            what = action.text().replace("&", "").rstrip("…").strip()
            rows.append(("More", " / ".join(s for s in shortcuts if s), what))
    return rows


class HelpOverlay(QWidget):
    """A dimmed layer over its parent with a panel listing every shortcut."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("help_overlay")
        self.setAccessibleName("Keyboard shortcuts")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, False)
        self.panel = QFrame(self)
        self.panel.setObjectName("help_panel")
        self.panel.setFrameShape(QFrame.Shape.StyledPanel)
        self.panel.setAutoFillBackground(True)
        self.panel.setBackgroundRole(QPalette.ColorRole.Window)
        title = heading(QLabel("Keyboard shortcuts", self.panel), 1.3)
        hint = MutedLabel("Press Esc or ? to close.", self.panel)
        columns = QGridLayout()
        columns.setHorizontalSpacing(28)
        groups: dict[str, list[tuple[str, str]]] = {}
        for group, keys, what in shortcut_rows(window=parent):
            groups.setdefault(group, []).append((keys, what))
        placement = {"Inbox": (0, 0), "Item": (1, 0), "Search": (2, 0), "More": (2, 1)}
        other_row = 0
        for group, rows in groups.items():
            box = QGridLayout()
            box.setHorizontalSpacing(12)
            box.setVerticalSpacing(3)
            box.addWidget(heading(QLabel(group, self.panel)), 0, 0, 1, 2)
            for n, (keys, what) in enumerate(rows, 1):
                key_label = QLabel(f"<b>{keys}</b>", self.panel)
                key_label.setTextFormat(Qt.TextFormat.RichText)
                box.addWidget(key_label, n, 0, Qt.AlignmentFlag.AlignRight)
                box.addWidget(QLabel(what, self.panel), n, 1)
            if group in placement:
                row, col = placement[group]
            else:
                row, col = other_row, 1
                other_row += 1
            columns.addLayout(box, row, col, Qt.AlignmentFlag.AlignTop)
        columns.setRowStretch(3, 1)
        layout = QVBoxLayout(self.panel)
        layout.setContentsMargins(24, 18, 24, 18)
        layout.addWidget(title)
        layout.addWidget(hint)
        layout.addSpacing(8)
        layout.addLayout(columns)
        parent.installEventFilter(self)
        self.hide()

    def text(self) -> str:
        """Everything the overlay lists (for tests and screen readers)."""
        return "\n".join(label.text() for label in self.panel.findChildren(QLabel))

    def toggle(self) -> None:
        if self.isVisible():
            self.close_overlay()
        else:
            self.open_overlay()

    def open_overlay(self) -> None:
        self._fit()
        self.show()
        self.raise_()
        self.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def close_overlay(self) -> None:
        self.hide()
        parent = self.parentWidget()
        if parent is not None:
            parent.setFocus(Qt.FocusReason.OtherFocusReason)

    def _fit(self) -> None:
        parent = self.parentWidget()
        if parent is None:
            return
        self.setGeometry(parent.rect())
        hint = self.panel.sizeHint()
        width = min(hint.width(), self.width() - 40)
        height = min(hint.height(), self.height() - 40)
        self.panel.setGeometry(
            (self.width() - width) // 2, (self.height() - height) // 2, width, height
        )

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if watched is self.parentWidget() and event.type() == QEvent.Type.Resize:
            self._fit()
        return super().eventFilter(watched, event)

    def event(self, event: QEvent) -> bool:
        # Esc and ? close the overlay (and must not reach the window's own shortcuts).
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and isinstance(event, QKeyEvent)
            and event.key() in (Qt.Key.Key_Escape, Qt.Key.Key_Question, Qt.Key.Key_F1)
        ):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() in (Qt.Key.Key_Escape, Qt.Key.Key_Question, Qt.Key.Key_F1):
            self.close_overlay()
            return
        super().keyPressEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if not self.panel.geometry().contains(event.position().toPoint()):
            self.close_overlay()
            return
        super().mousePressEvent(event)

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(0, 0, 0, 110))
        painter.end()

"""Small look-and-feel helpers shared by the widgets (palette-aware, light and dark)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPalette
from PySide6.QtWidgets import QAbstractItemView, QLabel, QWidget


def blend(a: QColor, b: QColor, t: float) -> QColor:
    """``a`` moved a fraction ``t`` of the way to ``b``."""
    return QColor.fromRgbF(
        a.redF() + (b.redF() - a.redF()) * t,
        a.greenF() + (b.greenF() - a.greenF()) * t,
        a.blueF() + (b.blueF() - a.blueF()) * t,
    )


def muted_colour(palette: QPalette, *, on_window: bool = False) -> QColor:
    """Secondary text: the text colour blended towards the background, in any theme."""
    if on_window:
        text, back = QPalette.ColorRole.WindowText, QPalette.ColorRole.Window
    else:
        text, back = QPalette.ColorRole.Text, QPalette.ColorRole.Base
    return blend(palette.color(text), palette.color(back), 0.42)


class MutedLabel(QLabel):
    """A label in the secondary text colour, kept right when the theme changes."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self._apply()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and not self._applying:
            self._apply()

    _applying = False

    def _apply(self) -> None:
        self._applying = True
        try:
            parent = self.parentWidget()
            base = parent.palette() if parent is not None else self.palette()
            palette = QPalette(self.palette())
            palette.setColor(QPalette.ColorRole.WindowText, muted_colour(base, on_window=True))
            self.setPalette(palette)
        finally:
            self._applying = False


def heading(label: QLabel, scale: float = 1.0, *, bold: bool = True) -> QLabel:
    """Make a label a heading: bold, and ``scale`` times the default point size."""
    font = QFont(label.font())
    font.setBold(bold)
    if scale != 1.0 and font.pointSizeF() > 0:
        font.setPointSizeF(font.pointSizeF() * scale)
    label.setFont(font)
    return label


def paint_empty_text(view: QAbstractItemView, text: str) -> None:
    """Write ``text`` in the secondary colour across an empty view (call from paintEvent)."""
    painter = QPainter(view.viewport())
    painter.setPen(muted_colour(view.palette()))
    painter.drawText(
        view.viewport().rect().adjusted(12, 12, -12, -12),
        int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap),
        text,
    )
    painter.end()

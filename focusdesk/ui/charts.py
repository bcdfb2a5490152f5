"""Small QPainter charts for the review: stacked bars (focus per goal per day), S/N bars."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1")


class StackedBarChart(QWidget):
    """Vertical bars per category, stacked by series (e.g. minutes per goal per day)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.categories: list[str] = []
        self.series: list[tuple[str, list[float]]] = []
        self.setMinimumHeight(140)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

    def set_data(self, categories: list[str], series: list[tuple[str, list[float]]]) -> None:
        """Show ``series`` (name, one value per category) over ``categories``."""
        self.categories = list(categories)
        self.series = [(name, list(values)) for name, values in series]
        self.update()

    def total(self) -> float:
        """The sum of every value drawn."""
        return float(sum(sum(values) for _name, values in self.series))

    def sizeHint(self) -> QSize:
        return QSize(360, 180)

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        try:
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            rect = QRectF(self.rect()).adjusted(8, 8, -8, -24)
            n = len(self.categories)
            stacks = [
                sum(values[i] for _n, values in self.series if i < len(values)) for i in range(n)
            ]
            top = max(stacks, default=0.0)
            if n == 0 or top <= 0:
                p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No focus time yet")
                return
            slot = rect.width() / n
            for i, category in enumerate(self.categories):
                y = rect.bottom()
                for k, (_name, values) in enumerate(self.series):
                    v = values[i] if i < len(values) else 0.0
                    h = rect.height() * v / top
                    p.fillRect(
                        QRectF(rect.left() + i * slot + slot * 0.15, y - h, slot * 0.7, h),
                        QColor(PALETTE[k % len(PALETTE)]),
                    )
                    y -= h
                p.drawText(
                    QRectF(rect.left() + i * slot, rect.bottom() + 2, slot, 20),
                    Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                    category[5:],
                )
        finally:
            p.end()


class RatioBarChart(QWidget):
    """Horizontal bars of ratios in [0, 1] with labels (e.g. each source's S/N)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.labels: list[str] = []
        self.values: list[float] = []
        self.setMinimumHeight(60)

    def set_data(self, labels: list[str], values: list[float]) -> None:
        self.labels = list(labels)
        self.values = [min(1.0, max(0.0, v)) for v in values]
        self.setMinimumHeight(max(60, 22 * len(self.values) + 8))
        self.update()

    def total(self) -> float:
        return float(sum(self.values))

    def sizeHint(self) -> QSize:
        return QSize(360, max(60, 22 * len(self.values) + 8))

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        try:
            if not self.values:
                p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No sources in the period")
                return
            label_w = min(160.0, self.width() * 0.4)
            bar_w = max(10.0, self.width() - label_w - 56)
            for i, (label, v) in enumerate(zip(self.labels, self.values, strict=True)):
                y = 4 + i * 22
                p.drawText(
                    QRectF(4, y, label_w - 8, 18),
                    Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                    label,
                )
                p.fillRect(QRectF(label_w, y + 3, bar_w, 12), QColor("#e5e5e5"))
                p.fillRect(QRectF(label_w, y + 3, bar_w * v, 12), QColor(PALETTE[0]))
                p.drawText(
                    QRectF(label_w + bar_w + 4, y, 48, 18),
                    Qt.AlignmentFlag.AlignVCenter,
                    f"{v:.0%}",
                )
        finally:
            p.end()

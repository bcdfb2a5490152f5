"""Small QPainter charts for the review: stacked bars (focus per goal per day), S/N bars."""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1")


def axis_top(value: float, floor: float = 10.0) -> float:
    """A round axis maximum at or above ``value`` (1, 2 or 5 × a power of ten)."""
    value = max(value, floor)
    scale = 10.0 ** math.floor(math.log10(value))
    for step in (1.0, 2.0, 5.0, 10.0):
        if step * scale >= value - 1e-9:
            return step * scale
    return 10.0 * scale


class StackedBarChart(QWidget):
    """Vertical bars per category, stacked by series (e.g. minutes per goal per day).

    The bars stand on a labelled axis that starts at zero and reaches past the largest
    value or plan, so a small value is a small bar; a plan per category is drawn as a
    dashed outline (e.g. 0 of 90 planned minutes: an empty outline, no bar).
    """

    AXIS_W = 40.0

    def __init__(self, parent: QWidget | None = None, unit: str = "min") -> None:
        super().__init__(parent)
        self.categories: list[str] = []
        self.series: list[tuple[str, list[float]]] = []
        self.planned: list[float] = []
        self.unit = unit
        self.setMinimumHeight(140)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

    def set_data(
        self,
        categories: list[str],
        series: list[tuple[str, list[float]]],
        planned: list[float] | None = None,
    ) -> None:
        """Show ``series`` (name, one value per category) over ``categories``."""
        self.categories = list(categories)
        self.series = [(name, list(values)) for name, values in series]
        self.planned = list(planned or [])
        self.setToolTip(
            "\n".join(
                f"{c}: {s:.0f} of {p:.0f} planned {self.unit}"
                for c, s, p in zip(
                    self.categories,
                    self.stacks(),
                    self.planned or [0.0] * len(self.categories),
                    strict=False,
                )
            )
        )
        self.update()

    def total(self) -> float:
        """The sum of every value drawn."""
        return float(sum(sum(values) for _name, values in self.series))

    def stacks(self) -> list[float]:
        """Each category's total."""
        n = len(self.categories)
        return [sum(values[i] for _n, values in self.series if i < len(values)) for i in range(n)]

    def axis_max(self) -> float:
        """The value at the top of the axis."""
        return axis_top(max([*self.stacks(), *self.planned, 0.0]))

    def plot_rect(self) -> QRectF:
        return QRectF(self.rect()).adjusted(self.AXIS_W, 10, -8, -24)

    def bar_rects(self) -> list[list[QRectF]]:
        """Per category, the rectangle of each series' segment (bottom up)."""
        rect = self.plot_rect()
        n = len(self.categories)
        if n == 0:
            return []
        top = self.axis_max()
        slot = rect.width() / n
        out = []
        for i in range(n):
            y = rect.bottom()
            segments = []
            for _name, values in self.series:
                v = max(0.0, values[i] if i < len(values) else 0.0)
                h = rect.height() * v / top
                segments.append(QRectF(rect.left() + i * slot + slot * 0.2, y - h, slot * 0.6, h))
                y -= h
            out.append(segments)
        return out

    def sizeHint(self) -> QSize:
        return QSize(360, 180)

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        try:
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            n = len(self.categories)
            if n == 0 or (self.total() <= 0 and not any(self.planned)):
                p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No focus time yet")
                return
            rect = self.plot_rect()
            top = self.axis_max()
            text = self.palette().color(QPalette.ColorRole.WindowText)
            grid = QColor(text)
            grid.setAlpha(50)
            for k in range(3):  # 0, half and the top, labelled
                value = top * k / 2
                y = rect.bottom() - rect.height() * k / 2
                p.setPen(QPen(grid if k else text, 1))
                p.drawLine(QPointF(rect.left(), y), QPointF(rect.right(), y))
                p.setPen(text)
                label = f"{value:g}" + (f" {self.unit}" if k == 2 else "")
                p.drawText(
                    QRectF(0, y - 9, self.AXIS_W - 4, 18),
                    Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                    label,
                )
            slot = rect.width() / n
            for i, segments in enumerate(self.bar_rects()):
                for k, seg in enumerate(segments):
                    p.fillRect(seg, QColor(PALETTE[k % len(PALETTE)]))
                if i < len(self.planned) and self.planned[i] > 0:
                    h = rect.height() * self.planned[i] / top
                    pen = QPen(text, 1, Qt.PenStyle.DashLine)
                    p.setPen(pen)
                    p.setBrush(Qt.BrushStyle.NoBrush)
                    p.drawRect(
                        QRectF(
                            rect.left() + i * slot + slot * 0.2, rect.bottom() - h, slot * 0.6, h
                        )
                    )
                p.setPen(text)
                p.drawText(
                    QRectF(rect.left() + i * slot, rect.bottom() + 2, slot, 20),
                    Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                    self.categories[i][5:],
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
        self.setToolTip(
            "\n".join(f"{a}: {v:.0%}" for a, v in zip(self.labels, self.values, strict=True))
        )
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
                    self.fontMetrics().elidedText(
                        label, Qt.TextElideMode.ElideRight, int(label_w - 8)
                    ),
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

"""Small marks on inbox rows: each goal's colour dot and short name, and your votes."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPixmap
from PySide6.QtWidgets import QApplication

from focusdesk.records import GoalInfo
from focusdesk.triage import Vote

from .charts import PALETTE

MARK_SIZE = 14
VOTE_COLOURS = {"up": "#2e7d32", "down": "#c0392b"}
VOTE_WORDS = {"up": "+", "down": "−"}


def goal_colour(goal: GoalInfo) -> QColor:
    """The goal's own colour when it has a valid one, else one of the palette's by id."""
    if goal.colour:
        colour = QColor(goal.colour)
        if colour.isValid():
            return colour
    return QColor(PALETTE[(goal.id - 1) % len(PALETTE)])


def _pixmap() -> tuple[QPixmap, QPainter]:
    app = QApplication.instance()
    ratio = app.devicePixelRatio() if isinstance(app, QApplication) else 1.0
    pixmap = QPixmap(int(MARK_SIZE * ratio), int(MARK_SIZE * ratio))
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    return pixmap, painter


def dot_icon(colour: QColor) -> QIcon:
    """A filled circle in ``colour`` (a goal's mark)."""
    pixmap, painter = _pixmap()
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(colour)
    painter.drawEllipse(QRectF(3, 3, MARK_SIZE - 6, MARK_SIZE - 6))
    painter.end()
    return QIcon(pixmap)


def vote_icon(signal: str) -> QIcon:
    """A small triangle: up (green) or down (red), the mark of a vote on a row."""
    pixmap, painter = _pixmap()
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(VOTE_COLOURS.get(signal, "#777777")))
    s = float(MARK_SIZE)
    path = QPainterPath()
    if signal == "up":
        path.moveTo(QPointF(s / 2, 2))
        path.lineTo(QPointF(s - 2, s - 3))
        path.lineTo(QPointF(2, s - 3))
    else:
        path.moveTo(QPointF(2, 3))
        path.lineTo(QPointF(s - 2, 3))
        path.lineTo(QPointF(s / 2, s - 2))
    path.closeSubpath()
    painter.drawPath(path)
    painter.end()
    return QIcon(pixmap)


def vote_text(vote: Vote, goal_names: dict[int, str]) -> str:
    """ "You voted + for goal Firmware v2" (the words of the row's tooltip and the Why panel)."""
    sign = VOTE_WORDS.get(vote.signal, vote.signal)
    if vote.goal_id is not None and vote.goal_id in goal_names:
        return f"You voted {sign} for goal {goal_names[vote.goal_id]}"
    return f"You voted {sign}"


class GoalMarks:
    """The goals' short names, full titles and colour dots, by goal id."""

    def __init__(self) -> None:
        self.names: dict[int, str] = {}
        self.titles: dict[int, str] = {}
        self._icons: dict[int, QIcon] = {}
        self._colours: dict[int, QColor] = {}

    def set_goals(self, goals: list[GoalInfo]) -> None:
        self.names = {g.id: g.short_name for g in goals}
        self.titles = {g.id: g.title for g in goals}
        self._colours = {g.id: goal_colour(g) for g in goals}
        self._icons = {}

    def icon(self, goal_id: int | None) -> QIcon | None:
        if goal_id is None or goal_id not in self._colours:
            return None
        icon = self._icons.get(goal_id)
        if icon is None:
            icon = self._icons[goal_id] = dot_icon(self._colours[goal_id])
        return icon

    def colour(self, goal_id: int) -> QColor | None:
        return self._colours.get(goal_id)

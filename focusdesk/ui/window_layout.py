"""Window geometry that fits: a restored or grown window is kept on its screen."""

from __future__ import annotations

from PySide6.QtCore import QRect
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget


def clamp_rect(rect: QRect, area: QRect) -> QRect:
    """``rect`` moved and shrunk so that it lies inside ``area``."""
    width = min(rect.width(), area.width())
    height = min(rect.height(), area.height())
    left = min(max(rect.left(), area.left()), area.right() - width + 1)
    top = min(max(rect.top(), area.top()), area.bottom() - height + 1)
    return QRect(left, top, width, height)


def screen_area(window: QWidget) -> QRect | None:
    """The available area of the screen the window is (mostly) on, else the primary one."""
    frame = window.frameGeometry()
    best, best_overlap = None, 0
    for screen in QGuiApplication.screens():
        area = screen.availableGeometry()
        overlap = area.intersected(frame)
        size = overlap.width() * overlap.height() if overlap.isValid() else 0
        if size > best_overlap:
            best, best_overlap = area, size
    if best is not None:
        return best
    primary = QGuiApplication.primaryScreen()
    return primary.availableGeometry() if primary is not None else None


def clamp_to_screen(window: QWidget) -> None:
    """Move and shrink ``window`` (its frame) so that it is wholly on its screen.

    A geometry saved on a bigger or another monitor, or a window grown past the edge,
    comes back inside; the minimum size wins where the screen is smaller still.
    """
    area = screen_area(window)
    if area is None or area.isEmpty():
        return
    frame = window.frameGeometry()
    inner = window.geometry()
    extra_w, extra_h = frame.width() - inner.width(), frame.height() - inner.height()
    fitted = clamp_rect(frame, area)
    if fitted == frame:
        return
    window.resize(max(1, fitted.width() - extra_w), max(1, fitted.height() - extra_h))
    window.move(fitted.topLeft())

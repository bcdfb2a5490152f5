"""Window geometry and splitters are remembered, and a remembered window fits the screen."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPoint, QRect, Qt

from focusdesk.app import FocusDesk
from focusdesk.ui.main_window import MainWindow
from focusdesk.ui.window_layout import clamp_rect


def test_clamp_rect_moves_and_shrinks_into_the_area() -> None:
    area = QRect(0, 0, 1400, 900)
    assert clamp_rect(QRect(100, 50, 800, 600), area) == QRect(100, 50, 800, 600)
    assert clamp_rect(QRect(2500, 40, 1929, 1000), area) == QRect(0, 0, 1400, 900)
    assert clamp_rect(QRect(1000, 700, 800, 600), area) == QRect(600, 300, 800, 600)


def test_size_and_splitters_come_back_and_a_too_big_window_is_clamped(
    qtbot: Any, make_window: Any, profile: FocusDesk
) -> None:
    window: MainWindow = make_window(profile)
    screen = window.screen().availableGeometry()
    window.resize(screen.width() - 40, screen.height() - 60)
    qtbot.wait(20)
    # The user drags the splitter between the goals and the inbox with the mouse.
    handle = window.main_splitter.handle(1)
    start = handle.rect().center()
    qtbot.mousePress(handle, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(handle, QPoint(start.x() + 50, start.y()))
    qtbot.mouseRelease(handle, Qt.MouseButton.LeftButton, pos=QPoint(start.x() + 50, start.y()))
    sizes = window.main_splitter.sizes()
    size = window.size()
    window.close()  # saves the layout

    again: MainWindow = make_window(profile)
    assert again.size() == size
    assert again.main_splitter.sizes() == sizes

    # Saved on a much bigger monitor, partly off this one: it comes back inside.
    again.setGeometry(screen.right() - 100, 30, screen.width() * 2, screen.height() * 2)
    again.close()
    fitted: MainWindow = make_window(profile)
    assert screen.contains(fitted.frameGeometry()), (fitted.frameGeometry(), screen)

"""The window never grows by itself: not with a theme, not with the Review dock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gui_helpers import SIGNAL_TIMEOUT_MS, activate, ranked_window, settle
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialogButtonBox

from focusdesk.app import FocusDesk
from focusdesk.ui.main_window import MainWindow
from focusdesk.ui.settings_dialog import SettingsDialog

LONG_GOAL = (
    "Ship the v2 firmware release with the new low power mode, the signed OTA images "
    "and the battery soak test passed on every board revision we still sell"
)


@pytest.fixture
def window(
    qtbot: Any, make_window: Any, profile: FocusDesk, notes_dir: Path
) -> Iterator[MainWindow]:
    win: MainWindow = ranked_window(qtbot, make_window, profile, notes_dir, LONG_GOAL, "hiring")
    screen = win.screen().availableGeometry()
    win.resize(screen.width() - 20, int(screen.height() * 0.8))
    win.move(screen.topLeft())
    settle(qtbot, win)
    yield win
    if win.theme is not None:
        win.theme.apply("system")  # the application's style is shared by every test


def test_choosing_a_theme_does_not_widen_the_window(qtbot: Any, window: MainWindow) -> None:
    width = window.width()
    screen = window.screen().availableGeometry()
    for theme in ("dark", "light"):
        activate(qtbot, window)
        qtbot.keyClick(window, Qt.Key.Key_Comma, Qt.KeyboardModifier.ControlModifier)
        dialog = window.findChild(SettingsDialog)
        assert dialog is not None
        combo = dialog.theme_combo
        combo.setFocus()
        qtbot.keyClick(combo, Qt.Key.Key_End if theme == "dark" else Qt.Key.Key_Home)
        combo.setCurrentIndex(combo.findData(theme))
        button = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        qtbot.wait(50)
        QApplication.processEvents()
        assert window.width() == width, theme
        assert window.minimumSizeHint().width() <= screen.width(), theme
    # The long goal is in the Goal filter, elided, with its full text in the list.
    combo = window.filter_bar.goal_combo
    assert combo.findText(LONG_GOAL) > 0 or any(
        combo.itemData(i, Qt.ItemDataRole.ToolTipRole) == LONG_GOAL for i in range(combo.count())
    )
    assert combo.sizeHint().width() < 320


def test_opening_the_review_keeps_the_window_on_the_screen(qtbot: Any, window: MainWindow) -> None:
    screen = window.screen().availableGeometry()
    width = window.width()
    activate(qtbot, window)
    inbox_menu = window.menus["inbox"]
    review = next(a for a in inbox_menu.actions() if a.objectName() == "review_action")
    with qtbot.waitSignal(window.review_tab.review_did_load, timeout=SIGNAL_TIMEOUT_MS):
        review.trigger()
    qtbot.wait(50)
    assert window.review_dock.isVisible()
    assert window.width() == width  # the dock takes room from the inbox, not the screen
    assert window.frameGeometry().right() <= screen.right()
    dock = window.review_dock
    if dock.isFloating():  # the window is too narrow for both: over its right part
        assert window.geometry().contains(dock.geometry())
    else:
        assert window.rect().contains(dock.geometry())
    assert screen.contains(window.frameGeometry())
    assert dock.width() >= 220  # and it is wide enough to read


def test_a_wide_window_docks_the_review_beside_the_inbox(qtbot: Any, window: MainWindow) -> None:
    window.resize(1100, 640)
    qtbot.wait(20)
    width = window.width()
    review = next(a for a in window.menus["inbox"].actions() if a.objectName() == "review_action")
    with qtbot.waitSignal(window.review_tab.review_did_load, timeout=SIGNAL_TIMEOUT_MS):
        review.trigger()
    qtbot.wait(50)
    dock = window.review_dock
    assert not dock.isFloating()
    assert window.width() == width
    assert window.rect().contains(dock.geometry())
    assert 220 <= dock.width() <= 440

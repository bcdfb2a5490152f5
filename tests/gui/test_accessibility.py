"""Every control has an accessible name, everything is reachable by keyboard, icons are
sharp at high DPI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gui_helpers import ranked_window
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAccessible
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QComboBox,
    QHeaderView,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

from focusdesk.app import FocusDesk
from focusdesk.ui.add_source import KINDS, AddSourceDialog
from focusdesk.ui.main_window import MainWindow
from focusdesk.ui.settings_dialog import SettingsDialog
from focusdesk.ui.snooze import SnoozeDateDialog
from focusdesk.ui.sources_manager import SourcesDialog
from focusdesk.ui.style import app_icon, source_icon

CONTROLS = (
    QAbstractButton,
    QLineEdit,
    QAbstractSpinBox,
    QAbstractItemView,
    QComboBox,
    QPlainTextEdit,
    QTextEdit,
)


def spoken_name(widget: QWidget) -> str:
    """The name a screen reader announces (set, or from the button's text or buddy label)."""
    iface = QAccessible.queryAccessibleInterface(widget)
    return iface.text(QAccessible.Text.Name) if iface is not None else ""


def unnamed(root: QWidget) -> list[str]:
    """Visible controls under ``root`` that a screen reader could not name."""
    return [
        f"{type(w).__name__} {w.objectName() or w.toolTip() or w.parent()!r}"
        for kind in CONTROLS
        for w in root.findChildren(kind)
        if w.isVisibleTo(root)
        and not spoken_name(w).strip()
        and not w.objectName().startswith("qt_")  # parts of composite widgets
        and not isinstance(w, QHeaderView)
        and not (isinstance(w, QLineEdit) and isinstance(w.parent(), QAbstractSpinBox | QComboBox))
    ]


def test_window_panes_and_overlays_are_named(
    qtbot: Any, make_window: Any, profile: FocusDesk, notes_dir: Path
) -> None:
    window: MainWindow = ranked_window(qtbot, make_window, profile, notes_dir, "firmware")
    window.inbox_controller.select_row(0)
    window.why_action.trigger()
    assert unnamed(window) == []
    window.inbox_controller.open_search()
    assert unnamed(window) == []
    window.inbox_controller.close_search()
    window.toggle_help()
    assert window.help_overlay.accessibleName() == "Keyboard shortcuts"
    window.toggle_help()


def test_dialogs_are_named(qtbot: Any, profile: FocusDesk) -> None:
    settings = SettingsDialog(profile.settings)
    sources = SourcesDialog()
    date = SnoozeDateDialog(profile.clock.now())
    add = AddSourceDialog()
    for dialog in (settings, sources, date, add):
        qtbot.addWidget(dialog)
        dialog.show()
        assert dialog.accessibleName(), type(dialog).__name__
        assert unnamed(dialog) == [], type(dialog).__name__
    for kind in KINDS:
        add.set_kind(kind)
        assert unnamed(add) == [], kind


def test_everything_is_reachable_with_tab(
    qtbot: Any, make_window: Any, profile: FocusDesk, notes_dir: Path
) -> None:
    window: MainWindow = ranked_window(qtbot, make_window, profile, notes_dir, "firmware")
    reachable: list[QWidget] = []
    widget: QWidget = window
    for _ in range(400):
        widget = widget.nextInFocusChain()
        if widget is window:
            break
        if (
            widget.isVisibleTo(window)
            and widget.isEnabled()
            and widget.focusPolicy() & Qt.FocusPolicy.TabFocus
        ):
            reachable.append(widget)
    names = {w.accessibleName() for w in reachable}
    for expected in (
        "Inbox",
        "Reader",
        "Goals",
        "New goal title",
        "Sources",
        "Show items with status",
        "Show items from source",
        "Show items for goal",
        "Manage sources",
    ):
        assert expected in names, expected
    # Every toolbar and menu action has keys, or lives in a menu that has them.
    assert window.menuBar().actions()
    for menu in window.menus.values():
        assert "&" in menu.title()  # Alt+letter opens it


def test_icons_are_sharp_at_high_dpi(qtbot: Any) -> None:
    for icon in (source_icon("notes"), source_icon("feed"), app_icon()):
        pixmap = icon.pixmap(QSize(16, 16), 2.0)
        assert pixmap.width() == 32  # drawn at 2x, not scaled up from 16 px
        assert pixmap.devicePixelRatio() == 2.0

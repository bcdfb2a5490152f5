"""Keyboard gaps: Esc leaves search and the new-goal field, Home/End, start selection."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from gui_helpers import SIGNAL_TIMEOUT_MS, ranked_window, settle, wait_reading
from PySide6.QtCore import Qt

from focusdesk.app import FocusDesk
from focusdesk.ui.main_window import MainWindow

GOALS = ("firmware release checklist",)


def many_notes(root: Path, n: int) -> Path:
    root.mkdir()
    for i in range(n):
        (root / f"note-{i:03d}.md").write_text(
            f"# Firmware note {i}\n\nRelease checklist item {i}: battery soak {i % 7}.\n",
            encoding="utf-8",
        )
    return root


@pytest.fixture
def window(qtbot: Any, make_window: Any, profile: FocusDesk, tmp_path: Path) -> MainWindow:
    notes = many_notes(tmp_path / "notes", 60)
    win: MainWindow = ranked_window(qtbot, make_window, profile, notes, *GOALS)
    win.resize(1024, 640)
    win.inbox_view.setFocus()
    return win


def test_at_start_the_top_item_is_selected_and_shown(qtbot: Any, window: MainWindow) -> None:
    top = window.inbox_model.items()[0]
    assert window.inbox_controller.current_item_id() == top.item_id
    wait_reading(qtbot, window, top.item_id)
    # The list gets at least as much height as the reader at first start.
    list_h, reader_h = window.centre_splitter.sizes()
    assert list_h >= reader_h * 0.8


def test_home_and_end_jump_to_the_first_and_last_item(qtbot: Any, window: MainWindow) -> None:
    window.inbox_controller.select_row(5)
    qtbot.keyClick(window.inbox_view, Qt.Key.Key_End)
    assert window.inbox_controller.current_row() == window.inbox_model.rowCount() - 1
    wait_reading(qtbot, window, window.inbox_model.items()[-1].item_id)
    qtbot.keyClick(window.inbox_view, Qt.Key.Key_Home)
    assert window.inbox_controller.current_row() == 0
    assert window.inbox_view.verticalScrollBar().value() == 0


def test_esc_in_the_results_closes_search(qtbot: Any, window: MainWindow) -> None:
    qtbot.keyClick(window.inbox_view, Qt.Key.Key_Slash)
    with qtbot.waitSignal(window.search.search_did_finish, timeout=SIGNAL_TIMEOUT_MS):
        qtbot.keyClicks(window.search.bar.edit, "firmware note")
    qtbot.keyClick(window.search.bar.edit, Qt.Key.Key_Down)
    assert window.search.view.hasFocus()
    qtbot.keyClick(window.search.view, Qt.Key.Key_Escape)
    assert not window.searching
    assert window.inbox_view.hasFocus()


def test_closing_search_returns_to_where_the_inbox_was(qtbot: Any, window: MainWindow) -> None:
    window.inbox_controller.select_row(3)
    before = window.inbox_controller.current_item_id()
    scroll = window.inbox_view.verticalScrollBar().value()
    qtbot.keyClick(window.inbox_view, Qt.Key.Key_Slash)
    with qtbot.waitSignal(window.search.search_did_finish, timeout=SIGNAL_TIMEOUT_MS):
        qtbot.keyClicks(window.search.bar.edit, "battery soak")
    qtbot.keyClick(window.search.bar.edit, Qt.Key.Key_Down)
    qtbot.keyClick(window.search.view, Qt.Key.Key_End)  # read the last hit
    hit = window.inbox_controller.current_item_id()
    assert hit is not None
    assert hit != before
    assert window.inbox_model.row_of(hit) is not None  # the hit is in the inbox too
    window.search.bar.edit.setFocus()
    qtbot.keyClick(window.search.bar.edit, Qt.Key.Key_Escape)
    assert not window.searching
    assert window.inbox_controller.current_item_id() == before
    assert window.inbox_view.verticalScrollBar().value() == scroll
    wait_reading(qtbot, window, before)


def test_esc_in_the_new_goal_field_returns_to_the_list(qtbot: Any, window: MainWindow) -> None:
    settle(qtbot, window)
    row = window.inbox_controller.current_row()
    qtbot.keyClick(window.inbox_view, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
    edit = window.goals_panel.add_edit
    assert edit.hasFocus()
    qtbot.keyClicks(edit, "half")
    qtbot.keyClick(edit, Qt.Key.Key_Escape)
    assert window.inbox_view.hasFocus()
    assert edit.text() == "half"  # nothing typed is lost
    qtbot.keyClicks(window.inbox_view, "j")
    assert edit.text() == "half"
    assert window.inbox_controller.current_row() == (row or 0) + 1

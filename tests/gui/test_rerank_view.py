"""A re-rank that changes the top scrolls the inbox so the new #1 can be seen."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gui_helpers import SIGNAL_TIMEOUT_MS, ranked_window, settle
from PySide6.QtCore import Qt

from focusdesk.app import FocusDesk
from focusdesk.ui.main_window import MainWindow


def mixed_notes(root: Path) -> Path:
    """Thirty notes that serve each goal (firmware, hiring) and thirty that serve neither."""
    root.mkdir()
    for i in range(30):
        (root / f"fw-{i:02d}.md").write_text(
            f"# Firmware release {i}\n\nFirmware release checklist step {i}.\n", encoding="utf-8"
        )
        (root / f"hire-{i:02d}.md").write_text(
            f"# Hiring round {i}\n\nHiring embedded engineers: embedded engineers interview {i}.\n",
            encoding="utf-8",
        )
        (root / f"soup-{i:02d}.md").write_text(
            f"# Soup {i}\n\nLeeks, onions and potatoes {i}.\n", encoding="utf-8"
        )
    return root


def type_weight(qtbot: Any, window: MainWindow, goal_id: int, value: str) -> None:
    """Reweight a goal as a user does: into its spin box, type, Enter."""
    spin = window.goals_panel.weight_editor(goal_id)
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin, value)
    qtbot.keyClick(spin, Qt.Key.Key_Return)


def test_a_new_top_is_scrolled_into_view_and_the_selection_stays(
    qtbot: Any, make_window: Any, profile: FocusDesk, tmp_path: Path
) -> None:
    notes = mixed_notes(tmp_path / "notes")
    window: MainWindow = ranked_window(
        qtbot, make_window, profile, notes, "firmware release checklist"
    )
    hiring = profile.goals.add("hiring embedded engineers", weight=0.2)
    with qtbot.waitSignal(window.goals_panel.goals_did_load, timeout=SIGNAL_TIMEOUT_MS):
        window.goals_panel.reload()
    with qtbot.waitSignal(window.inbox_controller.rank_did_finish, timeout=SIGNAL_TIMEOUT_MS):
        window.inbox_controller.start_rank()
    window.resize(1024, 640)
    settle(qtbot, window)
    view = window.inbox_view
    old_top = window.inbox_model.items()[0].item_id
    deep = window.inbox_model.rowCount() - 3
    window.inbox_controller.select_row(deep)  # reading far down the list
    selected = window.inbox_controller.current_item_id()
    assert view.rowAt(0) > 0  # the top is scrolled out of sight

    with qtbot.waitSignal(window.inbox_controller.rank_did_finish, timeout=SIGNAL_TIMEOUT_MS):
        type_weight(qtbot, window, hiring.id, "4")
    new_top = window.inbox_model.items()[0].item_id
    assert new_top != old_top
    assert window.inbox_model.items()[0].goal_id == hiring.id  # the heavier goal seats first
    assert window.inbox_controller.current_item_id() == selected  # the selection stays
    assert view.rowAt(0) == 0  # and the new #1 is in sight
    assert view.visualRect(window.inbox_model.index(0, 0)).top() >= 0


def test_a_rerank_with_the_same_top_keeps_the_selected_row_in_view(
    qtbot: Any, make_window: Any, profile: FocusDesk, tmp_path: Path
) -> None:
    notes = mixed_notes(tmp_path / "notes")
    window: MainWindow = ranked_window(
        qtbot, make_window, profile, notes, "firmware release checklist"
    )
    window.resize(1024, 640)
    settle(qtbot, window)
    view = window.inbox_view
    deep = window.inbox_model.rowCount() - 3
    window.inbox_controller.select_row(deep)
    selected = window.inbox_controller.current_item_id()
    with qtbot.waitSignal(window.inbox_controller.rank_did_finish, timeout=SIGNAL_TIMEOUT_MS):
        window.sync_action.trigger()  # nothing changed: the same order
    row = window.inbox_model.row_of(selected)  # type: ignore[arg-type]
    assert row is not None
    rect = view.visualRect(window.inbox_model.index(row, 0))
    assert view.viewport().rect().contains(rect.center())  # the reader's row stays in sight

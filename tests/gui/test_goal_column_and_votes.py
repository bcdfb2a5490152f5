"""Small windows: the Goal column shows short names; votes leave a mark and can be undone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from gui_helpers import SIGNAL_TIMEOUT_MS, activate, ranked_window, settle
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QStyle, QStyleOptionViewItem

from focusdesk.app import FocusDesk
from focusdesk.ui.inbox_model import Column
from focusdesk.ui.main_window import MainWindow

FIRMWARE = (
    "Ship the v2 firmware release, with the new low power mode, the signed OTA images "
    "and the battery soak test on every board"
)
HIRING = "Hiring embedded engineers for the sensor team before the spring"


@pytest.fixture
def window(qtbot: Any, make_window: Any, profile: FocusDesk, notes_dir: Path) -> MainWindow:
    win: MainWindow = ranked_window(qtbot, make_window, profile, notes_dir, FIRMWARE, HIRING)
    win.resize(1024, 640)
    settle(qtbot, win)
    win.inbox_view.setFocus()
    return win


def fits(view: Any, index: Any, rect: QRect, text: str) -> bool:
    """Whether ``text``, word-wrapped where the view draws it, fits (nothing cut off)."""
    option = QStyleOptionViewItem()
    delegate = view.itemDelegateForIndex(index)
    delegate.initStyleOption(option, index)
    option.rect = rect
    option.features |= QStyleOptionViewItem.ViewItemFeature.WrapText
    style = view.style()
    text_rect = style.subElementRect(QStyle.SubElement.SE_ItemViewItemText, option, view)
    needed = view.fontMetrics().boundingRect(
        QRect(0, 0, max(1, text_rect.width() - 4), 10_000), Qt.TextFlag.TextWordWrap, text
    )
    return needed.height() <= text_rect.height() + 2


def test_the_goal_column_shows_short_names_with_colours_and_the_title_gets_the_room(
    window: MainWindow,
) -> None:
    model = window.inbox_model
    firmware_row = next(
        r for r, it in enumerate(model.items()) if it.title == "Firmware release plan"
    )
    cell = model.index(firmware_row, Column.GOAL)
    assert cell.data() == "Ship the v2 firmware…"  # its first clause, cut at a word
    assert cell.data(Qt.ItemDataRole.ToolTipRole) == FIRMWARE
    assert isinstance(cell.data(Qt.ItemDataRole.DecorationRole), QIcon)
    header = window.inbox_view.horizontalHeader()
    title_w, goal_w = header.sectionSize(Column.TITLE), header.sectionSize(Column.GOAL)
    assert title_w >= 1.5 * goal_w, (title_w, goal_w)
    assert title_w >= 280
    # The Goal column fits the short name it shows, so it is not cut either.
    metrics = window.inbox_view.fontMetrics()
    assert goal_w >= metrics.horizontalAdvance("Ship the v2 firmware…") + 24


def test_a_short_name_set_in_the_goal_editor_shows_in_the_inbox(
    qtbot: Any, window: MainWindow, profile: FocusDesk
) -> None:
    from focusdesk.ui.goals_panel import GoalDialog

    panel = window.goals_panel
    firmware = profile.goals.all()[0]
    panel.select_goal(firmware.id)
    qtbot.mouseClick(panel.edit_button, Qt.MouseButton.LeftButton)
    dialog = panel.findChild(GoalDialog)
    assert dialog is not None
    dialog.name_edit.setFocus()
    qtbot.keyClicks(dialog.name_edit, "Firmware v2")
    with qtbot.waitSignal(panel.goals_did_change, timeout=SIGNAL_TIMEOUT_MS):
        qtbot.keyClick(dialog.name_edit, Qt.Key.Key_Return)
    assert profile.goals.all()[0].name == "Firmware v2"
    model = window.inbox_model
    row = next(r for r, it in enumerate(model.items()) if it.goal_id == firmware.id)
    assert model.index(row, Column.GOAL).data() == "Firmware v2"
    combo = window.filter_bar.goal_combo
    assert combo.itemText(combo.findData(firmware.id)) == "Firmware v2"


def test_goals_are_not_cut_in_the_goals_panel_or_the_focus_dialog(
    qtbot: Any, window: MainWindow
) -> None:
    view = window.goals_panel.view
    for row, text in enumerate((FIRMWARE, HIRING)):
        index = window.goals_panel.model.index(row, 0)
        rect = view.visualRect(index)
        assert fits(view, index, rect, text), (rect, text)
    activate(qtbot, window)
    start = next(
        a
        for a in window.findChildren(type(window.why_action))
        if a.objectName() == "start_focus_block"
    )
    start.trigger()
    qtbot.waitUntil(lambda: window.focus_controller.start_dialog is not None)  # reads first
    dialog = window.focus_controller.start_dialog
    assert dialog is not None
    qtbot.waitExposed(dialog)
    goals = dialog.goals_list
    for row, text in enumerate((FIRMWARE, HIRING)):
        item = goals.item(row)
        assert item.text() == text
        index = goals.indexFromItem(item)
        rect = goals.visualItemRect(item)
        assert rect.right() <= goals.viewport().width()  # no sideways scrolling either
        assert fits(goals, index, rect, text), (rect, text)
    dialog.reject()


def test_a_vote_marks_the_row_and_the_why_panel_and_undo_takes_it_back(
    qtbot: Any, window: MainWindow, profile: FocusDesk
) -> None:
    window.inbox_controller.select_row(0)
    item = window.inbox_controller.current_item()
    assert item is not None
    qtbot.keyClick(window.inbox_view, Qt.Key.Key_W)  # the Why panel
    assert window.why_panel.isVisible()
    title = window.inbox_model.index(0, Column.TITLE)
    assert title.data(Qt.ItemDataRole.DecorationRole) is None
    # Without a goal filter a vote is for the item as a whole (issue 12).
    with qtbot.waitSignal(window.item_actions.item_did_change, timeout=SIGNAL_TIMEOUT_MS):
        qtbot.keyClick(window.inbox_view, Qt.Key.Key_Plus)
    assert isinstance(title.data(Qt.ItemDataRole.DecorationRole), QIcon)
    assert title.data(Qt.ItemDataRole.ToolTipRole).endswith("You voted +")
    assert window.why_panel.text().count("You voted +") == 1
    assert "You voted + for goal" not in window.why_panel.text()
    # With the item's goal as the filter, the vote is for that goal and says so.
    combo = window.filter_bar.goal_combo
    combo.setCurrentIndex(combo.findData(item.goal_id))
    window.inbox_controller.select_item(item.item_id)
    title = window.inbox_model.index(window.inbox_model.row_of(item.item_id), Column.TITLE)
    with qtbot.waitSignal(window.item_actions.item_did_change, timeout=SIGNAL_TIMEOUT_MS):
        qtbot.keyClick(window.inbox_view, Qt.Key.Key_Plus)
    goal = window.inbox_model.goals.names[item.goal_id]  # type: ignore[index]
    assert isinstance(title.data(Qt.ItemDataRole.DecorationRole), QIcon)
    assert f"You voted + for goal {goal}" in title.data(Qt.ItemDataRole.ToolTipRole)
    assert f"You voted + for goal {goal}" in window.why_panel.text()
    with qtbot.waitSignal(window.item_actions.item_did_change, timeout=SIGNAL_TIMEOUT_MS):
        qtbot.keyClick(window.inbox_view, Qt.Key.Key_Minus)
    assert f"You voted − for goal {goal}" in window.why_panel.text()

    with qtbot.waitSignal(window.item_actions.undo_did_finish, timeout=SIGNAL_TIMEOUT_MS):
        qtbot.keyClick(window.inbox_view, Qt.Key.Key_U)  # back to the + vote
    assert f"You voted + for goal {goal}" in window.why_panel.text()
    with qtbot.waitSignal(window.item_actions.undo_did_finish, timeout=SIGNAL_TIMEOUT_MS):
        qtbot.keyClick(window.inbox_view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    # Only the last action can be undone: the + stays, and says so.
    assert "Nothing to undo" in window.status_label.text()
    assert isinstance(title.data(Qt.ItemDataRole.DecorationRole), QIcon)


def test_votes_are_marked_again_after_a_restart(
    qtbot: Any, make_window: Any, window: MainWindow, profile: FocusDesk
) -> None:
    item = window.inbox_model.items()[1]
    profile.triage.vote(item.item_id, "down", goal_id=item.goal_id)
    window.close()
    again: MainWindow = make_window(profile, show=False)
    with qtbot.waitSignal(again.inbox_controller.rank_did_finish, timeout=SIGNAL_TIMEOUT_MS):
        again.show()
    row = again.inbox_model.row_of(item.item_id)
    assert row is not None
    cell = again.inbox_model.index(row, Column.TITLE)
    assert isinstance(cell.data(Qt.ItemDataRole.DecorationRole), QIcon)
    assert "You voted −" in cell.data(Qt.ItemDataRole.ToolTipRole)
    QApplication.processEvents()

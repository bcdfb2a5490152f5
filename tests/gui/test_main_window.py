"""The main window driven as a user would: add sources and goals, sync, read, cancel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from gui_helpers import SIGNAL_TIMEOUT_MS, BlockingEncoder, wait_reading
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QFileDialog,
    QHeaderView,
    QLineEdit,
    QMessageBox,
)

from focusdesk.app import FocusDesk
from focusdesk.ui.empty_state import EmptyReason
from focusdesk.ui.inbox_model import Column
from focusdesk.ui.main_window import EMPTY_PAGE, INBOX_PAGE, MainWindow
from focusdesk.ui.reader import MARK_STYLE


def titles(window: MainWindow) -> list[str]:
    """The inbox titles as shown, top to bottom."""
    model = window.inbox_view.model()
    return [model.index(r, Column.TITLE).data() for r in range(model.rowCount())]


def add_goal_by_typing(qtbot: Any, window: MainWindow, text: str) -> None:
    panel = window.goals_panel
    with qtbot.waitSignal(panel.goals_did_change, timeout=SIGNAL_TIMEOUT_MS):
        qtbot.keyClicks(panel.add_edit, text)
        qtbot.mouseClick(panel.add_button, Qt.MouseButton.LeftButton)


def ranked_window(
    qtbot: Any, make_window: Any, desk: FocusDesk, notes: Path, *goals: str
) -> MainWindow:
    """A window on a synced, ranked profile with ``notes`` and ``goals``."""
    desk.sources.add("notes", str(notes))
    for goal in goals:
        desk.goals.add(goal)
    window = make_window(desk, show=False)
    with qtbot.waitSignal(window.inbox_controller.rank_did_finish, timeout=SIGNAL_TIMEOUT_MS):
        window.show()  # never synced: the window syncs, then ranks, by itself
    return window


def test_empty_profile_shows_getting_started(
    qtbot: Any, make_window: Any, profile: FocusDesk
) -> None:
    window = make_window(profile)
    assert window.stack.currentIndex() == EMPTY_PAGE
    # The sources' list is read in the background (milliseconds): until then, "Ranking…".
    qtbot.waitUntil(
        lambda: window.empty_state.reason is EmptyReason.NO_SOURCES, timeout=SIGNAL_TIMEOUT_MS
    )
    assert window.stack.currentIndex() == EMPTY_PAGE
    assert "Add a notes folder, a mailbox or a feed, then add a goal" in window.empty_state.text()
    assert window.empty_state.notes_button.isVisible()
    assert window.empty_state.mbox_button.isVisible()
    # Nothing to sync, nothing to rank: only the learning status is read in the background.
    with (
        qtbot.assertNotEmitted(window.sync_controller.sync_did_finish),
        qtbot.assertNotEmitted(window.inbox_controller.rank_did_finish),
    ):
        qtbot.waitUntil(lambda: not window.ops.busy, timeout=SIGNAL_TIMEOUT_MS)
    assert window.learning.label.text().startswith("Ranking with the untrained scorer")
    assert window.windowTitle() == "FocusDesk"


def test_add_notes_and_goal_then_sync_ranks_relevant_note_first(
    qtbot: Any,
    make_window: Any,
    profile: FocusDesk,
    notes_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window = make_window(profile)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(notes_dir))

    with qtbot.waitSignal(window.sync_controller.sync_did_finish, timeout=SIGNAL_TIMEOUT_MS):
        window.add_notes_action.trigger()
    assert window.empty_state.reason is EmptyReason.NO_GOALS
    assert window.stack.currentIndex() == EMPTY_PAGE

    with qtbot.waitSignal(
        window.inbox_controller.rank_did_finish, timeout=SIGNAL_TIMEOUT_MS
    ) as ranked:
        add_goal_by_typing(qtbot, window, "firmware release checklist")
    assert window.stack.currentIndex() == INBOX_PAGE
    assert len(ranked.args[0]) == 3
    assert titles(window)[0] == "Firmware release plan"

    with qtbot.waitSignal(
        window.sync_controller.sync_did_finish, timeout=SIGNAL_TIMEOUT_MS
    ) as synced:
        qtbot.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    assert synced.args[0].total("unchanged") == 3
    qtbot.waitUntil(lambda: not window.ops.busy, timeout=SIGNAL_TIMEOUT_MS)
    assert titles(window)[0] == "Firmware release plan"
    assert "Synced" in window.status_label.text()
    goal_cell = window.inbox_view.model().index(0, Column.GOAL)
    assert goal_cell.data() == "firmware release…"  # the short name (first clause, cut)
    assert goal_cell.data(Qt.ItemDataRole.ToolTipRole) == "firmware release checklist"


def test_selecting_a_row_shows_body_with_evidence_highlighted(
    qtbot: Any, make_window: Any, profile: FocusDesk, notes_dir: Path
) -> None:
    window = ranked_window(qtbot, make_window, profile, notes_dir, "hiring embedded engineers")
    view = window.inbox_view
    assert titles(window)[0] == "Hiring embedded engineers"
    rect = view.visualRect(view.model().index(0, Column.TITLE))
    reader = window.reader
    wait_reading(qtbot, window, window.inbox_model.items()[0].item_id)  # selected at start
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert reader.item_id == window.inbox_model.items()[0].item_id
    text = reader.toPlainText()
    assert "Interview loop for two embedded engineers" in text
    assert "Why: best goal hiring embedded engineers · score" in text
    assert reader.evidence_found is True
    # The passage weights arrive in the background; then the best sentence is marked.
    qtbot.waitUntil(lambda: reader.weights is not None, timeout=SIGNAL_TIMEOUT_MS)
    html = reader.toHtml()
    assert "#ffe27a" in html.lower()  # the highlight colour of MARK_STYLE
    assert "ffe27a" in MARK_STYLE

    # Keyboard navigation reads the next item.
    with qtbot.waitSignal(window.reader_controller.item_did_open, timeout=SIGNAL_TIMEOUT_MS):
        qtbot.keyClick(view, Qt.Key.Key_Down)
    assert reader.item_id == window.inbox_controller.current_item().item_id  # type: ignore[union-attr]
    assert reader.item_id != profile.ranking.rank()[0].item_id


def test_reweighting_a_goal_reranks_and_keeps_the_selection(
    qtbot: Any, make_window: Any, profile: FocusDesk, notes_dir: Path
) -> None:
    window = ranked_window(
        qtbot,
        make_window,
        profile,
        notes_dir,
        "firmware release checklist",
        "hiring embedded engineers",
    )
    firmware, hiring = profile.goals.all()
    soup_id = next(i.item_id for i in profile.ranking.rank() if i.title == "Leek soup")
    assert window.inbox_controller.select_item(soup_id)

    panel = window.goals_panel
    with qtbot.waitSignal(window.inbox_controller.rank_did_finish, timeout=SIGNAL_TIMEOUT_MS):
        panel.weight_editor(firmware.id).setValue(0.0)
    assert titles(window)[0] == "Hiring embedded engineers"
    assert window.inbox_controller.current_item_id() == soup_id
    wait_reading(qtbot, window, soup_id)
    assert profile.goals.all()[0].weight == 0.0

    with qtbot.waitSignal(window.inbox_controller.rank_did_finish, timeout=SIGNAL_TIMEOUT_MS):
        panel.weight_editor(firmware.id).setValue(2.5)
        panel.weight_editor(hiring.id).setValue(0.0)
    assert titles(window)[0] == "Firmware release plan"
    assert [g.weight for g in profile.goals.all()] == [2.5, 0.0]
    assert window.inbox_controller.current_item_id() == soup_id


def test_switching_every_goal_off_shows_add_a_goal(
    qtbot: Any, make_window: Any, profile: FocusDesk, notes_dir: Path
) -> None:
    window = ranked_window(qtbot, make_window, profile, notes_dir, "firmware release")
    goal = profile.goals.all()[0]
    index = window.goals_panel.model.index(0, 0)
    with qtbot.waitSignal(window.goals_panel.goals_did_change, timeout=SIGNAL_TIMEOUT_MS):
        window.goals_panel.model.setData(
            index, Qt.CheckState.Unchecked.value, Qt.ItemDataRole.CheckStateRole
        )
    assert profile.goals.all()[0].active is False
    qtbot.waitUntil(lambda: window.stack.currentIndex() == EMPTY_PAGE, timeout=SIGNAL_TIMEOUT_MS)
    assert window.empty_state.reason is EmptyReason.NO_GOALS

    with qtbot.waitSignal(window.inbox_controller.rank_did_finish, timeout=SIGNAL_TIMEOUT_MS):
        window.goals_panel.set_active(goal.id, True)
    assert window.stack.currentIndex() == INBOX_PAGE


def test_adding_a_goal_reranks(
    qtbot: Any, make_window: Any, profile: FocusDesk, notes_dir: Path
) -> None:
    window = ranked_window(qtbot, make_window, profile, notes_dir, "leek soup with potatoes")
    assert titles(window)[0] == "Leek soup"
    with qtbot.waitSignal(
        window.inbox_controller.rank_did_finish, timeout=SIGNAL_TIMEOUT_MS
    ) as ranked:
        panel = window.goals_panel
        qtbot.keyClicks(panel.add_edit, "firmware release checklist battery soak")
        qtbot.keyClick(panel.add_edit, Qt.Key.Key_Return)
    best = {i.title: i.goal_title for i in ranked.args[0]}
    assert best["Firmware release plan"] == "firmware release checklist battery soak"
    assert [g.title for g in panel.goals()] == [
        "leek soup with potatoes",
        "firmware release checklist battery soak",
    ]


def test_renaming_a_goal_inline_is_saved(
    qtbot: Any, make_window: Any, profile: FocusDesk, notes_dir: Path
) -> None:
    window = ranked_window(qtbot, make_window, profile, notes_dir, "soup")
    panel = window.goals_panel
    with qtbot.waitSignal(window.inbox_controller.rank_did_finish, timeout=SIGNAL_TIMEOUT_MS):
        panel.model.setData(panel.model.index(0, 0), "hiring embedded engineers")
    assert profile.goals.all()[0].title == "hiring embedded engineers"
    assert titles(window)[0] == "Hiring embedded engineers"


def test_removing_a_goal_asks_first(
    qtbot: Any,
    make_window: Any,
    profile: FocusDesk,
    notes_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window = ranked_window(qtbot, make_window, profile, notes_dir, "firmware", "hiring")
    asked: list[str] = []
    answer = [QMessageBox.StandardButton.No]

    def question(_parent: Any, _title: str, text: str, *_a: Any) -> QMessageBox.StandardButton:
        asked.append(text)
        return answer[0]

    monkeypatch.setattr(QMessageBox, "question", question)
    panel = window.goals_panel
    panel.select_goal(profile.goals.all()[0].id)
    qtbot.mouseClick(panel.remove_button, Qt.MouseButton.LeftButton)
    assert len(asked) == 1
    assert "firmware" in asked[0]
    assert len(profile.goals.all()) == 2  # "No" keeps it

    answer[0] = QMessageBox.StandardButton.Yes
    with qtbot.waitSignal(window.inbox_controller.rank_did_finish, timeout=SIGNAL_TIMEOUT_MS):
        qtbot.mouseClick(panel.remove_button, Qt.MouseButton.LeftButton)
    assert len(asked) == 2
    assert [g.title for g in profile.goals.all()] == ["hiring"]
    assert [g.title for g in panel.goals()] == ["hiring"]
    assert {window.inbox_view.model().index(r, Column.GOAL).data() for r in range(3)} == {"hiring"}


def test_sync_error_is_shown_without_crashing(
    qtbot: Any, make_window: Any, profile: FocusDesk, tmp_path: Path, notes_dir: Path
) -> None:
    mbox = tmp_path / "inbox.mbox"
    mbox.write_text("From a@example.com Mon Jan  1 00:00:00 2024\nSubject: hi\n\nhello\n")
    bad = profile.sources.add("mbox", str(mbox))
    profile.sources.add("notes", str(notes_dir))
    profile.goals.add("firmware release")
    mbox.unlink()
    window = make_window(profile, show=False)
    with qtbot.waitSignal(
        window.sync_controller.sync_did_finish, timeout=SIGNAL_TIMEOUT_MS
    ) as synced:
        window.show()
    failed = [r for r in synced.args[0].reports if r.error]
    assert [r.source_id for r in failed] == [bad.id]
    assert "failed" in window.status_label.text()
    assert "inbox.mbox" in window.status_label.text()
    row = [s.id for s in window.sources_panel.model.sources()].index(bad.id)
    index = window.sources_panel.model.index(row)
    assert "Sync failed" in index.data()
    assert "Last sync failed" in index.data(Qt.ItemDataRole.ToolTipRole)
    # The other source still synced and is ranked.
    qtbot.waitUntil(lambda: len(titles(window)) == 3, timeout=SIGNAL_TIMEOUT_MS)


def test_cancel_stops_a_running_sync(
    qtbot: Any,
    make_window: Any,
    blocking_profile: FocusDesk,
    blocking_encoder: BlockingEncoder,
    notes_dir: Path,
) -> None:
    blocking_profile.sources.add("notes", str(notes_dir))
    blocking_profile.goals.add("firmware")
    window = make_window(blocking_profile)
    # The source was never read: the window starts a sync by itself.
    qtbot.waitUntil(blocking_encoder.started.is_set, timeout=SIGNAL_TIMEOUT_MS)
    assert window.sync_controller.syncing
    assert window.cancel_action.isEnabled()
    assert not window.sync_action.isEnabled()
    assert window.progress_bar.isVisible()
    with qtbot.waitSignal(window.sync_controller.sync_did_cancel, timeout=SIGNAL_TIMEOUT_MS):
        qtbot.keyClick(window.inbox_view, Qt.Key.Key_Escape)
    assert not window.sync_controller.syncing
    assert "cancelled" in window.status_label.text()
    assert window.sync_action.isEnabled()
    qtbot.waitUntil(lambda: not window.ops.busy, timeout=SIGNAL_TIMEOUT_MS)
    assert not window.progress_bar.isVisible()
    counts = blocking_profile.counts()
    assert counts["items"] == 3  # what was read is kept
    assert counts["vectors"] == 0  # encoding stopped, and nothing else started


def test_every_control_has_an_accessible_name(
    qtbot: Any, make_window: Any, profile: FocusDesk, notes_dir: Path
) -> None:
    window = ranked_window(qtbot, make_window, profile, notes_dir, "firmware")
    kinds = (QAbstractButton, QLineEdit, QAbstractSpinBox, QAbstractItemView)
    unnamed = [
        f"{type(w).__name__} {w.objectName() or w.toolTip()!r}"
        for kind in kinds
        for w in window.findChildren(kind)
        if w.isVisibleTo(window)
        and not w.accessibleName()
        and not w.objectName().startswith("qt_")  # parts of composite widgets
        and not isinstance(w, QHeaderView)
    ]
    assert unnamed == []
    shortcuts = {a.objectName(): a.shortcut().toString() for a in window.actions()}
    assert shortcuts["sync"] == "Ctrl+R"
    assert shortcuts["quit"] == "Ctrl+Q"
    assert shortcuts["cancel"] == "Esc"


def test_layout_is_remembered_in_the_profile(
    qtbot: Any, make_window: Any, profile: FocusDesk
) -> None:
    window = make_window(profile)
    window.resize(760, 560)  # fits the offscreen platform's 800x800 screen
    window.main_splitter.setSizes([333, 400])
    sizes = window.main_splitter.sizes()
    window.close()
    ini = profile.paths.config_dir / "ui.ini"
    assert ini.is_file()
    again = make_window(profile)
    assert again.size() == window.size()
    assert again.main_splitter.sizes() == sizes


def test_inbox_sorts_by_column_and_back_to_score(
    qtbot: Any, make_window: Any, profile: FocusDesk, notes_dir: Path
) -> None:
    window = ranked_window(qtbot, make_window, profile, notes_dir, "leek soup")
    header = window.inbox_view.horizontalHeader()
    assert header.sortIndicatorSection() == Column.SCORE
    assert header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder
    window.inbox_view.sortByColumn(Column.TITLE, Qt.SortOrder.AscendingOrder)
    assert titles(window) == sorted(titles(window))
    window.inbox_view.sortByColumn(Column.SCORE, Qt.SortOrder.DescendingOrder)
    scores = [window.inbox_view.model().index(r, Column.SCORE).data() for r in range(3)]
    assert scores == sorted(scores, reverse=True)


def test_edit_dialog_changes_title_and_description(
    qtbot: Any, make_window: Any, profile: FocusDesk, notes_dir: Path
) -> None:
    from focusdesk.ui.goals_panel import GoalDialog

    window = ranked_window(qtbot, make_window, profile, notes_dir, "soup")
    panel = window.goals_panel
    panel.select_goal(profile.goals.all()[0].id)
    qtbot.mouseClick(panel.edit_button, Qt.MouseButton.LeftButton)
    dialog = panel.findChild(GoalDialog)
    assert dialog is not None
    assert dialog.isVisible()
    dialog.title_edit.setText("Hire embedded engineers")
    dialog.description_edit.setPlainText("interview loop, take-home exercise")
    with qtbot.waitSignal(window.inbox_controller.rank_did_finish, timeout=SIGNAL_TIMEOUT_MS):
        dialog.accept()
    goal = profile.goals.all()[0]
    assert (goal.title, goal.description) == (
        "Hire embedded engineers",
        "interview loop, take-home exercise",
    )
    assert titles(window)[0] == "Hiring embedded engineers"


def test_removing_a_source_asks_and_forgets_its_items(
    qtbot: Any,
    make_window: Any,
    profile: FocusDesk,
    notes_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window = ranked_window(qtbot, make_window, profile, notes_dir, "firmware")
    monkeypatch.setattr(QMessageBox, "question", lambda *_a: QMessageBox.StandardButton.Yes)
    sources = window.sources_panel
    sources.view.setCurrentIndex(sources.model.index(0))
    with qtbot.waitSignal(window.sync_controller.source_did_remove, timeout=SIGNAL_TIMEOUT_MS):
        qtbot.mouseClick(sources.remove_button, Qt.MouseButton.LeftButton)
    assert profile.sources.all() == []
    assert window.stack.currentIndex() == EMPTY_PAGE
    assert window.empty_state.reason is EmptyReason.NO_SOURCES
    assert window.inbox_model.rowCount() == 0

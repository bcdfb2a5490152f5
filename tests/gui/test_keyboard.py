"""Keyboard first: every inbox shortcut, pressed as a user would, and what it stores."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from gui_helpers import SIGNAL_TIMEOUT_MS, ranked_window, settle, shown_titles, wait_reading
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QMenu
from sqlalchemy import select

from focusdesk.app import FocusDesk
from focusdesk.store.models import Feedback, Item
from focusdesk.ui import item_actions
from focusdesk.ui.actions import ALL_SPECS, key_text
from focusdesk.ui.main_window import MainWindow
from focusdesk.ui.snooze import SnoozeDateDialog, SnoozeMenu

GOALS = ("firmware release checklist", "hiring embedded engineers")


@pytest.fixture
def window(qtbot: Any, make_window: Any, profile: FocusDesk, notes_dir: Path) -> MainWindow:
    win: MainWindow = ranked_window(qtbot, make_window, profile, notes_dir, *GOALS)
    win.inbox_view.setFocus()
    return win


def key(qtbot: Any, window: MainWindow, k: Qt.Key | str, mod: Any = None) -> None:
    """Press a key where the user is: the inbox list."""
    widget = QApplication.focusWidget() or window.inbox_view
    if isinstance(k, str):
        qtbot.keyClicks(widget, k)
    elif mod is None:
        qtbot.keyClick(widget, k)
    else:
        qtbot.keyClick(widget, k, mod)


def status_of(desk: FocusDesk, item_id: int) -> str:
    with desk.store.session() as s:
        item = s.get(Item, item_id)
        assert item is not None
        return item.status


def signals(desk: FocusDesk) -> list[tuple[int, str, int | None]]:
    with desk.store.session() as s:
        rows = s.scalars(select(Feedback).order_by(Feedback.id))
        return [(f.item_id, f.signal, f.goal_id) for f in rows]


def test_j_and_k_move_and_enter_opens(qtbot: Any, window: MainWindow) -> None:
    window.inbox_view.selectionModel().clear()
    assert window.inbox_controller.current_item_id() is None
    key(qtbot, window, "j")  # nothing selected: j selects the first item
    first = window.inbox_controller.current_item_id()
    assert first == window.inbox_model.items()[0].item_id
    key(qtbot, window, "j")
    assert window.inbox_controller.current_row() == 1
    wait_reading(qtbot, window, window.inbox_model.items()[1].item_id)
    key(qtbot, window, "k")
    assert window.inbox_controller.current_item_id() == first
    key(qtbot, window, "k")  # at the top it stays there
    assert window.inbox_controller.current_row() == 0
    key(qtbot, window, Qt.Key.Key_Return)
    assert window.reader.hasFocus()
    key(qtbot, window, "j")  # still works from the reader
    assert window.inbox_controller.current_row() == 1


def test_e_marks_done_and_u_undoes(qtbot: Any, window: MainWindow, profile: FocusDesk) -> None:
    window.inbox_controller.select_row(0)
    top = window.inbox_model.items()[0]
    second = window.inbox_model.items()[1].item_id
    with qtbot.waitSignal(window.item_actions.item_did_change, timeout=SIGNAL_TIMEOUT_MS) as did:
        key(qtbot, window, "e")
    assert did.args[0].action == "done"
    assert status_of(profile, top.item_id) == "done"
    assert signals(profile)[-1] == (top.item_id, "done", None)  # no goal filter: all goals
    assert top.title not in shown_titles(window)  # the inbox shows what is left to do
    assert window.inbox_controller.current_item_id() == second  # the next item is selected
    assert "Marked done" in window.status_label.text()
    assert window.undo_action.text().startswith("&Undo: Marked done")

    with qtbot.waitSignal(window.item_actions.undo_did_finish, timeout=SIGNAL_TIMEOUT_MS):
        key(qtbot, window, "u")
    assert status_of(profile, top.item_id) == "new"
    assert [s for s in signals(profile) if s[1] == "done"] == []  # its feedback is gone
    assert shown_titles(window)[0] == top.title
    assert window.inbox_controller.current_item_id() == top.item_id
    with qtbot.waitSignal(window.item_actions.undo_did_finish, timeout=SIGNAL_TIMEOUT_MS) as again:
        key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # Ctrl+Z too
    assert again.args[0] is None
    assert "Nothing to undo" in window.status_label.text()


def test_d_dismisses_and_d_again_in_the_dismissed_list_restores(
    qtbot: Any, window: MainWindow, profile: FocusDesk
) -> None:
    window.inbox_controller.select_row(2)
    item = window.inbox_controller.current_item()
    assert item is not None
    with qtbot.waitSignal(window.item_actions.item_did_change, timeout=SIGNAL_TIMEOUT_MS):
        key(qtbot, window, "d")
    assert status_of(profile, item.item_id) == "dismissed"
    assert signals(profile)[-1][:2] == (item.item_id, "dismiss")
    window.filter_bar.set_status_key("dismissed")
    assert shown_titles(window) == [item.title]
    window.inbox_controller.select_row(0)
    with qtbot.waitSignal(window.item_actions.item_did_change, timeout=SIGNAL_TIMEOUT_MS) as did:
        key(qtbot, window, "d")
    assert did.args[0].action == "restore"
    assert status_of(profile, item.item_id) == "read"
    assert shown_titles(window) == []


def test_s_offers_the_snooze_presets(qtbot: Any, window: MainWindow, profile: FocusDesk) -> None:
    window.inbox_controller.select_row(0)
    item_id = window.inbox_controller.current_item_id()
    assert item_id is not None
    key(qtbot, window, "s")
    menu = window.item_actions.snooze_menu
    assert isinstance(menu, SnoozeMenu)
    qtbot.waitUntil(menu.isVisible, timeout=SIGNAL_TIMEOUT_MS)
    names = [a.objectName() for a in menu.actions() if a.objectName()]
    assert names == ["snooze_later_today", "snooze_tomorrow", "snooze_next_week", "snooze_date"]
    tomorrow = next(a for a in menu.actions() if a.objectName() == "snooze_tomorrow")
    with qtbot.waitSignal(window.item_actions.item_did_change, timeout=SIGNAL_TIMEOUT_MS):
        tomorrow.trigger()
    menu.close()
    with profile.store.session() as s:
        row = s.get(Item, item_id)
        assert row is not None
        assert row.status == "snoozed"
        assert row.snoozed_until is not None
        until = row.snoozed_until.replace(tzinfo=UTC)  # stored in UTC
    local = until.astimezone()
    assert (local.hour, local.minute) == (8, 0)  # tomorrow morning, local time
    assert local.date() == datetime.now().astimezone().date() + timedelta(days=1)
    assert window.inbox_model.row_of(item_id) is None
    assert "until" in window.status_label.text()
    assert signals(profile)[-1][1] == "snooze"


def test_snoozing_until_a_picked_date(qtbot: Any, window: MainWindow, profile: FocusDesk) -> None:
    window.inbox_controller.select_row(1)
    item_id = window.inbox_controller.current_item_id()
    assert item_id is not None
    key(qtbot, window, "s")
    menu = window.item_actions.snooze_menu
    assert menu is not None
    pick = next(a for a in menu.actions() if a.objectName() == "snooze_date")
    pick.trigger()
    menu.close()
    dialog = menu.dialog
    assert isinstance(dialog, SnoozeDateDialog)
    assert dialog.isVisible()
    day = dialog.calendar.selectedDate().addDays(6)
    dialog.calendar.setSelectedDate(day)
    buttons = dialog.findChild(QDialogButtonBox)
    assert buttons is not None
    with qtbot.waitSignal(window.item_actions.item_did_change, timeout=SIGNAL_TIMEOUT_MS):
        qtbot.mouseClick(
            buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton
        )
    assert status_of(profile, item_id) == "snoozed"
    assert window.inbox_model.row_of(item_id) is None  # hidden until then


def test_plus_and_minus_vote_for_the_filtered_goal_or_for_all(
    qtbot: Any, window: MainWindow, profile: FocusDesk
) -> None:
    window.inbox_controller.select_row(0)
    item = window.inbox_controller.current_item()
    assert item is not None
    with qtbot.waitSignal(window.item_actions.item_did_change, timeout=SIGNAL_TIMEOUT_MS):
        key(qtbot, window, Qt.Key.Key_Plus)
    window.inbox_model.set_filter(replace(window.inbox_model.filter, goal_id=item.goal_id))
    window.inbox_controller.select_item(item.item_id)
    with qtbot.waitSignal(window.item_actions.item_did_change, timeout=SIGNAL_TIMEOUT_MS):
        key(qtbot, window, Qt.Key.Key_Minus)
    assert signals(profile)[-2:] == [
        (item.item_id, "up", None),  # no goal filter: a vote for the goals as a whole
        (item.item_id, "down", item.goal_id),  # with one: that goal's vote
    ]
    assert status_of(profile, item.item_id) == "new"  # a vote is not a status change
    with qtbot.waitSignal(window.item_actions.undo_did_finish, timeout=SIGNAL_TIMEOUT_MS):
        key(qtbot, window, "u")
    assert [s[1] for s in signals(profile)] == ["up"]


def test_o_opens_the_note_in_its_editor(
    qtbot: Any, window: MainWindow, monkeypatch: pytest.MonkeyPatch, notes_dir: Path
) -> None:
    opened: list[QUrl] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    window.inbox_controller.select_row(0)
    with qtbot.waitSignal(window.item_actions.original_did_open, timeout=SIGNAL_TIMEOUT_MS):
        key(qtbot, window, "o")
    assert len(opened) == 1
    assert opened[0].isLocalFile()
    assert Path(opened[0].toLocalFile()).parent == notes_dir.resolve()


def test_o_on_mail_writes_a_reply_and_on_a_feed_opens_the_browser(
    qtbot: Any,
    make_window: Any,
    profile: FocusDesk,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mbox = tmp_path / "inbox.mbox"
    mbox.write_text(
        "From priya@example.com Mon Jan  5 09:00:00 2026\n"
        "From: Priya <priya@example.com>\nSubject: Board deck & firmware\n"
        "Message-ID: <m1@example.com>\nDate: Mon, 5 Jan 2026 09:00:00 +0000\n\n"
        "Please review the firmware release slides.\n",
        encoding="utf-8",
    )
    profile.sources.add("mbox", str(mbox))
    profile.goals.add("firmware release")
    window = make_window(profile, show=False)
    with qtbot.waitSignal(window.inbox_controller.rank_did_finish, timeout=SIGNAL_TIMEOUT_MS):
        window.show()
    opened: list[QUrl] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    window.inbox_controller.select_row(0)
    window.inbox_view.setFocus()
    with qtbot.waitSignal(window.item_actions.original_did_open, timeout=SIGNAL_TIMEOUT_MS):
        key(qtbot, window, "o")
    (url,) = opened
    assert url.scheme() == "mailto"
    assert url.path() == "priya@example.com"
    query = dict(
        pair.split("=", 1)
        for pair in url.query(QUrl.ComponentFormattingOption.FullyEncoded).split("&")
    )
    assert QUrl.fromPercentEncoding(query["subject"].encode()) == "Re: Board deck & firmware"
    assert QUrl.fromPercentEncoding(query["In-Reply-To"].encode()) == "<m1@example.com>"

    detail = profile.items.get(window.inbox_controller.current_item_id() or 0)
    feed = replace(detail, source_kind="feed", kind="feed", author=None)
    web = item_actions.original_url(replace(feed, url="https://example.org/post"))
    assert web is not None
    assert web.toString() == "https://example.org/post"
    assert item_actions.original_url(replace(feed, url="javascript:alert(1)")) is None
    assert item_actions.original_url(replace(feed, url="file:///etc/passwd")) is None


def test_question_mark_lists_every_shortcut(qtbot: Any, window: MainWindow) -> None:
    key(qtbot, window, Qt.Key.Key_Question)
    overlay = window.help_overlay
    assert overlay is not None
    assert overlay.isVisible()
    assert overlay.hasFocus()
    text = overlay.text()
    for spec in ALL_SPECS:
        keys = key_text(spec)
        if keys:
            assert " / ".join(keys) in text, spec.name
            assert spec.plain_text in text, spec.name
    for expected in ("j / ↓", "k / ↑", "Enter", "e", "d", "s", "+ / =", "-", "o", "u / Ctrl+Z"):
        assert expected in text
    qtbot.keyClick(overlay, Qt.Key.Key_Escape)
    assert not overlay.isVisible()
    assert not window.sync_controller.syncing  # Esc closed the help; it did not reach "Cancel"


def test_w_shows_why(qtbot: Any, window: MainWindow) -> None:
    window.inbox_controller.select_row(0)
    item = window.inbox_controller.current_item()
    assert item is not None
    wait_reading(qtbot, window, item.item_id)
    assert not window.why_panel.isVisible()
    key(qtbot, window, "w")
    assert window.why_panel.isVisible()
    text = window.why_panel.text()
    assert f"Best goal: <b>{item.goal_title}</b>" in text
    assert f"{item.score:.3f}" in text
    assert "Recency" in text  # a prior, as the ranker reports it
    assert "Relevance to each goal" in text
    assert all(goal in text for goal in GOALS)
    key(qtbot, window, "w")
    assert not window.why_panel.isVisible()


def test_letters_typed_into_a_text_field_are_text(
    qtbot: Any, window: MainWindow, profile: FocusDesk
) -> None:
    window.inbox_controller.select_row(0)
    window.goals_panel.add_edit.setFocus()
    qtbot.keyClicks(window.goals_panel.add_edit, "edsujk+")
    assert window.goals_panel.add_edit.text() == "edsujk+"
    settle(qtbot, window)
    assert signals(profile) == []
    assert all(status_of(profile, i.item_id) != "done" for i in window.inbox_model.all_items())
    # In the goals table (not a text field) the inbox keys do not act either.
    window.goals_panel.view.setFocus()
    qtbot.keyClick(window.goals_panel.view, "e")
    settle(qtbot, window)
    assert signals(profile) == []


def test_reading_for_a_while_marks_read_with_the_dwell_time(
    qtbot: Any, window: MainWindow, profile: FocusDesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(item_actions, "MIN_DWELL_S", 0.05)
    window.inbox_controller.select_row(0)
    first = window.inbox_controller.current_item_id()
    assert first is not None
    qtbot.wait(120)
    with qtbot.waitSignal(window.item_actions.item_did_open, timeout=SIGNAL_TIMEOUT_MS) as opened:
        key(qtbot, window, "j")
    assert opened.args[0] == first
    assert opened.args[1] >= 0.05
    assert status_of(profile, first) == "read"
    qtbot.waitUntil(lambda: window.inbox_model.status_of(first) == "read", timeout=2000)
    with profile.store.session() as s:
        fb = s.scalars(select(Feedback).where(Feedback.signal == "open")).one()
        assert fb.item_id == first
        assert fb.value is not None
        assert fb.value >= 0.05


def test_menus_hold_every_action(window: MainWindow) -> None:
    in_menus = {a.objectName() for menu in window.menus.values() for a in menu.actions()}
    for spec in ALL_SPECS:
        assert spec.name in in_menus, spec.name
    assert isinstance(window.menus["item"], QMenu)


def test_window_keys_new_goal_help_and_quit(qtbot: Any, window: MainWindow) -> None:
    qtbot.keyClick(window.inbox_view, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
    assert window.goals_panel.add_edit.hasFocus()
    qtbot.keyClick(window.goals_panel.add_edit, Qt.Key.Key_F1)
    assert window.help_overlay is not None
    assert window.help_overlay.isVisible()
    qtbot.keyClick(window.help_overlay, Qt.Key.Key_Question)
    assert not window.help_overlay.isVisible()
    qtbot.keyClick(window.inbox_view, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert not window.isVisible()


def test_help_also_lists_the_keys_other_features_add(qtbot: Any, window: MainWindow) -> None:
    from PySide6.QtGui import QAction, QKeySequence

    extra = QAction("Start &focus block…", window)
    extra.setObjectName("some_feature")
    extra.setShortcut(QKeySequence("Ctrl+Shift+Y"))
    window.addAction(extra)
    window.toggle_help()
    text = window.help_overlay.text()
    assert "More" in text
    assert "Ctrl+Shift+Y" in text
    assert "Start focus block" in text

"""Fifty items triaged with the keyboard alone: read, done, dismiss, snooze, vote, undo,
search and back. What the database holds at the end is what the keys asked for."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from gui_helpers import SIGNAL_TIMEOUT_MS, ranked_window, settle
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from sqlalchemy import select

from focusdesk.app import FocusDesk
from focusdesk.store.models import Feedback, Item
from focusdesk.ui.help_overlay import shortcut_rows
from focusdesk.ui.main_window import MainWindow
from focusdesk.ui.snooze import SnoozeMenu

ITEMS = 70
TRIAGED = 50


class FakeClock:
    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


def notes(root: Path) -> Path:
    root.mkdir()
    topics = ("firmware release", "battery soak", "hiring loop", "board prep", "soup")
    for i in range(ITEMS):
        topic = topics[i % len(topics)]
        (root / f"note-{i:03d}.md").write_text(
            f"# {topic.capitalize()} {i}\n\nNotes on the {topic}, part {i}.\n", encoding="utf-8"
        )
    return root


@pytest.fixture
def window(qtbot: Any, make_window: Any, profile: FocusDesk, tmp_path: Path) -> MainWindow:
    win: MainWindow = ranked_window(
        qtbot, make_window, profile, notes(tmp_path / "notes"), "firmware release", "hiring"
    )
    settle(qtbot, win)
    win.inbox_view.setFocus()
    return win


def here() -> Any:
    return QApplication.focusWidget()


def press(qtbot: Any, key: Qt.Key | str, mod: Any = Qt.KeyboardModifier.NoModifier) -> None:
    widget = here()
    assert widget is not None, f"the keyboard focus went nowhere before {key!r}"
    if isinstance(key, str):
        qtbot.keyClicks(widget, key)
    else:
        qtbot.keyClick(widget, key, mod)


def act(qtbot: Any, window: MainWindow, key: str) -> None:
    """A key that stores something: wait until it is stored."""
    with qtbot.waitSignal(window.item_actions.item_did_change, timeout=SIGNAL_TIMEOUT_MS):
        press(qtbot, key)


def snooze_tomorrow(qtbot: Any, window: MainWindow) -> None:
    press(qtbot, "s")
    menu = window.item_actions.snooze_menu
    assert isinstance(menu, SnoozeMenu)
    qtbot.waitUntil(menu.isVisible, timeout=SIGNAL_TIMEOUT_MS)
    for _ in range(4):
        active = menu.activeAction()
        if active is not None and active.objectName() == "snooze_tomorrow":
            break
        qtbot.keyClick(menu, Qt.Key.Key_Down)
    assert menu.activeAction().objectName() == "snooze_tomorrow"
    with qtbot.waitSignal(window.item_actions.item_did_change, timeout=SIGNAL_TIMEOUT_MS):
        qtbot.keyClick(menu, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.inbox_view.hasFocus(), timeout=SIGNAL_TIMEOUT_MS)


def undo(qtbot: Any, window: MainWindow) -> Any:
    with qtbot.waitSignal(window.item_actions.undo_did_finish, timeout=SIGNAL_TIMEOUT_MS) as did:
        press(qtbot, "u")
    return did.args[0]


def search_and_back(qtbot: Any, window: MainWindow) -> None:
    before = window.inbox_controller.current_item_id()
    press(qtbot, "/")
    assert window.search.bar.edit.hasFocus()
    with qtbot.waitSignal(window.search.search_did_finish, timeout=SIGNAL_TIMEOUT_MS):
        press(qtbot, "battery soak")
    press(qtbot, Qt.Key.Key_Down)  # into the results
    press(qtbot, Qt.Key.Key_End)  # the last hit
    press(qtbot, Qt.Key.Key_Return)  # read it
    assert window.reader.hasFocus()
    press(qtbot, "/")  # back to the field
    press(qtbot, Qt.Key.Key_Down)  # to the results
    assert window.search.view.hasFocus()
    press(qtbot, Qt.Key.Key_Escape)  # and out of the search
    assert not window.searching
    assert window.inbox_view.hasFocus()
    assert window.inbox_controller.current_item_id() == before


def test_fifty_items_triaged_with_the_keyboard_alone(
    qtbot: Any, window: MainWindow, profile: FocusDesk
) -> None:
    clock = FakeClock()
    window.item_actions.clock = clock
    expected: dict[int, str] = {}
    votes: dict[int, str] = {}
    shown = window.inbox_model.rowCount()
    press(qtbot, Qt.Key.Key_Home)
    for n in range(TRIAGED):
        item = window.inbox_controller.current_item_id()
        assert item is not None, n
        clock.now += 1.5  # read it for a second and a half
        op = n % 5
        if op == 0:
            act(qtbot, window, "e")
            expected[item] = "done"
            if n % 10 == 5:  # changed my mind: undo it, and dismiss it instead
                record = undo(qtbot, window)
                assert record.item_id == item
                assert window.inbox_controller.current_item_id() == item
                act(qtbot, window, "d")
                expected[item] = "dismissed"
        elif op == 1:
            act(qtbot, window, "d")
            expected[item] = "dismissed"
        elif op == 2:
            snooze_tomorrow(qtbot, window)
            expected[item] = "snoozed"
        elif op == 3:
            act(qtbot, window, "+")
            votes[item] = "up"
            if n % 10 == 8:  # no: undo the vote and vote it down
                undo(qtbot, window)
                act(qtbot, window, "-")
                votes[item] = "down"
            expected[item] = "read"
            press(qtbot, "j")
        else:
            press(qtbot, "j")
            expected[item] = "read"
        if n % 12 == 11:
            search_and_back(qtbot, window)
    settle(qtbot, window)
    qtbot.wait(20)

    with profile.store.session() as s:
        stored = dict(s.execute(select(Item.id, Item.status)).all())
    assert {k: stored[k] for k in expected} == expected
    assert {k: v.signal for k, v in profile.triage.votes().items()} == votes
    gone = sum(1 for v in expected.values() if v != "read")
    assert window.inbox_model.rowCount() == shown - gone
    assert window.filter_bar.count_label.text().startswith(f"{shown - gone} ")


def test_p_pins_and_unpins_the_item_shown_on_its_row_and_u_undoes_it(
    qtbot: Any, window: MainWindow, profile: FocusDesk
) -> None:
    assert ("Item", "p", "Pin or unpin") in shortcut_rows()
    assert window.pin_action in window.menus["item"].actions()
    item_id = window.inbox_controller.current_item_id()
    assert item_id is not None
    row = window.inbox_model.row_of(item_id)
    assert row is not None

    def title() -> str:
        return str(window.inbox_model.index(row, 0).data())

    def stored() -> tuple[bool, list[str]]:
        with profile.store.session() as s:
            pinned = bool(s.get(Item, item_id).pinned)  # type: ignore[union-attr]
            signals = list(s.scalars(select(Feedback.signal).where(Feedback.item_id == item_id)))
        return pinned, signals

    act(qtbot, window, "p")
    assert title().startswith("📌 ")
    assert stored() == (True, ["pin"])
    assert (
        window.inbox_controller.current_item_id() == item_id
    )  # pinning keeps the item where it is
    record = undo(qtbot, window)
    assert record.action == "pin"
    assert not title().startswith("📌 ")
    assert stored() == (False, [])
    act(qtbot, window, "p")
    act(qtbot, window, "p")  # again: unpin
    assert not title().startswith("📌 ")
    assert stored() == (False, ["pin", "unpin"])

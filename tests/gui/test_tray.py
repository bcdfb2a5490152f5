"""The tray: high-attention count, quick actions, notifications (held during focus blocks).

Offscreen (as under Xvfb) there is no system tray: the app must work without one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gui_helpers import SIGNAL_TIMEOUT_MS, ranked_window
from PySide6.QtWidgets import QSystemTrayIcon, QWidget

from focusdesk.app import FocusDesk
from focusdesk.records import RankedItem
from focusdesk.ui.main_window import MainWindow
from focusdesk.ui.tray import TrayController, high_attention, notification_text


def item(n: int, score: float, status: str = "new") -> RankedItem:
    return RankedItem(
        item_id=n,
        source_id=1,
        source_kind="notes",
        source_name="vault",
        external_id=str(n),
        title=f"Item {n}",
        author=None,
        published_at=None,
        status=status,
        score=score,
        goal_id=1,
        goal_title="Ship v2",
        evidence="",
        evidence_span=None,
    )


def test_no_tray_here_and_the_window_still_works(
    qtbot: Any, make_window: Any, profile: FocusDesk, notes_dir: Path
) -> None:
    assert not QSystemTrayIcon.isSystemTrayAvailable()
    window: MainWindow = ranked_window(qtbot, make_window, profile, notes_dir, "firmware")
    tray = window.tray
    assert tray.icon is None
    texts = [a.text() for a in tray.menu.actions() if a.text()]
    assert texts[1:] == ["&Show FocusDesk", "Start &focus block", "&Sync now", "&Quit"]
    with qtbot.waitSignal(window.sync_controller.sync_did_finish, timeout=SIGNAL_TIMEOUT_MS):
        tray.sync_action.trigger()
    # The focus feature's action is found by name and triggered from the tray.
    hits: list[bool] = []
    from PySide6.QtGui import QAction

    focus = window.findChild(QAction, "start_focus_block")
    if focus is not None:
        assert tray.focus_action.isEnabled()
        focus.triggered.disconnect()
        focus.triggered.connect(lambda *_: hits.append(True))
        tray.focus_action.trigger()
        assert hits == [True]


def test_count_and_notifications_for_new_high_attention_items(qtbot: Any) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)
    tray = TrayController(parent, available=False)
    first = [item(1, 0.9), item(2, 0.3), item(3, 0.8, status="read")]
    high = high_attention(first, 0.5)
    assert [i.item_id for i in high] == [1]
    tray.ranking_did_change(high, [i.item_id for i in first], notify=True)
    assert tray.count == 1
    assert tray.count_action.text() == "1 new high-attention item"
    assert tray.last_notification is None  # the first ranking only sets what was seen

    second = [*first, item(4, 0.95), item(5, 0.7), item(6, 0.1)]
    tray.ranking_did_change(high_attention(second, 0.5), [i.item_id for i in second], True)
    assert tray.count == 3
    title, text = tray.last_notification or ("", "")
    assert title == "2 new high-attention items"
    assert text.splitlines() == ["• Item 4", "• Item 5"]
    # Nothing new: no new notification.
    tray.last_notification = None
    tray.ranking_did_change(high_attention(second, 0.5), [i.item_id for i in second], True)
    assert tray.last_notification is None


def test_notifications_are_held_during_a_focus_block(qtbot: Any) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)
    tray = TrayController(parent, available=False)
    tray.ranking_did_change([], [], notify=True)
    tray.hold_notifications(True)
    tray.notify([item(7, 0.9)])
    tray.notify([item(8, 0.8), item(7, 0.9)])
    assert tray.last_notification is None
    tray.hold_notifications(False)
    assert tray.last_notification == ("2 new high-attention items", "• Item 7\n• Item 8")
    assert notification_text([item(9, 0.9)]) == (
        "New high-attention item",
        "Item 9 — for “Ship v2”",
    )

"""Triage after reading: done, dismiss and snooze remove the row that was just read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from gui_helpers import SIGNAL_TIMEOUT_MS, ranked_window
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication
from sqlalchemy import select

from focusdesk.app import FocusDesk
from focusdesk.errors import NotFoundError
from focusdesk.store.models import Feedback
from focusdesk.ui.main_window import MainWindow

GOALS = ("firmware release checklist", "hiring embedded engineers")


class FakeClock:
    """A monotonic clock the test moves by hand (reading time without waiting)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def window(
    qtbot: Any, make_window: Any, profile: FocusDesk, notes_dir: Path, clock: FakeClock
) -> MainWindow:
    win: MainWindow = ranked_window(qtbot, make_window, profile, notes_dir, *GOALS)
    win.item_actions.clock = clock
    win.inbox_view.setFocus()
    return win


def press(qtbot: Any, window: MainWindow, key: Qt.Key | str) -> None:
    widget = QApplication.focusWidget() or window.inbox_view
    if isinstance(key, str):
        qtbot.keyClicks(widget, key)
    else:
        qtbot.keyClick(widget, key)


@pytest.mark.parametrize("action", ["e", "d"])
def test_done_or_dismiss_after_reading_removes_the_row(
    qtbot: Any, window: MainWindow, clock: FakeClock, action: str
) -> None:
    press(qtbot, window, "j")  # select and read the top item
    read = window.inbox_controller.current_item_id()
    assert read is not None
    before = window.inbox_model.rowCount()
    clock.now += 1.5  # read it for a second and a half
    with qtbot.waitSignal(window.item_actions.item_did_change, timeout=SIGNAL_TIMEOUT_MS):
        press(qtbot, window, action)
    qtbot.wait(20)  # any delayed mark-as-read has had its turn
    assert window.inbox_model.row_of(read) is None
    assert window.inbox_model.rowCount() == before - 1
    assert window.inbox_controller.current_item_id() != read
    assert window.filter_bar.count_label.text().startswith(f"{before - 1} ")


def test_snooze_after_reading_removes_the_row(
    qtbot: Any, window: MainWindow, clock: FakeClock
) -> None:
    from datetime import UTC, datetime, timedelta

    press(qtbot, window, "j")
    read = window.inbox_controller.current_item_id()
    assert read is not None
    clock.now += 1.5
    with qtbot.waitSignal(window.item_actions.item_did_change, timeout=SIGNAL_TIMEOUT_MS):
        window.item_actions.snooze(datetime.now(UTC) + timedelta(days=1))
    qtbot.wait(20)
    assert window.inbox_model.row_of(read) is None


def test_reading_marks_the_row_read_when_moving_on(
    qtbot: Any, window: MainWindow, clock: FakeClock
) -> None:
    press(qtbot, window, "j")
    read = window.inbox_controller.current_item_id()
    assert read is not None
    clock.now += 1.5
    press(qtbot, window, "j")
    qtbot.waitUntil(lambda: window.inbox_model.status_of(read) == "read", timeout=2000)


def test_closing_the_window_records_the_item_being_read(
    qtbot: Any, window: MainWindow, clock: FakeClock, profile: FocusDesk
) -> None:
    press(qtbot, window, "j")
    read = window.inbox_controller.current_item_id()
    assert read is not None
    clock.now += 1.5
    window.close()  # written on the write lane; the close waits for it
    with profile.store.session() as s:
        opens = s.scalars(select(Feedback).where(Feedback.signal == "open")).all()
        assert [(fb.item_id, fb.value) for fb in opens] == [(read, 1.5)]
    assert profile.items.get(read).status == "read"


def test_o_on_an_item_that_went_away_says_so(
    qtbot: Any, window: MainWindow, profile: FocusDesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[QUrl] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or True)

    def gone(item_id: int) -> Any:
        raise NotFoundError(f"There is no item with id {item_id}.")

    monkeypatch.setattr(profile.items, "get", gone)
    item_id = window.inbox_controller.current_item_id()
    press(qtbot, window, "o")
    qtbot.waitUntil(
        lambda: window.status.message.text() == f"There is no item with id {item_id}.",
        timeout=SIGNAL_TIMEOUT_MS,
    )
    assert opened == []

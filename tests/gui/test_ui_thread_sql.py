"""The guard against SQL on the UI thread (``ui_thread_sql``): what it catches, what not.

These tests name this file as the "UI code" of their own guard, so that a slot of a tiny
widget defined here stands for a widget of ``focusdesk/ui``.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from gui_helpers import SIGNAL_TIMEOUT_MS
from PySide6.QtWidgets import QPushButton
from ui_thread_sql import ALLOWED, REPO_ROOT, UiThreadSql

from focusdesk.app import FocusDesk
from focusdesk.ui.operations import Operations

HERE = Path(__file__)
SITE_FILE = "tests/gui/test_ui_thread_sql.py"


class CountButton(QPushButton):
    """A widget whose slot reads the store on the UI thread (what the guard must catch)."""

    def __init__(self, desk: FocusDesk) -> None:
        super().__init__("Count")
        self.desk = desk
        self.counted: list[int] = []
        self.clicked.connect(self.count_goals)

    def count_goals(self) -> None:
        self.counted.append(len(self.desk.goals.all()))


def local_guard(**kwargs: Any) -> UiThreadSql:
    return UiThreadSql(ui_code=(HERE,), **kwargs)


def test_a_slot_that_queries_on_the_ui_thread_is_caught(qtbot: Any, profile: FocusDesk) -> None:
    button = CountButton(profile)
    qtbot.addWidget(button)
    guard = local_guard()
    with guard.watching():
        button.click()
    assert button.counted == [0]
    assert [hit.key for hit in guard.hits] == [(SITE_FILE, "count_goals")]
    report = guard.report()
    assert "1 SQL statement(s) ran on the UI thread at 1 site(s)" in report
    line = CountButton.count_goals.__code__.co_firstlineno + 1
    assert f"- {SITE_FILE}:{line} count_goals" in report
    assert "FROM goals" in report
    assert "test_a_slot_that_queries_on_the_ui_thread_is_caught" in report  # the chain


def test_the_same_query_in_the_read_lane_is_not_caught(qtbot: Any, profile: FocusDesk) -> None:
    ops = Operations()
    guard = local_guard()
    counted: list[int] = []
    try:
        with guard.watching():
            ops.read(lambda _p, _c: len(profile.goals.all()), on_done=counted.append)
            qtbot.waitUntil(lambda: counted == [0], timeout=SIGNAL_TIMEOUT_MS)
    finally:
        ops.shutdown()
    assert guard.hits == []
    assert guard.report() == ""


def test_ui_code_in_another_thread_is_not_caught(qtbot: Any, profile: FocusDesk) -> None:
    button = CountButton(profile)
    qtbot.addWidget(button)
    guard = local_guard()
    with guard.watching():
        worker = threading.Thread(target=button.count_goals)
        worker.start()
        worker.join(SIGNAL_TIMEOUT_MS / 1000)
    assert button.counted == [0]
    assert guard.hits == []


def test_sql_the_test_runs_itself_is_not_caught(qtbot: Any, profile: FocusDesk) -> None:
    guard = UiThreadSql()  # the real one: this file is test code
    button = CountButton(profile)
    qtbot.addWidget(button)
    with guard.watching():
        profile.goals.add("firmware release")
        button.click()  # a test's widget, not UI code: the test's own SQL
    assert button.counted == [1]
    assert guard.hits == []


def test_an_allowed_site_is_kept_apart_and_not_reported(qtbot: Any, profile: FocusDesk) -> None:
    button = CountButton(profile)
    qtbot.addWidget(button)
    guard = local_guard(allowed={(SITE_FILE, "count_goals"): "allowed for this test"})
    with guard.watching():
        button.click()
    assert guard.hits == []
    assert [hit.key for hit in guard.allowed_hits] == [(SITE_FILE, "count_goals")]
    assert guard.report() == ""


def test_the_guard_stops_listening_when_done(qtbot: Any, profile: FocusDesk) -> None:
    button = CountButton(profile)
    qtbot.addWidget(button)
    guard = local_guard()
    with guard.watching():
        pass
    button.click()
    assert guard.hits == []


def test_every_allowed_site_exists() -> None:
    """An entry whose function went away (its branch landed) is to be deleted."""
    for (file, function), why in ALLOWED.items():
        assert file.startswith("focusdesk/ui/"), file
        assert why, file
        source = (REPO_ROOT / file).read_text(encoding="utf-8")
        assert f"def {function}(" in source, f"{file} has no {function}: delete its entry"

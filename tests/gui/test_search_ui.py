"""Search as you type (/ or Ctrl+F): the same hybrid results as the CLI, highlighted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from gui_helpers import SIGNAL_TIMEOUT_MS, BlockingEncoder, ranked_window, wait_reading
from PySide6.QtCore import Qt

from focusdesk.app import FocusDesk
from focusdesk.ui.main_window import MainWindow
from focusdesk.ui.search_panel import HitRole, marked_html


@pytest.fixture
def window(qtbot: Any, make_window: Any, profile: FocusDesk, notes_dir: Path) -> MainWindow:
    win: MainWindow = ranked_window(qtbot, make_window, profile, notes_dir, "firmware release")
    win.inbox_view.setFocus()
    return win


def type_query(qtbot: Any, window: MainWindow, text: str) -> list[Any]:
    with qtbot.waitSignal(window.search.search_did_finish, timeout=SIGNAL_TIMEOUT_MS) as done:
        qtbot.keyClicks(window.search.bar.edit, text)
    return list(done.args[1])


def test_slash_opens_search_and_results_follow_typing(
    qtbot: Any, window: MainWindow, profile: FocusDesk
) -> None:
    qtbot.keyClick(window.inbox_view, Qt.Key.Key_Slash)
    assert window.searching
    assert window.search.bar.edit.hasFocus()
    assert not window.filter_bar.isVisible()
    hits = type_query(qtbot, window, "interview loop")
    assert [h.item_id for h in hits] == [h.item_id for h in profile.search("interview loop")]
    assert hits[0].title == "Hiring embedded engineers"
    assert window.search.bar.status.text() == f"{len(hits)} result" + ("s" if len(hits) > 1 else "")
    # The first result is selected and shown, the focus stays in the field.
    assert window.inbox_controller.current_item_id() == hits[0].item_id
    wait_reading(qtbot, window, hits[0].item_id)
    assert window.search.bar.edit.hasFocus()
    # Matches are highlighted in what the delegate draws.
    hit = window.search.model.index(0).data(HitRole)
    html = marked_html(hit.snippet, hit.snippet_spans)
    assert "background-color:#ffe27a" in html
    assert ">Interview<" in html or ">interview<" in html.lower()


def test_enter_and_down_go_to_results_and_esc_goes_back(qtbot: Any, window: MainWindow) -> None:
    window.inbox_controller.select_row(2)
    before = window.inbox_controller.current_item_id()
    qtbot.keyClick(window.inbox_view, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.search.bar.edit.hasFocus()
    type_query(qtbot, window, "soup")
    qtbot.keyClick(window.search.bar.edit, Qt.Key.Key_Down)
    assert window.search.view.hasFocus()
    found = window.inbox_controller.current_item_id()
    window.search.bar.edit.setFocus()
    qtbot.keyClick(window.search.bar.edit, Qt.Key.Key_Escape)
    assert not window.searching
    assert window.filter_bar.isVisible()
    assert window.inbox_view.hasFocus()
    # Back where the inbox was (the search was a detour; no jump to the hit read).
    assert window.inbox_controller.current_item_id() == before
    assert found is not None
    assert before is not None


def test_nothing_found_says_so(qtbot: Any, window: MainWindow) -> None:
    window.inbox_controller.open_search()
    hits = type_query(qtbot, window, "zzzqqq")
    assert hits == []
    assert window.search.bar.status.text() == "No results"
    assert window.inbox_controller.current_item_id() is None


def test_while_the_pool_is_busy_keywords_come_at_once(
    qtbot: Any,
    make_window: Any,
    blocking_profile: FocusDesk,
    blocking_encoder: BlockingEncoder,
    notes_dir: Path,
) -> None:
    blocking_profile.sources.add("notes", str(notes_dir))
    blocking_profile.goals.add("firmware")
    window: MainWindow = make_window(blocking_profile)  # it syncs, and blocks in encoding
    qtbot.waitUntil(blocking_encoder.started.is_set, timeout=SIGNAL_TIMEOUT_MS)
    assert window.sync_controller.syncing
    window.inbox_controller.open_search()
    qtbot.keyClicks(window.search.bar.edit, "leek")
    qtbot.waitUntil(lambda: window.search.model.rowCount() == 1, timeout=SIGNAL_TIMEOUT_MS)
    assert window.search.model.hits()[0].title == "Leek soup"
    assert window.search.model.hits()[0].vector_rank is None  # keywords only, for now
    blocking_encoder.release.set()

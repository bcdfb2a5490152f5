"""The main window and its inbox, reader, sync and settings controllers never run SQL on
the UI thread: selecting rows, following a link, syncing and refreshing the sources all
read and write through the operations runner. The guard is the GUI tests' own
(``ui_thread_sql``, autouse in conftest.py); this test walks the window's paths through it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gui_helpers import SIGNAL_TIMEOUT_MS, ranked_window, settle, wait_reading
from ui_thread_sql import UiThreadSql

from focusdesk.app import FocusDesk


def test_no_sql_on_the_ui_thread_while_selecting_syncing_and_refreshing(
    qtbot: Any,
    make_window: Any,
    profile: FocusDesk,
    tmp_path: Path,
    no_sql_on_the_ui_thread: UiThreadSql,
) -> None:
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "plan.md").write_text("# Firmware plan\n\nSee [[checklist]].\n", encoding="utf-8")
    (vault / "checklist.md").write_text("# Checklist\n\nSign the firmware.\n", encoding="utf-8")
    (vault / "soup.md").write_text("# Leek soup\n\nLeeks and potatoes.\n", encoding="utf-8")
    window = ranked_window(qtbot, make_window, profile, vault, "firmware release checklist")
    settle(qtbot, window)
    for row in (0, 1, 2, 1, 0):  # selecting rows: the reader reads in the background
        window.inbox_controller.select_row(row)
        wait_reading(qtbot, window, window.inbox_controller.current_item_id())
    window.inbox_controller.move_selection(1)  # J
    wait_reading(qtbot, window, window.inbox_controller.current_item_id())
    plan = next(i.item_id for i in window.inbox_model.items() if i.title == "Firmware plan")
    window.inbox_controller.select_item(plan)
    wait_reading(qtbot, window, plan)
    window.reader_controller.open_linked_note("checklist")  # a wikilink
    qtbot.waitUntil(
        lambda: (
            window.reader_pane.detail is not None and window.reader_pane.detail.title == "Checklist"
        ),
        timeout=SIGNAL_TIMEOUT_MS,
    )
    sync = window.sync_controller
    with qtbot.waitSignal(window.inbox_controller.rank_did_finish, timeout=SIGNAL_TIMEOUT_MS):
        sync.start_sync()  # a sync, then the re-ranking it causes
    with qtbot.waitSignal(sync.sources_did_load, timeout=SIGNAL_TIMEOUT_MS):
        sync.refresh_sources()
    dialog = sync.open_sources_manager()
    settle(qtbot, window)
    dialog.close()
    settle(qtbot, window)
    assert no_sql_on_the_ui_thread.report() == ""

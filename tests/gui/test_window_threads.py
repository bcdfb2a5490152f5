"""The main window and its inbox, reader, sync and settings controllers never run SQL on
the UI thread: selecting rows, following a link, syncing and refreshing the sources all
read and write through the operations runner."""

from __future__ import annotations

import threading
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gui_helpers import SIGNAL_TIMEOUT_MS, ranked_window, settle, wait_reading
from sqlalchemy import event
from sqlalchemy.engine import Engine

import focusdesk.ui
from focusdesk.app import FocusDesk
from focusdesk.ui import reader_controller

UI = str(Path(focusdesk.ui.__file__).parent)
WATCHED = {
    "main_window.py",
    "inbox_controller.py",
    "reader_controller.py",
    "sync_controller.py",
    "settings_controller.py",
}


def ui_site(stack: list[traceback.FrameSummary]) -> str | None:
    """The innermost UI module on the stack (the code that asked for the statement)."""
    for frame in reversed(stack):
        if frame.filename.startswith(UI):
            return f"{Path(frame.filename).name}:{frame.lineno} {frame.name}"
    return None


@pytest.fixture
def ui_thread_sql() -> Iterator[list[str]]:
    """Statements run on the main thread whose innermost UI frame is one of ``WATCHED``."""
    seen: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        site = ui_site(traceback.extract_stack())
        if site is not None and site.split(":")[0] in WATCHED:
            seen.append(f"{site}: {statement.split()[0]} …")

    event.listen(Engine, "before_cursor_execute", before)
    yield seen
    event.remove(Engine, "before_cursor_execute", before)


def test_the_listener_sees_a_read_from_the_ui_thread(
    qtbot: Any, make_window: Any, profile: FocusDesk, ui_thread_sql: list[str]
) -> None:
    """The guard itself: a read from a watched module on the UI thread is caught."""
    window = make_window(profile)
    settle(qtbot, window)
    assert ui_thread_sql == []
    exec(  # a statement that runs "in" reader_controller.py, on this thread
        compile("desk.sources.all()", reader_controller.__file__, "exec"), {"desk": profile}
    )
    assert ui_thread_sql  # the source list's statements, all caught
    assert all(site.startswith("reader_controller.py:1 ") for site in ui_thread_sql)


def test_no_sql_on_the_ui_thread_while_selecting_syncing_and_refreshing(
    qtbot: Any, make_window: Any, profile: FocusDesk, tmp_path: Path, ui_thread_sql: list[str]
) -> None:
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "plan.md").write_text("# Firmware plan\n\nSee [[checklist]].\n", encoding="utf-8")
    (vault / "checklist.md").write_text("# Checklist\n\nSign the firmware.\n", encoding="utf-8")
    (vault / "soup.md").write_text("# Leek soup\n\nLeeks and potatoes.\n", encoding="utf-8")
    window = ranked_window(qtbot, make_window, profile, vault, "firmware release checklist")
    settle(qtbot, window)
    for row in (0, 1, 2, 1, 0):  # selecting rows: the reader reads in the background
        window.select_row(row)
        wait_reading(qtbot, window, window.current_item_id())
    window.inbox_controller.move_selection(1)  # J
    wait_reading(qtbot, window, window.current_item_id())
    plan = next(i.item_id for i in window.inbox_model.items() if i.title == "Firmware plan")
    window.select_item(plan)
    wait_reading(qtbot, window, plan)
    window.reader_controller.open_linked_note("checklist")  # a wikilink
    qtbot.waitUntil(
        lambda: (
            window.reader_pane.detail is not None and window.reader_pane.detail.title == "Checklist"
        ),
        timeout=SIGNAL_TIMEOUT_MS,
    )
    sync = window.sync_controller
    with qtbot.waitSignal(window.rank_did_finish, timeout=SIGNAL_TIMEOUT_MS):
        sync.start_sync()  # a sync, then the re-ranking it causes
    with qtbot.waitSignal(sync.sources_did_load, timeout=SIGNAL_TIMEOUT_MS):
        sync.refresh_sources()
    dialog = sync.open_sources_manager()
    settle(qtbot, window)
    dialog.close()
    settle(qtbot, window)
    assert ui_thread_sql == []

"""The sources' list is read in the background and fills the panel when it arrives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gui_helpers import SIGNAL_TIMEOUT_MS, ranked_window, settle

from focusdesk.app import FocusDesk


def panel_names(window: Any) -> list[str]:
    model = window.sources_panel.model
    return [model.index(row, 0).data().split("\n")[0] for row in range(model.rowCount())]


def test_a_sources_refresh_fills_the_panel(
    qtbot: Any, make_window: Any, profile: FocusDesk, notes_dir: Path, tmp_path: Path
) -> None:
    window = ranked_window(qtbot, make_window, profile, notes_dir, "firmware release checklist")
    settle(qtbot, window)
    assert panel_names(window) == ["notes"]
    other = tmp_path / "journal"
    other.mkdir()
    profile.sources.add("notes", str(other), "journal")  # added elsewhere (the CLI)
    sync = window.sync_controller
    with qtbot.waitSignal(sync.sources_did_load, timeout=SIGNAL_TIMEOUT_MS) as loaded:
        sync.refresh_sources()
        assert panel_names(window) == ["notes"]  # the read is on its way
    assert [s.name for s in loaded.args[0]] == ["notes", "journal"]
    assert panel_names(window) == ["notes", "journal"]
    assert [s.name for s in sync.sources] == ["notes", "journal"]
    combo = window.filter_bar.source_combo
    assert [combo.itemText(i) for i in range(combo.count())][1:] == ["notes", "journal"]


def test_only_the_newest_refresh_is_shown(
    qtbot: Any, make_window: Any, profile: FocusDesk, tmp_path: Path
) -> None:
    window = make_window(profile)
    sync = window.sync_controller
    qtbot.waitUntil(lambda: sync.loaded, timeout=SIGNAL_TIMEOUT_MS)
    loads: list[list[Any]] = []
    sync.sources_did_load.connect(loads.append)
    sync.refresh_sources()
    (tmp_path / "later").mkdir()
    profile.sources.add("notes", str(tmp_path / "later"), "later")
    sync.refresh_sources()
    settle(qtbot, window)
    assert [[s.name for s in load] for load in loads] == [["later"]]


def test_a_sync_asked_for_before_the_sources_are_read_runs_when_they_are(
    qtbot: Any, make_window: Any, profile: FocusDesk, notes_dir: Path
) -> None:
    profile.sources.add("notes", str(notes_dir))
    window = make_window(profile, show=False)
    sync = window.sync_controller
    with qtbot.waitSignal(sync.sync_did_finish, timeout=SIGNAL_TIMEOUT_MS) as synced:
        sync.start_sync()  # at once: the sources' list may still be on its way
    assert synced.args[0].total("added") == 3
    settle(qtbot, window)
    assert sync.sources[0].last_sync_at is not None
    assert "notes" in panel_names(window)

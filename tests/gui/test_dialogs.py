"""The dialogs: settings, sources manager, add source (IMAP test included), goals editor."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from gui_helpers import SIGNAL_TIMEOUT_MS, ranked_window, settle
from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QMessageBox

from focusdesk.app import FocusDesk
from focusdesk.settings import load_settings
from focusdesk.ui import add_source as add_source_module
from focusdesk.ui.add_source import AddSourceDialog
from focusdesk.ui.main_window import MainWindow
from focusdesk.ui.settings_dialog import SettingsDialog
from focusdesk.ui.sources_manager import Col, SourcesDialog


def ok(dialog: Any) -> None:
    buttons = dialog.findChild(QDialogButtonBox)
    buttons.button(QDialogButtonBox.StandardButton.Ok).click()


# -- settings ---------------------------------------------------------------------------
def test_settings_dialog_saves_and_applies(
    qtbot: Any, make_window: Any, profile: FocusDesk
) -> None:
    window: MainWindow = make_window(profile)
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    before = app.palette().color(QPalette.ColorRole.Window)
    qtbot.keyClick(window, Qt.Key.Key_Comma, Qt.KeyboardModifier.ControlModifier)
    dialog = window.findChild(SettingsDialog)
    assert dialog is not None
    assert dialog.isVisible()
    assert dialog.device_combo.currentData() == "auto"
    assert dialog.theme_combo.currentData() == "system"
    dialog.device_combo.setCurrentIndex(dialog.device_combo.findData("cpu"))
    assert dialog.backend_combo.currentData() == "auto"
    dialog.backend_combo.setCurrentIndex(dialog.backend_combo.findData("torch-fp32"))
    dialog.focus_spin.setValue(7)
    dialog.sync_spin.setValue(0)
    assert dialog.sync_spin.text() == "Only by hand"
    dialog.retention_spin.setValue(0)
    assert dialog.retention_spin.text() == "Forever"
    dialog.theme_combo.setCurrentIndex(dialog.theme_combo.findData("dark"))
    with qtbot.waitSignal(
        window.settings_controller.settings_did_change, timeout=SIGNAL_TIMEOUT_MS
    ) as changed:
        ok(dialog)
    assert changed.args[0] == {
        "device": "cpu",
        "encoder_backend": "torch-fp32",
        "focus_top_k": 7,
        "sync_interval_minutes": 0,
        "dismissed_retention_days": 0,
        "theme": "dark",
    }
    settle(qtbot, window)
    saved = load_settings(profile.paths.settings_file)
    assert (saved.device, saved.focus_top_k, saved.theme) == ("cpu", 7, "dark")
    assert saved.encoder_backend == "torch-fp32"
    assert "next start" in window.status_label.text()  # the device changes at restart
    assert app.palette().color(QPalette.ColorRole.Window).lightness() < 80  # dark now
    # Back to the system's look.
    dialog = window.settings_controller.open_settings()
    dialog.theme_combo.setCurrentIndex(dialog.theme_combo.findData("system"))
    with qtbot.waitSignal(
        window.settings_controller.settings_did_change, timeout=SIGNAL_TIMEOUT_MS
    ):
        ok(dialog)
    assert app.palette().color(QPalette.ColorRole.Window) == before


def test_settings_dialog_lists_and_removes_allowed_senders(qtbot: Any, profile: FocusDesk) -> None:
    profile.settings.remote_content_senders = ["a@example.com", "news.example.org"]
    dialog = SettingsDialog(profile.settings)
    qtbot.addWidget(dialog)
    assert dialog.changes() == {}
    dialog.remote_list.setCurrentRow(0)
    dialog.remote_remove.click()
    assert dialog.changes() == {"remote_content_senders": ["news.example.org"]}


# -- sources manager -------------------------------------------------------------------------
def test_failed_items_and_their_reasons_show_in_the_sources_views(qtbot: Any) -> None:
    from datetime import UTC, datetime

    from focusdesk.records import SourceInfo
    from focusdesk.ui.sources_manager import SourcesTableModel
    from focusdesk.ui.sources_panel import SourcesModel

    reason = "it could not be saved: its title holds an invalid character (U+D800, …)"
    src = SourceInfo(
        1, "feed", "News", "https://example.org/feed", True, 12, datetime.now(UTC), None,
        failed=1, failures=(("entry-7", reason),),
    )  # fmt: skip
    table = SourcesTableModel()
    table.set_sources([src])
    assert table.index(0, Col.ITEMS).data() == "12 (1 failed)"
    tip = table.index(0, Col.ITEMS).data(Qt.ItemDataRole.ToolTipRole)
    assert tip == f"1 item could not be read or saved:\n• entry-7: {reason}"
    panel = SourcesModel()
    panel.set_sources([src])
    assert panel.index(0).data() == "News\n12 items · 1 failed · read just now"
    assert f"• entry-7: {reason}" in panel.index(0).data(Qt.ItemDataRole.ToolTipRole)
    dialog = SourcesDialog()
    qtbot.addWidget(dialog)
    dialog.set_sources([src])  # selects it: the details box lists what failed
    assert dialog.error_view.toPlainText() == tip


def test_the_sources_views_say_when_a_source_was_read_by_the_profiles_clock(qtbot: Any) -> None:
    from datetime import timedelta

    from fakes import ManualClock

    from focusdesk.records import SourceInfo
    from focusdesk.ui.sources_manager import SourcesTableModel
    from focusdesk.ui.sources_panel import SourcesModel

    clock = ManualClock()  # far from the wall clock: a wall-clock read would say "weeks ago"
    read = clock.now() - timedelta(hours=3)
    src = SourceInfo(1, "feed", "News", "https://example.org/feed", True, 12, read, None)
    table = SourcesTableModel(clock=clock)
    table.set_sources([src])
    assert table.index(0, Col.LAST_SYNC).data() == "3 h ago"
    panel = SourcesModel(clock=clock)
    panel.set_sources([src])
    assert panel.index(0).data() == "News\n12 items · read 3 h ago"
    clock.at += timedelta(days=2)
    panel.set_sources([src])
    assert panel.index(0).data() == "News\n12 items · read 2 d ago"


def test_sources_manager_shows_status_and_acts(
    qtbot: Any,
    make_window: Any,
    profile: FocusDesk,
    notes_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    missing = tmp_path / "gone.mbox"
    missing.write_text("From a@b Mon Jan  1 00:00:00 2024\nSubject: x\n\nx\n")
    broken = profile.sources.add("mbox", str(missing), name="Old mail")
    missing.unlink()
    window: MainWindow = ranked_window(qtbot, make_window, profile, notes_dir, "firmware")
    qtbot.keyClick(
        window,
        Qt.Key.Key_S,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    dialog = window.findChild(SourcesDialog)
    assert dialog is not None
    assert dialog.isVisible()
    model = dialog.model
    rows = {model.index(r, Col.NAME).data(): r for r in range(model.rowCount())}
    assert set(rows) == {"Old mail", "notes"}
    assert model.index(rows["Old mail"], Col.STATUS).data() == "Failed"
    assert "gone.mbox" in model.index(rows["Old mail"], Col.ERROR).data()
    assert model.index(rows["notes"], Col.STATUS).data() == "OK"
    assert model.index(rows["notes"], Col.ITEMS).data() == "3"
    assert model.index(rows["notes"], Col.LAST_SYNC).data() == "just now"
    dialog.select_source(broken.id)
    assert "gone.mbox" in dialog.error_view.toPlainText()

    # Disable, then enable again.
    with qtbot.waitSignal(window.sync_controller.source_did_change, timeout=SIGNAL_TIMEOUT_MS):
        dialog.enable_button.click()
    assert profile.sources.get(broken.id).enabled is False
    assert model.index(model.row_of(broken.id) or 0, Col.STATUS).data() == "Disabled"
    assert dialog.enable_button.text() == "&Enable"
    assert not dialog.sync_button.isEnabled()
    with qtbot.waitSignal(window.sync_controller.source_did_change, timeout=SIGNAL_TIMEOUT_MS):
        dialog.enable_button.click()
    assert profile.sources.get(broken.id).enabled is True

    # Sync now syncs that one source.
    notes = next(s for s in profile.sources.all() if s.name == "notes")
    dialog.select_source(notes.id)
    with qtbot.waitSignal(
        window.sync_controller.sync_did_finish, timeout=SIGNAL_TIMEOUT_MS
    ) as synced:
        dialog.sync_button.click()
    assert [r.source_id for r in synced.args[0].reports] == [notes.id]

    # Remove asks first; "No" keeps it.
    answers = [QMessageBox.StandardButton.No]
    monkeypatch.setattr(QMessageBox, "question", lambda *_a: answers[0])
    dialog.select_source(broken.id)
    dialog.remove_button.click()
    settle(qtbot, window)
    assert len(profile.sources.all()) == 2
    answers[0] = QMessageBox.StandardButton.Yes
    with qtbot.waitSignal(window.sync_controller.source_did_remove, timeout=SIGNAL_TIMEOUT_MS):
        dialog.remove_button.click()
    assert [s.name for s in profile.sources.all()] == ["notes"]
    assert model.rowCount() == 1


# -- add source ------------------------------------------------------------------------------
def test_add_source_dialog_adds_a_notes_folder_and_reads_it(
    qtbot: Any, make_window: Any, profile: FocusDesk, notes_dir: Path
) -> None:
    window: MainWindow = make_window(profile)
    qtbot.keyClick(
        window,
        Qt.Key.Key_A,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    dialog = window.findChild(AddSourceDialog)
    assert dialog is not None
    assert dialog.kind == "notes"
    ok(dialog)  # nothing chosen yet
    assert dialog.isVisible()
    assert "Choose the notes folder" in dialog.error.text()
    dialog.notes_path.edit.setText(str(notes_dir))
    dialog.name_edit.setText("My vault")
    with qtbot.waitSignal(window.sync_controller.sync_did_finish, timeout=SIGNAL_TIMEOUT_MS):
        ok(dialog)
    assert [(s.kind, s.name, s.item_count) for s in profile.sources.all()] == [
        ("notes", "My vault", 3)
    ]


def test_add_source_dialog_pages(qtbot: Any, tmp_path: Path) -> None:
    dialog = AddSourceDialog(kind="feed")
    qtbot.addWidget(dialog)
    assert dialog.pages.currentIndex() == 3
    assert "feed" in dialog.hint.text().lower()
    dialog.feed_url.edit.setText("https://example.org/feed.xml")
    dialog.feed_group.setText("News")
    spec = dialog.collect()
    assert (spec.kind, spec.uri, spec.config) == (
        "feed",
        "https://example.org/feed.xml",
        {"group": "News"},
    )
    dialog.set_kind("maildir")
    dialog.maildir_path.edit.setText(str(tmp_path))
    assert dialog.collect().kind == "maildir"
    dialog.set_kind("mbox")
    assert dialog.pages.currentIndex() == 1


def test_imap_page_checks_the_account_and_tests_the_connection(
    qtbot: Any, make_window: Any, profile: FocusDesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    window: MainWindow = make_window(profile)
    dialog = window.sync_controller.open_add_source("imap")
    assert dialog.kind == "imap"
    dialog.imap_host.setText("imap.example.org")
    dialog.imap_user.setText("me@example.org")
    dialog.imap_security.setCurrentIndex(dialog.imap_security.findData("starttls"))
    assert dialog.imap_port.value() == 143
    dialog.imap_folders.setText("INBOX, Lists/dev")
    spec = dialog.collect()
    assert spec.kind == "imap"
    assert spec.uri == "imap://me%40example.org@imap.example.org:143/"
    assert spec.config == {
        "host": "imap.example.org",
        "user": "me@example.org",
        "port": 143,
        "starttls": True,
        "folders": ["INBOX", "Lists/dev"],
    }
    assert spec.password is None
    # No password: the test asks for one, without connecting.
    dialog.test_button.click()
    assert "password" in dialog.test_result.text().lower()

    calls: list[tuple[str, dict[str, Any], str]] = []

    def fake_test(uri: str, config: dict[str, Any], password: str) -> str:
        calls.append((uri, config, password))
        return "Connected to imap.example.org:143 with STARTTLS and logged in as me@example.org."

    monkeypatch.setattr(add_source_module, "test_imap_connection", fake_test)
    dialog.imap_password.setText("s3cret")
    dialog.test_button.click()
    assert not dialog.test_button.isEnabled()  # running in the background
    qtbot.waitUntil(lambda: "Connected" in dialog.test_result.text(), timeout=SIGNAL_TIMEOUT_MS)
    assert dialog.test_button.isEnabled()
    assert calls == [(spec.uri, spec.config, "s3cret")]

    def failing(uri: str, config: dict[str, Any], password: str) -> str:
        from focusdesk.errors import SourceError

        raise SourceError("The server refused the password for me@example.org.")

    monkeypatch.setattr(add_source_module, "test_imap_connection", failing)
    dialog.test_button.click()
    qtbot.waitUntil(lambda: "refused" in dialog.test_result.text(), timeout=SIGNAL_TIMEOUT_MS)
    dialog.imap_host.setText("bad host name!")
    ok(dialog)
    assert dialog.isVisible()
    assert dialog.error.isVisible()
    dialog.reject()


def test_an_imap_account_is_added_with_its_password_kept(
    qtbot: Any, make_window: Any, profile: FocusDesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    from focusdesk.sources.credentials import PasswordStore

    profile.sources.passwords = PasswordStore(use_keyring=False)
    window: MainWindow = make_window(profile)
    monkeypatch.setattr(
        window.sync_controller, "start_sync", lambda *a, **k: None
    )  # no server to read
    dialog = window.sync_controller.open_add_source("imap")
    dialog.imap_host.setText("imap.example.org")
    dialog.imap_user.setText("me")
    dialog.imap_password.setText("pw")
    with qtbot.waitSignal(
        window.sync_controller.source_did_add, timeout=SIGNAL_TIMEOUT_MS
    ) as added:
        ok(dialog)
    info = added.args[0]
    assert (info.kind, info.name) == ("imap", "me@imap.example.org")
    assert profile.sources.passwords.get("me", "imap.example.org", 993) == "pw"


# -- goals editor ----------------------------------------------------------------------------------
def test_goals_can_be_archived_and_restored(
    qtbot: Any, make_window: Any, profile: FocusDesk, notes_dir: Path
) -> None:
    window: MainWindow = ranked_window(qtbot, make_window, profile, notes_dir, "firmware", "soup")
    panel = window.goals_panel
    firmware = profile.goals.all()[0]
    panel.select_goal(firmware.id)
    assert panel.archive_button.text() == "Arc&hive"
    with qtbot.waitSignal(
        window.inbox_controller.rank_did_finish, timeout=SIGNAL_TIMEOUT_MS
    ) as ranked:
        panel.archive_button.click()
    assert profile.goals.all()[0].active is False
    assert {i.goal_title for i in ranked.args[0]} == {"soup"}
    assert panel.archive_button.text() == "Rest&ore"
    goals = [
        window.filter_bar.goal_combo.itemText(i)
        for i in range(window.filter_bar.goal_combo.count())
    ]
    assert goals == ["All goals", "soup"]
    with qtbot.waitSignal(window.inbox_controller.rank_did_finish, timeout=SIGNAL_TIMEOUT_MS):
        panel.archive_button.click()
    assert profile.goals.all()[0].active is True

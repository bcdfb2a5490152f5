"""Add source: a path that does not exist is an inline error; the dialog keeps what was typed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gui_helpers import SIGNAL_TIMEOUT_MS, settle
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

from focusdesk.app import FocusDesk
from focusdesk.ui.add_source import AddSourceDialog
from focusdesk.ui.main_window import MainWindow


def click_add(qtbot: Any, dialog: AddSourceDialog) -> None:
    button = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_a_missing_folder_is_an_inline_error_and_nothing_typed_is_lost(
    qtbot: Any,
    make_window: Any,
    profile: FocusDesk,
    tmp_path: Path,
    notes_dir: Path,
    monkeypatch: Any,
) -> None:
    modal: list[str] = []
    monkeypatch.setattr(
        "focusdesk.ui.errors.show_message", lambda _parent, title, _text: modal.append(title)
    )
    window: MainWindow = make_window(profile)
    qtbot.keyClick(
        window,
        Qt.Key.Key_A,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    dialog = window.findChild(AddSourceDialog)
    assert dialog is not None
    missing = tmp_path / "no-such-vault"
    qtbot.keyClicks(dialog.notes_path.edit, str(missing))
    qtbot.keyClicks(dialog.name_edit, "My vault")
    click_add(qtbot, dialog)
    qtbot.waitUntil(lambda: dialog.error.isVisible(), timeout=SIGNAL_TIMEOUT_MS)
    settle(qtbot, window)
    assert dialog.isVisible()  # still open
    assert "does not exist" in dialog.error.text()
    assert dialog.notes_path.text() == str(missing)  # what was typed is kept
    assert dialog.name_edit.text() == "My vault"
    assert modal == []  # no modal message on top
    assert profile.sources.all() == []

    # Correct the path in the same dialog: it is added and the dialog closes.
    dialog.notes_path.edit.clear()
    qtbot.keyClicks(dialog.notes_path.edit, str(notes_dir))
    with qtbot.waitSignal(window.sync_controller.source_did_add, timeout=SIGNAL_TIMEOUT_MS):
        click_add(qtbot, dialog)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=SIGNAL_TIMEOUT_MS)
    assert [s.name for s in profile.sources.all()] == ["My vault"]

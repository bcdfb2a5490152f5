"""Settings: start FocusDesk in the tray at login (an XDG autostart entry for this profile)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gui_helpers import SIGNAL_TIMEOUT_MS
from PySide6.QtWidgets import QDialogButtonBox

from focusdesk import desktop_entry
from focusdesk.app import FocusDesk
from focusdesk.settings import load_settings
from focusdesk.ui.main_window import MainWindow


def _ok(dialog: Any) -> None:
    dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()


def test_start_in_tray_at_login_writes_and_removes_the_autostart_entry(
    qtbot: Any, make_window: Any, profile: FocusDesk, tmp_path: Path
) -> None:
    window: MainWindow = make_window(profile)
    autostart = tmp_path / "xdg-config" / "autostart" / "org.focusdesk.FocusDesk.desktop"
    dialog = window.settings_controller.open_settings()
    assert not dialog.autostart_box.isChecked()
    dialog.autostart_box.setChecked(True)
    with qtbot.waitSignal(
        window.settings_controller.settings_did_change, timeout=SIGNAL_TIMEOUT_MS
    ) as changed:
        _ok(dialog)
    assert changed.args[0] == {"start_in_tray_at_login": True}
    exec_line = next(x for x in autostart.read_text().splitlines() if x.startswith("Exec="))
    assert desktop_entry._split_exec(exec_line.removeprefix("Exec=")) == [
        *desktop_entry.launcher(),
        "--data-dir",
        str(profile.paths.data_dir),
        "run",
        "--tray",
    ]
    qtbot.waitUntil(
        lambda: load_settings(profile.paths.settings_file).start_in_tray_at_login,
        timeout=SIGNAL_TIMEOUT_MS,
    )

    dialog = window.settings_controller.open_settings()
    assert dialog.autostart_box.isChecked()
    dialog.autostart_box.setChecked(False)
    with qtbot.waitSignal(
        window.settings_controller.settings_did_change, timeout=SIGNAL_TIMEOUT_MS
    ):
        _ok(dialog)
    assert not autostart.exists()

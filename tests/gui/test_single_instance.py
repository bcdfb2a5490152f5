"""A second start of the app on the same profile brings the first window forward."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from focusdesk.app import FocusDesk
from focusdesk.ui.single_instance import SingleInstance, server_name


def test_the_second_instance_reaches_the_first(qtbot: Any, tmp_path: Path) -> None:
    first = SingleInstance(server_name(tmp_path / "profile"))
    assert first.listen()
    try:
        other_profile = SingleInstance(server_name(tmp_path / "another profile"))
        assert not other_profile.notify_running()
        with qtbot.waitSignal(first.activation_requested, timeout=5000):
            assert SingleInstance(server_name(tmp_path / "profile")).notify_running()
    finally:
        first.close()
    assert not SingleInstance(server_name(tmp_path / "profile")).notify_running()


def test_a_second_start_shows_the_first_window_and_opens_no_store(
    qtbot: Any,
    tmp_path: Path,
    profile: FocusDesk,
    capsys: Any,
) -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from focusdesk.ui.main import run, start_window

    wanted = tmp_path / "wanted profile"  # the profile the first instance holds
    first = SingleInstance(server_name(wanted))
    assert first.listen()
    window = start_window(profile, first, tray=True)  # no tray offscreen: shown all the same
    qtbot.addWidget(window)
    try:
        qtbot.waitExposed(window)
        window.hide()  # as if closed to the tray
        # Should the second start open a window after all, close it so that run() returns.
        QTimer.singleShot(3000, QApplication.closeAllWindows)
        assert run(str(wanted)) == 0
        assert "already running" in capsys.readouterr().out
        assert not wanted.exists()  # no second profile, no second store writer
        qtbot.waitUntil(window.isVisible, timeout=5000)
    finally:
        window.close()
        first.close()

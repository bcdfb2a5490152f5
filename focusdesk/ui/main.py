"""Starts the desktop app: a QApplication, the profile, the main window, the event loop."""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QApplication, QMessageBox

from focusdesk.errors import KnownError
from focusdesk.package_data import APP_ID

from .single_instance import SingleInstance, server_name
from .style import app_icon

if TYPE_CHECKING:
    from focusdesk.app import FocusDesk

    from .main_window import MainWindow

log = logging.getLogger(__name__)


def run(data_dir: str | None, *, demo: bool = False, tray: bool = False) -> int:
    """Run FocusDesk on the profile in ``data_dir`` (None: the default one); the exit code.

    With ``tray`` the window starts hidden in the tray (shown where there is no tray).
    When FocusDesk already runs on this profile, its window comes forward and this
    start returns 0 without opening the profile.
    """
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("FocusDesk")
    app.setOrganizationName("FocusDesk")
    app.setApplicationDisplayName("FocusDesk")
    app.setDesktopFileName(APP_ID)
    app.setWindowIcon(app_icon())

    from focusdesk.app import FocusDesk
    from focusdesk.paths import resolve_paths

    instance = SingleInstance(server_name(resolve_paths(data_dir).data_dir))
    if instance.notify_running():
        print("FocusDesk is already running on this profile: its window was brought forward.")
        return 0
    instance.listen()
    try:
        desk = FocusDesk.open(data_dir)
    except KnownError as exc:
        instance.close()
        log.error("Could not open the profile: %s", exc.user_text())
        print(f"focusdesk: {exc.user_text()}", file=sys.stderr)
        QMessageBox.critical(None, "FocusDesk", exc.user_text())
        return 1

    try:
        start_window(desk, instance, demo=demo, tray=tray)
        return app.exec()
    finally:
        instance.close()
        desk.close()


def start_window(
    desk: FocusDesk, instance: SingleInstance, *, demo: bool = False, tray: bool = False
) -> MainWindow:
    """The main window on ``desk``, brought forward when another start asks ``instance``."""
    from .main_window import MainWindow

    window = MainWindow(desk, demo=demo)
    instance.activation_requested.connect(window.bring_to_front)
    if tray and window.tray.available:
        log.info("Started in the tray")
    else:
        window.show()
    return window

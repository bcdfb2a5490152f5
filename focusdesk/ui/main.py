"""Starts the desktop app: a QApplication, the profile, the main window, the event loop."""

from __future__ import annotations

import logging
import sys

from PySide6.QtWidgets import QApplication, QMessageBox

from focusdesk.errors import KnownError

log = logging.getLogger(__name__)


def run(data_dir: str | None, *, demo: bool = False) -> int:
    """Run FocusDesk on the profile in ``data_dir`` (None: the default one); the exit code."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("FocusDesk")
    app.setOrganizationName("FocusDesk")
    app.setApplicationDisplayName("FocusDesk")
    app.setDesktopFileName("focusdesk")

    from focusdesk.app import FocusDesk

    try:
        desk = FocusDesk.open(data_dir)
    except KnownError as exc:
        log.error("Could not open the profile: %s", exc.user_text())
        QMessageBox.critical(None, "FocusDesk", exc.user_text())
        return 1

    from .main_window import MainWindow

    try:
        window = MainWindow(desk, demo=demo)
        window.show()
        return app.exec()
    finally:
        desk.close()

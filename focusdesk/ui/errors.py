"""The one dialog that reports errors: user messages plainly, bugs with their traceback."""

from __future__ import annotations

import logging
import traceback

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from focusdesk.errors import KnownError

log = logging.getLogger(__name__)

BUG_TEXT = "Something went wrong inside FocusDesk. This is a bug, not something you did."
BUG_HINT = "Your data is safe. If it keeps happening, please report it with the details below."


def show_error(parent: QWidget | None, exc: BaseException, tb: str | None = None) -> QMessageBox:
    """Show ``exc`` without blocking: a KnownError as its message, anything else as a bug."""
    box = QMessageBox(parent)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setWindowModality(Qt.WindowModality.WindowModal)
    box.setAccessibleName("Error")
    if isinstance(exc, KnownError):
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("FocusDesk")
        box.setText(exc.message)
        if exc.hint:
            box.setInformativeText(exc.hint)
    else:
        details = tb or "".join(traceback.format_exception(exc))
        log.error("Reporting a bug to the user: %r", exc)
        box.setIcon(QMessageBox.Icon.Critical)
        box.setWindowTitle("FocusDesk — unexpected error")
        box.setText(BUG_TEXT)
        box.setInformativeText(f"{type(exc).__name__}: {exc}\n\n{BUG_HINT}")
        box.setDetailedText(details)
    box.setStandardButtons(QMessageBox.StandardButton.Close)
    box.open()
    return box


def show_message(parent: QWidget | None, title: str, text: str) -> QMessageBox:
    """A non-blocking warning with a user message (a KnownError's ``user_text``)."""
    box = QMessageBox(
        QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Close, parent
    )
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setWindowModality(Qt.WindowModality.WindowModal)
    box.setAccessibleName(title)
    box.open()
    return box

"""Asking for a mail password while a sync runs in the background.

``PasswordStore`` calls its provider from the sync worker thread. The provider hands
the question to the UI thread (a queued signal), which shows a non-blocking password
dialog; the worker waits for the answer (or for the window to close) on an event, so
the UI thread never waits for the worker.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QInputDialog, QLineEdit, QWidget

WAIT_S = 600.0


@dataclass
class _Question:
    request: Any
    answer: str | None = None
    done: threading.Event = field(default_factory=threading.Event)


class PasswordPrompter(QObject):
    """A ``PasswordStore`` provider that asks the user in a dialog."""

    _question_did_arrive = Signal(object)

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self._parent = parent
        self._open: list[_Question] = []
        self._question_did_arrive.connect(self._ask)
        self.dialog: QInputDialog | None = None

    def __call__(self, request: Any) -> str | None:
        """Called by the worker: wait for the user's answer (None when declined)."""
        question = _Question(request)
        self._question_did_arrive.emit(question)
        question.done.wait(WAIT_S)
        return question.answer

    def _ask(self, question: _Question) -> None:
        self._open.append(question)
        dialog = QInputDialog(self._parent)
        dialog.setWindowTitle("Mail password")
        dialog.setAccessibleName("Mail password")
        dialog.setInputMode(QInputDialog.InputMode.TextInput)
        dialog.setTextEchoMode(QLineEdit.EchoMode.Password)
        prompt = getattr(question.request, "prompt", None)
        dialog.setLabelText(str(prompt) if prompt else "Password:")
        self.dialog = dialog

        def answered() -> None:
            question.answer = dialog.textValue() or None
            self._finish(question)

        dialog.accepted.connect(answered)
        dialog.rejected.connect(lambda: self._finish(question))
        dialog.open()

    def _finish(self, question: _Question) -> None:
        if question in self._open:
            self._open.remove(question)
        question.done.set()

    def release_all(self) -> None:
        """Answer every open question with "no" (the window is closing)."""
        for question in list(self._open):
            self._finish(question)

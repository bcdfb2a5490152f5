"""The page shown instead of the inbox while there is nothing to rank yet."""

from __future__ import annotations

from enum import Enum

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from .style import MutedLabel, heading


class EmptyReason(Enum):
    NO_SOURCES = "no_sources"
    NO_GOALS = "no_goals"
    READING = "reading"
    RANKING = "ranking"
    NO_ITEMS = "no_items"


TEXTS: dict[EmptyReason, tuple[str, str]] = {
    EmptyReason.NO_SOURCES: (
        "Welcome to FocusDesk",
        "Add a notes folder, a mailbox or a feed, then add a goal.\n"
        "FocusDesk reads them on this computer and ranks every item by how much it "
        "matters to your goals. Nothing leaves your machine.",
    ),
    EmptyReason.NO_GOALS: (
        "Now add a goal",
        "Type what you are working on in the Goals panel on the left, "
        "for example “Ship the v2 firmware” or “Hire two embedded engineers”, "
        "or tick a paused goal.\nYour items are then ranked against your goals.",
    ),
    EmptyReason.READING: (
        "Reading your sources…",
        "The first read encodes every passage, which can take a minute. "
        "The progress is shown at the bottom of the window.",
    ),
    EmptyReason.RANKING: (
        "Ranking your items…",
        "Every item is being scored against your goals. The first ranking loads the "
        "language model, which takes a few seconds.",
    ),
    EmptyReason.NO_ITEMS: (
        "Nothing to rank yet",
        "Your sources have no items that could be read. Sync again once they have some, "
        "or add another notes folder or mailbox.",
    ),
}


class EmptyState(QWidget):
    """Tells a new user what to do next, with buttons that do it."""

    add_notes_requested = Signal()
    add_mbox_requested = Signal()
    add_source_requested = Signal()
    add_goal_requested = Signal()
    sync_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Getting started")
        self.reason = EmptyReason.NO_SOURCES
        self.title = heading(QLabel(self), 1.6)
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.body = MutedLabel("", self)
        self.body.setWordWrap(True)
        self.body.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.body.setMinimumWidth(280)  # wraps in a narrow window instead of widening it
        self.body.setMaximumWidth(540)
        self.notes_button = QPushButton("Add notes folder…", self)
        self.notes_button.setAccessibleName("Add notes folder")
        self.notes_button.clicked.connect(self.add_notes_requested)
        self.mbox_button = QPushButton("Add mbox file…", self)
        self.mbox_button.setAccessibleName("Add mbox file")
        self.mbox_button.clicked.connect(self.add_mbox_requested)
        self.more_button = QPushButton("Feed, Maildir or IMAP…", self)
        self.more_button.setAccessibleName("Add a feed, Maildir or IMAP account")
        self.more_button.clicked.connect(self.add_source_requested)
        self.goal_button = QPushButton("Add a goal", self)
        self.goal_button.setAccessibleName("Add a goal")
        self.goal_button.clicked.connect(self.add_goal_requested)
        self.sync_button = QPushButton("Sync now", self)
        self.sync_button.setAccessibleName("Sync now")
        self.sync_button.clicked.connect(self.sync_requested)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for b in (
            self.notes_button,
            self.mbox_button,
            self.more_button,
            self.goal_button,
            self.sync_button,
        ):
            b.setMinimumWidth(140)
            buttons.addWidget(b)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addStretch(2)
        layout.addWidget(self.title)
        layout.addSpacing(8)
        body_row = QHBoxLayout()
        body_row.addStretch(1)
        body_row.addWidget(self.body)
        body_row.addStretch(1)
        layout.addLayout(body_row)
        layout.addSpacing(16)
        layout.addLayout(buttons)
        layout.addStretch(3)
        self.set_reason(EmptyReason.NO_SOURCES)

    def set_reason(self, reason: EmptyReason) -> None:
        self.reason = reason
        title, body = TEXTS[reason]
        self.title.setText(title)
        self.body.setText(body)
        self.notes_button.setVisible(reason in (EmptyReason.NO_SOURCES, EmptyReason.NO_ITEMS))
        self.mbox_button.setVisible(reason in (EmptyReason.NO_SOURCES, EmptyReason.NO_ITEMS))
        self.more_button.setVisible(reason in (EmptyReason.NO_SOURCES, EmptyReason.NO_ITEMS))
        self.goal_button.setVisible(reason == EmptyReason.NO_GOALS)
        self.sync_button.setVisible(reason == EmptyReason.NO_ITEMS)

    def text(self) -> str:
        """Everything the page says (for tests and screen readers)."""
        return f"{self.title.text()}\n{self.body.text()}"

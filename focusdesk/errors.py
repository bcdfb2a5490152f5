"""The error hierarchy.

``KnownError`` carries a message meant for the user (shown as is, no traceback);
any other exception is a bug, logged with its traceback and reported as such.
"""

from __future__ import annotations

from typing import Any


class FocusDeskError(Exception):
    """Root of every error FocusDesk raises on purpose."""


class KnownError(FocusDeskError):
    """An expected failure with a message a user understands."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def user_text(self) -> str:
        """The message plus the hint, as shown to the user."""
        return f"{self.message}\n{self.hint}" if self.hint else self.message


class SourceError(KnownError):
    """A source could not be read (missing file, unreadable folder, bad mailbox)."""

    sync_state: dict[str, Any] | None = None
    """Set when the sync should still save this state (how far it got, when to retry)."""


class NotFoundError(KnownError):
    """A source, goal or item id that does not exist."""


class ModelError(KnownError):
    """The sentence-transformers model could not be loaded."""


class DatabaseError(KnownError):
    """The profile's database could not be opened or migrated (locked, disk full)."""


class Cancelled(FocusDeskError):
    """Long work was cancelled by the user; not an error to report."""

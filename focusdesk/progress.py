"""Progress reports and cancellation for long work, shared by the CLI and the UI."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from focusdesk.errors import Cancelled


@dataclass(frozen=True)
class Progress:
    """One step of long work: which stage, how far, and a line for the user."""

    stage: str
    done: int
    total: int | None
    message: str = ""

    @property
    def fraction(self) -> float | None:
        if not self.total:
            return None
        return min(1.0, self.done / self.total)


ProgressCallback = Callable[[Progress], None]


def no_progress(_: Progress) -> None:
    """The progress callback that reports nowhere."""


class CancelToken:
    """Set from any thread to ask long work to stop at its next check."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        """Raise ``Cancelled`` when cancellation was asked for."""
        if self._event.is_set():
            raise Cancelled("cancelled by the user")

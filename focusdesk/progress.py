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
    rate: float | None = None
    """Items per second so far, where the work measures it."""
    eta: float | None = None
    """Seconds left, where known."""

    @property
    def fraction(self) -> float | None:
        if not self.total:
            return None
        return min(1.0, self.done / self.total)


ProgressCallback = Callable[[Progress], None]


def fmt_duration(seconds: float) -> str:
    """A short time span for a progress line: 45 s, 3 min 05 s, 1 h 02 min."""
    s = max(0, round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


class Throughput:
    """Items per second since it was made, and the time left at that pace."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.started = clock()

    def per_second(self, done: float) -> float | None:
        elapsed = self.clock() - self.started
        return done / elapsed if elapsed > 0 and done > 0 else None

    def eta(self, done: float, left: float) -> float | None:
        rate = self.per_second(done)
        return left / rate if rate else None


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

"""The clock the whole app reads: wall time (aware UTC) and a monotonic clock.

Code that needs the time asks an injected ``Clock`` instead of calling ``datetime.now``
itself, so tests can drive it and nothing depends on when a test happens to run.
``SystemClock`` is the machine's; the composition root (``focusdesk.app``) makes one.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """Where the app reads the time."""

    def now(self) -> datetime:
        """The wall-clock time, timezone-aware UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds of a clock that never jumps (it may stand still while asleep)."""
        ...


class SystemClock:
    """The machine's clocks."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

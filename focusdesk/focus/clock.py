"""Detection of wall-clock jumps, for the focus services.

Everything in ``focusdesk.focus`` asks a ``focusdesk.clock.Clock`` for the time instead of
reading the system clock itself, so tests drive it (a test clock whose wall time moves
while its monotonic time stands still is exactly what a machine waking from sleep looks
like). ``JumpDetector`` compares how far the wall clock and
the monotonic clock moved between two checks: a difference means the machine slept
or someone changed the clock, and schedules must be re-evaluated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from focusdesk.clock import Clock


@dataclass(frozen=True)
class ClockJump:
    """The wall clock moved ``offset`` more (or less) than real time between two checks."""

    before: datetime
    """Wall time at the previous check."""
    after: datetime
    """Wall time now."""
    offset: timedelta
    """Wall delta minus monotonic delta: positive after sleep or a clock set forward."""

    @property
    def gap_start(self) -> datetime:
        """When the unseen stretch began (the previous check plus the real time since)."""
        return self.after - self.offset if self.offset > timedelta(0) else self.after

    @property
    def forward(self) -> bool:
        return self.offset > timedelta(0)


class JumpDetector:
    """Reports a ``ClockJump`` when wall and monotonic time disagree by more than ``tolerance``."""

    def __init__(self, clock: Clock, tolerance: timedelta = timedelta(seconds=90)) -> None:
        self._clock = clock
        self._tolerance = tolerance.total_seconds()
        self._wall = clock.now()
        self._mono = clock.monotonic()

    def check(self) -> ClockJump | None:
        """Compare with the previous check (and make this one the new reference)."""
        wall, mono = self._clock.now(), self._clock.monotonic()
        wall_delta = (wall - self._wall).total_seconds()
        mono_delta = mono - self._mono
        before = self._wall
        self._wall, self._mono = wall, mono
        offset = wall_delta - mono_delta
        if abs(offset) <= self._tolerance:
            return None
        return ClockJump(before=before, after=wall, offset=timedelta(seconds=offset))

"""Wall-clock jumps: sleep and clock changes are told apart from time passing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from focusdesk.focus.clock import JumpDetector


class StepClock:
    """A clock whose wall and monotonic parts move separately."""

    def __init__(self) -> None:
        self.wall = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
        self.mono = 1000.0

    def now(self) -> datetime:
        return self.wall

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        self.wall += timedelta(seconds=seconds)
        self.mono += seconds


def test_time_passing_is_no_jump() -> None:
    clock = StepClock()
    detector = JumpDetector(clock)
    clock.advance(30)
    assert detector.check() is None
    clock.advance(3600)  # a long tick (a sync held the thread) is not a jump either
    assert detector.check() is None


def test_sleep_is_a_forward_jump_whose_gap_starts_when_the_machine_slept() -> None:
    clock = StepClock()
    detector = JumpDetector(clock)
    clock.advance(20)
    clock.wall += timedelta(hours=1)  # asleep: monotonic time stood still
    jump = detector.check()
    assert jump is not None
    assert jump.forward
    assert jump.offset == timedelta(hours=1)
    assert jump.gap_start == datetime(2026, 11, 23, 8, 0, 20, tzinfo=UTC)
    assert detector.check() is None  # the new reference


def test_a_clock_set_back_is_a_backward_jump() -> None:
    clock = StepClock()
    detector = JumpDetector(clock)
    clock.advance(30)
    clock.wall -= timedelta(minutes=30)
    jump = detector.check()
    assert jump is not None
    assert not jump.forward
    assert jump.gap_start == jump.after

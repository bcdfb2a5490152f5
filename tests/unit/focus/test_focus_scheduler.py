"""The APScheduler adapter: jobs mirror the table, changes update them, wake-ups arrive
(on time, late inside the grace, missed beyond it) and clock jumps are noticed."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from fakes import FakeEncoder
from focus_fixtures import berlin, seed

from focusdesk.app import FocusDesk
from focusdesk.focus.clock import ClockJump
from focusdesk.focus.scheduler import (
    SESSION_END_JOB,
    TICK_JOB,
    FocusScheduler,
    block_job_id,
    schedule_job_id,
)
from focusdesk.paths import resolve_paths

WAIT_S = 10.0


class Wakeups:
    """Records the scheduler's calls; ``due`` is set on each ``on_due``, ``woken`` on each
    ``on_due`` or clock jump (either makes the owner re-evaluate)."""

    def __init__(self) -> None:
        self.due = threading.Event()
        self.woken = threading.Event()
        self.jumps: list[ClockJump] = []
        self.count = 0

    def on_due(self) -> None:
        self.count += 1
        self.due.set()
        self.woken.set()

    def on_jump(self, jump: ClockJump) -> None:
        self.jumps.append(jump)
        self.woken.set()


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    """The system clock itself, travelled: APScheduler, which this adapter drives, reads
    the system clock (its triggers, its misfire grace), so these tests move that one."""
    with time_machine.travel(berlin(2026, 11, 23, 7, 0), tick=False) as traveller:
        yield traveller


@pytest.fixture
def desk(fd: FocusDesk, vault: object, clock: time_machine.Traveller) -> FocusDesk:
    """The seeded profile on the system clock (see ``clock``)."""
    seed(fd, vault)  # type: ignore[arg-type]
    return fd


@pytest.fixture
def wakeups() -> Wakeups:
    return Wakeups()


@pytest.fixture
def make_scheduler(desk: FocusDesk, wakeups: Wakeups) -> Iterator[object]:
    made: list[FocusScheduler] = []

    def make(tick: timedelta = timedelta(days=1)) -> FocusScheduler:
        sched = FocusScheduler(
            desk.focus, on_due=wakeups.on_due, on_clock_jump=wakeups.on_jump, tick=tick
        )
        made.append(sched)
        return sched

    yield make
    for sched in made:
        sched.shutdown(wait=True)


def add_blocks(desk: FocusDesk) -> tuple[int, int]:
    svc = desk.focus
    a = svc.add_block(
        "Deep work", start_time="09:00", duration_minutes=90, timezone="Europe/Berlin"
    ).id
    b = svc.add_block(
        "Reading", start_time="16:00", duration_minutes=30, days=["daily"], timezone="Europe/Berlin"
    ).id
    return a, b


def test_jobs_are_rebuilt_from_the_table_at_start(
    desk: FocusDesk, clock: time_machine.Traveller, make_scheduler: object
) -> None:
    a, b = add_blocks(desk)
    source = desk.sources.all()[0]
    sync = desk.focus.set_sync_schedule(source.id, 30)
    review = desk.focus.set_review_schedule("18:00", "Europe/Berlin")
    assert sync is not None
    assert review is not None
    sched = make_scheduler()  # type: ignore[operator]
    sched.start(paused=True)
    assert sched.job_ids() == sorted(
        [
            TICK_JOB,
            block_job_id(a),
            block_job_id(b),
            schedule_job_id(sync.id),
            schedule_job_id(review.id),
        ]
    )
    assert sched.next_run_time(block_job_id(a)) == berlin(2026, 11, 23, 9)
    assert sched.next_run_time(block_job_id(b)) == berlin(2026, 11, 23, 16)
    assert sched.next_run_time(schedule_job_id(review.id)) == berlin(2026, 11, 23, 18)
    job = sched.scheduler.get_job(block_job_id(a))
    assert job.misfire_grace_time == (90 - 5) * 60
    assert job.coalesce


def test_changing_a_schedule_updates_its_job(
    desk: FocusDesk, clock: time_machine.Traveller, make_scheduler: object
) -> None:
    a, b = add_blocks(desk)
    sched = make_scheduler()  # type: ignore[operator]
    sched.start(paused=True)
    desk.focus.update_block(a, start_time="10:15")
    assert sched.next_run_time(block_job_id(a)) == berlin(2026, 11, 23, 10, 15)
    desk.focus.update_block(b, enabled=False)
    assert block_job_id(b) not in sched.job_ids()
    desk.focus.remove_block(a)
    assert block_job_id(a) not in sched.job_ids()
    c = desk.focus.add_block("New", start_time="12:00", duration_minutes=30).id
    assert block_job_id(c) in sched.job_ids()


def test_a_change_made_by_another_process_is_picked_up_on_the_next_tick(
    desk: FocusDesk,
    clock: time_machine.Traveller,
    make_scheduler: object,
    data_dir: object,
    wakeups: Wakeups,
) -> None:
    sched = make_scheduler()  # type: ignore[operator]
    sched.start(paused=True)
    other = FocusDesk(resolve_paths(data_dir), encoder=FakeEncoder())  # type: ignore[arg-type]
    try:
        block = other.focus.add_block("From the CLI", start_time="11:00", duration_minutes=30)
    finally:
        other.close()
    assert block_job_id(block.id) not in sched.job_ids()
    sched.check()
    assert sched.next_run_time(block_job_id(block.id)) is not None
    assert wakeups.count == 1
    assert wakeups.jumps == []


def test_a_block_job_wakes_the_owner_on_time(
    desk: FocusDesk, clock: time_machine.Traveller, make_scheduler: object, wakeups: Wakeups
) -> None:
    a, _ = add_blocks(desk)
    clock.move_to(berlin(2026, 11, 23, 8, 59, 59))
    sched = make_scheduler()  # type: ignore[operator]
    sched.start()
    assert not wakeups.due.is_set()
    clock.move_to(berlin(2026, 11, 23, 9, 0, 1))
    sched.scheduler.wakeup()
    assert wakeups.due.wait(WAIT_S)
    assert sched.next_run_time(block_job_id(a)) == berlin(2026, 11, 24, 9)
    assert desk.focus.tick().due[0].occurrence.start == berlin(2026, 11, 23, 9)


@pytest.mark.parametrize("late_by", [timedelta(minutes=40), timedelta(minutes=100)])
def test_late_or_missed_runs_still_wake_the_owner(
    desk: FocusDesk,
    clock: time_machine.Traveller,
    make_scheduler: object,
    wakeups: Wakeups,
    late_by: timedelta,
) -> None:
    """Inside the grace the job runs late; beyond it APScheduler reports it missed. Either
    way the owner wakes, told first that the clock jumped (the sleep is away time, never
    work), and the core decides: start late, or record it missed."""
    add_blocks(desk)
    clock.move_to(berlin(2026, 11, 23, 8, 59))
    sched = make_scheduler()  # type: ignore[operator]
    sched.start()
    clock.move_to(berlin(2026, 11, 23, 9) + late_by)  # e.g. the machine slept through 09:00
    sched.scheduler.wakeup()
    assert wakeups.woken.wait(WAIT_S)
    assert wakeups.jumps, "the wake-up after the sleep reports the jump"
    result = desk.focus.clock_jumped(wakeups.jumps[0])
    if late_by < timedelta(minutes=85):
        assert len(result.due) == 1
        assert result.due[0].occurrence.late_at(datetime.now(UTC))
    else:
        assert [e.kind for e in result.events] == ["missed"]


def test_the_tick_notices_a_clock_jump(
    desk: FocusDesk, clock: time_machine.Traveller, make_scheduler: object, wakeups: Wakeups
) -> None:
    sched = make_scheduler(tick=timedelta(seconds=30))  # type: ignore[operator]
    sched.start(paused=True)
    assert sched.check() is None  # no jump: the owner just re-evaluates
    assert wakeups.count == 1
    clock.shift(timedelta(hours=2))
    jump = sched.check()
    assert jump is not None
    assert jump.forward
    assert wakeups.jumps == [jump]


def test_the_running_session_end_gets_a_wake_up(
    desk: FocusDesk, clock: time_machine.Traveller, make_scheduler: object
) -> None:
    sched = make_scheduler()  # type: ignore[operator]
    sched.start(paused=True)
    session = desk.focus.start(45)
    sched.watch_session(session)
    assert sched.next_run_time(SESSION_END_JOB) == berlin(2026, 11, 23, 7, 45)
    sched.watch_session(desk.focus.pause())
    assert SESSION_END_JOB not in sched.job_ids()

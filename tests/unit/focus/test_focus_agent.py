"""The focus agent under a fake clock and a fake listener: what a wake-up means (a due block
starts once however often it is woken, a missed one is reported and marked as told, a
scheduled sync is claimed once, a clock jump re-evaluates), and that work runs only through
the owner's executor."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fakes import FakeEncoder, ManualClock
from focus_fixtures import berlin, make_vault, seed

from focusdesk.app import FocusDesk
from focusdesk.focus.agent import FocusAgent
from focusdesk.focus.clock import ClockJump
from focusdesk.focus.records import DueBlock, FocusEvent, SessionSummary, SessionView
from focusdesk.paths import resolve_paths


class Heard:
    """A ``FocusListener`` that writes down what it was told."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def kinds(self) -> list[str]:
        return [kind for kind, _ in self.calls]

    def of(self, kind: str) -> list[Any]:
        return [arg for k, arg in self.calls if k == kind]

    def block_did_start(self, event: FocusEvent) -> None:
        self.calls.append(("started", event))

    def block_will_start(self, due: DueBlock) -> None:
        self.calls.append(("will start", due))

    def session_did_change(self, session: SessionView) -> None:
        self.calls.append(("changed", session))

    def block_did_end(self, summary: SessionSummary) -> None:
        self.calls.append(("ended", summary))

    def blocks_were_missed(self, missed: list[SessionView]) -> None:
        self.calls.append(("missed", missed))

    def sync_is_due(self, source_id: int, holding: bool) -> None:
        self.calls.append(("sync", (source_id, holding)))

    def review_is_due(self) -> None:
        self.calls.append(("review", None))

    def learning_did_run(self, message: str) -> None:
        self.calls.append(("learnt", message))

    def focus_did_fail(self, message: str) -> None:
        self.calls.append(("failed", message))


class Deferred:
    """An executor that only queues: the test decides when the work runs (``drain``)."""

    def __init__(self) -> None:
        self.queued: list[tuple[str, Callable[[], None]]] = []

    def __call__(
        self,
        name: str,
        task: Callable[[], Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[str], None],
    ) -> None:
        self.queued.append((name, lambda: on_done(task())))

    def names(self) -> list[str]:
        return [name for name, _ in self.queued]

    def drain(self) -> None:
        while self.queued:
            _, work = self.queued.pop(0)
            work()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(berlin(2026, 11, 23, 8, 0))


@pytest.fixture
def desk(data_dir: Path, tmp_path: Path, clock: ManualClock) -> Iterator[FocusDesk]:
    fd = FocusDesk(resolve_paths(data_dir), encoder=FakeEncoder(), clock=clock)  # type: ignore[arg-type]
    seed(fd, make_vault(tmp_path / "vault"))
    yield fd
    fd.close()


def at(clock: ManualClock, when: datetime) -> None:
    clock.at = when


def test_a_due_block_starts_once_however_often_the_agent_is_woken(
    desk: FocusDesk, clock: ManualClock
) -> None:
    desk.focus.add_block(
        "Deep work", start_time="09:00", duration_minutes=60, timezone="Europe/Berlin"
    )
    heard, run = Heard(), Deferred()
    agent = FocusAgent(desk.focus, heard, run=run)
    agent.start(schedule=False)
    run.drain()
    assert heard.kinds() == []

    at(clock, berlin(2026, 11, 23, 9, 0, 5))
    agent.wake()
    agent.wake()  # a second wake-up while the first check waits adds nothing
    assert run.names() == ["tick"]
    run.queued.pop(0)[1]()  # the check: the block is due, its start is queued
    assert run.names() == ["start block"]
    agent.wake()  # woken again before the start ran: the same occurrence is not asked twice
    assert run.names() == ["start block", "tick"]
    run.queued.pop(1)[1]()  # this check runs first and finds the block still due
    assert run.names() == ["start block"]
    run.drain()

    started = heard.of("started")
    assert len(started) == 1
    assert started[0].kind == "started"
    assert started[0].session.title == "Deep work"
    assert len(heard.of("will start")) == 1
    assert agent.session is not None
    assert agent.session.id == started[0].session.id
    agent.wake()
    run.drain()
    assert len(heard.of("started")) == 1  # running: a later check follows, it starts nothing


def test_two_agents_on_one_profile_start_a_block_once(desk: FocusDesk, clock: ManualClock) -> None:
    """The app and a headless runner (two agents) woken for the same block: one starts it,
    the other follows it as running (claims in the store, not luck)."""
    desk.focus.add_block(
        "Deep work", start_time="09:00", duration_minutes=60, timezone="Europe/Berlin"
    )
    at(clock, berlin(2026, 11, 23, 9, 0, 5))
    first, second = Heard(), Heard()
    run1, run2 = Deferred(), Deferred()
    a1 = FocusAgent(desk.focus, first, run=run1)
    a2 = FocusAgent(desk.focus, second, run=run2)
    a1.wake()
    a2.wake()
    run1.queued.pop(0)[1]()
    run2.queued.pop(0)[1]()  # both checks saw the block due
    run1.drain()
    run2.drain()
    assert [e.kind for e in first.of("started")] == ["started"]
    assert second.of("started") == []  # its start found the block taken
    a2.wake()
    run2.drain()
    assert [e.kind for e in second.of("started")] == ["resumed"]  # it follows the running one


def test_a_missed_block_is_reported_once_and_marked_as_told(
    desk: FocusDesk, clock: ManualClock
) -> None:
    at(clock, berlin(2026, 11, 23, 7, 0))
    desk.focus.add_block("Early", start_time="07:30", duration_minutes=20, timezone="Europe/Berlin")
    at(clock, berlin(2026, 11, 23, 8, 20))
    heard = Heard()
    agent = FocusAgent(desk.focus, heard)  # no executor: inline
    agent.start(schedule=False)
    missed = heard.of("missed")
    assert [[s.title for s in batch] for batch in missed] == [["Early"]]
    assert missed[0][0].end_reason == "missed"
    assert desk.focus.missed_to_announce() == []
    agent.wake()
    assert len(heard.of("missed")) == 1


def test_a_scheduled_sync_is_claimed_once_and_says_whether_items_are_held(
    desk: FocusDesk, clock: ManualClock
) -> None:
    source = desk.sources.all()[0].id
    desk.focus.set_sync_schedule(source, 30)
    heard = Heard()
    agent = FocusAgent(desk.focus, heard)
    agent.start(schedule=False)  # never synced on schedule: due at once
    assert heard.of("sync") == [(source, False)]
    agent.wake()
    assert heard.of("sync") == [(source, False)]  # claimed: not again before its interval
    at(clock, clock.now() + timedelta(minutes=31))
    agent.wake()
    agent.wake()
    assert heard.of("sync") == [(source, False)] * 2

    desk.focus.start(60)  # a block runs: what the next sync brings is held
    at(clock, clock.now() + timedelta(minutes=31))
    agent.wake()
    assert heard.of("sync") == [(source, False)] * 2 + [(source, True)]


def test_a_clock_jump_records_what_the_sleep_missed(desk: FocusDesk, clock: ManualClock) -> None:
    desk.focus.add_block(
        "Deep work", start_time="09:00", duration_minutes=30, timezone="Europe/Berlin"
    )
    heard = Heard()
    agent = FocusAgent(desk.focus, heard)
    agent.start(schedule=False)
    before = clock.now()
    at(clock, berlin(2026, 11, 23, 11, 0))  # the machine slept through the block
    agent.clock_jumped(ClockJump(before=before, after=clock.now(), offset=timedelta(hours=3)))
    assert [[s.title for s in batch] for batch in heard.of("missed")] == [["Deep work"]]
    assert heard.of("started") == []


def test_a_session_changed_or_ended_elsewhere_is_followed(
    desk: FocusDesk, clock: ManualClock
) -> None:
    heard = Heard()
    agent = FocusAgent(desk.focus, heard)
    agent.start(schedule=False)
    session = desk.focus.start(30)  # started by another process (the CLI)
    agent.wake()
    assert [e.kind for e in heard.of("started")] == ["resumed"]
    desk.focus.pause()
    agent.wake()
    assert [s.state for s in heard.of("changed")] == ["paused"]
    desk.focus.stop()
    agent.wake()
    ended = heard.of("ended")
    assert [s.session.id for s in ended] == [session.id]
    assert agent.session is None


def test_work_runs_only_through_the_owners_executor(desk: FocusDesk, clock: ManualClock) -> None:
    """Nothing reads or writes the store on the caller's thread when the owner says how
    work runs: every request is queued, nothing is reported before it ran."""
    heard, run = Heard(), Deferred()
    agent = FocusAgent(desk.focus, heard, run=run)
    agent.start(schedule=False)
    agent.start_now(30, title="Now")
    agent.end_now()
    assert run.names() == ["start", "start", "end block"]
    assert heard.calls == []
    assert desk.focus.current() is None
    run.drain()
    assert heard.kinds() == ["started", "ended"]
    assert heard.of("started")[0].session.title == "Now"
    assert heard.of("ended")[0].session.end_reason == "ended_early"


def test_after_stop_nothing_runs_but_the_last_heartbeat(
    desk: FocusDesk, clock: ManualClock
) -> None:
    heard, run = Heard(), Deferred()
    agent = FocusAgent(desk.focus, heard, run=run)
    session = desk.focus.start(30)
    agent.stop()
    agent.wake()
    agent.start_now(30)
    assert run.names() == ["heartbeat"]
    at(clock, clock.now() + timedelta(minutes=5))
    run.drain()
    assert heard.calls == []
    assert desk.focus.get_session(session.id).state == "running"


def test_an_item_synced_during_a_block_is_held_by_the_profiles_clock(
    desk: FocusDesk, clock: ManualClock, tmp_path: Path
) -> None:
    """Under a clock years away from the wall clock, what a sync brings during a block is
    held and listed when the block ends (the sync dates items by the profile's clock)."""
    heard = Heard()
    agent = FocusAgent(desk.focus, heard)
    agent.start(schedule=False)
    agent.start_now(30)
    at(clock, clock.now() + timedelta(minutes=10))
    (tmp_path / "vault" / "rc1.md").write_text("# RC1 blocker\n\nOTA rollback fails.")
    assert desk.sources.sync().reports[0].added == 1
    agent.end_now()
    (summary,) = heard.of("ended")
    assert [h.title for h in summary.held] == ["RC1 blocker"]


def test_a_scheduler_that_cannot_start_still_catches_up_and_says_so(
    desk: FocusDesk, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from focusdesk.focus.scheduler import FocusScheduler

    def broken(self: FocusScheduler, *, paused: bool = False) -> None:
        raise OSError("no threads left")

    monkeypatch.setattr(FocusScheduler, "start", broken)
    session = desk.focus.start(30)  # running from before: resumed however the scheduler fares
    heard = Heard()
    agent = FocusAgent(desk.focus, heard)
    agent.start()
    assert [e.session.id for e in heard.of("started")] == [session.id]
    (problem,) = heard.of("failed")
    assert problem.startswith("The focus scheduler could not start")
    assert agent.scheduler is None
    agent.stop()

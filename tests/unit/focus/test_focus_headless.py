"""The headless runner, in-process on the profile's fake clock: a block starts, new items
synced during it are held, and its end lists them together. (The jobs that wake the
agent are the scheduler's, tested in test_focus_scheduler; here the test wakes it.)"""

from __future__ import annotations

import io
import threading
from datetime import timedelta
from pathlib import Path

from focus_fixtures import TravelClock, add_note, berlin

from focusdesk.app import FocusDesk
from focusdesk.focus.headless import HeadlessRunner

WAIT_S = 15.0


class Output(io.StringIO):
    """A stream whose reader can wait until some text has been written."""

    def __init__(self) -> None:
        super().__init__()
        self._written = threading.Condition()

    def write(self, text: str) -> int:
        with self._written:
            n = super().write(text)
            self._written.notify_all()
            return n

    def wait_for(self, text: str) -> bool:
        with self._written:
            return self._written.wait_for(lambda: text in self.getvalue(), WAIT_S)


def test_headless_runs_blocks_syncs_and_releases_held_items(
    desk: FocusDesk, clock: TravelClock, vault: Path
) -> None:
    svc = desk.focus
    svc.add_block("Deep work", start_time="09:00", duration_minutes=90, timezone="Europe/Berlin")
    svc.set_sync_schedule(desk.sources.all()[0].id, 30)
    clock.move_to(berlin(2026, 11, 23, 8, 59, 59))
    out = Output()
    runner = HeadlessRunner(desk, out=out, tick=timedelta(days=1))
    thread = threading.Thread(target=runner.run, name="headless")
    thread.start()
    try:
        assert out.wait_for("Next focus block: 'Deep work' on Mon 09:00.")
        assert "Scheduler running" in out.getvalue()

        clock.move_to(berlin(2026, 11, 23, 9, 0, 1))
        runner.agent.relay_wake()  # as the block's or the sync's job does
        assert out.wait_for("Focus block 'Deep work' started, until 10:30:")

        add_note(vault, "rc1.md", "# RC1 blocker\n\nOTA rollback fails on the RC1 build.")
        clock.move_to(berlin(2026, 11, 23, 9, 30, 1))
        runner.agent.relay_wake()  # as the block's or the sync's job does
        assert out.wait_for("Synced Notes: 1 new item(s), held until the focus block ends.")

        clock.move_to(berlin(2026, 11, 23, 10, 30, 1))
        runner.agent.relay_wake()  # as the block's or the sync's job does
        assert out.wait_for("1 new item(s) arrived during the block:")
        assert "RC1 blocker (Notes)" in out.getvalue()
    finally:
        runner.request_stop()
        thread.join(WAIT_S)
    assert not thread.is_alive()
    assert out.getvalue().rstrip().endswith("Stopped.")


def test_headless_once_reports_a_missed_block_and_starts_a_late_one(
    desk: FocusDesk, clock: TravelClock
) -> None:
    svc = desk.focus
    svc.add_block("Early", start_time="07:30", duration_minutes=30, timezone="Europe/Berlin")
    svc.add_block("Deep work", start_time="08:00", duration_minutes=90, timezone="Europe/Berlin")
    clock.move_to(berlin(2026, 11, 23, 8, 20))
    out = Output()
    assert HeadlessRunner(desk, out=out).run(once=True) == 0
    text = out.getvalue()
    assert "Missed focus block 'Early' planned for Mon 2026-11-23 07:30" in text
    assert "Focus block 'Deep work' started (late by 20 min), until 09:30" in text


def test_headless_learns_when_the_trigger_says_so(desk: FocusDesk, clock: TravelClock) -> None:
    """Votes given with the CLI beside the runner are learnt by the runner itself, through
    the same trigger as the app; nothing new, nothing is trained."""
    desk.settings.learn_after_signals = 4
    out = Output()
    assert HeadlessRunner(desk, out=out).run(once=True) == 0
    assert "labelled items" not in out.getvalue()  # no signals yet: no run
    ranked = desk.ranking.rank()
    for n, item in enumerate(ranked):
        desk.items.record_feedback(item.item_id, "up" if n < 2 else "down")
    out = Output()
    assert HeadlessRunner(desk, out=out).run(once=True) == 0
    assert "labelled items" in out.getvalue()  # "Learnt from 5 …" or "… the one in use kept"
    runs = desk.learning.versions()
    assert len(runs) == 1
    assert runs[0]["labels"] == len(ranked)


def test_headless_owns_the_agent_and_follows_a_block_started_elsewhere(
    desk: FocusDesk, clock: TravelClock
) -> None:
    """The runner is the agent's listener and executor: a wake-up from another thread is
    queued to the main loop, and the agent's following of the profile shows a block that
    the CLI started beside it."""
    out = Output()
    runner = HeadlessRunner(desk, out=out, tick=timedelta(days=1))
    assert runner.agent.listener is runner
    thread = threading.Thread(target=runner.run, name="headless")
    thread.start()
    try:
        assert out.wait_for("Scheduler running")
        assert runner.scheduler is runner.agent.scheduler
        desk.focus.start(30, title="From the CLI")
        threading.Thread(target=runner.agent.relay_wake).start()  # as APScheduler would
        assert out.wait_for("Focus block 'From the CLI' is running, until 07:30.")
        desk.focus.stop()
        runner.agent.relay_wake()
        assert out.wait_for("Focus block 'From the CLI' ended (ended early)")
    finally:
        runner.request_stop()
        thread.join(WAIT_S)
    assert not thread.is_alive()

"""``focusdesk run --headless``: the scheduler without the desktop app.

The terminal owner of the ``FocusAgent`` (``focusdesk.focus.agent``), which decides what
each scheduler wake-up means, exactly as in the desktop app. Here the agent's work is
queued and run one task at a time on the main thread (so syncs and block starts, which
both use the index, never overlap): blocks start and end, missed ones are reported,
sources sync on their schedule, new items are held during a block and listed when it
ends, the learning trigger is asked now and then. Everything is printed as it happens.
SIGINT and SIGTERM stop it cleanly; a block that is running goes on where it was when it
(or the desktop app) starts again.
"""

from __future__ import annotations

import logging
import queue
import signal
import sys
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, TextIO, TypeVar

from focusdesk.focus.agent import LEARN_CHECK, MISSED_WHY, UNEXPECTED, FocusAgent, run_inline
from focusdesk.focus.records import DueBlock, FocusEvent, SessionSummary, SessionView
from focusdesk.focus.scheduler import TICK, FocusScheduler
from focusdesk.focus.service import FocusService

if TYPE_CHECKING:
    from focusdesk.rank.learning_service import LearningService
    from focusdesk.records import SyncSummary
    from focusdesk.sync import SourcesService

log = logging.getLogger(__name__)

T = TypeVar("T")


class HeadlessDesk(Protocol):
    """What the runner uses of a profile (``focusdesk.app.FocusDesk`` is one)."""

    @property
    def focus(self) -> FocusService: ...

    @property
    def learning(self) -> LearningService: ...

    @property
    def sources(self) -> SourcesService: ...


def describe_event(event: FocusEvent, now: datetime) -> list[str]:
    """An event as lines for a terminal (the headless runner and the CLI)."""
    s = event.session
    if event.kind == "missed":
        when = s.planned_start.astimezone().strftime("%a %Y-%m-%d %H:%M")
        why = MISSED_WHY.get(s.end_reason or "", s.end_reason or "")
        return [f"Missed focus block {s.title!r} planned for {when} ({why})."]
    if event.kind == "ended":
        return event.summary.lines() if event.summary else [f"Focus block {s.title!r} ended."]
    ends = s.end_at(now).astimezone().strftime("%H:%M")
    if event.kind == "resumed":
        state = "paused" if s.state == "paused" else "running"
        head = f"Focus block {s.title!r} is {state}, until {ends}."
    else:
        late = f" (late by {int(s.late_by.total_seconds() // 60)} min)" if event.late else ""
        head = f"Focus block {s.title!r} started{late}, until {ends}: {len(s.items)} items."
    lines = [head]
    for n, item in enumerate(s.items, 1):
        lines.append(f"  {n:>2}. {item.planned_minutes:>3} min  {item.title[:70]}")
    return lines


class HeadlessRunner:
    """The terminal owner of a ``FocusAgent``: its work runs one task at a time on the main
    thread (a queue the scheduler's threads only add to), its events are printed."""

    def __init__(
        self,
        desk: HeadlessDesk,
        *,
        service: FocusService | None = None,
        out: TextIO | None = None,
        tick: timedelta = TICK,
        learn_check: timedelta = LEARN_CHECK,
    ) -> None:
        self.desk = desk
        self.service = service or desk.focus
        self.out = out or sys.stdout
        self._tasks: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._stop = threading.Event()
        self.agent = FocusAgent(
            self.service,
            self,
            run=self._queue,
            learning=desk.learning.auto,
            tick=tick,
            learn_check=learn_check,
        )

    @property
    def scheduler(self) -> FocusScheduler:
        """The agent's scheduler (once started)."""
        assert self.agent.scheduler is not None, "the runner has not started yet"
        return self.agent.scheduler

    # -- lifecycle ------------------------------------------------------------------------------
    def run(self, *, once: bool = False) -> int:
        """Run until stopped (or, with ``once``, do what is due now and return)."""
        previous = self._install_signal_handlers()
        try:
            self.agent.start(schedule=not once)
            if once:
                self._drain()
                self.agent.learn_if_due(now=True)
                self._drain()
                return 0
            self._drain()
            self.say("Scheduler running; press Ctrl+C to stop.")
            self._show_next()
            while not self._stop.is_set():
                try:
                    task = self._tasks.get(timeout=1.0)
                except queue.Empty:
                    self.agent.learn_if_due()
                    continue
                if task is None:
                    break
                self._run_task(task)
        finally:
            self._discard_queued()  # work not begun is dropped (a block start among it)
            self.agent.stop()  # the scheduler first, then the last heartbeat (queued)
            self._drain()
            self._restore_signal_handlers(previous)
        self.say("Stopped.")
        return 0

    def request_stop(self) -> None:
        """Stop after the task in hand (safe from any thread and from a signal handler)."""
        self._stop.set()
        self.agent.learn_cancel.cancel()  # a training run stops at its next step
        self._tasks.put(None)

    def _discard_queued(self) -> None:
        while True:
            try:
                self._tasks.get_nowait()
            except queue.Empty:
                return

    def _drain(self) -> None:
        """Run the queued work (and the work it queues) until none is left."""
        while True:
            try:
                task = self._tasks.get_nowait()
            except queue.Empty:
                return
            if task is not None:
                self._run_task(task)

    def _run_task(self, task: Callable[[], None]) -> None:
        try:
            task()
        except Exception:  # noqa: BLE001 - an outcome that failed to print; keep running
            log.exception("headless task failed")
            self.focus_did_fail(UNEXPECTED)

    def _install_signal_handlers(self) -> dict[int, Any]:
        if threading.current_thread() is not threading.main_thread():
            return {}
        previous: dict[int, Any] = {}
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, lambda _signum, _frame: self.request_stop())
        return previous

    def _restore_signal_handlers(self, previous: dict[int, Any]) -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    # -- the agent's executor: any thread may queue, the main loop runs ----------------------
    def _queue(
        self,
        name: str,
        task: Callable[[], T],
        on_done: Callable[[T], None],
        on_error: Callable[[str], None],
    ) -> None:
        self._tasks.put(lambda: run_inline(name, task, on_done, on_error))

    # -- the agent's listener (main thread) ------------------------------------------------------
    def block_did_start(self, event: FocusEvent) -> None:
        self._print_event(event)

    def block_will_start(self, due: DueBlock) -> None:
        log.info("focus block %r is due; planning it", due.title)

    def session_did_change(self, session: SessionView) -> None:
        state = "paused" if session.state == "paused" else "running"
        self.say(f"Focus block {session.title!r} changed elsewhere; it is {state}.")

    def block_did_end(self, summary: SessionSummary) -> None:
        self._print_event(FocusEvent("ended", summary.session, summary=summary))

    def blocks_were_missed(self, missed: list[SessionView]) -> None:
        for session in missed:
            self._print_event(FocusEvent("missed", session))

    def sync_is_due(self, source_id: int, holding: bool) -> None:
        self._queue(
            "sync",
            lambda: self.desk.sources.sync(source_id),
            lambda summary: self._synced(summary, holding),
            self.focus_did_fail,
        )

    def _synced(self, summary: SyncSummary, holding: bool) -> None:
        for r in summary.reports:
            if r.error:
                self.say(f"Sync of {r.source_name} failed: {r.error}")
            elif r.added and holding:
                self.say(
                    f"Synced {r.source_name}: {r.added} new item(s), held until the focus "
                    "block ends."
                )
            else:
                self.say(f"Synced {r.source_name}: {r.added} new, {r.updated} updated.")

    def review_is_due(self) -> None:
        self.say("The daily review is due.")

    def learning_did_run(self, message: str) -> None:
        self.say(message)

    def focus_did_fail(self, message: str) -> None:
        if message == UNEXPECTED:
            message = f"{UNEXPECTED} (run with -v)."
        self.say(f"Error: {message}")

    # -- output ----------------------------------------------------------------------------------
    def _print_event(self, event: FocusEvent) -> None:
        for line in describe_event(event, self.service.clock.now()):
            self.say(line)

    def _show_next(self) -> None:
        upcoming = [b for b in self.service.list_blocks() if b.next_start is not None]
        if upcoming:
            first = min(upcoming, key=lambda b: b.next_start or datetime.max)
            assert first.next_start is not None
            when = first.next_start.astimezone().strftime("%a %H:%M")
            self.say(f"Next focus block: {first.title!r} on {when}.")

    def say(self, line: str) -> None:
        stamp = self.service.clock.now().astimezone().strftime("%H:%M")
        print(f"[{stamp}] {line}", file=self.out, flush=True)

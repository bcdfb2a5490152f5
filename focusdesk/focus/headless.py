"""``focusdesk run --headless``: the scheduler without the desktop app.

Runs the APScheduler adapter; its wake-ups are queued and handled one at a time on
the main thread (so syncs and block starts, which both use the index, never
overlap): blocks start and end, missed ones are reported, sources sync on their
schedule, new items are held during a block and listed when it ends. Everything is
printed as it happens. SIGINT and SIGTERM stop it cleanly; a block that is running
goes on where it was when it (or the desktop app) starts again.
"""

from __future__ import annotations

import logging
import queue
import signal
import sys
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from focusdesk.errors import Cancelled, KnownError
from focusdesk.focus.clock import ClockJump
from focusdesk.focus.records import FocusEvent, ScheduleInfo, TickResult
from focusdesk.focus.scheduler import TICK, FocusScheduler
from focusdesk.focus.service import FocusService
from focusdesk.progress import CancelToken

if TYPE_CHECKING:
    from focusdesk.rank.learning_service import LearningService
    from focusdesk.sync import SourcesService

log = logging.getLogger(__name__)

MISSED_WHY = {
    "missed": "FocusDesk was not running, or the computer was asleep",
    "overlapped": "another focus block was running",
}
LEARN_CHECK = timedelta(seconds=30)
"""How often the runner asks the learning trigger whether to train."""


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
    """The scheduler loop of ``run --headless``."""

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
        self._due_queued = threading.Event()
        self._learn_check = learn_check.total_seconds()
        self._next_learn_check: float | None = None
        self._cancel = CancelToken()
        self.scheduler = FocusScheduler(
            self.service, on_due=self._wake, on_clock_jump=self._jumped, tick=tick
        )

    # -- lifecycle ------------------------------------------------------------------------------
    def run(self, *, once: bool = False) -> int:
        """Run until stopped (or, with ``once``, do what is due now and return)."""
        previous = self._install_signal_handlers()
        try:
            self._handle(self.service.recover())
            if once:
                self._run_task(self.learn)
                return 0
            self.scheduler.start()
            self.scheduler.watch_session(self.service.current())
            self.say("Scheduler running; press Ctrl+C to stop.")
            self._show_next()
            while not self._stop.is_set():
                try:
                    task = self._tasks.get(timeout=1.0)
                except queue.Empty:
                    self._maybe_learn()
                    continue
                if task is None:
                    break
                self._run_task(task)
        finally:
            if self.scheduler.running:
                self.scheduler.shutdown(wait=True)
            self.service.runner.heartbeat(self.service.clock.now())
            self._restore_signal_handlers(previous)
        self.say("Stopped.")
        return 0

    def request_stop(self) -> None:
        """Stop after the task in hand (safe from any thread and from a signal handler)."""
        self._stop.set()
        self._cancel.cancel()  # a training run stops at its next step
        self._tasks.put(None)

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

    # -- wake-ups (scheduler threads: only queue) ------------------------------------------
    def _wake(self) -> None:
        if not self._due_queued.is_set():
            self._due_queued.set()
            self._tasks.put(self._evaluate)

    def _jumped(self, jump: ClockJump) -> None:
        self._tasks.put(lambda: self._handle(self.service.clock_jumped(jump)))

    # -- work (main thread) -----------------------------------------------------------------
    def _run_task(self, task: Callable[[], None]) -> None:
        try:
            task()
        except KnownError as exc:
            self.say(f"Error: {exc.user_text()}")
        except Exception:  # noqa: BLE001 - report and keep the scheduler alive
            log.exception("headless task failed")
            self.say("Error: an unexpected problem; see the log (run with -v).")

    def _evaluate(self) -> None:
        self._due_queued.clear()
        self._handle(self.service.tick())

    def _handle(self, result: TickResult) -> None:
        now = self.service.clock.now()
        events = list(result.events)
        for due in result.due:
            event = self.service.start_due(due)
            if event is not None:
                events.append(event)
        for event in events:
            for line in describe_event(event, now):
                self.say(line)
        for info in result.syncs_due:
            self._sync(info)
        if result.review_due is not None and self.service.claim_schedule(result.review_due.id):
            self.say("The daily review is due.")
        if self.scheduler.running:
            self.scheduler.watch_session(self.service.current())

    def _sync(self, info: ScheduleInfo) -> None:
        if info.source_id is None or not self.service.claim_schedule(info.id):
            return
        summary = self.desk.sources.sync(info.source_id)
        for r in summary.reports:
            if r.error:
                self.say(f"Sync of {r.source_name} failed: {r.error}")
            elif r.added and self.service.holding():
                self.say(
                    f"Synced {r.source_name}: {r.added} new item(s), held until the focus "
                    "block ends."
                )
            else:
                self.say(f"Synced {r.source_name}: {r.added} new, {r.updated} updated.")

    def _maybe_learn(self) -> None:
        now = self.service.clock.monotonic()
        if self._next_learn_check is not None and now < self._next_learn_check:
            return
        self._next_learn_check = now + self._learn_check
        self._run_task(self.learn)

    def learn(self) -> None:
        """Train when the learning trigger says so (new signals, or a quiet moment)."""
        try:
            result = self.desk.learning.auto.run_if_due(self.service.clock.now(), self._cancel)
        except Cancelled:
            self.say("Learning stopped; the scorer in use is kept.")
            return
        if result is not None:
            self.say(result.message)

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

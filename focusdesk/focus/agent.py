"""``FocusAgent``: what a scheduler wake-up means, for the desktop app and ``run --headless``.

The agent owns the APScheduler adapter (``FocusScheduler``), turns each wake-up into a
check (``FocusService.tick``) and decides what the outcome means: due blocks start (once:
the service claims them, and the agent never asks twice for the same occurrence while a
start is under way), ended blocks are summarised, missed ones reported (and marked as
told), syncs and the review run when their schedule claims them, new items are held
while a block runs, a clock jump re-evaluates everything, and a session changed by
another process (the CLI, another runner) is followed.

It reports through a ``FocusListener`` and never does the work on the caller's thread
itself: the owner hands it an ``Executor`` (``run(name, task, on_done, on_error)``) that
runs ``task`` where the owner runs work and calls back where the owner wants outcomes.
The headless runner queues the work on its main loop and prints; the desktop app runs it
on the window's operations runner and shows windows and dialogs. Without an executor the
work runs inline (the caller's thread), which is what ``run --headless --once`` wants.

Thread rules: ``wake`` and ``clock_jumped`` may be called from a scheduler thread only
when the executor is thread-safe; otherwise the owner relays them to its own thread
first (``relay_wake`` / ``relay_jump``, e.g. Qt signals). Outcomes (``on_done``) and
listener calls happen wherever the executor delivers them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from focusdesk.errors import Cancelled, KnownError
from focusdesk.focus.clock import ClockJump
from focusdesk.focus.records import (
    DueBlock,
    FocusEvent,
    ScheduleInfo,
    SessionSummary,
    SessionView,
    TickResult,
)
from focusdesk.progress import CancelToken

if TYPE_CHECKING:
    from focusdesk.focus.scheduler import FocusScheduler
    from focusdesk.focus.service import FocusService
    from focusdesk.rank.learning import TrainResult

log = logging.getLogger(__name__)

T = TypeVar("T")

UNEXPECTED = "an unexpected problem; see the log"
MISSED_WHY = {
    "missed": "FocusDesk was not running, or the computer was asleep",
    "overlapped": "another focus block was running",
}
"""Why an occurrence was recorded as missed, in words (by ``SessionView.end_reason``)."""
LEARN_CHECK = timedelta(seconds=30)
"""How often ``learn_if_due`` really asks the learning trigger (monotonic time)."""


class FocusListener(Protocol):
    """How an owner hears what the agent decided (called where the executor calls back)."""

    def block_did_start(self, event: FocusEvent) -> None:
        """A block started (``event.kind`` "started", maybe ``late``) or is running
        already ("resumed": after a restart, or started by another process)."""
        ...

    def block_will_start(self, due: DueBlock) -> None:
        """A scheduled block is due; planning it (ranking) is under way."""
        ...

    def session_did_change(self, session: SessionView) -> None:
        """The running session changed (an edit here, or in another process)."""
        ...

    def block_did_end(self, summary: SessionSummary) -> None:
        """A block ended (its time was up, it was ended here or elsewhere)."""
        ...

    def blocks_were_missed(self, missed: list[SessionView]) -> None:
        """Occurrences recorded as missed (each is marked as told afterwards)."""
        ...

    def sync_is_due(self, source_id: int, holding: bool) -> None:
        """A source's scheduled sync was claimed: the owner runs it its own way.
        ``holding``: a block is running, so its new items wait until the block ends."""
        ...

    def review_is_due(self) -> None:
        """The daily review was claimed."""
        ...

    def learning_did_run(self, message: str) -> None:
        """A background training run ended (or stopped); what to tell the user."""
        ...

    def focus_did_fail(self, message: str) -> None:
        """Work of the agent failed; ``message`` is for the user."""
        ...


class Executor(Protocol):
    """How an owner runs the agent's work: ``task`` where work runs, then ``on_done`` with
    its result (or ``on_error`` with text for the user) where the owner wants outcomes."""

    def __call__(
        self,
        name: str,
        task: Callable[[], T],
        on_done: Callable[[T], None],
        on_error: Callable[[str], None],
    ) -> Any: ...


class AutoLearning(Protocol):
    """The learning trigger (``LearningService.auto``)."""

    def run_if_due(self, now: datetime, cancel: CancelToken | None = None) -> TrainResult | None:
        """Train when the trigger says so."""
        ...


def run_inline(
    name: str,
    task: Callable[[], T],
    on_done: Callable[[T], None],
    on_error: Callable[[str], None],
) -> None:
    """The default executor: run ``task`` here and now. A ``KnownError`` reaches
    ``on_error`` as its user text; anything else is logged and reported as unexpected."""
    try:
        result = task()
    except KnownError as exc:
        on_error(exc.user_text())
        return
    except Exception:  # noqa: BLE001 - report and keep the agent alive
        log.exception("focus: %s failed", name)
        on_error(UNEXPECTED)
        return
    on_done(result)


def visible_state(s: SessionView) -> tuple[object, ...]:
    """What an owner shows of a session, apart from the clocks (a change is reported)."""
    return (
        s.state,
        s.extended_minutes,
        s.paused_seconds,
        s.current_item_id,
        tuple((i.outcome, i.note) for i in s.items),
    )


_UNKNOWN: Any = object()
"""``current`` of an outcome that did not read the running session."""


class FocusAgent:
    """One profile's focus blocks and schedules, acted on; see the module's docstring."""

    def __init__(
        self,
        service: FocusService,
        listener: FocusListener,
        *,
        run: Executor | None = None,
        learning: AutoLearning | None = None,
        tick: timedelta | None = None,
        learn_check: timedelta = LEARN_CHECK,
    ) -> None:
        self.service = service
        self.listener = listener
        self._execute: Executor = run or run_inline
        self.learning = learning
        self._tick_interval = tick
        self._learn_check = learn_check.total_seconds()
        self._next_learn_check: float | None = None
        self.learn_cancel = CancelToken()
        self.scheduler: FocusScheduler | None = None
        self._new_scheduler: FocusScheduler | None = None
        self.relay_wake: Callable[[], None] = self.wake
        """What a scheduler thread calls on a wake-up; an owner whose executor is not
        thread-safe replaces it with a hop to its own thread that then calls ``wake``."""
        self.relay_jump: Callable[[ClockJump], None] = self.clock_jumped
        """Likewise for a clock jump (then ``clock_jumped`` on the owner's thread)."""
        self.session: SessionView | None = None
        """The active session as last reported to the listener."""
        self._lock = threading.Lock()
        self._started = False
        self._stopped = False
        self._tick_queued = False
        self._starting: set[tuple[int, datetime]] = set()

    @property
    def stopped(self) -> bool:
        return self._stopped

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self, *, schedule: bool = True) -> None:
        """Catch up (a running session resumes, missed blocks are recorded, due ones start)
        and, with ``schedule``, start the scheduler; once. All of it runs as work."""
        if self._started or self._stopped:
            return
        self._started = True

        def task() -> tuple[TickResult, SessionView | None, str | None]:
            problem = self._start_scheduler() if schedule else None
            return (*self._with_current(self.service.recover()), problem)

        self._run("start", task, self._did_start)

    def _start_scheduler(self) -> str | None:
        """Start the scheduler; what to tell the user when it cannot (the rest works)."""
        from focusdesk.focus.scheduler import TICK, FocusScheduler

        try:
            scheduler = FocusScheduler(
                self.service,
                on_due=lambda: self.relay_wake(),
                on_clock_jump=lambda jump: self.relay_jump(jump),
                tick=self._tick_interval or TICK,
            )
            with self._lock:
                if self._stopped:
                    return None
                self._new_scheduler = scheduler
            scheduler.start()
        except Exception:  # noqa: BLE001 - everything else works without schedules
            log.exception("the focus scheduler could not start")
            with self._lock:
                self._new_scheduler = None
            return (
                "The focus scheduler could not start: scheduled blocks, syncs and the review "
                "will not run until FocusDesk starts again (the log says why)."
            )
        return None

    def _did_start(self, outcome: tuple[TickResult, SessionView | None, str | None]) -> None:
        result, current, problem = outcome
        with self._lock:
            self.scheduler, self._new_scheduler = self._new_scheduler, None
        self._handle((result, current))
        if problem is not None and not self._stopped:
            self.listener.focus_did_fail(problem)

    def stop(self) -> None:
        """Stop the scheduler and take no more wake-ups, then note the last moment of the
        running session (a block that is running goes on; it resumes at the next start).
        The note is work: it runs through the executor."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            schedulers = [s for s in (self.scheduler, self._new_scheduler) if s is not None]
            self.scheduler = self._new_scheduler = None
        self.learn_cancel.cancel()  # a training run stops at its next step
        for scheduler in schedulers:
            scheduler.shutdown(wait=True)
        self._execute("heartbeat", self._last_heartbeat, lambda _: None, self._failed)

    def _last_heartbeat(self) -> None:
        try:
            self.service.runner.heartbeat(self.service.clock.now())
        except Exception:  # noqa: BLE001 - closing anyway
            log.exception("could not note the last moment of the focus session")

    # -- wake-ups ------------------------------------------------------------------------------
    def wake(self) -> None:
        """Check what is due now; a wake-up while a check waits to run adds nothing."""
        with self._lock:
            if self._stopped or self._tick_queued:
                return
            self._tick_queued = True
        self._run("tick", self._tick, self._handle)

    def _tick(self) -> tuple[TickResult, SessionView | None]:
        with self._lock:
            self._tick_queued = False  # a wake-up from now on needs a check of its own
        return self._with_current(self.service.tick())

    def clock_jumped(self, jump: ClockJump) -> None:
        """The machine slept or the clock changed: re-evaluate everything."""
        self._run(
            "clock jump", lambda: self._with_current(self.service.clock_jumped(jump)), self._handle
        )

    def _with_current(self, result: TickResult) -> tuple[TickResult, SessionView | None]:
        return result, self.service.current()

    # -- what an outcome means ------------------------------------------------------------------
    def _handle(self, outcome: tuple[TickResult, SessionView | None]) -> None:
        if self._stopped:  # an outcome that arrives after the owner stopped opens nothing
            return
        result, current = outcome
        missed: list[SessionView] = []
        for event in result.events:
            if event.kind in ("started", "resumed"):
                self._report_start(event)
            elif event.kind == "ended" and event.summary is not None:
                self._report_end(event.summary)
            elif event.kind == "missed":
                missed.append(event.session)
        if missed:
            self.listener.blocks_were_missed(missed)
            ids = [m.id for m in missed]
            self._run("announce missed", lambda: self.service.mark_announced(ids), _ignore)
        for due in result.due:
            self._start_due(due)
        holding = current is not None if current is not _UNKNOWN else self.session is not None
        for info in result.syncs_due:
            if info.source_id is not None:
                self._claim_sync(info, info.source_id, holding)
        if result.review_due is not None:
            self._claim(result.review_due, self.listener.review_is_due)
        if current is not _UNKNOWN:
            self._follow(current)

    def _report_start(self, event: FocusEvent) -> None:
        self.session = event.session
        self.listener.block_did_start(event)
        self._watch(event.session)

    def _report_end(self, summary: SessionSummary) -> None:
        self.session = None
        self.listener.block_did_end(summary)
        self._watch(None)

    def _report_change(self, session: SessionView) -> None:
        self.session = session
        self.listener.session_did_change(session)
        self._watch(session)

    def _follow(self, current: SessionView | None) -> None:
        """Catch up with changes made by another process (the CLI, another runner)."""
        known = self.session
        if current is not None and (known is None or known.id != current.id):
            self._report_start(FocusEvent("resumed", current))
        elif current is not None and known is not None:
            if visible_state(current) != visible_state(known):
                self._report_change(current)
            else:
                self._watch(current)
        elif current is None and known is not None:
            self.session = None
            self._run("summary", lambda: self.service.summary(known.id), self._report_end)
        else:
            self._watch(None)

    def _start_due(self, due: DueBlock) -> None:
        key = (due.block_id, due.occurrence.start)
        with self._lock:
            if key in self._starting:
                return  # asked already; the start under way decides
            self._starting.add(key)
        self.listener.block_will_start(due)

        def task() -> FocusEvent | None:
            try:
                return self.service.start_due(due)
            finally:
                with self._lock:
                    self._starting.discard(key)

        self._run("start block", task, self._started_due)

    def _started_due(self, event: FocusEvent | None) -> None:
        if event is not None:
            self._handle((TickResult(events=[event]), _UNKNOWN))

    def _claim_sync(self, info: ScheduleInfo, source_id: int, holding: bool) -> None:
        self._claim(info, lambda: self.listener.sync_is_due(source_id, holding))

    def _claim(self, info: ScheduleInfo, then: Callable[[], None]) -> None:
        self._run(
            f"claim {info.kind}",
            lambda: self.service.claim_schedule(info.id),
            lambda ok: then() if ok else None,
        )

    def _watch(self, session: SessionView | None) -> None:
        scheduler = self.scheduler
        if scheduler is not None and not self._stopped:
            scheduler.watch_session(session)

    # -- what the user asks for ------------------------------------------------------------------
    def start_now(
        self,
        minutes: int,
        *,
        goal_ids: Sequence[int] = (),
        top_k: int | None = None,
        title: str | None = None,
    ) -> None:
        """Plan and start a block now (planning ranks: it is work)."""
        self._run(
            "start",
            lambda: self.service.start(minutes, goal_ids=goal_ids, top_k=top_k, title=title),
            lambda session: self._report_start(FocusEvent("started", session)),
        )

    def edit(self, name: str, change: Callable[[], SessionView]) -> None:
        """Change the running session (pause, an item's outcome...); reported as changed."""
        self._run(name, change, self._report_change)

    def end_now(self) -> None:
        """End the running block now."""
        self._run("end block", self.service.stop, self._report_end)

    # -- learning --------------------------------------------------------------------------------
    def learn_if_due(self, *, now: bool = False) -> None:
        """Ask the learning trigger whether to train (at most every ``learn_check``, unless
        ``now``); the trainer decides, the listener hears the outcome."""
        if self.learning is None or self._stopped:
            return
        mono = self.service.clock.monotonic()
        if not now and self._next_learn_check is not None and mono < self._next_learn_check:
            return
        self._next_learn_check = mono + self._learn_check
        learning = self.learning

        def task() -> str | None:
            try:
                result = learning.run_if_due(self.service.clock.now(), self.learn_cancel)
            except Cancelled:
                return "Learning stopped; the scorer in use is kept."
            return None if result is None else result.message

        self._execute(
            "learn",
            task,
            lambda message: self.listener.learning_did_run(message) if message else None,
            self._failed,
        )

    # -- plumbing --------------------------------------------------------------------------------
    def _run(self, name: str, task: Callable[[], T], on_done: Callable[[T], None]) -> None:
        if self._stopped:
            return
        self._execute(name, task, on_done, self._failed)

    def _failed(self, message: str) -> None:
        self.listener.focus_did_fail(message)


def _ignore(_result: object) -> None:
    return None

"""The one operations runner of the UI: core work in the background, outcomes by signal.

Every background task of the desktop app goes through one ``Operations`` object, owned by
the main window and handed to its controllers:

- ``write(fn, ...)``: the serial lane, one task at a time in submission order. Everything
  that changes the profile (a sync, a goal edit, a triage action, learning, settings) and
  everything that uses the ranking's in-memory state (the ranking, the model, explanations,
  focus ticks) runs here, so no two of them overlap and a ranking never sees half a sync.
- ``read(fn, ...)``: the concurrent lane (``READERS`` threads) for what only reads the
  database or the network (an item's text, the sources' list, a search, remote images).
  SQLite in WAL mode lets them run beside a write; they never wait behind a long sync.

Either way ``fn(progress, cancel)`` runs on a pool thread and its outcome comes back to the
main thread through a ``Job`` QObject that lives there (queued signals): a result goes to
``on_done``; ``Cancelled`` is no error (``on_cancelled``); a ``KnownError`` goes to
``on_error`` as its user text; anything else is a bug, logged with its traceback and
reported once through ``errors.show_error``. ``on_finished`` runs after every outcome.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot
from PySide6.QtWidgets import QWidget

from focusdesk.errors import Cancelled, KnownError
from focusdesk.progress import CancelToken, Progress, ProgressCallback

from . import errors

log = logging.getLogger(__name__)

TaskFn = Callable[[ProgressCallback, CancelToken], Any]
READERS = 2
"""Threads of the read lane: an item's text need not wait for a search."""
PROGRESS_INTERVAL_S = 0.05
"""Progress reaches the UI at most this often (the last report always does)."""


class Job(QObject):
    """One queued or running task; lives in the main thread and relays its outcome."""

    job_did_start = Signal()
    job_did_progress = Signal(object)
    job_did_finish = Signal(object)
    job_did_fail = Signal(object, str)
    job_did_cancel = Signal()

    def __init__(self, name: str, cancel: CancelToken, lane: str = "write") -> None:
        super().__init__()
        self.name = name
        self.lane = lane
        """"write" (the serial lane) or "read" (the concurrent one)."""
        self.cancel_token = cancel
        self.started = False
        self.done = False
        self._last_progress = 0.0

    def cancel(self) -> None:
        """Ask the task to stop at its next check; a queued task never starts."""
        self.cancel_token.cancel()

    @property
    def cancelled(self) -> bool:
        return self.cancel_token.cancelled

    # Called from the worker thread: only emits, never touches widgets.
    def _report(self, progress: Progress) -> None:
        now = time.monotonic()
        last = progress.total is not None and progress.done >= progress.total
        if last or now - self._last_progress >= PROGRESS_INTERVAL_S:
            self._last_progress = now
            self.job_did_progress.emit(progress)

    def __repr__(self) -> str:
        return f"<Job {self.name} {self.lane} started={self.started} done={self.done}>"


class _Runnable(QRunnable):
    def __init__(self, job: Job, fn: TaskFn) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._job = job
        self._fn = fn

    def run(self) -> None:
        job = self._job
        if job.cancelled:
            job.job_did_cancel.emit()
            return
        job.job_did_start.emit()
        try:
            result = self._fn(job._report, job.cancel_token)
        except Cancelled:
            job.job_did_cancel.emit()
        except BaseException as exc:  # noqa: BLE001 - every failure is reported
            job.job_did_fail.emit(exc, traceback.format_exc())
        else:
            job.job_did_finish.emit(result)


class Operations(QObject):
    """Runs core work off the UI thread: writes one at a time in order, reads beside them."""

    job_count_did_change = Signal(int)

    def __init__(self, parent: QWidget | None = None, *, readers: int = READERS) -> None:
        super().__init__(parent)
        self._widget = parent
        self._writes = QThreadPool(self)
        self._writes.setMaxThreadCount(1)
        self._reads = QThreadPool(self)
        self._reads.setMaxThreadCount(readers)
        self._jobs: set[Job] = set()
        self._callbacks: dict[Job, dict[str, Callable[..., Any] | None]] = {}

    @property
    def jobs(self) -> list[Job]:
        """Queued and running jobs."""
        return list(self._jobs)

    @property
    def busy(self) -> bool:
        """Whether any task is queued or running, in either lane."""
        return bool(self._jobs)

    @property
    def writing(self) -> bool:
        """Whether the serial lane has a task queued or running (the ranking's state may
        be changing: a semantic search waits for it, a keyword search need not)."""
        return any(job.lane == "write" for job in self._jobs)

    def write(self, fn: TaskFn, **callbacks: Any) -> Job:
        """Queue ``fn`` on the serial lane (see the module's docstring for what goes there)."""
        return self._submit(self._writes, "write", fn, **callbacks)

    def read(self, fn: TaskFn, **callbacks: Any) -> Job:
        """Run ``fn`` on the concurrent lane: it only reads the database or the network."""
        return self._submit(self._reads, "read", fn, **callbacks)

    def _submit(
        self,
        pool: QThreadPool,
        lane: str,
        fn: TaskFn,
        *,
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[str], None] | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        on_cancelled: Callable[[], None] | None = None,
        on_started: Callable[[], None] | None = None,
        on_finished: Callable[[], None] | None = None,
        cancel: CancelToken | None = None,
        name: str = "task",
    ) -> Job:
        """Queue ``fn(progress_callback, cancel_token)``; callbacks run on the UI thread."""
        job = Job(name, cancel or CancelToken(), lane)
        self._callbacks[job] = {
            "done": on_done,
            "error": on_error,
            "progress": on_progress,
            "cancelled": on_cancelled,
            "started": on_started,
            "finished": on_finished,
        }
        # The receiver (self) lives in the UI thread and the worker emits: queued calls.
        job.job_did_start.connect(self._on_start)
        job.job_did_progress.connect(self._on_progress)
        job.job_did_finish.connect(self._on_finish)
        job.job_did_fail.connect(self._on_fail)
        job.job_did_cancel.connect(self._on_cancel)
        self._jobs.add(job)
        self.job_count_did_change.emit(len(self._jobs))
        pool.start(_Runnable(job, fn))
        return job

    def cancel_all(self) -> None:
        for job in list(self._jobs):
            job.cancel()

    def shutdown(self, timeout_ms: int = 30_000) -> bool:
        """Cancel everything and wait for the running tasks; True when all stopped."""
        self.cancel_all()
        stopped = self.wait(timeout_ms)
        if not stopped:
            log.warning("Background work still running after %d ms", timeout_ms)
        return stopped

    def wait(self, timeout_ms: int = -1) -> bool:
        """Block until both lanes are idle (tests and shutdown only)."""
        writes = self._writes.waitForDone(timeout_ms)
        return self._reads.waitForDone(timeout_ms) and writes

    # -- relays (UI thread) -----------------------------------------------------------
    def _job(self) -> Job | None:
        sender = self.sender()
        return sender if isinstance(sender, Job) and sender in self._jobs else None

    def _call(self, job: Job, key: str, *args: Any) -> None:
        callback = self._callbacks.get(job, {}).get(key)
        if callback is not None:
            callback(*args)

    def _end(self, job: Job) -> None:
        job.done = True
        try:
            self._call(job, "finished")
        finally:
            self._jobs.discard(job)
            self._callbacks.pop(job, None)
            self.job_count_did_change.emit(len(self._jobs))

    @Slot()
    def _on_start(self) -> None:
        job = self._job()
        if job is not None:
            job.started = True
            self._call(job, "started")

    @Slot(object)
    def _on_progress(self, progress: Progress) -> None:
        job = self._job()
        if job is not None and not job.done:
            self._call(job, "progress", progress)

    @Slot(object)
    def _on_finish(self, result: Any) -> None:
        job = self._job()
        if job is None:
            return
        try:
            self._call(job, "done", result)
        finally:
            self._end(job)

    @Slot()
    def _on_cancel(self) -> None:
        job = self._job()
        if job is None:
            return
        try:
            self._call(job, "cancelled")
        finally:
            self._end(job)

    @Slot(object, str)
    def _on_fail(self, exc: BaseException, tb: str) -> None:
        job = self._job()
        if job is None:
            return
        try:
            if isinstance(exc, KnownError):
                log.info("%s failed: %s", job.name, exc.user_text())
                self._call(job, "error", exc.user_text())
            else:
                log.error("Bug in background task %s:\n%s", job.name, tb)
                errors.show_error(self._widget, exc, tb)
        finally:
            self._end(job)

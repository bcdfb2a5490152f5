"""The one worker API: results, progress, cancellation and errors come back by signal."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from focusdesk.errors import Cancelled, KnownError
from focusdesk.progress import CancelToken, Progress
from focusdesk.ui.worker import TaskManager

TIMEOUT_MS = 10_000


@pytest.fixture
def tasks(qtbot: Any, bug_reports: list[BaseException]) -> Any:
    manager = TaskManager()
    yield manager
    manager.shutdown()


def test_result_and_progress_arrive_on_the_ui_thread(qtbot: Any, tasks: TaskManager) -> None:
    main = threading.get_ident()
    seen: dict[str, Any] = {"progress": []}

    def work(progress: Any, cancel: CancelToken) -> int:
        seen["worker"] = threading.get_ident()
        for n in range(3):
            progress(Progress("step", n + 1, 3))
        return 42

    def done(result: int) -> None:
        seen["done"] = (result, threading.get_ident())

    finished: list[bool] = []
    job = tasks.run(
        work,
        on_done=done,
        on_progress=lambda p: seen["progress"].append((p.done, threading.get_ident())),
        on_finished=lambda: finished.append(True),
    )
    qtbot.waitUntil(lambda: bool(finished), timeout=TIMEOUT_MS)
    assert seen["worker"] != main
    assert seen["done"] == (42, main)
    assert seen["progress"][-1] == (3, main)  # the last report always arrives
    assert job.done
    assert not tasks.busy


def test_known_error_goes_to_on_error_as_user_text(
    qtbot: Any, tasks: TaskManager, bug_reports: list[BaseException]
) -> None:
    errors: list[str] = []

    def work(_p: Any, _c: CancelToken) -> None:
        raise KnownError("The mailbox is gone.", hint="Add it again.")

    tasks.run(work, on_error=errors.append)
    qtbot.waitUntil(lambda: bool(errors), timeout=TIMEOUT_MS)
    assert errors == ["The mailbox is gone.\nAdd it again."]
    assert bug_reports == []


def test_a_bug_is_reported_once_through_the_bug_dialog(
    qtbot: Any, tasks: TaskManager, bug_reports: list[BaseException]
) -> None:
    errors: list[str] = []
    finished: list[bool] = []

    def work(_p: Any, _c: CancelToken) -> None:
        raise ZeroDivisionError("oops")

    tasks.run(work, on_error=errors.append, on_finished=lambda: finished.append(True))
    qtbot.waitUntil(lambda: bool(finished), timeout=TIMEOUT_MS)
    assert [type(e) for e in bug_reports] == [ZeroDivisionError]
    assert errors == []
    bug_reports.clear()  # expected here; make_window-style checks would fail otherwise


def test_cancelled_is_not_an_error(qtbot: Any, tasks: TaskManager) -> None:
    gate = threading.Event()
    outcome: list[str] = []

    def work(_p: Any, cancel: CancelToken) -> None:
        while not gate.wait(0.01):
            cancel.raise_if_cancelled()

    job = tasks.run(
        work,
        on_done=lambda _r: outcome.append("done"),
        on_error=outcome.append,
        on_cancelled=lambda: outcome.append("cancelled"),
    )
    qtbot.waitUntil(lambda: job.started, timeout=TIMEOUT_MS)
    job.cancel()
    qtbot.waitUntil(lambda: bool(outcome), timeout=TIMEOUT_MS)
    assert outcome == ["cancelled"]


def test_tasks_run_one_at_a_time_in_order(qtbot: Any, tasks: TaskManager) -> None:
    running = threading.Semaphore(1)
    order: list[int] = []

    def work(n: int) -> Any:
        def run(_p: Any, _c: CancelToken) -> int:
            assert running.acquire(blocking=False), "two tasks overlapped"
            try:
                return n
            finally:
                running.release()

        return run

    for n in range(5):
        tasks.run(work(n), on_done=order.append)
    qtbot.waitUntil(lambda: len(order) == 5, timeout=TIMEOUT_MS)
    assert order == [0, 1, 2, 3, 4]


def test_a_queued_task_cancelled_before_it_starts_never_runs(
    qtbot: Any, tasks: TaskManager
) -> None:
    gate = threading.Event()
    ran: list[str] = []
    cancelled: list[str] = []
    tasks.run(lambda _p, _c: gate.wait(TIMEOUT_MS / 1000))
    second = tasks.run(
        lambda _p, _c: ran.append("second"), on_cancelled=lambda: cancelled.append("second")
    )
    second.cancel()
    gate.set()
    qtbot.waitUntil(lambda: bool(cancelled), timeout=TIMEOUT_MS)
    assert ran == []


def test_cancelled_exception_class_is_the_core_one() -> None:
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        token.raise_if_cancelled()

"""The one operations runner: writes in order, reads beside them, outcomes by signal."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from focusdesk.errors import Cancelled, KnownError
from focusdesk.progress import CancelToken, Progress
from focusdesk.ui.operations import Operations

TIMEOUT_MS = 10_000


@pytest.fixture
def ops(qtbot: Any, bug_reports: list[BaseException]) -> Any:
    runner = Operations()
    yield runner
    runner.shutdown()


def test_result_and_progress_arrive_on_the_ui_thread(qtbot: Any, ops: Operations) -> None:
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
    job = ops.write(
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
    assert not ops.busy


def test_known_error_goes_to_on_error_as_user_text(
    qtbot: Any, ops: Operations, bug_reports: list[BaseException]
) -> None:
    errors: list[str] = []

    def work(_p: Any, _c: CancelToken) -> None:
        raise KnownError("The mailbox is gone.", hint="Add it again.")

    ops.write(work, on_error=errors.append)
    qtbot.waitUntil(lambda: bool(errors), timeout=TIMEOUT_MS)
    assert errors == ["The mailbox is gone.\nAdd it again."]
    assert bug_reports == []


def test_a_bug_is_reported_once_through_the_bug_dialog(
    qtbot: Any, ops: Operations, bug_reports: list[BaseException]
) -> None:
    errors: list[str] = []
    finished: list[bool] = []

    def work(_p: Any, _c: CancelToken) -> None:
        raise ZeroDivisionError("oops")

    ops.write(work, on_error=errors.append, on_finished=lambda: finished.append(True))
    qtbot.waitUntil(lambda: bool(finished), timeout=TIMEOUT_MS)
    assert [type(e) for e in bug_reports] == [ZeroDivisionError]
    assert errors == []
    bug_reports.clear()  # expected here; make_window-style checks would fail otherwise


def test_cancelled_is_not_an_error(qtbot: Any, ops: Operations) -> None:
    gate = threading.Event()
    outcome: list[str] = []

    def work(_p: Any, cancel: CancelToken) -> None:
        while not gate.wait(0.01):
            cancel.raise_if_cancelled()

    job = ops.write(
        work,
        on_done=lambda _r: outcome.append("done"),
        on_error=outcome.append,
        on_cancelled=lambda: outcome.append("cancelled"),
    )
    qtbot.waitUntil(lambda: job.started, timeout=TIMEOUT_MS)
    job.cancel()
    qtbot.waitUntil(lambda: bool(outcome), timeout=TIMEOUT_MS)
    assert outcome == ["cancelled"]


def test_writes_run_one_at_a_time_in_order(qtbot: Any, ops: Operations) -> None:
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
        ops.write(work(n), on_done=order.append)
    qtbot.waitUntil(lambda: len(order) == 5, timeout=TIMEOUT_MS)
    assert order == [0, 1, 2, 3, 4]


def test_a_queued_task_cancelled_before_it_starts_never_runs(qtbot: Any, ops: Operations) -> None:
    gate = threading.Event()
    ran: list[str] = []
    cancelled: list[str] = []
    ops.write(lambda _p, _c: gate.wait(TIMEOUT_MS / 1000))
    second = ops.write(
        lambda _p, _c: ran.append("second"), on_cancelled=lambda: cancelled.append("second")
    )
    second.cancel()
    gate.set()
    qtbot.waitUntil(lambda: bool(cancelled), timeout=TIMEOUT_MS)
    assert ran == []


def test_reads_run_beside_a_running_write_and_beside_each_other(
    qtbot: Any, ops: Operations
) -> None:
    gate = threading.Event()
    both_reading = threading.Barrier(2, timeout=TIMEOUT_MS / 1000)
    write_done: list[bool] = []
    reads: list[str] = []
    ops.write(lambda _p, _c: gate.wait(TIMEOUT_MS / 1000), on_done=write_done.append)
    for name in ("a", "b"):
        ops.read(lambda _p, _c, name=name: (both_reading.wait(), name)[1], on_done=reads.append)
    qtbot.waitUntil(lambda: len(reads) == 2, timeout=TIMEOUT_MS)
    assert sorted(reads) == ["a", "b"]  # each waited for the other: they ran at once
    assert write_done == []  # ... while the write was still running
    assert ops.writing
    gate.set()
    qtbot.waitUntil(lambda: not ops.busy, timeout=TIMEOUT_MS)
    assert write_done == [True]
    assert not ops.writing


def test_a_read_does_not_count_as_writing(qtbot: Any, ops: Operations) -> None:
    gate = threading.Event()
    job = ops.read(lambda _p, _c: gate.wait(TIMEOUT_MS / 1000))
    assert job.lane == "read"
    assert ops.busy
    assert not ops.writing
    gate.set()
    qtbot.waitUntil(lambda: not ops.busy, timeout=TIMEOUT_MS)


def test_cancelled_exception_class_is_the_core_one() -> None:
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        token.raise_if_cancelled()

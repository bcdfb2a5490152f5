"""Learning in the desktop app: train in the background when the trigger says so, show
which version ranks and what it changed, re-rank and mark the rows that moved.

The decision is the core's (``FocusDesk.learning.auto``: the same trigger policy as
``run --headless`` and the quality benchmark); this controller only asks it now and
then, through the window's task manager (never on the UI thread, one task at a time,
so training never overlaps a sync or a ranking), and shows the outcome.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel, QMessageBox

from focusdesk.progress import CancelToken, ProgressCallback

from .inbox_model import moved_rows

if TYPE_CHECKING:
    from focusdesk.clock import Clock
    from focusdesk.rank.learning import TrainResult
    from focusdesk.rank.learning_status import LearningStatus

    from .main_window import MainWindow
    from .operations import Job

CHECK_INTERVAL_MS = 15_000
"""How often the window asks the trigger whether to learn (cheap: two small queries)."""
QUIET_AFTER_WORK_S = 30.0
"""Learning waits until the window's own work (a sync, a ranking, a triage action) has
been over for this long, so that it never competes with what the user is doing."""


class LearningController(QObject):
    """Background learning of one main window, its status label and "Reset learning"."""

    learning_did_finish = Signal(object)
    """A training run ended (its ``TrainResult``), whether its version is used or not."""
    status_did_change = Signal(object)
    """The ``LearningStatus`` shown changed (a new version, a reset, the switch)."""
    rows_did_move = Signal(object)
    """After a new version re-ranked the inbox: item id → places moved (up > 0)."""

    def __init__(
        self,
        window: MainWindow,
        *,
        check_interval_ms: int = CHECK_INTERVAL_MS,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.desk = window.desk
        self.clock: Clock = clock or window.desk.clock
        self._job: Job | None = None
        self._cancel: CancelToken | None = None
        self._before: dict[int, int] | None = None  # positions before a learnt re-rank
        self.status: LearningStatus | None = None
        self.label = QLabel(window.statusBar())
        self.label.setAccessibleName("Learning")
        window.statusBar().addPermanentWidget(self.label)
        self.reset_action = QAction("&Reset learning…", window)
        self.reset_action.setStatusTip("Forget what was learnt from your votes and triage")
        self.reset_action.triggered.connect(self.confirm_reset)
        window.menus["inbox"].addAction(self.reset_action)
        window.inbox_controller.rank_did_finish.connect(self._on_ranked)
        window.settings_controller.settings_did_change.connect(self._on_settings)
        window.goals_panel.goal_learning_did_restart.connect(self._on_goal_restarted)
        self.quiet_after_s = QUIET_AFTER_WORK_S
        self._last_work: datetime | None = None  # when the window's own work last changed
        window.ops.job_count_did_change.connect(self._on_job_count)
        self.timer = QTimer(self)
        self.timer.setInterval(check_interval_ms)
        self.timer.timeout.connect(self.check)
        self.timer.start()
        self.refresh_status()

    # -- asking the trigger -----------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._job is not None

    def check(self) -> Job | None:
        """Learn now if the trigger says so (in the background); None when not asked."""
        if self._job is not None or not self.desk.settings.learning_enabled:
            return None
        if self.window.ops.busy:
            return None  # the user's own work first; asked again at the next tick
        now = self.clock.now()
        if self._last_work is not None and (
            (now - self._last_work).total_seconds() < self.quiet_after_s
        ):
            return None  # the window was just working: wait for a quiet moment
        learner = self.desk.learning.auto
        cancel = CancelToken()

        def work(_p: ProgressCallback, token: CancelToken) -> tuple[Any, LearningStatus]:
            result = learner.run_if_due(now, token)
            return result, self.desk.learning.status()

        self._cancel = cancel
        self._job = self.window.ops.write(
            work,
            cancel=cancel,
            on_done=self._on_done,
            on_error=self.window.show_status,
            on_finished=self._on_finished,
            name="learn",
        )
        return self._job

    def cancel(self) -> None:
        """Stop a training run at its next step; the version in use stays."""
        if self._cancel is not None:
            self._cancel.cancel()

    def _on_job_count(self, count: int) -> None:
        if self._job is None:  # the window's own work, not learning
            self._last_work = self.clock.now()

    def _on_finished(self) -> None:
        self._job = None
        self._cancel = None

    def _on_done(self, payload: tuple[TrainResult | None, LearningStatus]) -> None:
        result, status = payload
        self._show(status)
        if result is None:
            return
        self.learning_did_finish.emit(result)
        if result.accepted:
            self.window.show_status(result.message)
            self._before = {
                item.item_id: n for n, item in enumerate(self.window.inbox_model.all_items())
            }
            self.window.inbox_controller.start_rank()
        elif result.version_id is None and "Not enough" not in result.message:
            self.window.show_status(result.message)

    def _on_ranked(self, items: list[Any]) -> None:
        before, self._before = self._before, None
        if before is None:
            self.window.inbox_model.set_moved({})
            return
        moved = moved_rows(before, items)
        self.window.inbox_model.set_moved(moved)
        self.rows_did_move.emit(moved)

    # -- status -------------------------------------------------------------------------
    def refresh_status(self) -> None:
        """Read the learning status in the background and show it."""
        self.window.ops.read(
            lambda _p, _c: self.desk.learning.status(),
            on_done=self._show,
            on_error=self.window.show_status,
            name="learning status",
        )

    def _show(self, status: LearningStatus) -> None:
        changed = self.status is None or status.version_id != self.status.version_id
        self.status = status
        self.label.setText(status.headline())
        self.label.setToolTip("\n".join(status.lines()))
        self.window.why_panel.set_learning(status)
        if changed or not status.enabled:
            self.status_did_change.emit(status)

    def _on_settings(self, changes: dict[str, Any]) -> None:
        if "learning_enabled" in changes:
            if not changes["learning_enabled"]:
                self.cancel()
            self.refresh_status()

    def _on_goal_restarted(self, title: str) -> None:
        self.window.show_status(
            f"“{title}” changed a lot: what was learnt from votes for it starts afresh "
            "(those votes still count for your goals as a whole)."
        )

    # -- reset --------------------------------------------------------------------------
    def confirm_reset(self) -> None:
        answer = QMessageBox.question(
            self.window,
            "Reset learning",
            "Rank with the untrained scorer again and forget what was learnt from your "
            "votes and triage so far?",
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.reset()

    def reset(self) -> Job:
        """Reset learning in the background, then re-rank."""
        self.cancel()

        def done(status: LearningStatus) -> None:
            self._show(status)
            self.window.show_status("Learning reset: the untrained scorer ranks your items.")
            self._before = {
                item.item_id: n for n, item in enumerate(self.window.inbox_model.all_items())
            }
            self.window.inbox_controller.start_rank()

        def work(_p: ProgressCallback, _c: CancelToken) -> LearningStatus:
            self.desk.learning.reset()
            return self.desk.learning.status()

        return self.window.ops.write(
            work, on_done=done, on_error=self.window.show_status, name="reset learning"
        )

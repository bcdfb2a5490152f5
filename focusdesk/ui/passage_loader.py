"""Fetches the shown item's passage weights in the background, one request at a time.

The reader asks for the weights of the item it shows, for the goal its row is shown
for; the work (``FocusDesk.ranking.explain_item``: sentence vectors on demand) runs on the
window's task runner, so it never blocks the UI and never overlaps the encoder's other
users. A request starts after a short pause (`REQUEST_DELAY_MS`), so that items flicked
past with J/K are not weighed; moving to another item cancels the previous request.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal

from focusdesk.progress import CancelToken

from .operations import Job, Operations

if TYPE_CHECKING:
    from focusdesk.rank.passage_weights import ItemEvidence

log = logging.getLogger(__name__)

Explain = Callable[[int, int, CancelToken], "ItemEvidence"]
REQUEST_DELAY_MS = 150
"""The reader must rest on an item this long before its passages are weighed."""


class PassageWeightsLoader(QObject):
    """Requests ``explain(item_id, goal_id, cancel)`` for the item being read."""

    weights_did_arrive = Signal(object)
    """Carries the ``ItemEvidence`` of the item (and goal) last asked for."""
    weights_did_fail = Signal(int, str)
    """(item id, the reason in words) when the weights could not be computed."""

    def __init__(self, ops: Operations, explain: Explain, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ops = ops
        self._explain = explain
        self._job: Job | None = None
        self._wanted: tuple[int, int] | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REQUEST_DELAY_MS)
        self._timer.timeout.connect(self._start)

    @property
    def pending(self) -> tuple[int, int] | None:
        """(item id, goal id) waiting to start or being computed, or None."""
        return self._wanted if self._job is not None or self._timer.isActive() else None

    def request(self, item_id: int, goal_id: int | None) -> None:
        """Ask for the weights of ``item_id`` for ``goal_id``; None only cancels."""
        wanted = (item_id, goal_id) if goal_id is not None else None
        if wanted is not None and wanted == self.pending:
            return
        self.cancel()
        if wanted is None:
            return
        self._wanted = wanted
        self._timer.start()

    def _start(self) -> None:
        wanted = self._wanted
        if wanted is None:
            return
        explain = self._explain

        def work(_progress: Any, cancel: CancelToken) -> ItemEvidence:
            return explain(wanted[0], wanted[1], cancel)

        def done(weights: ItemEvidence) -> None:
            if self._wanted == wanted:
                self.weights_did_arrive.emit(weights)

        def failed(message: str) -> None:
            if self._wanted == wanted:
                self.weights_did_fail.emit(wanted[0], message)

        def finished() -> None:
            if self._job is not None and self._job.done:
                self._job = None

        job = self.ops.write(
            work, on_done=done, on_error=failed, on_finished=finished, name="passage weights"
        )
        self._job = None if job.done else job  # a pool that runs tasks inline is done already

    def cancel(self) -> None:
        """Drop the request in flight (a queued one never starts)."""
        self._timer.stop()
        if self._job is not None:
            self._job.cancel()
        self._job = None
        self._wanted = None

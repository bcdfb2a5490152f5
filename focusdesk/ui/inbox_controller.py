"""The ranked inbox on screen: its ranking, its selection, its counts and snoozes.

At start the stored ranking is read in the background (no model needed) and shown at
once; a fresh ranking is computed on the write lane only when something it was computed
from changed, and the rows that moved are marked. Later rankings (after a sync, a goal
edit) are generations: only the newest one's outcome is shown, and the selected item
stays selected (by item id). The selection API speaks of "the list shown": the inbox, or
the search results while a search is open.

The controller is handed the services, the runner and the widgets it drives; what the
rest of the window needs to know goes out by signal (``selection_did_change`` for the
reader, ``activity_did_change`` for the busy marks and the page).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QObject, QPoint, Qt, QTimer, Signal
from PySide6.QtWidgets import QAbstractItemView, QStackedWidget, QTableView, QWidget

from focusdesk.rank.stored_ranking import InboxRanking
from focusdesk.records import GoalInfo, RankedItem, SourceInfo

from .inbox_model import (
    SINCE_STORED,
    Column,
    InboxModel,
    ItemRole,
    PreparedInbox,
    moved_rows,
    prepare_inbox,
)
from .search_panel import HitIdRole
from .tray import high_attention

if TYPE_CHECKING:
    from focusdesk.clock import Clock
    from focusdesk.rank.encoding import Encoder
    from focusdesk.rank.index import VectorIndex
    from focusdesk.rank.service import RankingService
    from focusdesk.rank.stored_ranking import StoredRanking
    from focusdesk.settings import Settings
    from focusdesk.triage import Triage

    from .gc_policy import HeapFreezer
    from .inbox_filter import FilterBar
    from .operations import Job, Operations
    from .search_controller import SearchController
    from .tray import TrayController

log = logging.getLogger(__name__)

GOAL_DEBOUNCE_MS = 300
LIST_INBOX, LIST_SEARCH = 0, 1
MODEL_LOAD_DELAY_MS = 1500
"""After a current stored ranking is shown, the model loads this much later (the rows and
the reader paint first; the model is wanted only for semantic search and the Why panel)."""
GOAL_COLUMN_WIDTH = (90, 180)
"""The Goal column fits the goals' short names within these bounds (pixels)."""
STORE_AFTER_MS = 0
"""A fresh ranking is stored this long after it is shown: at the next turn of the event
loop, once its rows are applied (see ``_store_ranking``)."""
WAKE_CHECK_MS = 60_000
"""How often snoozed items are checked for being due (at most)."""

Stored = tuple[InboxRanking | None, PreparedInbox | None]


class InboxDesk(Protocol):
    """The parts of the profile the inbox uses (``FocusDesk`` has them)."""

    settings: Settings
    ranking: RankingService
    clock: Clock

    @property
    def triage(self) -> Triage: ...

    @property
    def encoder(self) -> Encoder: ...

    @property
    def index(self) -> VectorIndex: ...


def prepare_rows(
    desk: InboxDesk, items: list[RankedItem], pinned: set[int] | None = None
) -> PreparedInbox:
    """Rows of a ranking with their marks (in a worker: it reads the store)."""
    prepared = prepare_inbox(items, desk.clock.now())
    prepared.high = high_attention(items, desk.settings.high_attention_score)
    prepared.votes = desk.triage.votes()
    prepared.pinned = desk.triage.pinned() if pinned is None else pinned
    return prepared


class StoredInboxRead(QObject):
    """The stored ranking and its rows, read in the background from the window's start
    (no model needed), so that its rows are ready when the window first shows."""

    did_arrive = Signal()

    def __init__(self, desk: InboxDesk, ops: Operations, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        self.result: Stored | None = None
        self.job = ops.read(
            self._read, name="stored ranking", on_done=self._done, on_error=self._failed
        )

    def _read(self, _p: Any, _c: Any) -> Stored:
        self.desk.triage.wake_due()
        stored = self.desk.ranking.stored_inbox()
        if stored is None or not stored.items:
            return stored, None
        pinned = set(stored.pinned) if stored.pinned is not None else None
        return stored, prepare_rows(self.desk, stored.items, pinned)

    def _done(self, result: Stored) -> None:
        self.result = result
        self.did_arrive.emit()

    def _failed(self, message: str) -> None:
        log.warning("The stored ranking could not be read: %s", message)
        self._done((None, None))


class InboxController(QObject):
    """The inbox of one window: what is ranked on screen and what is selected."""

    rank_did_finish = Signal(list)
    """The inbox was re-ranked; carries the ``RankedItem`` list."""
    rank_did_fail = Signal(str)
    selection_did_change = Signal(object, bool)
    """The item selected in the list shown (None: nothing), and whether the reader should
    show it again even when it shows it already (a re-ranking may change its marks)."""
    reader_focus_requested = Signal()
    """Enter on a row: the reader takes the keyboard."""
    activity_did_change = Signal()
    """A ranking started or ended, or the rows changed (busy marks and page follow)."""
    count_did_change = Signal(int)
    """How many rows the inbox shows."""

    def __init__(
        self,
        desk: InboxDesk,
        ops: Operations,
        stored: StoredInboxRead,
        *,
        model: InboxModel,
        view: QTableView,
        filter_bar: FilterBar,
        search: SearchController,
        list_stack: QStackedWidget,
        tray: TrayController,
        heap: HeapFreezer,
        active_goals: Callable[[], list[GoalInfo]],
        show_status: Callable[[str], None],
        parent: QWidget,
    ) -> None:
        super().__init__(parent)
        self.desk = desk
        self.ops = ops
        self.model = model
        self.view = view
        self.filter_bar = filter_bar
        self.search = search
        self.list_stack = list_stack
        self.tray = tray
        self.heap = heap
        self.active_goals = active_goals
        self.show_status = show_status
        self._parent = parent
        self._rank_job: Job | None = None
        self._ranked_once = False
        self._selected_once = False
        """Whether an inbox item was ever selected (else the first ranking selects the top)."""
        self._rank_generation = 0
        self._stored_checked = False
        """Whether the stored ranking was looked at (once, at the first ranking)."""
        self._stored_read = stored
        self._stored_wanted: int | None = None
        """The ranking generation that waits for the stored ranking being read."""
        self._stored_positions: dict[int, int] | None = None
        """Rows of the stored ranking on screen while a fresh one is computed (to mark moves)."""
        self._shows_ranking = False
        self._model_ready = False
        self._has_sources: bool | None = None
        """Whether the profile has sources; None until the sources' list was first read."""
        self._rank_wanted = False
        """A ranking asked for before the sources' list was read: it runs when it arrives."""
        self.restore_selection: int | None = None
        """The item selected when the window last closed (selected again at the start)."""
        self.header_restored = False
        """Whether the user's column widths were restored (the Goal column is not fitted)."""
        self._before_search: tuple[int | None, int] = (None, 0)
        stored.did_arrive.connect(self._on_stored_read)
        self._rank_timer = QTimer(self)
        self._rank_timer.setSingleShot(True)
        self._rank_timer.setInterval(GOAL_DEBOUNCE_MS)
        self._rank_timer.timeout.connect(self.start_rank)
        self._unstored: StoredRanking | None = None
        """The ranking on screen, until it is stored for the next start."""
        self._store_timer = QTimer(self)
        self._store_timer.setSingleShot(True)
        self._store_timer.setInterval(STORE_AFTER_MS)
        self._store_timer.timeout.connect(self._store_ranking)
        self._wake_timer = QTimer(self)
        self._wake_timer.setSingleShot(True)
        self._wake_timer.timeout.connect(self.wake_snoozed)
        for selection in (view.selectionModel(), search.view.selectionModel()):
            selection.currentRowChanged.connect(self._on_current_changed)
            selection.selectionChanged.connect(self._on_selection_changed)
        for list_view in (view, search.view):
            list_view.activated.connect(lambda _i: self.open_current())
        filter_bar.filter_did_change.connect(self._on_filter_changed)
        model.modelReset.connect(self.update_counts)
        model.layoutChanged.connect(self.update_counts)
        model.rowsRemoved.connect(self.update_counts)

    # -- state --------------------------------------------------------------------------
    @property
    def ranked_once(self) -> bool:
        """Whether a ranking finished (so the model and the index are loaded)."""
        return self._ranked_once

    @property
    def shows_ranking(self) -> bool:
        """Whether the inbox shows a ranking: the stored one or one computed since."""
        return self._shows_ranking

    @property
    def model_ready(self) -> bool:
        """Whether the model and the index are loaded (semantic search is quick)."""
        return self._ranked_once or self._model_ready

    @property
    def ranking(self) -> bool:
        """Whether a ranking is queued or running (or the stored one is being read)."""
        return self._rank_job is not None

    @property
    def rank_requested(self) -> bool:
        """Whether a ranking was asked for since the start."""
        return self._rank_generation > 0 or self._rank_wanted

    @property
    def searching(self) -> bool:
        return self.list_stack.currentIndex() == LIST_SEARCH

    def set_sources(self, sources: list[SourceInfo]) -> None:
        """The sources' list arrived (a ranking asked for before it runs now)."""
        self._has_sources = bool(sources)
        if self._rank_wanted:
            self._rank_wanted = False
            self.start_rank()

    def stop(self) -> None:
        """The window is closing: no more timers (a ranking not stored yet is computed
        again at the next start: the stored one is not current)."""
        self._rank_timer.stop()
        self._wake_timer.stop()
        self._store_timer.stop()

    def _store_ranking(self) -> None:
        """Store the ranking on screen for the next start (on the write lane), after its
        rows are applied; not when a newer ranking is already on its way (that one is
        stored instead). The writer yields the GIL often, so the UI thread keeps painting."""
        fresh, self._unstored = self._unstored, None
        if fresh is not None and self._rank_job is None:  # else a newer one is on its way
            self.ops.write(
                lambda _p, _c: self.desk.ranking.store_inbox(fresh),
                name="store ranking",
                on_error=self.show_status,
            )

    def cancel(self) -> None:
        """Stop the ranking queued or running."""
        if self._rank_job is not None:
            self._rank_job.cancel()

    # -- ranking ------------------------------------------------------------------------
    def request_rank(self) -> None:
        """Re-rank soon (edits within the debounce interval make one ranking)."""
        self._rank_timer.start()

    def start_rank(self) -> Job | None:
        """Re-rank now in the background; a ranking already queued or running is dropped."""
        self._rank_timer.stop()
        if self._has_sources is None:  # the sources' list is on its way
            self._rank_wanted = True
            return None
        if self._rank_job is not None:
            self._rank_job.cancel()
            self._rank_job = None
        self._rank_generation += 1
        if not self._has_sources or not self.active_goals():
            self.set_ranked_items([])
            self.activity_did_change.emit()
            return None
        generation = self._rank_generation
        if not self._stored_checked:
            self._stored_checked = True
            return self._show_stored_ranking(generation)
        return self._run_rank(generation)

    def _on_stored_read(self) -> None:
        if self._stored_wanted is not None:
            self._apply_stored()

    def _show_stored_ranking(self, generation: int) -> Job | None:
        """At start, the stored ranking at once (read without the model); a fresh one is
        computed in the background only when something it was computed from changed."""
        self._stored_wanted = generation
        if self._stored_read.result is not None:
            self._apply_stored()
            return self._rank_job
        if not self._stored_read.job.done:
            self._rank_job = self._stored_read.job
        self.activity_did_change.emit()
        return self._rank_job

    def _apply_stored(self) -> None:
        generation, self._stored_wanted = self._stored_wanted, None
        stored, prepared = self._stored_read.result or (None, None)
        self._stored_read.result = (None, None)  # shown once; its rows are not kept
        if self._rank_job is self._stored_read.job:
            self._rank_job = None
        if generation != self._rank_generation:
            return  # another ranking was asked for meanwhile: that one is shown
        if stored is not None and prepared is not None:
            self._shows_ranking = True
            self.set_ranked_items(prepared)
            self._stored_positions = {r.item_id: n for n, r in enumerate(stored.items)}
        if stored is not None and stored.current and prepared is not None:
            self._stored_positions = None
            # The model, for semantic search and the Why panel: in the background, once
            # the rows are painted (importing torch would hold up the first paint).
            QTimer.singleShot(MODEL_LOAD_DELAY_MS, self._load_model)
            self.activity_did_change.emit()
            self._schedule_wake()
        else:
            self._run_rank(generation)

    def _load_model(self) -> None:
        """Load the model and the index in the background (the stored ranking did not)."""
        if self._ranked_once or self._model_ready or not self._parent.isVisible():
            return

        def done(_: object) -> None:
            self._model_ready = True
            self.heap.freeze()  # the model and the index are loaded now

        def work(_p: Any, _c: Any) -> None:
            self.desk.encoder.load()
            _ = self.desk.index

        self.ops.write(
            work,
            name="load model",
            on_done=done,
            on_error=self.show_status,
        )

    def _run_rank(self, generation: int) -> Job:
        """Rank now in the background; the ranking is shown, then stored for the next start."""

        def work(_p: Any, cancel: Any) -> tuple[PreparedInbox, StoredRanking]:
            self.desk.triage.wake_due()
            fresh = self.desk.ranking.compute_inbox(cancel=cancel)
            return prepare_rows(self.desk, fresh.items), fresh

        def done(result: tuple[PreparedInbox, StoredRanking]) -> None:
            prepared, fresh = result
            if generation == self._rank_generation:
                self._unstored = fresh
                self._store_timer.start()  # stored once its rows are applied
                items = fresh.items
                if not self._ranked_once:
                    self.heap.freeze()  # the model and the index are loaded now
                self._ranked_once = True
                self._shows_ranking = True
                before, self._stored_positions = self._stored_positions, None
                self.set_ranked_items(prepared)
                self.rank_did_finish.emit(items)  # (learning clears its own marks here)
                if before is not None:
                    self.model.set_moved(moved_rows(before, items), SINCE_STORED)

        def failed(message: str) -> None:
            if generation == self._rank_generation:
                self.show_status(message)
                self.rank_did_fail.emit(message)

        def finished() -> None:
            if generation == self._rank_generation:
                self._rank_job = None
                self.activity_did_change.emit()
                self._schedule_wake()

        job = self.ops.write(work, name="rank", on_done=done, on_error=failed, on_finished=finished)
        self._rank_job = job
        self.activity_did_change.emit()
        return job

    def set_ranked_items(self, items: PreparedInbox | list[RankedItem]) -> None:
        """Show a new ranking, keeping the selected item selected (by id)."""
        prepared = (
            items
            if isinstance(items, PreparedInbox)
            else prepare_inbox(items, self.desk.clock.now())
        )
        keep = self.inbox_selected_id()
        if keep is None and self.restore_selection is not None:
            keep, self.restore_selection = self.restore_selection, None
        old_top = self.model.top_item_id()
        if prepared.votes is not None:
            self.model.set_votes(prepared.votes)
        if prepared.pinned is not None:
            self.model.set_pinned_items(prepared.pinned)
        self.model.set_prepared(prepared)
        if not self.searching:
            self._select_after_rank(keep, old_top)
        stories = any(r.story > 1 for r in prepared.rows)
        self.view.setColumnHidden(Column.STORY, not stories)
        self.update_counts()
        self.activity_did_change.emit()
        settings = self.desk.settings
        if prepared.high is None:
            prepared.high = high_attention(
                (r.item for r in prepared.rows), settings.high_attention_score
            )
        self.tray.ranking_did_change(
            prepared.high, prepared.position.keys(), settings.notify_high_attention
        )

    def _select_after_rank(self, keep: int | None, old_top: int | None) -> None:
        """Keep the selected item selected; a new #1 is scrolled into sight.

        A user takes the top visible row for the best one, so when the ranking changed
        which item is first, the list shows its top even if the selection is further
        down (it stays selected, and J/K go on from it). When the top did not change,
        the selected row stays in view.
        """
        if keep is not None and self.select_item(keep):
            if self.model.top_item_id() != old_top:
                self.view.scrollToTop()
            return
        if keep is None and not self._selected_once and self.model.rowCount():
            self.select_row(0)  # at start: the top item, in the reader
            return
        if keep is not None:
            self.selection_did_change.emit(None, True)

    def update_counts(self, *_: object) -> None:
        shown, total = self.model.shown_count(), self.model.total_count()
        self.filter_bar.set_counts(shown, total)
        self.count_did_change.emit(shown)

    def _on_filter_changed(self, flt: Any) -> None:
        self.model.set_filter(flt)
        if not self.searching and self.current_item_id() is None:
            self.selection_did_change.emit(None, True)

    def set_goals(self, goals: list[GoalInfo]) -> None:
        """The goals changed: the filter, the Goal column and its width follow."""
        self.filter_bar.set_goals(goals)
        self.model.set_goals(goals)
        if self.header_restored:  # the user set the widths
            return
        names = [g.short_name for g in goals if g.active]
        metrics = self.view.fontMetrics()
        widest = max((metrics.horizontalAdvance(n) for n in names), default=0)
        width = max(GOAL_COLUMN_WIDTH[0], min(GOAL_COLUMN_WIDTH[1], widest + 40))
        self.view.horizontalHeader().resizeSection(Column.GOAL, width)

    def settings_did_change(self, changes: dict[str, Any]) -> None:
        """Repaint for a new theme; recount the tray's items for a new attention bar."""
        if "theme" in changes:
            self.model.palette_did_change()
        if "high_attention_score" in changes:
            high = high_attention(self.model.all_items(), self.desk.settings.high_attention_score)
            self.tray.set_count(len(high))

    # -- snoozes ------------------------------------------------------------------------
    def _schedule_wake(self) -> None:
        """Check for due snoozes at the next one's time (at most a minute from now)."""
        self._wake_timer.start(WAKE_CHECK_MS)

    def wake_snoozed(self) -> None:
        """Snoozed items that are due come back as new (in the background)."""

        def done(ids: list[int]) -> None:
            for item_id in ids:
                self.model.set_status(item_id, "new")
            if ids:
                n = len(ids)
                self.show_status(f"{n} snoozed item{'s are' if n != 1 else ' is'} back.")
            self._schedule_wake()

        self.ops.write(
            lambda _p, _c: self.desk.triage.wake_due(),
            on_done=done,
            on_error=self.show_status,
            name="wake snoozed",
        )

    # -- search -------------------------------------------------------------------------
    def open_search(self) -> None:
        """/ or Ctrl+F: the search field (results replace the inbox while it is open)."""
        if not self._has_sources:
            self.show_status("Add a source first: there is nothing to search yet.")
            return
        if not self.searching:  # where the inbox was, to come back to
            self._before_search = (self.inbox_selected_id(), self.view.verticalScrollBar().value())
        self.search.bar.show()
        self.filter_bar.hide()
        self.list_stack.setCurrentIndex(LIST_SEARCH)
        self.activity_did_change.emit()  # the inbox page, even when it was empty
        self.search.bar.edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.bar.edit.selectAll()
        if self.search.query.strip() and self.search.model.rowCount() == 0:
            self.search.run(self.search.query)

    def close_search(self) -> None:
        """Back to the inbox as it was: the item selected then, at the same scroll position.

        The search was a detour; the inbox does not jump to the last hit read.
        """
        selected, scroll = self._before_search
        self.search.bar.hide()
        self.filter_bar.show()
        self.list_stack.setCurrentIndex(LIST_INBOX)
        if selected is None or not self.select_item(selected):
            selected = self.inbox_selected_id()
        # The row may have been current already (no signal): the reader is told again.
        self.selection_did_change.emit(selected, False)
        self.view.verticalScrollBar().setValue(scroll)
        self.view.setFocus(Qt.FocusReason.OtherFocusReason)
        self.activity_did_change.emit()

    # -- selection ----------------------------------------------------------------------
    def current_list(self) -> QAbstractItemView:
        """The list shown: the inbox, or the search results while searching."""
        return self.search.view if self.searching else self.view

    def current_item_id(self) -> int | None:
        """The item selected in the list shown (inbox or search results)."""
        view = self.current_list()
        index = view.currentIndex()
        if not index.isValid() or not view.selectionModel().isSelected(index):
            return None
        if view is self.search.view:
            value = index.data(HitIdRole)
        else:
            item = index.data(ItemRole)
            value = item.item_id if isinstance(item, RankedItem) else None
        return value if isinstance(value, int) else None

    def inbox_selected_id(self) -> int | None:
        """The inbox's selected item, also while the search results are shown."""
        item = self.current_item() if not self.searching else None
        if item is not None:
            return item.item_id
        index = self.view.currentIndex()
        found = index.data(ItemRole) if index.isValid() else None
        return found.item_id if isinstance(found, RankedItem) else None

    def current_item(self) -> RankedItem | None:
        if self.searching:
            item_id = self.current_item_id()
            return self.model.find_item(item_id) if item_id is not None else None
        index = self.view.currentIndex()
        if not index.isValid() or not self.view.selectionModel().isSelected(index):
            return None
        item = index.data(ItemRole)
        return item if isinstance(item, RankedItem) else None

    def current_row(self) -> int | None:
        index = self.current_list().currentIndex()
        return index.row() if index.isValid() else None

    def list_row_count(self) -> int:
        model = self.current_list().model()
        return model.rowCount() if model is not None else 0

    def select_item(self, item_id: int) -> bool:
        """Select the row of ``item_id`` (and show it); False when it is not listed."""
        if self.searching:
            row = self.search.model.row_of(item_id)
            if row is None:
                return False
            self.search.select(row)
            return True
        row = self.model.row_of(item_id)
        if row is None:
            return False
        return self.select_row(row)

    def select_row(self, row: int) -> bool:
        """Select the ``row``-th row as shown (0 is the top)."""
        view = self.current_list()
        model = view.model()
        if model is None or row < 0:
            return False
        if model is self.model:  # grouped by goal: a header row holds no item
            found = self.model.item_row(row)
            row = row if found is None else found
        index = model.index(row, 0)
        if not index.isValid():
            return False
        view.selectionModel().setCurrentIndex(
            index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
        view.scrollTo(index)
        return True

    def move_selection(self, step: int) -> None:
        """Select the next (1) or previous (-1) item of the list shown."""
        count = self.list_row_count()
        if count == 0:
            return
        row = self.current_row()
        if row is None or self.current_item_id() is None:
            target = 0 if row is None else row  # nothing selected yet: select, do not move
        else:
            target = max(0, min(count - 1, row + step))
            if not self.searching:  # grouped: past a header
                found = self.model.item_row(target, step)
                target = row if found is None else found
        self.select_row(target)

    def open_current(self) -> None:
        """Enter: read the selected item (the focus moves to the reader)."""
        if self.current_item_id() is None:
            self.move_selection(1)
        if self.current_item_id() is not None:
            self.reader_focus_requested.emit()

    def popup_position(self) -> QPoint:
        """Where a menu about the selected item opens (under its row)."""
        view = self.current_list()
        index = view.currentIndex()
        rect = view.visualRect(index) if index.isValid() else view.viewport().rect()
        return view.viewport().mapToGlobal(rect.bottomLeft())

    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        view = self.current_list()
        if current.model() is not view.model():
            return  # the hidden list's selection changed
        item_id = self.current_item_id() if current.isValid() else None
        if item_id is not None and view is self.view:
            self._selected_once = True
        self.selection_did_change.emit(item_id, True)

    def _on_selection_changed(self, *_: object) -> None:
        # A click on the current row (focus made it current) selects without moving it.
        item_id = self.current_item_id()
        if item_id is not None:
            self.selection_did_change.emit(item_id, False)

"""The main window: goals and sources on the left, the ranked inbox, the reader.

The window shows before anything heavy is imported. Sync and ranking run in the
task manager's serial pool; the window only reacts to their signals. After a sync
or a goal change the inbox is re-ranked in the background and the selected item
stays selected (by item id).
"""

from __future__ import annotations

import logging

from PySide6.QtCore import (
    QByteArray,
    QItemSelectionModel,
    QModelIndex,
    QSettings,
    QSize,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction, QCloseEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHeaderView,
    QMainWindow,
    QSplitter,
    QStackedWidget,
    QTableView,
    QWidget,
)

from focusdesk.app import FocusDesk
from focusdesk.errors import KnownError
from focusdesk.progress import Progress
from focusdesk.records import RankedItem, SourceInfo, SyncSummary

from . import actions, errors
from .actions import make_action, make_toolbar
from .empty_state import EmptyReason, EmptyState
from .goals_panel import GoalsPanel
from .inbox_model import Column, InboxModel, ItemRole, ScoreBarDelegate, SortRole
from .reader import ReaderView
from .sources_panel import SourcesPanel
from .status import StatusArea, summarise_sync
from .worker import Job, TaskManager

log = logging.getLogger(__name__)

GOAL_DEBOUNCE_MS = 300
INBOX_PAGE, EMPTY_PAGE = 0, 1
MBOX_FILTER = "Mailbox files (*.mbox *.mbx *.mbs);;All files (*)"


def default_size(widget: QWidget) -> QSize:
    """1280×800, or 90 % of the screen where that is smaller (first start only)."""
    screen = widget.screen()
    if screen is None:
        return QSize(1280, 800)
    avail = screen.availableGeometry().size()
    return QSize(min(1280, int(avail.width() * 0.9)), min(800, int(avail.height() * 0.9)))


class MainWindow(QMainWindow):
    """FocusDesk's main window over one open profile."""

    sync_did_start = Signal()
    sync_did_finish = Signal(object)
    """A sync ended; carries its ``SyncSummary`` (per-source errors are in it)."""
    sync_did_cancel = Signal()
    sync_did_fail = Signal(str)
    rank_did_finish = Signal(list)
    """The inbox was re-ranked; carries the ``RankedItem`` list."""
    rank_did_fail = Signal(str)
    source_did_add = Signal(object)
    source_did_remove = Signal(int)
    item_did_open = Signal(int)

    def __init__(
        self, desk: FocusDesk, *, demo: bool = False, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.desk = desk
        self.demo = demo
        self.setWindowTitle("FocusDesk" + (" — demo profile" if demo else ""))
        self.setAccessibleName("FocusDesk")
        self.ui_settings = QSettings(
            str(desk.paths.config_dir / "ui.ini"), QSettings.Format.IniFormat
        )
        self.tasks = TaskManager(self)
        self._sync_job: Job | None = None
        self._rank_job: Job | None = None
        self._resync = False
        self._shown_once = False
        self._sources: list[SourceInfo] = []
        self._ranked_once = False
        self._rank_generation = 0

        self._rank_timer = QTimer(self)
        self._rank_timer.setSingleShot(True)
        self._rank_timer.setInterval(GOAL_DEBOUNCE_MS)
        self._rank_timer.timeout.connect(self.start_rank)

        self._build_actions()
        self._build_panes()
        self._build_status_bar()
        self._restore_layout()
        self.goals_panel.reload()
        self.refresh_sources()
        self._update_page()
        self._update_busy()

    # -- construction -----------------------------------------------------------------
    def _build_actions(self) -> None:
        self.sync_action = make_action(self, actions.SYNC, lambda: self.start_sync())
        self.cancel_action = make_action(self, actions.CANCEL, self.cancel)
        self.add_notes_action = make_action(self, actions.ADD_NOTES, self.choose_notes_folder)
        self.add_mbox_action = make_action(self, actions.ADD_MBOX, self.choose_mbox_file)
        self.new_goal_action = make_action(self, actions.NEW_GOAL, self.focus_new_goal)
        self.quit_action = make_action(self, actions.QUIT, self.close)
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)

        file_menu = self.menuBar().addMenu("&File")
        file_menu.addActions([self.add_notes_action, self.add_mbox_action])
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        inbox_menu = self.menuBar().addMenu("&Inbox")
        inbox_menu.addActions([self.sync_action, self.cancel_action])
        inbox_menu.addSeparator()
        inbox_menu.addAction(self.new_goal_action)
        self.toolbar = make_toolbar(
            self,
            [[self.sync_action, self.cancel_action], [self.add_notes_action, self.add_mbox_action]],
        )

    def _build_panes(self) -> None:
        self.goals_panel = GoalsPanel(self.desk, self.tasks, self)
        self.goals_panel.goals_did_change.connect(self._on_goals_changed)
        self.goals_panel.goal_did_fail.connect(self.show_status)
        self.sources_panel = SourcesPanel(self)
        self.sources_panel.source_remove_requested.connect(self.remove_source)

        self.left_splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.left_splitter.setObjectName("left_splitter")
        self.left_splitter.addWidget(self.goals_panel)
        self.left_splitter.addWidget(self.sources_panel)
        self.left_splitter.setStretchFactor(0, 3)
        self.left_splitter.setStretchFactor(1, 1)
        self.left_splitter.setChildrenCollapsible(False)

        self.inbox_model = InboxModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.inbox_model)
        self.proxy.setSortRole(SortRole)
        self.inbox_view = QTableView(self)
        self.inbox_view.setObjectName("inbox")
        self.inbox_view.setAccessibleName("Inbox")
        self.inbox_view.setAccessibleDescription("Your items, most deserving of attention first")
        self.inbox_view.setModel(self.proxy)
        self.inbox_view.setItemDelegateForColumn(Column.SCORE, ScoreBarDelegate(self.inbox_view))
        self.inbox_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.inbox_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.inbox_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.inbox_view.setShowGrid(False)
        self.inbox_view.setAlternatingRowColors(True)
        self.inbox_view.setWordWrap(False)
        self.inbox_view.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.inbox_view.setSortingEnabled(True)
        self.inbox_view.sortByColumn(Column.SCORE, Qt.SortOrder.DescendingOrder)
        vheader = self.inbox_view.verticalHeader()
        vheader.hide()
        vheader.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vheader.setDefaultSectionSize(self.fontMetrics().height() + 10)
        header = self.inbox_view.horizontalHeader()
        header.setStretchLastSection(False)
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setSectionResizeMode(Column.TITLE, QHeaderView.ResizeMode.Stretch)
        for col, width in (
            (Column.SOURCE, 110),
            (Column.SCORE, 104),
            (Column.GOAL, 250),
            (Column.AGE, 80),
        ):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(col, width)
        self.inbox_view.selectionModel().currentRowChanged.connect(self._on_current_changed)

        self.reader = ReaderView(self)
        self.centre_splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.centre_splitter.setObjectName("centre_splitter")
        self.centre_splitter.addWidget(self.inbox_view)
        self.centre_splitter.addWidget(self.reader)
        self.centre_splitter.setStretchFactor(0, 2)
        self.centre_splitter.setStretchFactor(1, 3)
        self.centre_splitter.setChildrenCollapsible(False)

        self.empty_state = EmptyState(self)
        self.empty_state.add_notes_requested.connect(self.choose_notes_folder)
        self.empty_state.add_mbox_requested.connect(self.choose_mbox_file)
        self.empty_state.add_goal_requested.connect(self.focus_new_goal)
        self.empty_state.sync_requested.connect(lambda: self.start_sync())
        self.stack = QStackedWidget(self)
        self.stack.setAccessibleName("Inbox or getting started")
        self.stack.insertWidget(INBOX_PAGE, self.centre_splitter)
        self.stack.insertWidget(EMPTY_PAGE, self.empty_state)

        self.main_splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.main_splitter.setObjectName("main_splitter")
        self.main_splitter.addWidget(self.left_splitter)
        self.main_splitter.addWidget(self.stack)
        self.main_splitter.setStretchFactor(0, 0)
        self.main_splitter.setStretchFactor(1, 1)
        self.main_splitter.setChildrenCollapsible(False)
        self.setCentralWidget(self.main_splitter)

    def _build_status_bar(self) -> None:
        self.status = StatusArea(self.statusBar())
        self.status_label = self.status.message
        self.progress_bar = self.status.progress

    # -- layout memory ----------------------------------------------------------------
    def _restore_layout(self) -> None:
        s = self.ui_settings
        geometry = s.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(default_size(self))
        state = s.value("window/state")
        if isinstance(state, QByteArray):
            self.restoreState(state)
        for key, splitter, sizes in (
            ("main", self.main_splitter, [310, 970]),
            ("centre", self.centre_splitter, [300, 420]),
            ("left", self.left_splitter, [460, 200]),
        ):
            saved = s.value(f"splitters/{key}")
            if not (isinstance(saved, QByteArray) and splitter.restoreState(saved)):
                splitter.setSizes(sizes)
        header = s.value("inbox/header")
        if isinstance(header, QByteArray):
            self.inbox_view.horizontalHeader().restoreState(header)

    def save_layout(self) -> None:
        s = self.ui_settings
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState())
        s.setValue("splitters/main", self.main_splitter.saveState())
        s.setValue("splitters/centre", self.centre_splitter.saveState())
        s.setValue("splitters/left", self.left_splitter.saveState())
        s.setValue("inbox/header", self.inbox_view.horizontalHeader().saveState())
        s.sync()

    # -- events -----------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        super().showEvent(event)
        if not self._shown_once:
            self._shown_once = True
            QTimer.singleShot(0, self._after_first_show)

    def _after_first_show(self) -> None:
        """Read what was never read; otherwise rank what is there."""
        if any(src.last_sync_at is None and src.enabled for src in self._sources):
            self.start_sync()
        elif self._sources and self.goals_panel.active_goals():
            self.start_rank()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self.save_layout()
        self._rank_timer.stop()
        self.tasks.cancel_all()
        self.hide()  # gone at once, even while a batch of encoding finishes
        self.tasks.shutdown()
        super().closeEvent(event)

    # -- sources ----------------------------------------------------------------------
    def refresh_sources(self) -> None:
        """Re-read the source list (a small read, fine on the UI thread)."""
        self._sources = self.desk.list_sources()
        self.sources_panel.set_sources(self._sources)

    def choose_notes_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Add a notes folder")
        if path:
            self.add_source("notes", path)

    def choose_mbox_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Add a mailbox file", "", MBOX_FILTER)
        if path:
            self.add_source("mbox", path)

    def add_source(self, kind: str, path: str) -> None:
        """Add a source in the background, then read it."""

        def done(info: SourceInfo) -> None:
            self.refresh_sources()
            self.show_status(f"Added {info.name}. Reading it…")
            self.source_did_add.emit(info)
            self._update_page()
            self.start_sync()

        def failed(message: str) -> None:
            self.show_status(message)
            errors.show_message(self, "Could not add the source", message)

        self.tasks.run(
            lambda _p, _c: self.desk.add_source(kind, path),
            on_done=done,
            on_error=failed,
            name=f"add {kind} source",
        )

    def remove_source(self, source_id: int) -> None:
        def done(_: object) -> None:
            self.refresh_sources()
            self.show_status("Source removed.")
            self.source_did_remove.emit(source_id)
            self._update_page()
            self.start_rank()

        self.tasks.run(
            lambda _p, _c: self.desk.remove_source(source_id),
            on_done=done,
            on_error=self.show_status,
            name="remove source",
        )

    # -- sync -------------------------------------------------------------------------
    @property
    def syncing(self) -> bool:
        return self._sync_job is not None

    def start_sync(self, source_id: int | None = None) -> Job | None:
        """Read sources (all, or one) in the background; re-rank when done."""
        if self._sync_job is not None:
            self._resync = True
            return None
        if not self._sources:
            self.show_status("There is nothing to sync yet: add a notes folder or a mailbox.")
            return None
        job = self.tasks.run(
            lambda progress, cancel: self.desk.sync(source_id, progress=progress, cancel=cancel),
            on_done=self._on_sync_done,
            on_error=self._on_sync_error,
            on_progress=self._on_progress,
            on_cancelled=self._on_sync_cancelled,
            on_finished=self._on_sync_finished,
            name="sync",
        )
        self._sync_job = job
        self.show_status("Syncing…")
        self._update_busy()
        self._update_page()
        self.sync_did_start.emit()
        return job

    def _on_sync_done(self, summary: SyncSummary) -> None:
        self.refresh_sources()
        self.show_status(summarise_sync(summary))
        self.sync_did_finish.emit(summary)

    def _on_sync_error(self, message: str) -> None:
        self.refresh_sources()
        self.show_status(f"Sync failed: {message}")
        self.sync_did_fail.emit(message)

    def _on_sync_cancelled(self) -> None:
        self.refresh_sources()
        self.show_status("Sync cancelled. What was read so far is kept.")
        self.sync_did_cancel.emit()

    def _on_sync_finished(self) -> None:
        cancelled = self._sync_job is not None and self._sync_job.cancelled
        self._sync_job = None
        self._update_busy()
        if self._resync and not cancelled:
            self._resync = False
            self.start_sync()
        elif not cancelled:
            self.start_rank()
        self._resync = False
        self._update_page()

    # -- ranking ----------------------------------------------------------------------
    def request_rank(self) -> None:
        """Re-rank soon (edits within the debounce interval make one ranking)."""
        self._rank_timer.start()

    def start_rank(self) -> Job | None:
        """Re-rank now in the background; a ranking already queued or running is dropped."""
        self._rank_timer.stop()
        if self._rank_job is not None:
            self._rank_job.cancel()
            self._rank_job = None
        self._rank_generation += 1
        if not self._sources or not self.goals_panel.active_goals():
            self.set_ranked_items([])
            self._update_busy()
            return None
        generation = self._rank_generation

        def done(items: list[RankedItem]) -> None:
            if generation == self._rank_generation:
                self._ranked_once = True
                self.set_ranked_items(items)
                self.rank_did_finish.emit(items)

        def failed(message: str) -> None:
            if generation == self._rank_generation:
                self.show_status(message)
                self.rank_did_fail.emit(message)

        def finished() -> None:
            if generation == self._rank_generation:
                self._rank_job = None
                self._update_busy()
                self._update_page()

        job = self.tasks.run(
            lambda _p, cancel: self.desk.rank(cancel=cancel),
            name="rank",
            on_done=done,
            on_error=failed,
            on_finished=finished,
        )
        self._rank_job = job
        self._update_busy()
        self._update_page()
        return job

    def set_ranked_items(self, items: list[RankedItem]) -> None:
        """Show a new ranking, keeping the selected item selected (by id)."""
        keep = self.selected_item_id()
        self.inbox_model.set_items(items)
        self.status.set_count(len(items))
        self._update_page()
        if keep is not None and self.select_item(keep):
            return
        if keep is not None:
            self.reader.show_placeholder()

    # -- selection and reader ---------------------------------------------------------
    def selected_item_id(self) -> int | None:
        item = self.current_item()
        return item.item_id if item is not None else None

    def current_item(self) -> RankedItem | None:
        index = self.inbox_view.currentIndex()
        if not index.isValid() or not self.inbox_view.selectionModel().isSelected(index):
            return None
        item = index.data(ItemRole)
        return item if isinstance(item, RankedItem) else None

    def select_item(self, item_id: int) -> bool:
        """Select the row of ``item_id`` (and show it); False when it is not listed."""
        row = self.inbox_model.row_of(item_id)
        if row is None:
            return False
        index = self.proxy.mapFromSource(self.inbox_model.index(row, Column.TITLE))
        self.inbox_view.selectionModel().setCurrentIndex(
            index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
        self.inbox_view.scrollTo(index)
        return True

    def select_row(self, row: int) -> bool:
        """Select the ``row``-th row as shown (0 is the top)."""
        index = self.proxy.index(row, Column.TITLE)
        if not index.isValid():
            return False
        self.inbox_view.selectionModel().setCurrentIndex(
            index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
        return True

    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        item = current.data(ItemRole) if current.isValid() else None
        if not isinstance(item, RankedItem):
            self.reader.show_placeholder()
            return
        try:
            detail = self.desk.get_item(item.item_id)
        except KnownError as exc:
            self.reader.show_placeholder(exc.user_text())
            return
        same = self.reader.item_id == item.item_id  # re-selected after a re-ranking
        self.reader.show_item(detail, item, keep_scroll=same)
        if not same:
            self.item_did_open.emit(item.item_id)

    # -- goals ------------------------------------------------------------------------
    def focus_new_goal(self) -> None:
        self.goals_panel.add_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def _on_goals_changed(self) -> None:
        self._update_page()
        self.request_rank()

    # -- status -----------------------------------------------------------------------
    def show_status(self, message: str) -> None:
        self.status.show_message(message)

    def cancel(self) -> None:
        """Stop the running sync and ranking (what was done so far is kept)."""
        for job in (self._sync_job, self._rank_job):
            if job is not None:
                job.cancel()
        if self._sync_job is not None:
            self.show_status("Cancelling…")

    def _on_progress(self, progress: Progress) -> None:
        if self._sync_job is not None:
            self.status.show_progress(progress)

    def _update_busy(self) -> None:
        syncing = self._sync_job is not None
        ranking = self._rank_job is not None
        self.cancel_action.setEnabled(syncing or ranking)
        self.sync_action.setEnabled(not syncing)
        self.status.set_activity(syncing=syncing, ranking=ranking)

    def _update_page(self) -> None:
        reason: EmptyReason | None = None
        if not self._sources:
            reason = EmptyReason.NO_SOURCES
        elif not self.goals_panel.active_goals():
            reason = EmptyReason.NO_GOALS
        elif self.inbox_model.rowCount() == 0:
            if self._sync_job is not None:
                reason = EmptyReason.READING
            elif self._rank_job is not None or not self._ranked_once:
                reason = EmptyReason.RANKING
            else:
                reason = EmptyReason.NO_ITEMS
        if reason is None:
            self.stack.setCurrentIndex(INBOX_PAGE)
        else:
            self.empty_state.set_reason(reason)
            self.stack.setCurrentIndex(EMPTY_PAGE)

"""The main window: goals and sources on the left, the ranked inbox, the reader.

The window shows before anything heavy is imported. Sync, ranking, triage and search
run in the background (the task manager's serial pool; keyword search also on a pool
of its own); the window only reacts to their signals. Rankings arrive as prepared
rows, so showing 100,000 of them is list work, not Python per row. After a sync or a
goal change the inbox is re-ranked and the selected item stays selected (by item id).
Keyboard first: j/k, Enter, e, d, s, +/−, o, u, / and ? (see ``actions.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import (
    QByteArray,
    QItemSelectionModel,
    QModelIndex,
    QPoint,
    QSettings,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction, QCloseEvent, QPaintEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QFileDialog,
    QHeaderView,
    QMainWindow,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from focusdesk.app import FocusDesk
from focusdesk.errors import KnownError
from focusdesk.progress import Progress
from focusdesk.rank.stored_ranking import InboxRanking
from focusdesk.records import RankedItem, SourceInfo, SyncSummary
from focusdesk.sources.note_links import link_target
from focusdesk.triage import UndoRecord

from . import actions, errors
from .actions import make_action, make_toolbar
from .empty_state import EmptyReason, EmptyState
from .focus_controller import FocusController
from .gc_policy import HeapFreezer
from .goal_grouping import GoalGrouping
from .goals_panel import GoalsPanel
from .inbox_filter import FilterBar
from .inbox_model import (
    SINCE_STORED,
    Column,
    InboxModel,
    ItemRole,
    PreparedInbox,
    ScoreBarDelegate,
    moved_rows,
    prepare_inbox,
)
from .item_actions import ItemActions
from .learning_controller import LearningController
from .operations import Job, Operations
from .passage_loader import PassageWeightsLoader
from .reader_pane import ReaderPane
from .remote_content import MAX_IMAGES, fetch_image, is_allowed
from .search_controller import SearchController
from .search_panel import HitIdRole
from .sources_panel import SourcesPanel
from .status import StatusArea, summarise_sync
from .style import ThemeKeeper, app_icon, paint_empty_text
from .tray import TrayController, high_attention
from .window_layout import clamp_to_screen

log = logging.getLogger(__name__)

GOAL_DEBOUNCE_MS = 300
INBOX_PAGE, EMPTY_PAGE = 0, 1
LIST_INBOX, LIST_SEARCH = 0, 1
MBOX_FILTER = "Mailbox files (*.mbox *.mbx *.mbs);;All files (*)"
GOAL_COLUMN_WIDTH = (90, 180)
"""The Goal column fits the goals' short names within these bounds (pixels)."""
MODEL_LOAD_DELAY_MS = 1500
"""After a current stored ranking is shown, the model loads this much later (the rows and
the reader paint first; the model is wanted only for semantic search and the Why panel)."""
WAKE_CHECK_MS = 60_000
"""How often snoozed items are checked for being due (at most)."""


def default_size(widget: QWidget) -> QSize:
    """1280×800, or 90 % of the screen where that is smaller (first start only)."""
    screen = widget.screen()
    if screen is None:
        return QSize(1280, 800)
    avail = screen.availableGeometry().size()
    return QSize(min(1280, int(avail.width() * 0.9)), min(800, int(avail.height() * 0.9)))


class InboxView(QTableView):
    """The inbox table; says so when the filter leaves nothing to show."""

    EMPTY_TEXT = "Nothing here with these filters.\nChoose “Inbox” or “Everything” above."

    def moveCursor(  # noqa: N802
        self, action: QAbstractItemView.CursorAction, modifiers: Qt.KeyboardModifier
    ) -> QModelIndex:
        """Home and End go to the first and last item (not the row's first/last cell)."""
        cursor = QAbstractItemView.CursorAction
        if action in (cursor.MoveHome, cursor.MoveEnd) and self.model() is not None:
            rows = self.model().rowCount()
            if rows == 0:
                return QModelIndex()
            column = max(0, self.currentIndex().column())
            row = 0 if action == cursor.MoveHome else rows - 1
            model = self.model()
            if isinstance(model, InboxModel):  # grouped by goal: past the header
                found = model.item_row(row, 1 if action == cursor.MoveHome else -1)
                row = row if found is None else found
            return self.model().index(row, column)
        return super().moveCursor(action, modifiers)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        super().paintEvent(event)
        model = self.model()
        if isinstance(model, InboxModel) and model.rowCount() == 0 and model.total_count():
            paint_empty_text(self, self.EMPTY_TEXT)


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
    source_did_change = Signal(object)
    item_did_open = Signal(int)
    settings_did_change = Signal(dict)
    remote_image_did_load = Signal(str)

    def __init__(
        self, desk: FocusDesk, *, demo: bool = False, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.desk = desk
        self.demo = demo
        self.setWindowTitle("FocusDesk" + (" — demo profile" if demo else ""))
        self.setWindowIcon(app_icon())
        self.setAccessibleName("FocusDesk")
        self.ui_settings = QSettings(
            str(desk.paths.config_dir / "ui.ini"), QSettings.Format.IniFormat
        )
        app = QApplication.instance()
        self.theme = ThemeKeeper(app) if isinstance(app, QApplication) else None
        self.ops = Operations(self)
        """The one runner of background work, handed to every controller."""
        self._sync_job: Job | None = None
        self._rank_job: Job | None = None
        self._syncing_source: int | None = None
        self._resync = False
        self._shown_once = False
        self._sources: list[SourceInfo] = []
        self._ranked_once = False
        self._selected_once = False
        """Whether an inbox item was ever selected (else the first ranking selects the top)."""
        self._rank_generation = 0
        self._stored_checked = False
        """Whether the stored ranking was looked at (once, at the first ranking)."""
        self._shows_ranking = False
        self._model_ready = False
        self._stored_positions: dict[int, int] | None = None
        """Rows of the stored ranking on screen while a fresh one is computed (to mark moves)."""
        self._stored: tuple[InboxRanking | None, PreparedInbox | None] | None = None
        self._stored_wanted: int | None = None
        """The ranking generation that waits for the stored ranking being read."""
        self._restore_selection: int | None = None
        self._inbox_before_search: tuple[int | None, int] = (None, 0)
        self._remote_once: set[int] = set()
        self._sources_dialog: Any = None
        self._add_dialog: Any = None
        self._help: Any = None
        self.heap = HeapFreezer()
        # The stored ranking is read now, while the window is built (no model needed).
        self._stored_job = self.ops.read(
            self._read_stored,
            name="stored ranking",
            on_done=self._on_stored_read,
            on_error=self._on_stored_failed,
        )

        self._rank_timer = QTimer(self)
        self._rank_timer.setSingleShot(True)
        self._rank_timer.setInterval(GOAL_DEBOUNCE_MS)
        self._rank_timer.timeout.connect(self.start_rank)
        self._wake_timer = QTimer(self)
        self._wake_timer.setSingleShot(True)
        self._wake_timer.timeout.connect(self.wake_snoozed)

        self.item_actions = ItemActions(self)
        self._build_panes()
        self._build_actions()
        self._build_status_bar()
        self.tray = TrayController(self)
        self.tray.show_requested.connect(self.bring_to_front)
        self.tray.sync_requested.connect(lambda: self.start_sync())
        self.tray.focus_requested.connect(self.start_focus_block)
        self.tray.quit_requested.connect(self.close)
        self.focus_controller = FocusController(self)  # focus blocks: menu, scheduler, window
        self.learning = LearningController(self)  # background learning, its status, reset
        self.goal_grouping = GoalGrouping(self)  # the inbox grouped by goal (issue 13)
        self._restore_layout()
        self.goals_panel.goals_did_load.connect(self._on_goals_loaded)
        self.goals_panel.reload()  # in the background: the first paint does not wait
        self.refresh_sources()
        self._update_page()
        self._update_busy()
        if self.theme is not None and desk.settings.theme != "system":
            self.theme.apply(desk.settings.theme)

    # -- construction -----------------------------------------------------------------
    def _build_actions(self) -> None:
        scope = self.centre_page
        self.sync_action = make_action(self, actions.SYNC, lambda: self.start_sync())
        self.cancel_action = make_action(self, actions.CANCEL, self.cancel)
        self.add_source_action = make_action(self, actions.ADD_SOURCE, self.open_add_source)
        self.add_notes_action = make_action(self, actions.ADD_NOTES, self.choose_notes_folder)
        self.add_mbox_action = make_action(self, actions.ADD_MBOX, self.choose_mbox_file)
        self.sources_action = make_action(self, actions.MANAGE_SOURCES, self.open_sources_manager)
        self.new_goal_action = make_action(self, actions.NEW_GOAL, self.focus_new_goal)
        self.settings_action = make_action(self, actions.SETTINGS, self.open_settings)
        self.settings_action.setMenuRole(QAction.MenuRole.PreferencesRole)
        self.quit_action = make_action(self, actions.QUIT, self.close)
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        self.search_action = make_action(self, actions.SEARCH, self.open_search)
        self.help_action = make_action(self, actions.HELP, self.toggle_help)
        ia = self.item_actions
        self.next_action = make_action(
            self, actions.NEXT_ITEM, lambda: self.move_selection(1), scope=scope
        )
        self.previous_action = make_action(
            self, actions.PREVIOUS_ITEM, lambda: self.move_selection(-1), scope=scope
        )
        self.open_action = make_action(self, actions.OPEN_ITEM, self.open_current, scope=scope)
        self.done_action = make_action(self, actions.DONE, ia.done, scope=scope)
        self.dismiss_action = make_action(self, actions.DISMISS, ia.dismiss, scope=scope)
        self.snooze_action = make_action(self, actions.SNOOZE, ia.snooze, scope=scope)
        self.vote_up_action = make_action(self, actions.VOTE_UP, lambda: ia.vote("up"), scope=scope)
        self.vote_down_action = make_action(
            self, actions.VOTE_DOWN, lambda: ia.vote("down"), scope=scope
        )
        self.open_original_action = make_action(
            self, actions.OPEN_ORIGINAL, ia.open_original, scope=scope
        )
        self.undo_action = make_action(self, actions.UNDO, ia.undo, scope=scope)
        self.pin_action = make_action(self, actions.PIN, ia.toggle_pin, scope=scope)
        self.why_action = make_action(self, actions.WHY, self.toggle_why, scope=scope)
        self.format_action = make_action(
            self, actions.TOGGLE_FORMAT, self.reader_pane.toggle_format, scope=scope
        )

        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addActions([self.add_source_action, self.add_notes_action, self.add_mbox_action])
        file_menu.addSeparator()
        file_menu.addActions([self.sources_action, self.settings_action])
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        inbox_menu = bar.addMenu("&Inbox")
        inbox_menu.addActions(
            [self.sync_action, self.cancel_action, self.search_action, self.next_action]
        )
        inbox_menu.addActions([self.previous_action, self.open_action])
        inbox_menu.addSeparator()
        inbox_menu.addAction(self.new_goal_action)
        from .review_tab import install_review  # the Review dock (issue 7)

        inbox_menu.addAction(install_review(self))
        item_menu = bar.addMenu("I&tem")
        item_menu.addActions(
            [
                self.done_action,
                self.dismiss_action,
                self.snooze_action,
                self.vote_up_action,
                self.vote_down_action,
                self.pin_action,
                self.open_original_action,
            ]
        )
        item_menu.addSeparator()
        item_menu.addActions([self.undo_action, self.why_action, self.format_action])
        self.menus = {"file": file_menu, "inbox": inbox_menu, "item": item_menu}
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.help_action)
        self.menus["help"] = help_menu
        self.toolbar = make_toolbar(
            self,
            [
                [self.sync_action, self.cancel_action],
                [self.add_source_action, self.sources_action],
                [self.search_action],
            ],
        )
        self.update_undo(None)

    def _build_panes(self) -> None:
        self.goals_panel = GoalsPanel(self.desk, self.ops, self)
        self.goals_panel.goals_did_change.connect(self._on_goals_changed)
        self.goals_panel.goal_did_fail.connect(self.show_status)
        self.goals_panel.new_goal_did_leave.connect(
            lambda: self._current_view().setFocus(Qt.FocusReason.ShortcutFocusReason)
        )
        self.sources_panel = SourcesPanel(self)
        self.sources_panel.source_remove_requested.connect(self.remove_source)
        self.sources_panel.manage_requested.connect(self.open_sources_manager)

        self.left_splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.left_splitter.setObjectName("left_splitter")
        self.left_splitter.addWidget(self.goals_panel)
        self.left_splitter.addWidget(self.sources_panel)
        self.left_splitter.setStretchFactor(0, 3)
        self.left_splitter.setStretchFactor(1, 1)
        self.left_splitter.setChildrenCollapsible(False)

        self.inbox_model = InboxModel(self)
        self.inbox_view = InboxView(self)
        self.inbox_view.setObjectName("inbox")
        self.inbox_view.setAccessibleName("Inbox")
        self.inbox_view.setAccessibleDescription("Your items, most deserving of attention first")
        self.inbox_view.setModel(self.inbox_model)
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
        self.inbox_view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        vheader = self.inbox_view.verticalHeader()
        vheader.hide()
        vheader.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vheader.setDefaultSectionSize(self.fontMetrics().height() + 10)
        header = self.inbox_view.horizontalHeader()
        header.setStretchLastSection(False)
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setSectionResizeMode(Column.TITLE, QHeaderView.ResizeMode.Stretch)
        for col, width in (  # the Title stretches into what is left: most of the row
            (Column.STORY, 52),
            (Column.SOURCE, 104),
            (Column.SCORE, 84),
            (Column.GOAL, 136),
            (Column.AGE, 72),
        ):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(col, width)
        self.inbox_view.selectionModel().currentRowChanged.connect(self._on_current_changed)
        self.inbox_view.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self.inbox_view.activated.connect(lambda _i: self.open_current())

        self.filter_bar = FilterBar(self)
        self.filter_bar.filter_did_change.connect(self._on_filter_changed)
        self.inbox_model.modelReset.connect(self._update_counts)
        self.inbox_model.layoutChanged.connect(self._update_counts)
        self.inbox_model.rowsRemoved.connect(self._update_counts)
        self.search = SearchController(self)
        self.search.bar.search_did_close.connect(self.close_search)
        self.search.bar.hide()
        self.search.view.selectionModel().currentRowChanged.connect(self._on_current_changed)
        self.search.view.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self.search.view.activated.connect(lambda _i: self.open_current())

        self.list_stack = QStackedWidget(self)
        self.list_stack.setAccessibleName("Inbox or search results")
        self.list_stack.insertWidget(LIST_INBOX, self.inbox_view)
        self.list_stack.insertWidget(LIST_SEARCH, self.search.view)
        list_page = QWidget(self)
        list_layout = QVBoxLayout(list_page)
        list_layout.setContentsMargins(0, 0, 0, 0)
        list_layout.setSpacing(0)
        list_layout.addWidget(self.search.bar)
        list_layout.addWidget(self.filter_bar)
        list_layout.addWidget(self.list_stack, 1)

        self.reader_pane = ReaderPane(self)
        self.reader = self.reader_pane.reader
        self.why_panel = self.reader_pane.why
        self.reader.remote_resource_needed.connect(self._fetch_remote)
        self.reader_pane.remote_load_requested.connect(self.load_remote_content)
        self.reader_pane.remote_always_requested.connect(self.always_load_remote_content)
        self.reader_pane.note_link_activated.connect(self.open_linked_note)
        self.passage_weights = PassageWeightsLoader(
            self.ops,
            lambda i, g, cancel: self.desk.ranking.explain_item(i, g, cancel=cancel),
            self,
        )
        self.passage_weights.weights_did_arrive.connect(self.reader_pane.set_weights)
        self.passage_weights.weights_did_fail.connect(self.reader_pane.weights_did_fail)

        self.centre_splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.centre_splitter.setObjectName("centre_splitter")
        self.centre_splitter.addWidget(list_page)
        self.centre_splitter.addWidget(self.reader_pane)
        self.centre_splitter.setStretchFactor(0, 2)
        self.centre_splitter.setStretchFactor(1, 3)
        self.centre_splitter.setChildrenCollapsible(False)
        self.centre_page = self.centre_splitter

        self.empty_state = EmptyState(self)
        self.empty_state.add_notes_requested.connect(self.choose_notes_folder)
        self.empty_state.add_mbox_requested.connect(self.choose_mbox_file)
        self.empty_state.add_source_requested.connect(self.open_add_source)
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
            clamp_to_screen(self)  # saved on a bigger or another screen: brought back
        else:
            self.resize(default_size(self))
        state = s.value("window/state")
        if isinstance(state, QByteArray):
            self.restoreState(state)
        for key, splitter, sizes in (
            ("main", self.main_splitter, [270, 1010]),
            ("centre", self.centre_splitter, [380, 380]),
            ("left", self.left_splitter, [460, 200]),
            ("reader", self.reader_pane.splitter, [700, 280]),
        ):
            saved = s.value(f"splitters/{key}")
            if not (isinstance(saved, QByteArray) and splitter.restoreState(saved)):
                splitter.setSizes(sizes)
        header = s.value("inbox/header")
        self._header_restored = isinstance(
            header, QByteArray
        ) and self.inbox_view.horizontalHeader().restoreState(header)
        self.filter_bar.set_status_key(str(s.value("inbox/status", "inbox")))
        self.inbox_model.set_filter(self.filter_bar.current_filter())
        selected = s.value("inbox/selected")
        try:
            self._restore_selection = int(selected) if selected is not None else None
        except (TypeError, ValueError):
            self._restore_selection = None
        self.set_why_visible(str(s.value("reader/why", "false")).lower() == "true")

    def save_layout(self) -> None:
        s = self.ui_settings
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState())
        s.setValue("splitters/main", self.main_splitter.saveState())
        s.setValue("splitters/centre", self.centre_splitter.saveState())
        s.setValue("splitters/left", self.left_splitter.saveState())
        s.setValue("splitters/reader", self.reader_pane.splitter.saveState())
        s.setValue("inbox/header", self.inbox_view.horizontalHeader().saveState())
        s.setValue("inbox/status", self.filter_bar.status_key())
        selected = self.inbox_selected_id()
        if selected is not None:
            s.setValue("inbox/selected", selected)
        s.setValue("reader/why", self.why_action.isChecked())
        s.sync()

    # -- events -----------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        super().showEvent(event)
        if not self._shown_once:
            self._shown_once = True
            clamp_to_screen(self)  # with its frame, now that it has one
            QTimer.singleShot(0, self._after_first_show)

    def _after_first_show(self) -> None:
        """Read what was never read; otherwise rank what is there."""
        if not self.goals_panel.loaded:  # the first ranking needs the goals: once read
            once = Qt.ConnectionType.SingleShotConnection
            self.goals_panel.goals_did_load.connect(self._after_first_show, once)
            return
        self.heap.freeze()  # the window and its modules: out of the collector's way
        focus = self.findChild(QAction, "start_focus_block")
        self.tray.set_focus_available(focus is not None)
        self.inbox_view.setFocus(Qt.FocusReason.OtherFocusReason)
        if any(src.last_sync_at is None and src.enabled for src in self._sources):
            self.start_sync()
        elif self._sources and self.goals_panel.active_goals():
            self.start_rank()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self.save_layout()
        self._rank_timer.stop()
        self._wake_timer.stop()
        self.learning.timer.stop()
        self.passage_weights.cancel()
        self.ops.cancel_all()
        self.prompter_release()
        self.hide()  # gone at once, even while a batch of encoding finishes
        self.tray.hide()
        self.search.shutdown()
        self.ops.shutdown()
        self.item_actions.reading_did_stop(now=True)
        self.heap.release()
        super().closeEvent(event)

    def prompter_release(self) -> None:
        """Answer any open password question with "no" (the window is going)."""
        prompter = getattr(self, "password_prompter", None)
        if prompter is not None:
            prompter.release_all()

    def bring_to_front(self) -> None:
        self.showNormal()
        self.raise_()
        self.activateWindow()

    # -- sources ----------------------------------------------------------------------
    def refresh_sources(self) -> None:
        """Re-read the source list (a small read, fine on the UI thread)."""
        self._sources = self.desk.sources.all()
        self.sources_panel.set_sources(self._sources)
        self.filter_bar.set_sources(self._sources)
        if self._sources_dialog is not None:
            syncing = {self._syncing_source} if self._syncing_source is not None else set()
            if self._sync_job is not None and self._syncing_source is None:
                syncing = {s.id for s in self._sources if s.enabled}
            self._sources_dialog.set_sources(self._sources, syncing)

    def choose_notes_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Add a notes folder")
        if path:
            self.add_source("notes", path)

    def choose_mbox_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Add a mailbox file", "", MBOX_FILTER)
        if path:
            self.add_source("mbox", path)

    def open_add_source(self, kind: str = "notes") -> Any:
        """The "Add a source" dialog (not blocking); its Add adds in the background."""
        from .add_source import AddSourceDialog

        if self._add_dialog is not None:
            self._add_dialog.raise_()
            return self._add_dialog
        dialog = AddSourceDialog(self, kind if isinstance(kind, str) else "notes")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.test_requested.connect(lambda spec: self._test_connection(dialog, spec))
        dialog.submit = lambda spec: self._add_from_dialog(dialog, spec)
        dialog.finished.connect(lambda _r: setattr(self, "_add_dialog", None))
        self._add_dialog = dialog
        dialog.open()
        return dialog

    def _add_from_dialog(self, dialog: Any, spec: Any) -> None:
        """Add from the dialog; a problem is shown in it (open, with what was typed)."""

        def failed(message: str) -> None:
            if self._add_dialog is dialog:
                dialog.add_did_fail(message)
            else:
                self._add_failed(message)

        def added() -> None:
            if self._add_dialog is dialog:
                dialog.added()

        self.add_source(
            spec.kind,
            spec.uri,
            name=spec.name,
            config=spec.config,
            password=spec.password,
            on_failed=failed,
            on_added=added,
        )

    def _test_connection(self, dialog: Any, spec: Any) -> None:
        from .add_source import test_imap_connection

        def done(message: str) -> None:
            if self._add_dialog is dialog:
                dialog.show_test(message, ok=True)

        def failed(message: str) -> None:
            if self._add_dialog is dialog:
                dialog.show_test(message, ok=False)

        self.ops.read(
            lambda _p, _c: test_imap_connection(spec.uri, spec.config, spec.password or ""),
            on_done=done,
            on_error=failed,
            name="test IMAP connection",
        )

    def add_source(
        self,
        kind: str,
        path: str,
        *,
        name: str | None = None,
        config: dict[str, Any] | None = None,
        password: str | None = None,
        on_failed: Callable[[str], None] | None = None,
        on_added: Callable[[], None] | None = None,
    ) -> None:
        """Add a source in the background (with its password, for IMAP), then read it.

        A problem goes to ``on_failed`` (the add dialog), else to a message box.
        """

        def work(_p: Any, _c: Any) -> SourceInfo:
            info = self.desk.sources.add(kind, path, name, config)
            if password and kind == "imap":
                self.desk.sources.set_password(info.id, password)
            return info

        def done(info: SourceInfo) -> None:
            if on_added is not None:
                on_added()
            self.refresh_sources()
            self.show_status(f"Added {info.name}. Reading it…")
            self.source_did_add.emit(info)
            self._update_page()
            self.start_sync()

        self.ops.write(
            work, on_done=done, on_error=on_failed or self._add_failed, name=f"add {kind} source"
        )

    def _add_failed(self, message: str) -> None:
        self.show_status(message)
        errors.show_message(self, "Could not add the source", message)

    def remove_source(self, source_id: int) -> None:
        def done(_: object) -> None:
            self.refresh_sources()
            self.show_status("Source removed.")
            self.source_did_remove.emit(source_id)
            self._update_page()
            self.start_rank()

        self.ops.write(
            lambda _p, _c: self.desk.sources.remove(source_id),
            on_done=done,
            on_error=self.show_status,
            name="remove source",
        )

    def set_source_enabled(self, source_id: int, enabled: bool) -> None:
        def done(info: SourceInfo) -> None:
            self.refresh_sources()
            self.show_status(f"{info.name} is {'enabled' if info.enabled else 'disabled'}.")
            self.source_did_change.emit(info)

        self.ops.write(
            lambda _p, _c: self.desk.sources.set_enabled(source_id, enabled),
            on_done=done,
            on_error=self.show_status,
            name="enable source",
        )

    def open_sources_manager(self) -> Any:
        """The sources manager (not blocking)."""
        from .sources_manager import SourcesDialog

        if self._sources_dialog is not None:
            self._sources_dialog.raise_()
            return self._sources_dialog
        dialog = SourcesDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.add_requested.connect(self.open_add_source)
        dialog.sync_requested.connect(lambda sid: self.start_sync(sid))
        dialog.enabled_change_requested.connect(self.set_source_enabled)
        dialog.remove_requested.connect(self.remove_source)
        dialog.finished.connect(lambda _r: setattr(self, "_sources_dialog", None))
        self._sources_dialog = dialog
        self.refresh_sources()
        dialog.show()
        return dialog

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
        self._install_password_prompter()
        retention = self.desk.settings.dismissed_retention_days

        def work(progress: Any, cancel: Any) -> SyncSummary:
            summary = self.desk.sources.sync(source_id, progress=progress, cancel=cancel)
            if self.desk.triage.purge_dismissed(retention):
                self.desk.refresh_index()  # their passages are gone from the index too
            return summary

        job = self.ops.write(
            work,
            on_done=self._on_sync_done,
            on_error=self._on_sync_error,
            on_progress=self._on_progress,
            on_cancelled=self._on_sync_cancelled,
            on_finished=self._on_sync_finished,
            name="sync",
        )
        self._sync_job = job
        self._syncing_source = source_id
        self.show_status("Syncing…")
        self._update_busy()
        self._update_page()
        self.refresh_sources()
        self.sync_did_start.emit()
        return job

    def _install_password_prompter(self) -> None:
        """Mail passwords that are not known are asked for in a dialog."""
        passwords = self.desk.sources.passwords
        if getattr(self, "password_prompter", None) is None:
            from .password_prompt import PasswordPrompter

            self.password_prompter = PasswordPrompter(self)
        if getattr(passwords, "provider", None) is None:
            passwords.provider = self.password_prompter
        reset = getattr(passwords, "reset_prompts", None)
        if callable(reset):
            reset()

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
        self._syncing_source = None
        self._update_busy()
        if self._resync and not cancelled:
            self._resync = False
            self.start_sync()
        elif not cancelled:
            self.start_rank()
        self._resync = False
        self._update_page()
        if self._sources_dialog is not None:
            self.refresh_sources()

    # -- ranking ----------------------------------------------------------------------
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
        if not self._stored_checked:
            self._stored_checked = True
            return self._show_stored_ranking(generation)
        return self._run_rank(generation)

    def _prepared(self, items: list[RankedItem], pinned: set[int] | None = None) -> PreparedInbox:
        """Rows of a ranking with their marks (in a worker: it reads the store)."""
        prepared = prepare_inbox(items)
        prepared.high = high_attention(items, self.desk.settings.high_attention_score)
        prepared.votes = self.desk.triage.votes()
        prepared.pinned = self.desk.triage.pinned() if pinned is None else pinned
        return prepared

    def _read_stored(self, _p: Any, _c: Any) -> tuple[InboxRanking | None, PreparedInbox | None]:
        """The stored ranking and its rows (a worker; no model): read while the window is
        built, so that its rows are ready when it first shows."""
        self.desk.triage.wake_due()
        stored = self.desk.ranking.stored_inbox()
        if stored is None or not stored.items:
            return stored, None
        pinned = set(stored.pinned) if stored.pinned is not None else None
        return stored, self._prepared(stored.items, pinned)

    def _on_stored_read(self, result: tuple[InboxRanking | None, PreparedInbox | None]) -> None:
        self._stored = result
        if self._stored_wanted is not None:
            self._apply_stored()

    def _on_stored_failed(self, message: str) -> None:
        log.warning("The stored ranking could not be read: %s", message)
        self._on_stored_read((None, None))

    def _show_stored_ranking(self, generation: int) -> Job | None:
        """At start, the stored ranking at once (read without the model); a fresh one is
        computed in the background only when something it was computed from changed."""
        self._stored_wanted = generation
        if self._stored is not None:
            self._apply_stored()
            return self._rank_job
        if not self._stored_job.done:
            self._rank_job = self._stored_job
        self._update_busy()
        self._update_page()
        return self._rank_job

    def _apply_stored(self) -> None:
        generation, self._stored_wanted = self._stored_wanted, None
        (stored, prepared), self._stored = self._stored or (None, None), (None, None)
        if self._rank_job is self._stored_job:
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
            self._update_busy()
            self._update_page()
            self._schedule_wake()
        else:
            self._run_rank(generation)

    def _load_model(self) -> None:
        """Load the model and the index in the background (the stored ranking did not)."""
        if self._ranked_once or self._model_ready or not self.isVisible():
            return

        def work(_p: Any, _c: Any) -> None:
            self.desk.encoder.load()
            _ = self.desk.index

        def done(_: object) -> None:
            self._model_ready = True
            self.heap.freeze()  # the model and the index are loaded now

        self.ops.write(work, name="load model", on_done=done, on_error=self.show_status)

    def _run_rank(self, generation: int) -> Job:
        """Rank now in the background (the inbox's ranking, stored for the next start)."""

        def work(_p: Any, cancel: Any) -> tuple[PreparedInbox, list[RankedItem]]:
            self.desk.triage.wake_due()
            items = self.desk.ranking.rank_inbox(cancel=cancel)
            return self._prepared(items), items

        def done(result: tuple[PreparedInbox, list[RankedItem]]) -> None:
            if generation == self._rank_generation:
                prepared, items = result
                if not self._ranked_once:
                    self.heap.freeze()  # the model and the index are loaded now
                self._ranked_once = True
                self._shows_ranking = True
                before, self._stored_positions = self._stored_positions, None
                self.set_ranked_items(prepared)
                self.rank_did_finish.emit(items)  # (learning clears its own marks here)
                if before is not None:
                    self.inbox_model.set_moved(moved_rows(before, items), SINCE_STORED)

        def failed(message: str) -> None:
            if generation == self._rank_generation:
                self.show_status(message)
                self.rank_did_fail.emit(message)

        def finished() -> None:
            if generation == self._rank_generation:
                self._rank_job = None
                self._update_busy()
                self._update_page()
                self._schedule_wake()

        job = self.ops.write(work, name="rank", on_done=done, on_error=failed, on_finished=finished)
        self._rank_job = job
        self._update_busy()
        self._update_page()
        return job

    def set_ranked_items(self, items: PreparedInbox | list[RankedItem]) -> None:
        """Show a new ranking, keeping the selected item selected (by id)."""
        prepared = items if isinstance(items, PreparedInbox) else prepare_inbox(items)
        keep = self.inbox_selected_id()
        if keep is None and self._restore_selection is not None:
            keep, self._restore_selection = self._restore_selection, None
        old_top = self.inbox_model.top_item_id()
        if prepared.votes is not None:
            self.inbox_model.set_votes(prepared.votes)
        if prepared.pinned is not None:
            self.inbox_model.set_pinned_items(prepared.pinned)
        self.inbox_model.set_prepared(prepared)
        if self.list_stack.currentIndex() == LIST_INBOX:
            self._select_after_rank(keep, old_top)
        stories = any(r.story > 1 for r in prepared.rows)
        self.inbox_view.setColumnHidden(Column.STORY, not stories)
        self._update_counts()
        self._update_page()
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
            if self.inbox_model.top_item_id() != old_top:
                self.inbox_view.scrollToTop()
            return
        if keep is None and not self._selected_once and self.inbox_model.rowCount():
            self.select_row(0)  # at start: the top item, in the reader
            return
        if keep is not None:
            self.reader_pane.show_placeholder()

    def _update_counts(self, *_: object) -> None:
        shown, total = self.inbox_model.shown_count(), self.inbox_model.total_count()
        self.filter_bar.set_counts(shown, total)
        self.status.set_count(shown)

    def _on_filter_changed(self, flt: Any) -> None:
        self.inbox_model.set_filter(flt)
        if self.list_stack.currentIndex() == LIST_INBOX and self.current_item_id() is None:
            self.reader_pane.show_placeholder()

    # -- snoozes ----------------------------------------------------------------------
    def _schedule_wake(self) -> None:
        """Check for due snoozes at the next one's time (at most a minute from now)."""
        self._wake_timer.start(WAKE_CHECK_MS)

    def wake_snoozed(self) -> None:
        """Snoozed items that are due come back as new (in the background)."""

        def done(ids: list[int]) -> None:
            for item_id in ids:
                self.inbox_model.set_status(item_id, "new")
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

    # -- selection and reader ---------------------------------------------------------
    def _current_view(self) -> QAbstractItemView:
        return (
            self.search.view if self.list_stack.currentIndex() == LIST_SEARCH else self.inbox_view
        )

    def current_list(self) -> QAbstractItemView:
        """The list shown: the inbox, or the search results while searching."""
        return self._current_view()

    def current_item_id(self) -> int | None:
        """The item selected in the list shown (inbox or search results)."""
        view = self._current_view()
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
        item = self.current_item() if self.list_stack.currentIndex() == LIST_INBOX else None
        if item is not None:
            return item.item_id
        index = self.inbox_view.currentIndex()
        found = index.data(ItemRole) if index.isValid() else None
        return found.item_id if isinstance(found, RankedItem) else None

    def selected_item_id(self) -> int | None:
        return self.current_item_id()

    def current_item(self) -> RankedItem | None:
        if self.list_stack.currentIndex() == LIST_SEARCH:
            item_id = self.current_item_id()
            return self.inbox_model.find_item(item_id) if item_id is not None else None
        index = self.inbox_view.currentIndex()
        if not index.isValid() or not self.inbox_view.selectionModel().isSelected(index):
            return None
        item = index.data(ItemRole)
        return item if isinstance(item, RankedItem) else None

    def current_row(self) -> int | None:
        index = self._current_view().currentIndex()
        return index.row() if index.isValid() else None

    def list_row_count(self) -> int:
        model = self._current_view().model()
        return model.rowCount() if model is not None else 0

    def select_item(self, item_id: int) -> bool:
        """Select the row of ``item_id`` (and show it); False when it is not listed."""
        if self.list_stack.currentIndex() == LIST_SEARCH:
            row = self.search.model.row_of(item_id)
            if row is None:
                return False
            self.search.select(row)
            return True
        row = self.inbox_model.row_of(item_id)
        if row is None:
            return False
        return self.select_row(row)

    def select_row(self, row: int) -> bool:
        """Select the ``row``-th row as shown (0 is the top)."""
        view = self._current_view()
        model = view.model()
        if model is None or row < 0:
            return False
        if model is self.inbox_model:  # grouped by goal: a header row holds no item
            found = self.inbox_model.item_row(row)
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
            if self._current_view() is self.inbox_view:  # grouped: past a header
                found = self.inbox_model.item_row(target, step)
                target = row if found is None else found
        self.select_row(target)

    def open_current(self) -> None:
        """Enter: read the selected item (the focus moves to the reader)."""
        if self.current_item_id() is None:
            self.move_selection(1)
        if self.current_item_id() is not None:
            self.reader.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def popup_position(self) -> QPoint:
        """Where a menu about the selected item opens (under its row)."""
        view = self._current_view()
        index = view.currentIndex()
        rect = view.visualRect(index) if index.isValid() else view.viewport().rect()
        return view.viewport().mapToGlobal(rect.bottomLeft())

    def goal_titles(self) -> dict[int, str]:
        return {g.id: g.title for g in self.goals_panel.goals()}

    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        view = self._current_view()
        if current.model() is not view.model():
            return  # the hidden list's selection changed
        item_id = self.current_item_id() if current.isValid() else None
        if item_id is not None and view is self.inbox_view:
            self._selected_once = True
        if item_id is None:
            self.item_actions.reading_did_stop()
            self.reader_pane.show_placeholder()
            return
        self.show_item(item_id)

    def _on_selection_changed(self, *_: object) -> None:
        # A click on the current row (focus made it current) selects without moving it.
        item_id = self.current_item_id()
        if item_id is not None and item_id != self.reader.item_id:
            self.show_item(item_id)

    def show_item(self, item_id: int) -> None:
        """Show an item in the reader, with its ranking when it has one."""
        try:
            detail = self.desk.items.get(item_id)
        except KnownError as exc:
            self.reader_pane.show_placeholder(exc.user_text())
            return
        ranked = self.inbox_model.find_item(item_id)
        same = self.reader.item_id == item_id  # re-selected after a re-ranking
        allowed = item_id in self._remote_once or is_allowed(
            detail, self.desk.settings.remote_content_senders
        )
        self.reader_pane.show_item(
            detail,
            ranked,
            self.goal_titles(),
            allow_remote=allowed,
            keep_scroll=same,
        )
        self.why_panel.set_vote(self.inbox_model.vote_text(item_id))
        self.passage_weights.request(item_id, ranked.goal_id if ranked is not None else None)
        if not same:
            self.item_actions.reading_did_start(item_id)
            self.item_did_open.emit(item_id)

    def open_linked_note(self, href: str) -> None:
        """A wikilink in the note shown: open the note it names, or say there is none."""
        item_id = self.reader.item_id
        note, heading = link_target(href)
        if item_id is None or not note:
            return
        try:
            found = self.desk.items.find_linked_note(item_id, note)
        except KnownError as exc:
            self.show_status(exc.user_text())
            return
        if found is None:
            source = self.reader_pane.detail.source_name if self.reader_pane.detail else ""
            self.show_status(f"There is no note named “{note}” in {source or 'this vault'}.")
            return
        if not self.select_item(found):
            self.show_item(found)  # not in the list (done, filtered): read it all the same
        if heading:
            self.reader.scroll_to_heading(heading)

    # -- remote content ---------------------------------------------------------------
    def load_remote_content(self) -> None:
        """ "Load remote content" for the item shown (this once)."""
        item_id = self.reader.item_id
        if item_id is not None:
            self._remote_once.add(item_id)
            self.show_item(item_id)

    def always_load_remote_content(self, sender: str) -> None:
        """ "Always for this sender": remember it in the settings, then load."""
        sender = sender.strip().lower()
        if not sender:
            self.load_remote_content()
            return
        allowed = self.desk.settings.remote_content_senders
        if sender not in allowed:
            self.desk.settings.remote_content_senders = [*allowed, sender]
            self.ops.write(
                lambda _p, _c: self.desk.save_settings(),
                on_error=self.show_status,
                name="save settings",
            )
        self.show_status(f"Remote content from {sender} will always load.")
        self.load_remote_content()

    def _fetch_remote(self, url: str) -> None:
        if len(self.reader.requested) > MAX_IMAGES:
            return
        item_id = self.reader.item_id

        def done(data: bytes) -> None:
            if self.reader.item_id == item_id and self.reader.add_remote_image(url, data):
                self.remote_image_did_load.emit(url)

        self.ops.read(
            lambda _p, _c: fetch_image(url),
            on_done=done,
            on_error=lambda message: self.reader_pane.remote_image_did_fail(item_id, url, message),
            name="remote image",
        )

    # -- search -----------------------------------------------------------------------
    @property
    def searching(self) -> bool:
        return self.list_stack.currentIndex() == LIST_SEARCH

    def open_search(self) -> None:
        """/ or Ctrl+F: the search field (results replace the inbox while it is open)."""
        if self.stack.currentIndex() != INBOX_PAGE and not self._sources:
            self.show_status("Add a source first: there is nothing to search yet.")
            return
        self.stack.setCurrentIndex(INBOX_PAGE)
        if not self.searching:  # where the inbox was, to come back to
            self._inbox_before_search = (
                self.inbox_selected_id(),
                self.inbox_view.verticalScrollBar().value(),
            )
        self.search.bar.show()
        self.filter_bar.hide()
        self.list_stack.setCurrentIndex(LIST_SEARCH)
        self.search.bar.edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.bar.edit.selectAll()
        if self.search.query.strip() and self.search.model.rowCount() == 0:
            self.search.run(self.search.query)

    def close_search(self) -> None:
        """Back to the inbox as it was: the item selected then, at the same scroll position.

        The search was a detour; the inbox does not jump to the last hit read.
        """
        selected, scroll = self._inbox_before_search
        self.search.bar.hide()
        self.filter_bar.show()
        self.list_stack.setCurrentIndex(LIST_INBOX)
        if selected is None or not self.select_item(selected):
            selected = self.inbox_selected_id()
        if selected is None:
            self.reader_pane.show_placeholder()
        elif self.reader.item_id != selected:  # the row was current already: no signal
            self.show_item(selected)
        self.inbox_view.verticalScrollBar().setValue(scroll)
        self.inbox_view.setFocus(Qt.FocusReason.OtherFocusReason)
        self._update_page()

    # -- goals, settings, help --------------------------------------------------------
    def focus_new_goal(self) -> None:
        self.goals_panel.add_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def _on_goals_changed(self) -> None:
        self._on_goals_loaded()
        self.request_rank()

    def _on_goals_loaded(self) -> None:
        self.filter_bar.set_goals(self.goals_panel.goals())
        self.inbox_model.set_goals(self.goals_panel.goals())
        self._fit_goal_column()
        self._update_page()

    def _fit_goal_column(self) -> None:
        """The Goal column as wide as the longest short name (within bounds), unless the
        user set its width (a restored header)."""
        if getattr(self, "_header_restored", False):
            return
        names = [g.short_name for g in self.goals_panel.goals() if g.active]
        metrics = self.inbox_view.fontMetrics()
        widest = max((metrics.horizontalAdvance(n) for n in names), default=0)
        width = max(GOAL_COLUMN_WIDTH[0], min(GOAL_COLUMN_WIDTH[1], widest + 40))
        self.inbox_view.horizontalHeader().resizeSection(Column.GOAL, width)

    def open_settings(self) -> Any:
        """The settings dialog (not blocking); OK applies and saves."""
        from .settings_dialog import SettingsDialog

        dialog = SettingsDialog(self.desk.settings, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.apply_settings(dialog.changes()))
        dialog.open()
        return dialog

    def apply_settings(self, changes: dict[str, Any]) -> None:
        """Use and save changed settings (model and device at the next start)."""
        from .settings_dialog import RESTART_FIELDS

        if not changes:
            return
        settings = self.desk.settings
        for name, value in changes.items():
            setattr(settings, name, value)
        self.ops.write(
            lambda _p, _c: self.desk.save_settings(),
            on_error=self.show_status,
            name="save settings",
        )
        if "theme" in changes and self.theme is not None:
            self.theme.apply(settings.theme)
            self.inbox_model.palette_did_change()
        if "high_attention_score" in changes:
            high = high_attention(self.inbox_model.all_items(), settings.high_attention_score)
            self.tray.set_count(len(high))
        if "start_in_tray_at_login" in changes:
            self.apply_autostart(settings.start_in_tray_at_login)
        restart = [n for n in RESTART_FIELDS if n in changes]
        self.show_status(
            "Settings saved. The model and device change at the next start."
            if restart
            else "Settings saved."
        )
        self.settings_did_change.emit(changes)

    def apply_autostart(self, enabled: bool) -> None:
        """Write or remove the XDG autostart entry that starts this profile in the tray."""
        from focusdesk.desktop_entry import set_autostart

        try:
            set_autostart(enabled, self.desk.paths.data_dir)
        except OSError as exc:
            self.show_status(f"Could not change the start at login: {exc.strerror or exc}")

    def toggle_help(self) -> None:
        """? : the keyboard shortcuts, over the window."""
        if self._help is None:
            from .help_overlay import HelpOverlay

            self._help = HelpOverlay(self)
        self._help.toggle()

    @property
    def help_overlay(self) -> Any:
        return self._help

    def set_why_visible(self, visible: bool) -> None:
        self.why_action.setChecked(visible)
        self.reader_pane.why.setVisible(visible)

    def toggle_why(self) -> None:
        """W: show or hide why the item ranks where it does."""
        self.reader_pane.why.setVisible(self.why_action.isChecked())

    def start_focus_block(self) -> None:
        """The tray's "start focus block": the focus feature's action, when it is there."""
        action = self.findChild(QAction, "start_focus_block")
        if action is not None:
            self.bring_to_front()
            action.trigger()
        else:
            self.show_status("Focus blocks are not available in this version.")

    def update_undo(self, record: UndoRecord | None) -> None:
        """The Undo menu item names what it would take back."""
        self.undo_action.setText(f"&Undo: {record.description}" if record is not None else "&Undo")

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
        elif self.goals_panel.loaded and not self.goals_panel.active_goals():
            reason = EmptyReason.NO_GOALS
        elif self.inbox_model.total_count() == 0:
            if self._sync_job is not None:
                reason = EmptyReason.READING
            elif self._rank_job is not None or not self._ranked_once:
                reason = EmptyReason.RANKING
            else:
                reason = EmptyReason.NO_ITEMS
        if reason is None or self.searching:
            self.stack.setCurrentIndex(INBOX_PAGE)
        else:
            self.empty_state.set_reason(reason)
            self.stack.setCurrentIndex(EMPTY_PAGE)

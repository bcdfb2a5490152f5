"""The main window: goals and sources on the left, the ranked inbox, the reader.

The window builds the widgets, the panes, the actions and menus, the status bar, and
wires the controllers that hold the behaviour: ``InboxController`` (the ranking on
screen and the selection), ``ReaderController`` (the item shown), ``SyncController``
(sources and sync), ``SettingsController``, ``FocusController``, ``SearchController``,
``LearningController`` and ``ItemActions``. They talk through signals wired here; all
background work goes through one ``Operations`` runner, and nothing here reads the store
on the UI thread. The window shows before anything heavy is imported.
Keyboard first: j/k, Enter, e, d, s, +/−, o, u, / and ? (see ``actions.py``).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QByteArray, QSettings, QSize, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QMainWindow,
    QMenu,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from focusdesk.app import FocusDesk
from focusdesk.triage import UndoRecord

from . import actions
from .actions import make_action, make_toolbar
from .empty_state import EmptyReason, EmptyState
from .focus_controller import FocusController
from .gc_policy import HeapFreezer
from .goal_grouping import GoalGrouping
from .goals_panel import GoalsPanel
from .inbox_controller import LIST_INBOX, LIST_SEARCH, InboxController, StoredInboxRead
from .inbox_filter import FilterBar
from .inbox_model import InboxModel
from .inbox_view import InboxView
from .item_actions import ItemActions
from .learning_controller import LearningController
from .operations import Operations
from .reader_controller import ReaderController
from .reader_pane import ReaderPane
from .search_controller import SearchController
from .settings_controller import SettingsController
from .sources_panel import SourcesPanel
from .status import StatusArea
from .style import ThemeKeeper, app_icon
from .sync_controller import SyncController
from .tray import TrayController
from .window_layout import clamp_to_screen

INBOX_PAGE, EMPTY_PAGE = 0, 1


def default_size(widget: QWidget) -> QSize:
    """1280×800, or 90 % of the screen where that is smaller (first start only)."""
    screen = widget.screen()
    if screen is None:
        return QSize(1280, 800)
    avail = screen.availableGeometry().size()
    return QSize(min(1280, int(avail.width() * 0.9)), min(800, int(avail.height() * 0.9)))


class MainWindow(QMainWindow):
    """FocusDesk's main window over one open profile."""

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
        # The stored ranking and the sources are read now, while the window is built.
        stored = StoredInboxRead(desk, self.ops, self)
        self.sync_controller = SyncController(desk, self.ops, self, self.show_status)
        self.sync_controller.refresh_sources()
        self._shown_once = False
        self._started = False
        self._help: Any = None
        self.heap = HeapFreezer()
        self.settings_controller = SettingsController(
            desk.settings,
            desk.save_settings,
            desk.paths.data_dir,
            self.ops,
            self.theme,
            self,
            self.show_status,
        )
        self.item_actions = ItemActions(self)
        self._build_panes()
        self.tray = TrayController(self)
        self.inbox_controller = InboxController(
            desk,
            self.ops,
            stored,
            model=self.inbox_model,
            view=self.inbox_view,
            filter_bar=self.filter_bar,
            search=self.search,
            list_stack=self.list_stack,
            tray=self.tray,
            heap=self.heap,
            active_goals=self.goals_panel.active_goals,
            show_status=self.show_status,
            parent=self,
        )
        self.reader_controller = ReaderController(
            desk,
            self.ops,
            self.reader_pane,
            self.inbox_model,
            goal_titles=self.goal_titles,
            save_settings=self.settings_controller.save,
            show_status=self.show_status,
            parent=self,
        )
        self._build_actions()
        self._build_status_bar()
        self._wire()
        self.focus_controller = FocusController(self)  # focus blocks: menu, scheduler, window
        self.learning = LearningController(self)  # background learning, its status, reset
        self.goal_grouping = GoalGrouping(self)  # the inbox grouped by goal (issue 13)
        self._restore_layout()
        self.goals_panel.goals_did_load.connect(self._on_goals_loaded)
        self.goals_panel.reload()  # in the background: the first paint does not wait
        self._update_page()
        self._update_busy()

    @property
    def model_ready(self) -> bool:
        """Whether the model and the index are loaded (semantic search is quick)."""
        return self.inbox_controller.model_ready

    # -- construction -----------------------------------------------------------------
    def _build_actions(self) -> None:
        scope = self.centre_page
        sync, inbox = self.sync_controller, self.inbox_controller
        self.sync_action = make_action(self, actions.SYNC, lambda: sync.start_sync())
        self.cancel_action = make_action(self, actions.CANCEL, self.cancel)
        self.add_source_action = make_action(self, actions.ADD_SOURCE, sync.open_add_source)
        self.add_notes_action = make_action(self, actions.ADD_NOTES, sync.choose_notes_folder)
        self.add_mbox_action = make_action(self, actions.ADD_MBOX, sync.choose_mbox_file)
        self.sources_action = make_action(self, actions.MANAGE_SOURCES, sync.open_sources_manager)
        self.new_goal_action = make_action(self, actions.NEW_GOAL, self.focus_new_goal)
        self.settings_action = make_action(
            self, actions.SETTINGS, self.settings_controller.open_settings
        )
        self.settings_action.setMenuRole(QAction.MenuRole.PreferencesRole)
        self.quit_action = make_action(self, actions.QUIT, self.close)
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        self.search_action = make_action(self, actions.SEARCH, inbox.open_search)
        self.help_action = make_action(self, actions.HELP, self.toggle_help)
        ia = self.item_actions
        self.next_action = make_action(
            self, actions.NEXT_ITEM, lambda: inbox.move_selection(1), scope=scope
        )
        self.previous_action = make_action(
            self, actions.PREVIOUS_ITEM, lambda: inbox.move_selection(-1), scope=scope
        )
        self.open_action: QAction = make_action(
            self, actions.OPEN_ITEM, inbox.open_current, scope=scope
        )
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
        self.menus: dict[str, QMenu] = {"file": file_menu, "inbox": inbox_menu, "item": item_menu}
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
        self.sources_panel = SourcesPanel(self, clock=self.desk.clock)
        self.left_splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.left_splitter.setObjectName("left_splitter")
        self.left_splitter.addWidget(self.goals_panel)
        self.left_splitter.addWidget(self.sources_panel)
        self.left_splitter.setStretchFactor(0, 3)
        self.left_splitter.setStretchFactor(1, 1)
        self.left_splitter.setChildrenCollapsible(False)

        self.inbox_model = InboxModel(self)
        self.inbox_view = InboxView(self.inbox_model, self)
        self.filter_bar = FilterBar(self)
        self.search = SearchController(self)
        self.search.bar.hide()
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
        self.centre_splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.centre_splitter.setObjectName("centre_splitter")
        self.centre_splitter.addWidget(list_page)
        self.centre_splitter.addWidget(self.reader_pane)
        self.centre_splitter.setStretchFactor(0, 2)
        self.centre_splitter.setStretchFactor(1, 3)
        self.centre_splitter.setChildrenCollapsible(False)
        self.centre_page = self.centre_splitter

        self.empty_state = EmptyState(self)
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

    def _wire(self) -> None:
        """The controllers' signals to the widgets and to each other."""
        inbox, reader = self.inbox_controller, self.reader_controller
        sync, ia = self.sync_controller, self.item_actions
        self.goals_panel.goals_did_change.connect(self._on_goals_changed)
        self.goals_panel.goal_did_fail.connect(self.show_status)
        self.goals_panel.new_goal_did_leave.connect(
            lambda: inbox.current_list().setFocus(Qt.FocusReason.ShortcutFocusReason)
        )
        self.sources_panel.source_remove_requested.connect(sync.remove_source)
        self.sources_panel.manage_requested.connect(sync.open_sources_manager)
        self.search.bar.search_did_close.connect(inbox.close_search)
        self.empty_state.add_notes_requested.connect(sync.choose_notes_folder)
        self.empty_state.add_mbox_requested.connect(sync.choose_mbox_file)
        self.empty_state.add_source_requested.connect(sync.open_add_source)
        self.empty_state.add_goal_requested.connect(self.focus_new_goal)
        self.empty_state.sync_requested.connect(lambda: sync.start_sync())
        self.tray.show_requested.connect(self.bring_to_front)
        self.tray.sync_requested.connect(lambda: sync.start_sync())
        self.tray.focus_requested.connect(self.start_focus_block)
        self.tray.quit_requested.connect(self.close)

        sync.sources_did_load.connect(self.sources_panel.set_sources)
        sync.sources_did_load.connect(self.filter_bar.set_sources)
        sync.sources_did_load.connect(inbox.set_sources)
        sync.sources_did_load.connect(self._on_sources_loaded)
        sync.sync_did_progress.connect(self.status.show_progress)
        sync.activity_did_change.connect(self._on_activity)
        sync.items_did_change.connect(inbox.start_rank)
        inbox.activity_did_change.connect(self._on_activity)
        inbox.count_did_change.connect(self.status.set_count)
        inbox.selection_did_change.connect(reader.follow_selection)
        inbox.reader_focus_requested.connect(
            lambda: self.reader.setFocus(Qt.FocusReason.ShortcutFocusReason)
        )
        reader.reading_did_start.connect(ia.reading_did_start)
        reader.reading_did_stop.connect(ia.reading_did_stop)
        reader.linked_note_did_resolve.connect(self._open_note)
        self.settings_controller.settings_did_change.connect(inbox.settings_did_change)

    def _open_note(self, item_id: int) -> None:
        if not self.inbox_controller.select_item(item_id):
            self.reader_controller.show_item(item_id)  # not listed (done, filtered): read it

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
        self.inbox_controller.header_restored = isinstance(
            header, QByteArray
        ) and self.inbox_view.horizontalHeader().restoreState(header)
        self.filter_bar.set_status_key(str(s.value("inbox/status", "inbox")))
        self.inbox_model.set_filter(self.filter_bar.current_filter())
        selected = s.value("inbox/selected")
        try:
            self.inbox_controller.restore_selection = (
                int(selected) if selected is not None else None
            )
        except (TypeError, ValueError):
            self.inbox_controller.restore_selection = None
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
        selected = self.inbox_controller.inbox_selected_id()
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
        self.heap.freeze()  # the window and its modules: out of the collector's way
        focus = self.findChild(QAction, "start_focus_block")
        self.tray.set_focus_available(focus is not None)
        self.inbox_view.setFocus(Qt.FocusReason.OtherFocusReason)
        self._start_work()

    def _on_sources_loaded(self, _sources: list[Any]) -> None:
        self._update_page()
        self._start_work()

    def _start_work(self) -> None:
        """Once shown with the sources known: read what was never read, else rank."""
        sync, inbox = self.sync_controller, self.inbox_controller
        if self._started or not (self._shown_once and sync.loaded and self.goals_panel.loaded):
            return  # the first ranking needs the sources and the goals: once read
        self._started = True
        if sync.needs_first_sync:
            sync.start_sync()
        elif sync.sources and self.goals_panel.active_goals() and not inbox.rank_requested:
            inbox.start_rank()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self.save_layout()
        self.inbox_controller.stop()
        self.learning.timer.stop()
        self.reader_controller.stop()
        self.ops.cancel_all()
        self.sync_controller.release_prompts()
        self.hide()  # gone at once, even while a batch of encoding finishes
        self.tray.hide()
        self.search.shutdown()
        self.ops.shutdown()
        self.focus_controller.shutdown()  # the scheduler; the block's last heartbeat written
        self.item_actions.reading_did_stop(now=True)
        self.heap.release()
        super().closeEvent(event)

    def bring_to_front(self) -> None:
        self.showNormal()
        self.raise_()
        self.activateWindow()

    @property
    def searching(self) -> bool:
        return self.inbox_controller.searching

    # -- goals, help, focus -----------------------------------------------------------
    def goal_titles(self) -> dict[int, str]:
        return {g.id: g.title for g in self.goals_panel.goals()}

    def focus_new_goal(self) -> None:
        self.goals_panel.add_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def _on_goals_changed(self) -> None:
        self.inbox_controller.set_goals(self.goals_panel.goals())
        self._update_page()
        self.inbox_controller.request_rank()

    def _on_goals_loaded(self) -> None:
        self.inbox_controller.set_goals(self.goals_panel.goals())
        self._update_page()
        self._start_work()

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
        self.inbox_controller.cancel()
        self.sync_controller.cancel()

    def _on_activity(self) -> None:
        self._update_busy()
        self._update_page()

    def _update_busy(self) -> None:
        syncing = self.sync_controller.syncing
        ranking = self.inbox_controller.ranking
        self.cancel_action.setEnabled(syncing or ranking)
        self.sync_action.setEnabled(not syncing)
        self.status.set_activity(syncing=syncing, ranking=ranking)

    def _update_page(self) -> None:
        sync, inbox = self.sync_controller, self.inbox_controller
        reason: EmptyReason | None = None
        if not sync.loaded:  # the sources' list is on its way (milliseconds)
            reason = EmptyReason.RANKING
        elif not sync.sources:
            reason = EmptyReason.NO_SOURCES
        elif self.goals_panel.loaded and not self.goals_panel.active_goals():
            reason = EmptyReason.NO_GOALS
        elif self.inbox_model.total_count() == 0:
            if sync.syncing:
                reason = EmptyReason.READING
            elif inbox.ranking or not inbox.ranked_once:
                reason = EmptyReason.RANKING
            else:
                reason = EmptyReason.NO_ITEMS
        if reason is None or self.searching:
            self.stack.setCurrentIndex(INBOX_PAGE)
        else:
            self.empty_state.set_reason(reason)
            self.stack.setCurrentIndex(EMPTY_PAGE)

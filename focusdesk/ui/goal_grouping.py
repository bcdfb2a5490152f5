"""The inbox's "group by goal" view: its toggle (G), its header rows and its memory.

The default view of the inbox is the ranking itself, all goals in one proportional
mix. Grouped, the inbox model lays its rows out under one header per goal (see
``inbox_groups``); this controller owns the checkable action (Inbox menu, key G), has
each header row span the whole width, and remembers the choice in the window's layout
settings across restarts. Re-ranks (a goal's weight moved) keep the grouping: the model
regroups the new ranking as it shows it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from . import actions
from .actions import make_action

if TYPE_CHECKING:
    from .main_window import MainWindow

SETTING = "inbox/group_by_goal"


class GoalGrouping(QObject):
    """Switches the inbox between the mix and groups by goal, and keeps the headers whole."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.model = window.inbox_model
        self.view = window.inbox_view
        self.action = make_action(
            window, actions.GROUP_BY_GOAL, self._toggled, scope=window.centre_page
        )
        window.menus["inbox"].insertAction(window.open_action, self.action)
        for signal in (
            self.model.modelReset,
            self.model.layoutChanged,
            self.model.rowsRemoved,
            self.model.rowsInserted,
        ):
            signal.connect(self._span_headers)
        saved = window.ui_settings.value(SETTING, False)
        self.set_grouped(str(saved).lower() == "true")

    @property
    def grouped(self) -> bool:
        return self.model.grouped

    def set_grouped(self, grouped: bool) -> None:
        """Group the inbox by goal (True) or show the mix (False), and remember it."""
        self.action.setChecked(grouped)
        keep = self.window.inbox_controller.inbox_selected_id()
        self.model.set_grouped(grouped)
        self.window.ui_settings.setValue(SETTING, grouped)
        if keep is not None:
            self.window.inbox_controller.select_item(keep)

    def _toggled(self) -> None:
        self.set_grouped(self.action.isChecked())

    def _span_headers(self, *_: object) -> None:
        """Each header row spans the table's width (its text is the goal's line)."""
        self.view.clearSpans()
        columns = self.model.columnCount()
        for row in self.model.header_rows():
            self.view.setSpan(row, 0, 1, columns)

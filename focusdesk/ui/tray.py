"""The system tray: how many new high-attention items there are, quick actions, and
notifications when high-attention items arrive.

Where there is no tray (many Linux desktops, offscreen, Xvfb) nothing is shown and
the app works as before: the count is in the status bar and notifications are only
remembered (``last_notification``). Focus blocks hold notifications
(``hold_notifications(True)``) and release them as one summary afterwards.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QSystemTrayIcon, QWidget

from focusdesk.records import RankedItem

from .style import app_icon

log = logging.getLogger(__name__)

NOTIFY_MS = 8000


def high_attention(items: Iterable[RankedItem], threshold: float) -> list[RankedItem]:
    """New items that score at least ``threshold``, best first."""
    return sorted(
        (i for i in items if i.status == "new" and i.score >= threshold), key=lambda i: -i.score
    )


def notification_text(items: list[RankedItem]) -> tuple[str, str]:
    """(title, message) of a notification about ``items`` (best first)."""
    if len(items) == 1:
        item = items[0]
        goal = f" — for “{item.goal_title}”" if item.goal_title else ""
        return "New high-attention item", f"{item.title or '(untitled)'}{goal}"
    lines = [f"• {i.title or '(untitled)'}" for i in items[:3]]
    if len(items) > 3:
        lines.append(f"… and {len(items) - 3} more")
    return f"{len(items)} new high-attention items", "\n".join(lines)


class TrayController(QObject):
    """The tray icon and its menu, when the desktop has a tray."""

    show_requested = Signal()
    sync_requested = Signal()
    focus_requested = Signal()
    quit_requested = Signal()

    def __init__(self, parent: QWidget, *, available: bool | None = None) -> None:
        super().__init__(parent)
        self.available = QSystemTrayIcon.isSystemTrayAvailable() if available is None else available
        self.count = 0
        self.held = False
        self._held_items: list[RankedItem] = []
        self._seen: set[int] | None = None
        self.last_notification: tuple[str, str] | None = None
        self.menu = QMenu(parent)
        self.menu.setAccessibleName("FocusDesk tray menu")
        self.count_action = QAction("No new high-attention items", self.menu)
        self.count_action.setEnabled(False)
        self.show_action = QAction("&Show FocusDesk", self.menu)
        self.focus_action = QAction("Start &focus block", self.menu)
        self.sync_action = QAction("&Sync now", self.menu)
        self.quit_action = QAction("&Quit", self.menu)
        self.show_action.triggered.connect(self.show_requested)
        self.focus_action.triggered.connect(self.focus_requested)
        self.sync_action.triggered.connect(self.sync_requested)
        self.quit_action.triggered.connect(self.quit_requested)
        self.menu.addAction(self.count_action)
        self.menu.addSeparator()
        self.menu.addActions([self.show_action, self.focus_action, self.sync_action])
        self.menu.addSeparator()
        self.menu.addAction(self.quit_action)
        self.icon: QSystemTrayIcon | None = None
        if self.available:
            self.icon = QSystemTrayIcon(app_icon(), self)
            self.icon.setContextMenu(self.menu)
            self.icon.setToolTip("FocusDesk")
            self.icon.activated.connect(self._activated)
            self.icon.show()

    def set_focus_available(self, available: bool) -> None:
        """Whether "Start focus block" can be offered (the focus feature is there)."""
        self.focus_action.setEnabled(available)

    def set_count(self, count: int) -> None:
        """The number of new high-attention items (menu line and tooltip)."""
        self.count = count
        text = (
            "No new high-attention items"
            if count == 0
            else f"{count} new high-attention item{'s' if count != 1 else ''}"
        )
        self.count_action.setText(text)
        if self.icon is not None:
            self.icon.setToolTip(f"FocusDesk — {text}")

    def ranking_did_change(
        self, high: list[RankedItem], item_ids: Iterable[int], notify: bool
    ) -> None:
        """A new ranking: ``high`` its new high-attention items (see ``high_attention``),
        ``item_ids`` every item in it. Updates the count and notifies about the
        high-attention items not seen in earlier rankings; the first ranking after
        start only sets what has been seen.
        """
        self.set_count(len(high))
        if self._seen is None:
            self._seen = set(item_ids)
            return
        arrived = [i for i in high if i.item_id not in self._seen]
        self._seen.update(item_ids)
        if arrived and notify:
            self.notify(arrived)

    def notify(self, items: list[RankedItem]) -> None:
        """Show a notification now, or keep it for after the focus block."""
        if self.held:
            self._held_items.extend(items)
            return
        title, message = notification_text(items)
        self.last_notification = (title, message)
        log.info("Notification: %s", title)
        if self.icon is not None and QSystemTrayIcon.supportsMessages():
            self.icon.showMessage(title, message, app_icon(), NOTIFY_MS)

    def hold_notifications(self, hold: bool) -> None:
        """Hold notifications (during a focus block); releasing shows what was held."""
        self.held = hold
        if not hold and self._held_items:
            held, self._held_items = self._held_items, []
            unique = {i.item_id: i for i in held}
            self.notify(sorted(unique.values(), key=lambda i: -i.score))

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self.show_requested.emit()

    def hide(self) -> None:
        if self.icon is not None:
            self.icon.hide()

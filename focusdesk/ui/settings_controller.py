"""Settings in the desktop app: the dialog, applying and saving what changed, the theme and
the start at login.

The settings are saved on the write lane of the window's ``Operations``; what changed is
announced by ``settings_did_change`` (the inbox repaints for a theme, the tray recounts for
a new attention bar, learning follows its switch).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QWidget

if TYPE_CHECKING:
    from focusdesk.settings import Settings

    from .operations import Operations
    from .style import ThemeKeeper


class SettingsController(QObject):
    """Opens the settings dialog and applies its changes."""

    settings_did_change = Signal(dict)
    """Settings were changed and saved: field name → new value."""

    def __init__(
        self,
        settings: Settings,
        save_settings: Callable[[], None],
        data_dir: Path,
        ops: Operations,
        theme: ThemeKeeper | None,
        parent: QWidget,
        show_status: Callable[[str], None],
    ) -> None:
        super().__init__(parent)
        self.settings = settings
        self._save = save_settings
        self._data_dir = data_dir
        self.ops = ops
        self.theme = theme
        self._parent = parent
        self.show_status = show_status
        if theme is not None and settings.theme != "system":
            theme.apply(settings.theme)

    def open_settings(self) -> Any:
        """The settings dialog (not blocking); OK applies and saves."""
        from .settings_dialog import SettingsDialog

        dialog = SettingsDialog(self.settings, self._parent)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.apply_settings(dialog.changes()))
        dialog.open()
        return dialog

    def save(self) -> None:
        """Save the settings as they are now, in the background."""
        self.ops.write(lambda _p, _c: self._save(), on_error=self.show_status, name="save settings")

    def apply_settings(self, changes: dict[str, Any]) -> None:
        """Use and save changed settings (model and device at the next start)."""
        from .settings_dialog import RESTART_FIELDS

        if not changes:
            return
        for name, value in changes.items():
            setattr(self.settings, name, value)
        self.save()
        if "theme" in changes and self.theme is not None:
            self.theme.apply(self.settings.theme)
        if "start_in_tray_at_login" in changes:
            self.apply_autostart(self.settings.start_in_tray_at_login)
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
            set_autostart(enabled, self._data_dir)
        except OSError as exc:
            self.show_status(f"Could not change the start at login: {exc.strerror or exc}")

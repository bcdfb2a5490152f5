"""Snoozing: the presets menu (later today, tomorrow morning, next week, a date)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from PySide6.QtCore import QDate, QTime, Signal
from PySide6.QtWidgets import (
    QCalendarWidget,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QMenu,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from focusdesk.errors import KnownError
from focusdesk.triage import MORNING, PRESET_LABELS, snooze_until


def when_text(until: datetime, now: datetime) -> str:
    """A snooze time as a person reads it: "14:00", "Tue 08:00", "Mon 23 Nov 08:00"."""
    local = until.astimezone()
    today = now.astimezone().date()
    if local.date() == today:
        return local.strftime("%H:%M")
    if (local.date() - today).days < 7:
        return local.strftime("%a %H:%M")
    return local.strftime("%a %d %b %H:%M")


class SnoozeDateDialog(QDialog):
    """Pick a day (and a time, 08:00 unless changed) to snooze until."""

    def __init__(self, now: datetime, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Snooze until")
        self.setAccessibleName("Snooze until a date")
        self._now = now
        local = now.astimezone()
        tomorrow = local.date() + timedelta(days=1)
        self.calendar = QCalendarWidget(self)
        self.calendar.setAccessibleName("Snooze date")
        self.calendar.setGridVisible(False)
        self.calendar.setMinimumDate(QDate(local.year, local.month, local.day))
        self.calendar.setSelectedDate(QDate(tomorrow.year, tomorrow.month, tomorrow.day))
        self.time_edit = QTimeEdit(QTime(MORNING.hour, MORNING.minute), self)
        self.time_edit.setAccessibleName("Snooze time")
        self.time_edit.setDisplayFormat("HH:mm")
        self.error = QLabel("", self)
        self.error.setWordWrap(True)
        self.error.hide()
        form = QFormLayout()
        form.addRow("&Time:", self.time_edit)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self._check)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.calendar)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def value(self) -> datetime:
        """The chosen local day and time, as an aware UTC time."""
        d = self.calendar.selectedDate()
        t = self.time_edit.time()
        local = datetime.combine(date(d.year(), d.month(), d.day()), time(t.hour(), t.minute()))
        return snooze_until("date", now=self._now, on=local)

    def _check(self) -> None:
        try:
            self.value()
        except KnownError as exc:
            self.error.setText(exc.user_text())
            self.error.show()
            return
        self.accept()


class SnoozeMenu(QMenu):
    """The snooze presets, each showing when it ends; "Pick a date…" opens a calendar."""

    snooze_chosen = Signal(object)
    """Carries the aware UTC time to snooze until."""

    def __init__(self, now: datetime, parent: QWidget | None = None) -> None:
        super().__init__("Snooze", parent)
        self.setAccessibleName("Snooze until")
        self.dialog: SnoozeDateDialog | None = None
        for preset in ("later_today", "tomorrow", "next_week"):
            label = PRESET_LABELS[preset]
            try:
                until = snooze_until(preset, now=now)
            except KnownError:
                action = self.addAction(f"{label} (too late today)")
                action.setEnabled(False)
            else:
                action = self.addAction(f"{label}\t{when_text(until, now)}")
                action.triggered.connect(lambda _c=False, u=until: self.snooze_chosen.emit(u))
            action.setObjectName(f"snooze_{preset}")
        self.addSeparator()
        pick = self.addAction(PRESET_LABELS["date"])
        pick.setObjectName("snooze_date")
        pick.triggered.connect(lambda _c=False: self.pick_date(now))

    def pick_date(self, now: datetime) -> SnoozeDateDialog:
        """Open the calendar (not blocking); its OK snoozes."""
        dialog = SnoozeDateDialog(now, self.parentWidget())
        self.dialog = dialog
        dialog.accepted.connect(lambda: self.snooze_chosen.emit(dialog.value()))
        dialog.open()
        return dialog

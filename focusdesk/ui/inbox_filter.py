"""The bar above the inbox that filters it by status, source and best goal."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget

from focusdesk.records import GoalInfo, SourceInfo

from .inbox_model import INBOX_STATUSES, InboxFilter
from .style import MutedLabel

STATUS_CHOICES: tuple[tuple[str, frozenset[str] | None], ...] = (
    ("Inbox (new and read)", INBOX_STATUSES),
    ("New", frozenset({"new"})),
    ("Read", frozenset({"read"})),
    ("Done", frozenset({"done"})),
    ("Snoozed", frozenset({"snoozed"})),
    ("Dismissed", frozenset({"dismissed"})),
    ("Everything", None),
)
STATUS_KEYS = ("inbox", "new", "read", "done", "snoozed", "dismissed", "all")
COMBO_CHARS = 4
"""Each drop-down is this many characters wide (at least), whatever its choices."""
COMBO_MAX_WIDTH = 280
CHOICE_CHARS = 60
"""A choice longer than this is cut with an ellipsis in the list (the tooltip has it all)."""


def short_choice(text: str, limit: int = CHOICE_CHARS) -> str:
    """``text`` on one line, cut to ``limit`` characters with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


class FilterBar(QWidget):
    """Three drop-downs (status, source, goal) and the count of shown items."""

    filter_did_change = Signal(object)
    """Carries the new ``InboxFilter``."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Inbox filters")
        self.status_combo = QComboBox(self)
        self.status_combo.setAccessibleName("Show items with status")
        self.status_combo.setToolTip("Which items to show: by what you have done with them")
        for label, _statuses in STATUS_CHOICES:
            self.status_combo.addItem(label)
        self.source_combo = QComboBox(self)
        self.source_combo.setAccessibleName("Show items from source")
        self.source_combo.setToolTip("Show the items of one source only")
        self.goal_combo = QComboBox(self)
        self.goal_combo.setAccessibleName("Show items for goal")
        self.goal_combo.setToolTip("Show the items whose best goal is this one")
        for combo in (self.status_combo, self.source_combo, self.goal_combo):
            # Sized to a few characters, not to the longest choice: a long goal must not
            # widen the window (the popup shows each choice in full, up to a limit).
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(COMBO_CHARS)
            combo.setMaximumWidth(COMBO_MAX_WIDTH)
        self.count_label = MutedLabel("", self)
        self.count_label.setAccessibleName("Shown items")

        status_label = QLabel("S&how:", self)
        status_label.setBuddy(self.status_combo)
        source_label = QLabel("Fro&m:", self)
        source_label.setBuddy(self.source_combo)
        goal_label = QLabel("Goa&l:", self)
        goal_label.setBuddy(self.goal_combo)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 2)
        for buddy, combo in (
            (status_label, self.status_combo),
            (source_label, self.source_combo),
            (goal_label, self.goal_combo),
        ):
            layout.addWidget(buddy)
            layout.addWidget(combo, 1)
            layout.addSpacing(6)
        layout.addStretch(0)
        layout.addWidget(self.count_label)
        self.set_sources([])
        self.set_goals([])
        for combo in (self.status_combo, self.source_combo, self.goal_combo):
            combo.currentIndexChanged.connect(self._changed)

    # -- choices ---------------------------------------------------------------------
    def set_sources(self, sources: list[SourceInfo]) -> None:
        self._refill(self.source_combo, "All sources", [(s.id, s.name, s.name) for s in sources])

    def set_goals(self, goals: list[GoalInfo]) -> None:
        """The active goals, by their short names (the full goal in each tooltip)."""
        choices = [(g.id, g.short_name, g.title) for g in goals if g.active]
        self._refill(self.goal_combo, "All goals", choices)

    def _refill(
        self, combo: QComboBox, everything: str, choices: list[tuple[int, str, str]]
    ) -> None:
        current = combo.currentData()
        combo.blockSignals(True)
        combo.clear()
        combo.addItem(everything, None)
        for ident, name, tip in choices:
            combo.addItem(short_choice(name), ident)
            combo.setItemData(combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        at = combo.findData(current) if current is not None else 0
        combo.setCurrentIndex(max(0, at))
        combo.blockSignals(False)
        if current is not None and at < 0:
            self._changed()  # the chosen source or goal went away

    # -- state -----------------------------------------------------------------------
    def current_filter(self) -> InboxFilter:
        statuses = STATUS_CHOICES[max(0, self.status_combo.currentIndex())][1]
        return InboxFilter(
            statuses=statuses,
            source_id=self.source_combo.currentData(),
            goal_id=self.goal_combo.currentData(),
        )

    def status_key(self) -> str:
        return STATUS_KEYS[max(0, self.status_combo.currentIndex())]

    def set_status_key(self, key: str) -> None:
        """Choose a status by key ("inbox", "done", "all", ...)."""
        if key in STATUS_KEYS:
            self.status_combo.setCurrentIndex(STATUS_KEYS.index(key))

    def set_counts(self, shown: int, total: int) -> None:
        noun = "item" if total == 1 else "items"
        text = f"{total} {noun}" if shown == total else f"{shown} of {total} {noun}"
        self.count_label.setText(text)

    def _changed(self, *_: object) -> None:
        self.filter_did_change.emit(self.current_filter())

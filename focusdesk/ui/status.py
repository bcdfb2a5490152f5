"""The status bar's parts: a message, what is running, a progress bar, the item count."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar

from focusdesk.progress import Progress
from focusdesk.records import SyncSummary


def summarise_sync(summary: SyncSummary) -> str:
    """One status-bar line for a finished sync."""
    parts = [f"{summary.total('added')} new", f"{summary.total('updated')} updated"]
    if summary.total("removed"):
        parts.append(f"{summary.total('removed')} removed")
    if summary.total("failed"):
        parts.append(f"{summary.total('failed')} unreadable")
    line = "Synced: " + ", ".join(parts)
    failed = [r for r in summary.reports if r.error]
    if failed:
        names = ", ".join(r.source_name for r in failed)
        plural = "s" if len(failed) > 1 else ""
        line += f" · {len(failed)} source{plural} failed ({names}): {failed[0].error}"
    return line


class StatusArea:
    """Fills a QStatusBar and keeps it up to date; owns no state beyond its widgets."""

    def __init__(self, bar: QStatusBar) -> None:
        bar.setAccessibleName("Status")
        self.message = QLabel(bar)
        self.message.setAccessibleName("Status message")
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.activity = QLabel(bar)
        self.activity.setAccessibleName("Activity")
        self.activity.hide()
        self.progress = QProgressBar(bar)
        self.progress.setAccessibleName("Progress")
        self.progress.setMaximumWidth(200)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.count = QLabel(bar)
        self.count.setAccessibleName("Item count")
        bar.addWidget(self.message, 1)
        bar.addPermanentWidget(self.activity)
        bar.addPermanentWidget(self.progress)
        bar.addPermanentWidget(self.count)

    def show_message(self, message: str) -> None:
        """The first line in the bar; the whole message as its tooltip."""
        first = message.strip().splitlines()[0] if message.strip() else ""
        self.message.setText(first)
        self.message.setToolTip(message)

    def show_progress(self, progress: Progress) -> None:
        if progress.total:
            self.progress.setRange(0, progress.total)
            self.progress.setValue(min(progress.done, progress.total))
        else:
            self.progress.setRange(0, 0)  # busy: how much is left is not known
        text = progress.message or progress.stage.capitalize()
        self.show_message(text if text.endswith("…") else text + "…")

    def set_activity(self, *, syncing: bool, ranking: bool) -> None:
        if ranking and not syncing:
            self.progress.setRange(0, 0)
        self.progress.setVisible(syncing or ranking)
        self.activity.setText("Syncing" if syncing else "Ranking…" if ranking else "")
        self.activity.setVisible(syncing or ranking)

    def set_count(self, items: int) -> None:
        self.count.setText(f"{items} item{'s' if items != 1 else ''}")

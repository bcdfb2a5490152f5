"""The reading side of the window: the remote-content bar, the reader and the Why panel."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from focusdesk.records import ItemDetail, RankedItem

from .reader import ReaderView
from .reader_body import Bodies, item_bodies
from .remote_content import RemoteContentBar, describe_failures, sender_key
from .why_panel import WhyPanel

if TYPE_CHECKING:
    from focusdesk.rank.passage_weights import ItemEvidence


class FormatBar(QWidget):
    """ "Formatted | Plain text": how the reader shows an item that has both."""

    format_chosen = Signal(bool)
    """True for formatted (HTML), False for plain text."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Show the item formatted or as plain text")
        self.formatted_button = QToolButton(self)
        self.formatted_button.setText("Formatted")
        self.formatted_button.setToolTip("Show the item formatted: its HTML, or the rendered note")
        self.plain_button = QToolButton(self)
        self.plain_button.setText("Plain text")
        self.plain_button.setToolTip("Show the item as plain text")
        group = QButtonGroup(self)
        group.setExclusive(True)
        for button in (self.formatted_button, self.plain_button):
            button.setCheckable(True)
            button.setAutoRaise(True)
            button.setAccessibleName(button.text())
            group.addButton(button)
        self.formatted_button.clicked.connect(lambda: self.format_chosen.emit(True))
        self.plain_button.clicked.connect(lambda: self.format_chosen.emit(False))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addStretch(1)
        layout.addWidget(self.formatted_button)
        layout.addWidget(self.plain_button)

    def set_formatted(self, formatted: bool) -> None:
        self.formatted_button.setChecked(formatted)
        self.plain_button.setChecked(not formatted)


class ReaderPane(QWidget):
    """Shows one item; offers to load its remote content; explains its rank."""

    remote_load_requested = Signal()
    remote_always_requested = Signal(str)
    """Carries the sender (address or domain) to allow from now on."""
    note_link_activated = Signal(str)
    """A link in the note shown was clicked: the href (a wikilink's note, percent-encoded)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Reading pane")
        self.bar = RemoteContentBar(self)
        self.format_bar = FormatBar(self)
        self.notice = QLabel(self)
        self.notice.setObjectName("reader_notice")
        self.notice.setAccessibleName("Remote content notice")
        self.notice.setWordWrap(True)
        self.notice.setContentsMargins(8, 2, 8, 2)
        self.notice.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.reader = ReaderView(self)
        self.why = WhyPanel(self)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("reader_splitter")
        self.splitter.addWidget(self.reader)
        self.splitter.addWidget(self.why)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        self.detail: ItemDetail | None = None
        self.sender_key: str | None = None
        self.bodies: Bodies | None = None
        self.showing_formatted = False
        self._choices: dict[int, bool] = {}
        self._failures: dict[str, str] = {}
        self._shown: tuple[RankedItem | None, dict[int, str], bool] = (None, {}, False)
        self.bar.load_requested.connect(self.remote_load_requested)
        self.bar.always_requested.connect(
            lambda: self.remote_always_requested.emit(self.sender_key or "")
        )
        self.format_bar.format_chosen.connect(self.set_formatted)
        self.why.passage_activated.connect(self.reader.scroll_to_passage)
        self.reader.note_link_activated.connect(self._on_link)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.notice, 1)
        top.addWidget(self.format_bar)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.bar)
        layout.addLayout(top)
        layout.addWidget(self.splitter, 1)
        self.why.hide()
        self.format_bar.hide()
        self.notice.hide()

    @property
    def item_id(self) -> int | None:
        return self.reader.item_id

    def show_placeholder(self, text: str = "Select an item to read it.") -> None:
        self.detail = None
        self.sender_key = None
        self.bodies = None
        self.bar.hide()
        self.format_bar.hide()
        self._set_notice("")
        self.reader.show_placeholder(text)
        self.why.show_item(None, {})

    def show_item(
        self,
        detail: ItemDetail,
        ranked: RankedItem | None,
        goal_titles: dict[int, str],
        *,
        allow_remote: bool = False,
        keep_scroll: bool = False,
    ) -> None:
        """Show ``detail``; remote content only when ``allow_remote``, else the bar offers it."""
        if self.detail is None or self.detail.id != detail.id or not allow_remote:
            self._failures = {}
            self._set_notice("")
        self.detail = detail
        self.sender_key = sender_key(detail)
        self._shown = (ranked, goal_titles, allow_remote)
        bodies = self.bodies = item_bodies(detail)
        formatted = bodies.formatted is not None and self._choices.get(
            detail.id, bodies.prefer_formatted
        )
        self.showing_formatted = formatted
        remote = formatted and bodies.has_remote_content
        self.reader.show_item(
            detail,
            ranked,
            keep_scroll=keep_scroll,
            html=bodies.formatted if formatted else None,
            allow_remote=allow_remote and remote,
        )
        if remote and not allow_remote:
            self.bar.offer(self.sender_key)
        else:
            self.bar.hide()
        self.format_bar.set_formatted(formatted)
        self.format_bar.setVisible(bodies.can_toggle)
        self.why.show_item(ranked, goal_titles)

    def set_weights(self, weights: ItemEvidence) -> None:
        """The shown item's passage weights arrived: shade the reader, list them in Why."""
        if self.detail is None or weights.item_id != self.detail.id:
            return
        self.reader.set_weights(weights)
        self.why.set_weights(weights)

    def weights_did_fail(self, item_id: int, message: str) -> None:
        """The passages of ``item_id`` could not be weighed (the reader keeps its evidence)."""
        if self.detail is not None and self.detail.id == item_id:
            self.why.set_weights_error(item_id, message)

    def set_formatted(self, formatted: bool) -> None:
        """Show the item formatted (True) or as plain text (False), when it has both."""
        if self.detail is None or self.bodies is None or not self.bodies.can_toggle:
            return
        if formatted == self.showing_formatted:
            return
        self._choices[self.detail.id] = formatted
        ranked, goal_titles, allow_remote = self._shown
        self.show_item(self.detail, ranked, goal_titles, allow_remote=allow_remote)

    def toggle_format(self) -> None:
        """Switch between formatted and plain text (the V key)."""
        self.set_formatted(not self.showing_formatted)

    def remote_image_did_fail(self, item_id: int | None, url: str, message: str) -> None:
        """A remote image of item ``item_id`` could not be fetched: say so, keep its alt text."""
        if item_id is None or item_id != self.item_id:
            return
        self._failures[url] = message
        self.reader.mark_failed(url)
        total = len(self.reader.requested)
        self._set_notice(describe_failures(list(self._failures.values()), total))
        self.notice.setToolTip("\n".join(sorted(set(self._failures.values()))))

    def notice_text(self) -> str:
        return self.notice.text() if not self.notice.isHidden() else ""

    def _set_notice(self, text: str) -> None:
        self.notice.setText(f"⚠ {text}" if text else "")
        self.notice.setVisible(bool(text))

    def _on_link(self, href: str) -> None:
        if self.detail is not None and self.detail.kind == "note":
            self.note_link_activated.emit(href)

    @property
    def remote_blocked(self) -> bool:
        """Whether the shown item has remote content that is being held back."""
        return not self.bar.isHidden()

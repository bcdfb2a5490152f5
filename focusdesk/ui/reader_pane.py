"""The reading side of the window: the remote-content bar, the reader and the Why panel."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QSplitter, QVBoxLayout, QWidget

from focusdesk.records import ItemDetail, RankedItem

from .reader import ReaderView
from .remote_content import RemoteContentBar, has_remote_content, item_html, sender_key
from .why_panel import WhyPanel


class ReaderPane(QWidget):
    """Shows one item; offers to load its remote content; explains its rank."""

    remote_load_requested = Signal()
    remote_always_requested = Signal(str)
    """Carries the sender (address or domain) to allow from now on."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Reading pane")
        self.bar = RemoteContentBar(self)
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
        self.bar.load_requested.connect(self.remote_load_requested)
        self.bar.always_requested.connect(
            lambda: self.remote_always_requested.emit(self.sender_key or "")
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.bar)
        layout.addWidget(self.splitter, 1)
        self.why.hide()

    @property
    def item_id(self) -> int | None:
        return self.reader.item_id

    def show_placeholder(self, text: str = "Select an item to read it.") -> None:
        self.detail = None
        self.sender_key = None
        self.bar.hide()
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
        item_titles: Callable[[int], str | None] | None = None,
    ) -> None:
        """Show ``detail``; remote content only when ``allow_remote``, else the bar offers it."""
        self.detail = detail
        self.sender_key = sender_key(detail)
        remote = has_remote_content(detail)
        self.reader.show_item(
            detail,
            ranked,
            keep_scroll=keep_scroll,
            html=item_html(detail, allow_remote=allow_remote and remote),
            allow_remote=allow_remote and remote,
        )
        if remote and not allow_remote:
            self.bar.offer(self.sender_key)
        else:
            self.bar.hide()
        self.why.show_item(ranked, goal_titles, item_titles)

    @property
    def remote_blocked(self) -> bool:
        """Whether the shown item has remote content that is being held back."""
        return not self.bar.isHidden()

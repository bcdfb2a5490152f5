"""The reader in the desktop app: the item shown, its linked notes, its remote content and
its Why panel (the passage weights).

Nothing here reads the store on the UI thread. ``show_item`` asks for the item on the read
lane of the window's ``Operations`` and shows it when it arrives; every request is a new
generation, so when the user has moved on (J, J, J) the late answers for the items passed
by are dropped and only the last one is shown. Following a wikilink looks the note up
the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from focusdesk.records import ItemDetail
from focusdesk.sources.note_links import link_target

from .passage_loader import PassageWeightsLoader
from .remote_content import MAX_IMAGES, fetch_image, is_allowed

if TYPE_CHECKING:
    from focusdesk.items import ItemsService
    from focusdesk.rank.service import RankingService
    from focusdesk.settings import Settings

    from .inbox_model import InboxModel
    from .operations import Job, Operations
    from .reader_pane import ReaderPane


class ReaderDesk(Protocol):
    """The parts of the profile the reader uses (``FocusDesk`` has them)."""

    items: ItemsService
    ranking: RankingService
    settings: Settings


class ReaderController(QObject):
    """Shows items in the reading pane, read in the background, newest request wins."""

    item_did_open = Signal(int)
    """Another item is now shown in the reader (its id)."""
    item_did_show = Signal(int)
    """An item was shown in the reader (again, too: after a re-ranking or a remote load)."""
    reading_did_start = Signal(int)
    reading_did_stop = Signal()
    remote_image_did_load = Signal(str)
    linked_note_did_resolve = Signal(int)
    """A followed wikilink names this item: the window selects it (or shows it)."""

    def __init__(
        self,
        desk: ReaderDesk,
        ops: Operations,
        pane: ReaderPane,
        inbox_model: InboxModel,
        *,
        goal_titles: Callable[[], dict[int, str]],
        save_settings: Callable[[], None],
        show_status: Callable[[str], None],
        parent: QWidget,
    ) -> None:
        super().__init__(parent)
        self.desk = desk
        self.ops = ops
        self.pane = pane
        self.reader = pane.reader
        self.inbox_model = inbox_model
        self.goal_titles = goal_titles
        self.save_settings = save_settings
        self.show_status = show_status
        self._generation = 0
        self._wanted: int | None = None
        """The item asked for last (being read, or shown)."""
        self._reading: int | None = None
        """The item being read in the background (its answer is the newest to come)."""
        self._heading: tuple[int, str] | None = None
        """A heading to scroll to once this item is shown (a followed wikilink)."""
        self._remote_once: set[int] = set()
        self.passage_weights = PassageWeightsLoader(
            ops, lambda i, g, cancel: desk.ranking.explain_item(i, g, cancel=cancel), self
        )
        self.passage_weights.weights_did_arrive.connect(pane.set_weights)
        self.passage_weights.weights_did_fail.connect(pane.weights_did_fail)
        self.reader.remote_resource_needed.connect(self._fetch_remote)
        pane.remote_load_requested.connect(self.load_remote_content)
        pane.remote_always_requested.connect(self.always_load_remote_content)
        pane.note_link_activated.connect(self.open_linked_note)

    @property
    def wanted(self) -> int | None:
        """The item the reader shows or is about to show."""
        return self._wanted

    def follow_selection(self, item_id: int | None, again: bool) -> None:
        """The list's selection changed: read its item (``again``: even if it is shown)."""
        if item_id is None:
            self.reading_did_stop.emit()
            self.clear()
        elif item_id != self._reading and (again or item_id != self._wanted):
            self.show_item(item_id)  # (an item on its way already is not read twice)

    def clear(self, text: str | None = None) -> None:
        """Show the placeholder (an answer still on its way is dropped)."""
        self._generation += 1
        self._wanted = self._reading = None
        if text is None:
            self.pane.show_placeholder()
        else:
            self.pane.show_placeholder(text)

    def show_item(self, item_id: int) -> Job:
        """Read an item in the background and show it, with its ranking when it has one."""
        self._generation += 1
        generation = self._generation
        if item_id != self._wanted:  # the user reads it from now (the dwell counts)
            self.reading_did_start.emit(item_id)
        self._wanted = self._reading = item_id

        def done(detail: ItemDetail) -> None:
            if generation == self._generation:
                self._reading = None
                self._show(detail)

        def failed(message: str) -> None:
            if generation == self._generation:
                self.clear(message)

        return self.ops.read(
            lambda _p, _c: self.desk.items.get(item_id),
            on_done=done,
            on_error=failed,
            name="read item",
        )

    def _show(self, detail: ItemDetail) -> None:
        item_id = detail.id
        ranked = self.inbox_model.find_item(item_id)
        same = self.reader.item_id == item_id  # re-selected after a re-ranking
        allowed = item_id in self._remote_once or is_allowed(
            detail, self.desk.settings.remote_content_senders
        )
        self.pane.show_item(
            detail, ranked, self.goal_titles(), allow_remote=allowed, keep_scroll=same
        )
        self.pane.why.set_vote(self.inbox_model.vote_text(item_id))
        self.passage_weights.request(item_id, ranked.goal_id if ranked is not None else None)
        if not same:
            self.item_did_open.emit(item_id)
        if self._heading is not None and self._heading[0] == item_id:
            self.reader.scroll_to_heading(self._heading[1])
            self._heading = None
        self.item_did_show.emit(item_id)

    def open_linked_note(self, href: str) -> None:
        """A wikilink in the note shown: open the note it names, or say there is none."""
        item_id = self.reader.item_id
        note, heading = link_target(href)
        if item_id is None or not note:
            return
        source = self.pane.detail.source_name if self.pane.detail else ""

        def done(found: int | None) -> None:
            if found is None:
                self.show_status(f"There is no note named “{note}” in {source or 'this vault'}.")
                return
            self._heading = (found, heading) if heading else None
            if found == self.reader.item_id and found == self._wanted:
                self._heading = None  # a link to a heading of the note shown
                if heading:
                    self.reader.scroll_to_heading(heading)
                return
            self.linked_note_did_resolve.emit(found)

        self.ops.read(
            lambda _p, _c: self.desk.items.find_linked_note(item_id, note),
            on_done=done,
            on_error=self.show_status,
            name="find linked note",
        )

    # -- remote content -----------------------------------------------------------------
    def load_remote_content(self) -> None:
        """ "Load remote content" for the item shown (this once)."""
        item_id = self.reader.item_id
        if item_id is not None and self._reading in (None, item_id):  # (not moved on)
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
            self.save_settings()
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
            on_error=lambda message: self.pane.remote_image_did_fail(item_id, url, message),
            name="remote image",
        )

    def stop(self) -> None:
        """The window is closing: no more weights asked for."""
        self.passage_weights.cancel()

"""Runs the window's searches as the user types, off the UI thread.

Hybrid search needs the encoder, which the core task pool uses too (the tokenizer is
not safe to share between threads), so the full search queues there. While that pool
is busy (a sync, a ranking) a keyword-only search runs at once on a pool of its own,
so results still follow the typing; the hybrid results replace them when they come.
Before the first ranking (no model loaded yet) searches are keyword-only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QItemSelectionModel, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent, QPaintEvent

from focusdesk.search import SearchHit

from .operations import Job
from .search_panel import SearchBar, SearchModel, SearchResultsView
from .style import paint_empty_text

if TYPE_CHECKING:
    from .main_window import MainWindow

SEARCH_TOP = 50


class ResultsView(SearchResultsView):
    """The results list; says so when nothing was found."""

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        super().paintEvent(event)
        model = self.model()
        if isinstance(model, SearchModel) and model.rowCount() == 0:
            text = (
                f"Nothing found for “{model.query.strip()}”."
                if model.query.strip()
                else "Type to search your notes, mail and feeds."
            )
            paint_empty_text(self, text)


class SearchController(QObject):
    """The search bar, the results and the background searches of one window."""

    search_did_finish = Signal(str, list)
    """(query, hits) of the final (hybrid when possible) results for a query."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.bar = SearchBar(window)
        self.model = SearchModel(self, clock=window.desk.clock)
        self.view = ResultsView(window)
        self.view.setModel(self.model)
        self._generation = 0
        self._final_shown = False
        self._jobs: list[Job] = []
        self.bar.query_did_change.connect(self.run)
        self.bar.results_requested.connect(self.focus_results)
        self.view.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        """Esc in the results closes the search, as it does in the field."""
        escape = (
            isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Escape
            and event.modifiers()
            in (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.KeypadModifier)
        )
        if watched is self.view and escape:
            if event.type() == QEvent.Type.ShortcutOverride:
                event.accept()  # not "cancel sync": Esc here means "back"
                return True
            if event.type() == QEvent.Type.KeyPress:
                self.bar.search_did_close.emit()
                return True
        return super().eventFilter(watched, event)

    @property
    def query(self) -> str:
        return self.bar.text()

    def run(self, query: str) -> None:
        """Search for ``query`` in the background (earlier searches are dropped)."""
        self._generation += 1
        generation = self._generation
        self._final_shown = False
        for job in self._jobs:
            job.cancel()
        self._jobs = []
        if not query.strip():
            self.model.set_hits("", [])
            self.bar.status.setText("")
            return
        self.bar.status.setText("Searching…")
        desk = self.window.desk
        semantic = self.window.model_ready
        ops = self.window.ops
        if ops.writing or not semantic:  # keyword hits at once, beside a sync or a ranking
            self._jobs.append(
                ops.read(
                    lambda _p, cancel: desk.search(
                        query, SEARCH_TOP, semantic=False, cancel=cancel
                    ),
                    on_done=lambda hits: self._show(generation, query, hits, final=not semantic),
                    on_error=self._failed,
                    name="keyword search",
                )
            )
        if semantic:
            self._jobs.append(
                ops.write(  # the vector index: not while a sync changes it
                    lambda _p, cancel: desk.search(query, SEARCH_TOP, semantic=True, cancel=cancel),
                    on_done=lambda hits: self._show(generation, query, hits, final=True),
                    on_error=self._failed,
                    name="search",
                )
            )

    def _show(self, generation: int, query: str, hits: list[SearchHit], *, final: bool) -> None:
        if generation != self._generation or self._final_shown:
            return
        self._final_shown = final
        keep = self.window.inbox_controller.current_item_id() if self.view.isVisible() else None
        self.model.set_hits(query, hits)
        n = len(hits)
        self.bar.status.setText(f"{n} result{'s' if n != 1 else ''}" if n else "No results")
        row = self.model.row_of(keep) if keep is not None else None
        if n:
            self.select(row if row is not None else 0)
        if final:
            self.search_did_finish.emit(query, hits)

    def _failed(self, message: str) -> None:
        self.bar.status.setText("Search failed")
        self.window.show_status(message)

    def select(self, row: int) -> None:
        index = self.model.index(row)
        if index.isValid():
            self.view.selectionModel().setCurrentIndex(
                index, QItemSelectionModel.SelectionFlag.ClearAndSelect
            )
            self.view.scrollTo(index)

    def focus_results(self) -> None:
        if self.model.rowCount():
            if not self.view.currentIndex().isValid():
                self.select(0)
            self.view.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def clear(self) -> None:
        self.bar.edit.blockSignals(True)
        self.bar.edit.clear()
        self.bar.edit.blockSignals(False)
        self.run("")

    def shutdown(self) -> None:
        for job in self._jobs:
            job.cancel()

    def current_hit(self) -> Any:
        index = self.view.currentIndex()
        return self.model.hit_at(index.row()) if index.isValid() else None

"""The reader pane: one item as escaped plain text, with the evidence passage highlighted.

Nothing is ever fetched: ``loadResource`` refuses every URL (http, https, file, data,
qrc, cid), and links are not followed. Item text is HTML-escaped, so a message can
never inject markup of its own.
"""

from __future__ import annotations

import html
import logging
from datetime import datetime
from typing import Any

from PySide6.QtCore import QEvent, QUrl
from PySide6.QtWidgets import QTextBrowser, QWidget

from focusdesk.records import ItemDetail, RankedItem

from .evidence import find_evidence
from .style import muted_colour

log = logging.getLogger(__name__)

EVIDENCE_ANCHOR = "evidence"
MARK_STYLE = "background-color:#ffe27a; color:#1b1b1b;"
"""Amber highlight with dark text: readable on light and dark palettes alike."""
EVIDENCE_BLOCK_CHARS = 700
"""The separate evidence block (passage not found in the body) is cut to this length."""

__all__ = [
    "EVIDENCE_ANCHOR",
    "MARK_STYLE",
    "ReaderView",
    "evidence_range",
    "find_evidence",
    "render_item_html",
]


def evidence_range(detail: ItemDetail, ranked: RankedItem | None) -> tuple[int, int] | None:
    """The evidence passage's place in what the reader shows (the body), or None."""
    if ranked is None or not ranked.evidence.strip():
        return None
    body = detail.body or detail.text
    if ranked.evidence_span is not None and body == detail.text:
        a, b = ranked.evidence_span
        if 0 <= a < b <= len(body) and body[a:b].strip() == ranked.evidence.strip():
            while a < b and body[a].isspace():
                a += 1
            while b > a and body[b - 1].isspace():
                b -= 1
            return a, b
    return find_evidence(body, ranked.evidence)


def _esc(text: str) -> str:
    return html.escape(text, quote=False)


def _format_date(when: datetime | None) -> str:
    if when is None:
        return ""
    return when.astimezone().strftime("%a %d %b %Y, %H:%M")


def _location(url: str | None) -> str:
    """A source address as a person reads it (a file path rather than a file: URL)."""
    if not url:
        return ""
    qurl = QUrl(url)
    return qurl.toLocalFile() if qurl.isLocalFile() else url


def render_item_html(detail: ItemDetail, ranked: RankedItem | None, muted: str) -> str:
    """The reader's HTML for one item: header, "Why" line, then the body."""
    parts = [f"<h2 style='margin-bottom:2px'>{_esc(detail.title or '(untitled)')}</h2>"]
    meta = [m for m in (detail.author, detail.source_name, _format_date(detail.published_at)) if m]
    if meta:
        parts.append(
            f"<p style='color:{muted}; margin-top:0; margin-bottom:0'>{_esc(' · '.join(meta))}</p>"
        )
    location = _location(detail.url)
    if location:
        parts.append(
            f"<p style='color:{muted}; margin-top:0; font-size:small'>{_esc(location)}</p>"
        )
    body = detail.body or detail.text
    span: tuple[int, int] | None = None
    if ranked is not None:
        goal = ranked.goal_title or "none"
        parts.append(
            f"<p style='margin-top:8px'><b>Why:</b> best goal <b>{_esc(goal)}</b>"
            f" · score {ranked.score:.2f}</p>"
        )
        span = evidence_range(detail, ranked)
        evidence = ranked.evidence.strip()
        if span is None and evidence:
            if len(evidence) > EVIDENCE_BLOCK_CHARS:
                evidence = evidence[:EVIDENCE_BLOCK_CHARS].rsplit(" ", 1)[0] + " …"
            parts.append(
                f"<p style='color:{muted}; margin-bottom:2px'><b>Evidence</b></p>"
                f"<p style='margin-top:0; white-space:pre-wrap'><a name='{EVIDENCE_ANCHOR}'></a>"
                f"<span style='{MARK_STYLE}'>{_esc(evidence)}</span></p>"
            )
    parts.append("<hr/>")
    if span is not None:
        a, b = span
        text_html = (
            f"{_esc(body[:a])}<a name='{EVIDENCE_ANCHOR}'></a>"
            f"<span style='{MARK_STYLE}'>{_esc(body[a:b])}</span>{_esc(body[b:])}"
        )
    else:
        text_html = _esc(body) if body.strip() else f"<i style='color:{muted}'>(no text)</i>"
    parts.append(f"<div style='white-space:pre-wrap'>{text_html}</div>")
    return "".join(parts)


class ReaderView(QTextBrowser):
    """A read-only item view that loads nothing from anywhere."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenExternalLinks(False)
        self.setOpenLinks(False)
        self.setReadOnly(True)
        self.document().setDocumentMargin(12)
        self.setAccessibleName("Reader")
        self.setAccessibleDescription("The selected item, with the passage that matched your goal")
        self.refused: set[str] = set()
        """Every URL the view asked for and was refused (each logged once)."""
        self.item_id: int | None = None
        self.evidence_found: bool | None = None
        self._shown: tuple[ItemDetail, RankedItem | None] | str = ""
        self.show_placeholder()

    def loadResource(self, kind: int, url: QUrl | str) -> Any:  # noqa: N802
        """Refuse every resource: nothing is fetched from the network or the disk."""
        key = url.toString() if isinstance(url, QUrl) else str(url)
        if key not in self.refused:
            self.refused.add(key)
            log.debug("Reader refused to load %s", key[:200])
        return None

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._render()  # the muted colour follows the theme

    def show_placeholder(self, text: str = "Select an item to read it.") -> None:
        self.item_id = None
        self.evidence_found = None
        self._shown = text
        self._render()

    def show_item(
        self, detail: ItemDetail, ranked: RankedItem | None = None, *, keep_scroll: bool = False
    ) -> None:
        """Show ``detail``; with ``ranked``, the "Why" line and the highlighted evidence.

        ``keep_scroll`` leaves the reading position alone (the same item, re-ranked).
        """
        self.item_id = detail.id
        self.evidence_found = (
            evidence_range(detail, ranked) is not None
            if ranked is not None and ranked.evidence.strip()
            else None
        )
        self._shown = (detail, ranked)
        self._render()
        if keep_scroll:
            return
        bar = self.verticalScrollBar()
        bar.setValue(0)
        if self.evidence_found:
            # Show the passage with some context above it, not glued to the top edge.
            self.scrollToAnchor(EVIDENCE_ANCHOR)
            target = bar.value() - self.viewport().height() // 3
            bar.setValue(target if target > self.viewport().height() // 4 else 0)

    def _render(self) -> None:
        muted = muted_colour(self.palette()).name()
        if isinstance(self._shown, str):
            self.setHtml(
                f"<p align='center' style='color:{muted}; margin-top:40px'>{_esc(self._shown)}</p>"
            )
            return
        scroll = self.verticalScrollBar().value()
        self.setHtml(render_item_html(*self._shown, muted))
        self.verticalScrollBar().setValue(scroll)

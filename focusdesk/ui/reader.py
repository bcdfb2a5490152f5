"""The reader: one item, with the evidence passage highlighted.

Plain text is HTML-escaped, so a message can never inject markup of its own. Sanitised
HTML (a feed entry's or a mail's HTML part, a rendered note) is shown as HTML.
Nothing is fetched by default: ``loadResource`` refuses every URL (http, https, file,
data, qrc, cid), and links are not followed. Only when the user allows remote content
for an item are its http(s) images asked for, through ``remote_resource_needed``; the
window fetches them in the background and hands them back with ``add_remote_image``
(or reports a failure with ``mark_failed``). An image is drawn only once it is here:
until then, and when it fails, its alt text stands in for it (``present_images``).
Relative links (a note's wikilinks) are handed out by ``note_link_activated``; a link
to a heading of the shown note scrolls to it.
"""

from __future__ import annotations

import html
import logging
from datetime import datetime
from typing import Any

from PySide6.QtCore import QEvent, QUrl, Signal
from PySide6.QtGui import (
    QColor,
    QImage,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
)
from PySide6.QtWidgets import QTextBrowser, QWidget

from focusdesk.records import ItemDetail, RankedItem

from .evidence import find_evidence
from .remote_content import MAX_IMAGES, present_images, remote_urls
from .style import muted_colour

log = logging.getLogger(__name__)

EVIDENCE_ANCHOR = "evidence"
MARK_BACKGROUND, MARK_FOREGROUND = "#ffe27a", "#1b1b1b"
MARK_STYLE = f"background-color:{MARK_BACKGROUND}; color:{MARK_FOREGROUND};"
"""Amber highlight with dark text: readable on light and dark palettes alike."""
_ROOMY_TABLE = '<table cellspacing="0" cellpadding="3">'
"""Sanitised tables have no spacing of their own: Qt would set their cells edge to edge."""
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


def render_header_html(
    detail: ItemDetail, ranked: RankedItem | None, muted: str, *, evidence_in_body: bool
) -> str:
    """Title, author and source, the "Why" line, and the evidence when the body lacks it."""
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
    if ranked is not None:
        goal = ranked.goal_title or "none"
        parts.append(
            f"<p style='margin-top:8px'><b>Why:</b> best goal <b>{_esc(goal)}</b>"
            f" · score {ranked.score:.2f}</p>"
        )
        evidence = ranked.evidence.strip()
        if not evidence_in_body and evidence:
            if len(evidence) > EVIDENCE_BLOCK_CHARS:
                evidence = evidence[:EVIDENCE_BLOCK_CHARS].rsplit(" ", 1)[0] + " …"
            parts.append(
                f"<p style='color:{muted}; margin-bottom:2px'><b>Evidence</b></p>"
                f"<p style='margin-top:0; white-space:pre-wrap'><a name='{EVIDENCE_ANCHOR}'></a>"
                f"<span style='{MARK_STYLE}'>{_esc(evidence)}</span></p>"
            )
    parts.append("<hr/>")
    return "".join(parts)


def render_item_html(detail: ItemDetail, ranked: RankedItem | None, muted: str) -> str:
    """The reader's HTML for a plain-text item: header, "Why" line, then the body."""
    body = detail.body or detail.text
    span = evidence_range(detail, ranked) if ranked is not None else None
    parts = [render_header_html(detail, ranked, muted, evidence_in_body=span is not None)]
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


class _InertDocument(QTextDocument):
    """A document that loads nothing (used to measure an item's HTML as text)."""

    def loadResource(self, kind: int, url: QUrl | str) -> Any:  # noqa: N802
        return None


class ReaderView(QTextBrowser):
    """A read-only item view that loads nothing, unless remote content is allowed."""

    remote_resource_needed = Signal(str)
    """An allowed remote image (http or https URL) that should be fetched."""
    note_link_activated = Signal(str)
    """A relative link was clicked (a wikilink): the href, still percent-encoded."""

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
        self.remote_allowed = False
        """Whether the shown item may load its remote (http/https) images."""
        self.requested: list[str] = []
        """Remote images asked for (once each) since the item was shown."""
        self._images: dict[str, QImage] = {}
        self.failed_images: set[str] = set()
        """Allowed remote images that could not be fetched (shown as their alt text)."""
        self.anchorClicked.connect(self._on_anchor)
        self._shown: tuple[ItemDetail, RankedItem | None] | str = ""
        self._html: str | None = None
        self.show_placeholder()

    def loadResource(self, kind: int, url: QUrl | str) -> Any:  # noqa: N802
        """Refuse every resource, except the allowed remote images of the shown item.

        Nothing is read from the disk, the resource system or ``data:`` URLs, ever.
        """
        key = url.toString() if isinstance(url, QUrl) else str(url)
        scheme = (url.scheme() if isinstance(url, QUrl) else QUrl(key).scheme()).lower()
        if (
            self.remote_allowed
            and scheme in ("http", "https")
            and kind == int(QTextDocument.ResourceType.ImageResource.value)
        ):
            image = self._images.get(key)
            if image is not None:
                return image
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
        self._forget_remote()
        self._shown = text
        self._html = None
        self._render()

    def show_item(
        self,
        detail: ItemDetail,
        ranked: RankedItem | None = None,
        *,
        keep_scroll: bool = False,
        html: str | None = None,
        allow_remote: bool = False,
    ) -> None:
        """Show ``detail``; with ``ranked``, the "Why" line and the highlighted evidence.

        ``html`` is the item's sanitised HTML, shown instead of its text. With
        ``allow_remote`` its http(s) images are asked for. ``keep_scroll`` leaves the
        reading position alone (the same item, re-ranked).
        """
        if detail.id != self.item_id or not allow_remote:
            self._forget_remote()
        self.remote_allowed = allow_remote
        self.item_id = detail.id
        self._html = html
        if html is None:
            self.evidence_found = (
                evidence_range(detail, ranked) is not None
                if ranked is not None and ranked.evidence.strip()
                else None
            )
        self._shown = (detail, ranked)
        if allow_remote and html is not None:
            for url in remote_urls(html)[:MAX_IMAGES]:
                if url not in self.requested:
                    self.requested.append(url)
                    self.remote_resource_needed.emit(url)
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

    def add_remote_image(self, url: str, data: bytes) -> bool:
        """Hand over a fetched remote image; False when it is not an image we can show."""
        if not self.remote_allowed or url not in self.requested:
            return False
        image = QImage.fromData(data)
        if image.isNull():
            log.info("Remote resource %s is not an image Qt can show", url[:200])
            return False
        self._images[url] = image
        self.failed_images.discard(url)
        self._render()
        return True

    def mark_failed(self, url: str) -> None:
        """An allowed remote image could not be fetched: its alt text stays, in words."""
        if self.remote_allowed and url in self.requested and url not in self._images:
            self.failed_images.add(url)
            self._render()

    def _forget_remote(self) -> None:
        self.remote_allowed = False
        self.requested = []
        self._images = {}
        self.failed_images = set()

    def _on_anchor(self, url: QUrl) -> None:
        if url.scheme() or url.host():
            return  # web and mail links are not followed from the reader
        if url.path():
            self.note_link_activated.emit(url.toString(QUrl.ComponentFormattingOption.FullyEncoded))
        elif url.fragment():
            self.scroll_to_heading(url.fragment())

    def scroll_to_heading(self, heading: str) -> bool:
        """Scroll to the shown item's heading named ``heading`` (a ``[[#heading]]`` link)."""
        wanted = " ".join(heading.split()).casefold()
        block = self.document().begin()
        while block.isValid():
            level = block.blockFormat().headingLevel()
            if level and " ".join(block.text().split()).casefold() == wanted:
                cursor = QTextCursor(block)
                self.setTextCursor(cursor)
                bar = self.verticalScrollBar()
                bar.setValue(bar.maximum())  # so that the heading lands at the top
                self.ensureCursorVisible()
                return True
            block = block.next()
        return False

    def _render(self) -> None:
        muted = muted_colour(self.palette()).name()
        if isinstance(self._shown, str):
            self.setHtml(
                f"<p align='center' style='color:{muted}; margin-top:40px'>{_esc(self._shown)}</p>"
            )
            return
        scroll = self.verticalScrollBar().value()
        if self._html is None:
            self.setHtml(render_item_html(*self._shown, muted))
        else:
            self._render_html(*self._shown, muted)
        self.verticalScrollBar().setValue(scroll)

    def _render_html(self, detail: ItemDetail, ranked: RankedItem | None, muted: str) -> None:
        """Header, then the item's HTML; the evidence is looked up in the rendered text."""
        assert self._html is not None
        shown = present_images(
            self._html,
            allowed=self.remote_allowed,
            loaded=self._images,
            failed=self.failed_images,
            requested=self.requested,
        ).replace("<table>", _ROOMY_TABLE)
        evidence = ranked.evidence.strip() if ranked is not None else ""
        body = _InertDocument()
        body.setHtml(shown)
        span = find_evidence(body.toRawText(), evidence) if evidence else None
        self.evidence_found = span is not None if evidence else None
        self.setHtml(render_header_html(detail, ranked, muted, evidence_in_body=span is not None))
        cursor = QTextCursor(self.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertBlock(QTextBlockFormat())  # below the rule, not inside its block
        start = cursor.position()
        cursor.insertHtml(shown)
        if span is None:
            return
        raw = self.document().toRawText()[start:]
        found = find_evidence(raw, evidence)
        if found is None:
            self.evidence_found = False
            return
        mark = QTextCharFormat()
        mark.setBackground(QColor(MARK_BACKGROUND))
        mark.setForeground(QColor(MARK_FOREGROUND))
        mark.setAnchor(True)
        mark.setAnchorNames([EVIDENCE_ANCHOR])
        highlight = QTextCursor(self.document())
        highlight.setPosition(start + found[0])
        highlight.setPosition(start + found[1], QTextCursor.MoveMode.KeepAnchor)
        highlight.mergeCharFormat(mark)

"""The reader: one item, each passage shaded by its attention weight, the best sentence marked.

Until the passage weights for the goal the row is shown for arrive (computed in the
background, ``set_weights``), the ranker's evidence passage is shaded alone; then
every passage is shaded by its weight and the sentence of the evidence passage that
matches the goal best is marked (``focusdesk.rank.passage_weights``, ``shading``).

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
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QUrl, Signal
from PySide6.QtGui import (
    QColor,
    QImage,
    QPalette,
    QTextBlockFormat,
    QTextCursor,
    QTextDocument,
)
from PySide6.QtWidgets import QTextBrowser, QWidget

from focusdesk.rank.standing import item_standing
from focusdesk.records import ItemDetail, RankedItem

from .evidence import EvidenceMarks, Shade, find_evidence, locate_marks, unpaint_whole_item
from .reader_thread import render_thread_html
from .remote_content import MAX_IMAGES, present_images, remote_urls
from .shading import SENTENCE_BACKGROUND, SENTENCE_FOREGROUND, mark_range, passage_shade
from .style import muted_colour

if TYPE_CHECKING:
    from focusdesk.rank.passage_weights import ItemEvidence

log = logging.getLogger(__name__)

EVIDENCE_ANCHOR = "evidence"
PASSAGE_ANCHOR = "passage-{}"
"""Names the start of each shaded passage (by its index in ``ItemEvidence.passages``)."""
MARK_BACKGROUND, MARK_FOREGROUND = SENTENCE_BACKGROUND, SENTENCE_FOREGROUND
MARK_STYLE = f"background-color:{MARK_BACKGROUND}; color:{MARK_FOREGROUND};"
"""Amber highlight with dark text: readable on light and dark palettes alike."""
Tint = Callable[[float], str]
"""A passage's strength (0..1 of the heaviest) -> its background colour (#rrggbb)."""
_ROOMY_TABLE = '<table cellspacing="0" cellpadding="3">'
"""Sanitised tables have no spacing of their own: Qt would set their cells edge to edge."""
EVIDENCE_BLOCK_CHARS = 700
"""The separate evidence block (passage not found in the body) is cut to this length."""

__all__ = [
    "EVIDENCE_ANCHOR",
    "MARK_STYLE",
    "PASSAGE_ANCHOR",
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


def _light_tint(strength: float) -> str:
    return passage_shade(QPalette(), strength).name()


def fallback_marks(detail: ItemDetail, ranked: RankedItem | None) -> EvidenceMarks | None:
    """Before the weights arrive: the ranker's evidence passage, shaded alone."""
    span = evidence_range(detail, ranked) if ranked is not None else None
    return EvidenceMarks((Shade(-1, span[0], span[1], 1.0),), None) if span else None


def shaded_html(text: str, marks: EvidenceMarks | None, tint: Tint) -> str:
    """``text`` escaped, its passages shaded and the best sentence marked, with anchors."""
    if marks is None or not marks.shades:
        return _esc(text)
    cuts: list[tuple[int, int, str]] = []  # (start, end, css) in text order
    for shade in marks.shades:
        style = f"background-color:{tint(shade.strength)};" if shade.strength > 0 else ""
        sentence = marks.sentence
        if sentence is not None and shade.start <= sentence[0] < sentence[1] <= shade.end:
            cuts.append((shade.start, sentence[0], style))
            cuts.append((sentence[0], sentence[1], MARK_STYLE))
            cuts.append((sentence[1], shade.end, style))
        else:
            cuts.append((shade.start, shade.end, style))
    anchor = marks.anchor
    starts = {s.start: s.index for s in marks.shades if s.index >= 0}
    out: list[str] = []
    pos = 0
    for a, b, style in cuts:
        if b <= a:
            continue
        out.append(_esc(text[pos:a]))
        if a in starts:
            out.append(f"<a name='{PASSAGE_ANCHOR.format(starts.pop(a))}'></a>")
        if a == anchor:
            out.append(f"<a name='{EVIDENCE_ANCHOR}'></a>")
        out.append(f"<span style='{style}'>{_esc(text[a:b])}</span>" if style else _esc(text[a:b]))
        pos = b
    out.append(_esc(text[pos:]))
    return "".join(out)


def render_header_html(
    detail: ItemDetail,
    ranked: RankedItem | None,
    muted: str,
    *,
    evidence_in_body: bool,
    tint: Tint = _light_tint,
    sentence: str | None = None,
) -> str:
    """Title, author and source, the "Why" line, and the evidence when the body lacks it.

    ``sentence`` is the best sentence of the evidence passage, marked inside that block.
    """
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
        standing = item_standing(ranked)
        standing_html = f" · {_esc(standing.split(';')[0])}" if standing else ""
        parts.append(
            f"<p style='margin-top:8px'><b>Why:</b> best goal <b>{_esc(goal)}</b>"
            f" · score {ranked.score:.2f}{standing_html}</p>"
        )
        evidence = ranked.evidence.strip()
        if not evidence_in_body and evidence:
            if len(evidence) > EVIDENCE_BLOCK_CHARS:
                evidence = evidence[:EVIDENCE_BLOCK_CHARS].rsplit(" ", 1)[0] + " …"
            found = find_evidence(evidence, sentence) if sentence else None
            # The block is the passage: shaded only while no sentence points inside it.
            marks = EvidenceMarks((Shade(-1, 0, len(evidence), 0.0 if found else 1.0),), found)
            parts.append(
                f"<p style='color:{muted}; margin-bottom:2px'><b>Evidence</b></p>"
                f"<p style='margin-top:0; white-space:pre-wrap'>"
                f"{shaded_html(evidence, marks, tint)}</p>"
            )
    parts.append("<hr/>")
    return "".join(parts)


def render_item_html(
    detail: ItemDetail,
    ranked: RankedItem | None,
    muted: str,
    *,
    marks: EvidenceMarks | None = None,
    tint: Tint = _light_tint,
    sentence: str | None = None,
) -> str:
    """The reader's HTML for a plain-text item: header, "Why" line, then the body.

    ``marks`` place the shaded passages and the marked sentence in the body (default:
    the ranker's evidence passage alone).
    """
    body = detail.body or detail.text
    if marks is None:
        marks = fallback_marks(detail, ranked)
    in_body = marks is not None and bool(marks.shades)
    parts = [
        render_header_html(
            detail, ranked, muted, evidence_in_body=in_body, tint=tint, sentence=sentence
        )
    ]
    if in_body:
        text_html = shaded_html(body, marks, tint)
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
        self.weights: ItemEvidence | None = None
        """The passage weights of the shown item for its row's goal, once they arrived."""
        self.marks: EvidenceMarks | None = None
        """What is shaded and marked in the body (positions in the shown body text)."""
        self._auto_scroll: int | None = None
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
        self.weights = None
        self.marks = None
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
        goal = ranked.goal_id if ranked is not None else None
        if self.weights is not None and (
            detail.id != self.weights.item_id or goal != self.weights.goal_id
        ):
            self.weights = None
        self.remote_allowed = allow_remote
        self.item_id = detail.id
        self._html = html
        self._shown = (detail, ranked)
        if allow_remote and html is not None:
            for url in remote_urls(html)[:MAX_IMAGES]:
                if url not in self.requested:
                    self.requested.append(url)
                    self.remote_resource_needed.emit(url)
        self._render()
        if keep_scroll:
            return
        self.verticalScrollBar().setValue(0)
        if self.evidence_found:
            self._scroll_to(EVIDENCE_ANCHOR)
        self._auto_scroll = self.verticalScrollBar().value()

    def set_weights(self, weights: ItemEvidence) -> bool:
        """Shade the shown item's passages by ``weights`` and mark the best sentence.

        Ignored (False) unless they are for the item shown. When the reader has not been
        scrolled since the item was shown, it moves on to the marked sentence.
        """
        if isinstance(self._shown, str) or weights.item_id != self.item_id:
            return False
        _, ranked = self._shown
        if ranked is not None and ranked.goal_id != weights.goal_id:
            return False
        if weights == self.weights:
            return True  # the same weights again (a re-rank that changed nothing here)
        untouched = self.verticalScrollBar().value() == self._auto_scroll
        self.weights = weights
        self._render()
        if untouched and self.evidence_found:
            self._scroll_to(EVIDENCE_ANCHOR)
            self._auto_scroll = self.verticalScrollBar().value()
        return True

    def scroll_to_passage(self, index: int) -> bool:
        """Scroll to the passage ``index`` of the weights (a click in the Why panel)."""
        marks = self.marks
        if marks is None or not any(s.index == index for s in marks.shades):
            return False
        self._scroll_to(PASSAGE_ANCHOR.format(index))
        return True

    def _scroll_to(self, anchor: str) -> None:
        """Show ``anchor`` with some context above it, not glued to the top edge."""
        bar = self.verticalScrollBar()
        bar.setValue(0)
        self.scrollToAnchor(anchor)
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
            self._render_text(*self._shown, muted)
        else:
            self._render_html(*self._shown, muted)
        thread = render_thread_html(self._shown[0], muted)  # the mail's conversation
        if thread:
            cursor = QTextCursor(self.document())
            cursor.movePosition(QTextCursor.MoveOperation.End)
            cursor.insertBlock(QTextBlockFormat())
            cursor.insertHtml(thread)
        self.verticalScrollBar().setValue(scroll)

    def _tint(self, strength: float) -> str:
        return passage_shade(self.palette(), strength).name()

    def _sentence_text(self) -> str | None:
        weights = self.weights
        return weights.sentence.text if weights is not None and weights.sentence else None

    def _marks(
        self, shown: str, detail: ItemDetail, ranked: RankedItem | None, *, same_text: bool
    ) -> EvidenceMarks | None:
        """The weighed passages in ``shown``; until they arrive, the ranker's evidence."""
        if self.weights is not None:
            marks = locate_marks(shown, self.weights, same_text=same_text)
            if marks.shades:
                return unpaint_whole_item(marks, shown)
        evidence = ranked.evidence.strip() if ranked is not None else ""
        if not evidence:
            return None
        if same_text:
            found = fallback_marks(detail, ranked)
        else:
            span = find_evidence(shown, evidence)
            found = EvidenceMarks((Shade(-1, span[0], span[1], 1.0),), None) if span else None
        return unpaint_whole_item(found, shown) if found is not None else None

    def _set_found(self, ranked: RankedItem | None, marks: EvidenceMarks | None) -> None:
        self.marks = marks
        wanted = (ranked is not None and bool(ranked.evidence.strip())) or self.weights is not None
        self.evidence_found = (marks is not None and bool(marks.shades)) if wanted else None

    def _render_text(self, detail: ItemDetail, ranked: RankedItem | None, muted: str) -> None:
        body = detail.body or detail.text
        marks = self._marks(body, detail, ranked, same_text=body == detail.text)
        self._set_found(ranked, marks)
        self.setHtml(
            render_item_html(
                detail,
                ranked,
                muted,
                marks=marks or EvidenceMarks((), None),
                tint=self._tint,
                sentence=self._sentence_text(),
            )
        )

    def _render_html(self, detail: ItemDetail, ranked: RankedItem | None, muted: str) -> None:
        """Header, then the item's HTML; the passages are looked up in the rendered text."""
        assert self._html is not None
        shown = present_images(
            self._html,
            allowed=self.remote_allowed,
            loaded=self._images,
            failed=self.failed_images,
            requested=self.requested,
        ).replace("<table>", _ROOMY_TABLE)
        body = _InertDocument()
        body.setHtml(shown)
        raw0 = body.toRawText()
        marks = self._marks(raw0, detail, ranked, same_text=False)
        self.setHtml(
            render_header_html(
                detail,
                ranked,
                muted,
                evidence_in_body=marks is not None and bool(marks.shades),
                tint=self._tint,
                sentence=self._sentence_text(),
            )
        )
        cursor = QTextCursor(self.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertBlock(QTextBlockFormat())  # below the rule, not inside its block
        start = cursor.position()
        cursor.insertHtml(shown)
        if marks is None or not marks.shades:
            self._set_found(ranked, marks)
            return
        raw = self.document().toRawText()[start:]
        if raw != raw0:
            marks = self._marks(raw, detail, ranked, same_text=False)
        self._set_found(ranked, marks)
        if marks is None:
            return
        doc = self.document()
        names: list[str] = []
        if marks.sentence is not None:
            # The sentence first: the shades then leave text with a background alone.
            a, b = marks.sentence
            names = [EVIDENCE_ANCHOR] + [
                PASSAGE_ANCHOR.format(s.index)
                for s in marks.shades
                if s.start == a and s.index >= 0  # one name list per character
            ]
            mark_range(
                doc,
                start + a,
                start + b,
                QColor(SENTENCE_BACKGROUND),
                foreground=QColor(SENTENCE_FOREGROUND),
                anchors=names,
            )
        anchor = marks.anchor
        for shade in marks.shades:
            if marks.sentence is not None and shade.start == marks.sentence[0]:
                shade_names: list[str] = []
            else:
                shade_names = [PASSAGE_ANCHOR.format(shade.index)] if shade.index >= 0 else []
                if marks.sentence is None and shade.start == anchor:
                    shade_names.append(EVIDENCE_ANCHOR)
            colour = passage_shade(self.palette(), shade.strength) if shade.strength > 0 else None
            mark_range(doc, start + shade.start, start + shade.end, colour, anchors=shade_names)

"""Finding the ranked evidence passage inside an item's readable body.

The ranker quotes its evidence from the cleaned text (Markdown marks, quotes and
signatures removed), while the reader shows the full body. The passage is looked
up verbatim, then ignoring whitespace, then punctuation, then word by word, so that
``**Aeris S2**`` in a note still matches ``Aeris S2`` in the evidence. ``locate_marks`` places every
weighed passage and the best sentence (``focusdesk.rank.passage_weights``) the same
way. Pure Python, no Qt.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from difflib import SequenceMatcher
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from focusdesk.rank.passage_weights import ItemEvidence

_WORD = re.compile(r"\w+")
MAX_ALIGN_WORDS = 60_000
"""Bodies longer than this (in words) are only searched verbatim."""
MIN_COVERAGE = 0.6
"""Share of the evidence's words that must be found, in order, close together."""


def find_evidence(body: str, evidence: str) -> tuple[int, int] | None:
    """The (start, end) of ``evidence`` in ``body``, or None when it is not there."""
    evidence = evidence.strip()
    if not evidence or not body:
        return None
    at = body.find(evidence)
    if at >= 0:
        return at, at + len(evidence)
    words = evidence.split()
    if len(words) <= 2000:
        match = re.search(r"\s+".join(re.escape(w) for w in words), body)
        if match is not None:
            return match.start(), match.end()
        # The same words in order with only punctuation or marks between: a linear search
        # that spares the word alignment below in the common case.
        tokens = _WORD.findall(evidence)
        if tokens:
            match = re.search(r"\W+".join(re.escape(t) for t in tokens), body)
            if match is not None:
                return match.start(), match.end()
    return align_words(body, evidence)


def align_words(body: str, evidence: str) -> tuple[int, int] | None:
    """Where the evidence's words occur in order in ``body`` (markup between them allowed)."""
    ev = [m.group().casefold() for m in _WORD.finditer(evidence)]
    spans = [(m.start(), m.end(), m.group().casefold()) for m in _WORD.finditer(body)]
    if not ev or not spans or len(spans) > MAX_ALIGN_WORDS:
        return None
    words = [w for _, _, w in spans]
    blocks = [
        b for b in SequenceMatcher(None, words, ev, autojunk=False).get_matching_blocks() if b.size
    ]
    if not blocks:
        return None
    # Grow a run of blocks around the longest one while the gaps between them stay small:
    # scattered matches of common words elsewhere in the body must not stretch the span.
    anchor = max(range(len(blocks)), key=lambda i: blocks[i].size)
    lo = hi = anchor
    while lo > 0 and _close(blocks[lo - 1], blocks[lo]):
        lo -= 1
    while hi < len(blocks) - 1 and _close(blocks[hi], blocks[hi + 1]):
        hi += 1
    covered = sum(b.size for b in blocks[lo : hi + 1])
    if covered < MIN_COVERAGE * len(ev):
        return None
    first = blocks[lo].a
    last = blocks[hi].a + blocks[hi].size - 1
    return spans[first][0], spans[last][1]


def _close(left: object, right: object) -> bool:
    """Whether two matching blocks are neighbours (a few extra words in between)."""
    body_gap = right.a - (left.a + left.size)  # type: ignore[attr-defined]
    ev_gap = right.b - (left.b + left.size)  # type: ignore[attr-defined]
    return body_gap <= 2 * ev_gap + 8


MIN_STRENGTH = 0.12
"""Passages weighed less than this share of the heaviest one are left unshaded."""
WHOLE_ITEM = 0.8
"""A lone shade over this share of the text would point at nothing: it is not painted."""
_SEARCH_SLACK = 1500
"""A passage is looked for this far (plus twice its length) past the previous one."""


@dataclass(frozen=True)
class Shade:
    """A passage's place in the shown text and how strongly to shade it."""

    index: int
    """The passage's index in ``ItemEvidence.passages`` (-1: the ranker's evidence)."""
    start: int
    end: int
    strength: float
    """The passage's weight as a share of the heaviest passage's (1 for the heaviest);
    0: located (anchors, scrolling) but not painted."""


@dataclass(frozen=True)
class EvidenceMarks:
    """What the reader shades in the shown text, and the sentence it marks."""

    shades: tuple[Shade, ...]
    sentence: tuple[int, int] | None
    """The best sentence of the evidence passage, in the shown text."""

    @property
    def anchor(self) -> int | None:
        """Where the reader scrolls to: the sentence, else the heaviest passage."""
        if self.sentence is not None:
            return self.sentence[0]
        best = max(self.shades, key=lambda s: s.strength, default=None)
        return best.start if best is not None else None

    @property
    def evidence(self) -> tuple[int, int] | None:
        best = max(self.shades, key=lambda s: s.strength, default=None)
        return (best.start, best.end) if best is not None else None


def unpaint_whole_item(marks: EvidenceMarks, shown: str) -> EvidenceMarks:
    """The marks, with a lone shade that covers most of the text left unpainted.

    Shading nearly all of a short item says nothing; the sentence mark still points.
    """
    if len(marks.shades) != 1:
        return marks
    shade = marks.shades[0]
    if shade.end - shade.start < WHOLE_ITEM * len(shown.strip()):
        return marks
    return EvidenceMarks((replace(shade, strength=0.0),), marks.sentence)


def _find_after(shown: str, text: str, pos: int) -> tuple[int, int] | None:
    window = shown[pos : pos + 2 * len(text) + _SEARCH_SLACK]
    found = find_evidence(window, text)
    return (pos + found[0], pos + found[1]) if found is not None else None


def _trimmed(shown: str, a: int, b: int) -> tuple[int, int]:
    while a < b and shown[a].isspace():
        a += 1
    while b > a and shown[b - 1].isspace():
        b -= 1
    return a, b


def locate_marks(shown: str, ev: ItemEvidence, *, same_text: bool) -> EvidenceMarks:
    """Where each weighed passage and the best sentence of ``ev`` are in ``shown``.

    ``same_text``: ``shown`` is the item's ranked text itself, so the passages' spans
    hold as they are; otherwise (the full body, a rendered note or HTML) each passage
    is looked up in order, a little past the previous one, and the heaviest one in
    the whole text. Passages weighed under `MIN_STRENGTH` of the heaviest are skipped.
    """
    heaviest = max((p.weight for p in ev.passages), default=0.0)
    if heaviest <= 0:
        return EvidenceMarks((), None)
    shades: list[Shade] = []
    sentence: tuple[int, int] | None = None
    pos = 0
    for n, p in enumerate(ev.passages):
        strength = p.weight / heaviest
        if strength < MIN_STRENGTH or p.end <= p.start or not p.text.strip():
            continue
        if same_text:
            span: tuple[int, int] | None = (
                (p.start, p.end) if shown[p.start : p.end] == p.text else None
            )
        else:
            span = _find_after(shown, p.text, pos)
            if span is None and n == ev.evidence:
                span = find_evidence(shown, p.text)
        if span is None:
            continue
        a, b = _trimmed(shown, *span)
        if b <= a:
            continue
        pos = b
        shades.append(Shade(n, a, b, strength))
        if n == ev.evidence and ev.sentence is not None:
            s = ev.sentence
            if same_text:
                sentence = _trimmed(shown, s.start, s.end)
            else:
                found = find_evidence(shown[a:b], s.text)
                sentence = (a + found[0], a + found[1]) if found is not None else None
    return EvidenceMarks(tuple(shades), sentence)

"""Finding the ranked evidence passage inside an item's readable body.

The ranker quotes its evidence from the cleaned text (Markdown marks, quotes and
signatures removed), while the reader shows the full body. The passage is looked
up verbatim, then ignoring whitespace, then word by word, so that ``**Aeris S2**``
in a note still matches ``Aeris S2`` in the evidence. Pure Python, no Qt.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher

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

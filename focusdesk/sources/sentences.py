"""Sentences of an item's ranked text, with their character spans.

Paragraphs split at sentence punctuation (abbreviations, initials, URLs and decimals
kept whole), bullet lines one sentence each, and quoted-reply lines, attributions and
mailing-list boilerplate dropped. The review's summaries and the reader's best
sentence (``focusdesk.rank.passage_weights``) both split text here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from focusdesk.sources.text import quote_line_test

MAX_SENTENCE_CHARS = 400
"""A sentence is embedded from at most this many characters (the model input)."""
LONG_SENTENCE_CHARS = 250
"""A sentence this long that spans lines is split at its line breaks."""
_ABBREVIATION_WORDS = (
    "mr mrs ms dr prof sr jr st vs etc e.g i.e eg ie al fig no nos vol inc ltd co corp "
    "jan feb mar apr jun jul aug sep sept oct nov dec approx dept est min max p.m a.m "
    "u.s u.k cf ca resp op pp ed eds"
)
_ABBREVIATIONS = frozenset(_ABBREVIATION_WORDS.split())
_BOUNDARY = re.compile(r"[.!?]+[\"')\]]*(?=\s+[\"'(\[]?[A-Z0-9])")
_BULLET = re.compile(r"^\s*(?:[-*\u2022\u25aa+]|\d{1,3}[.)])\s+")
_ATTRIBUTION = re.compile(r"\b(?:wrote|writes|schrieb|a \u00e9crit)\s*:\s*$", re.IGNORECASE)
_BOILERPLATE = re.compile(
    r"unsubscribe|view (?:this|it) in (?:your|a) browser|"
    r"you (?:are )?receiv(?:ed|ing) this|manage (?:your )?(?:email )?preferences|"
    r"update your preferences|all rights reserved|^sent from my",
    re.IGNORECASE,
)
# Phrases that are boilerplate only in a footer: "mailing list" is also news.
_FOOTER_BOILERPLATE = re.compile(r"mailing list|opt[- ]out", re.IGNORECASE)
FOOTER_FRACTION = 0.6
"""Where a footer may start, as a share of the text."""
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.]*)$")


@dataclass(frozen=True)
class Sentence:
    """One sentence of an item's ranked text and its character span there."""

    start: int
    end: int
    text: str


def is_dropped_line(
    line: str, *, is_quote: Callable[[str], bool] | None = None, in_footer: bool = True
) -> bool:
    """A quoted-reply line, a "... wrote:" attribution or a boilerplate footer line.

    ``is_quote`` knows the message's own quoting marks (`quote_line_test`); without it
    only the marks every mailer uses count.
    """
    stripped = line.strip()
    quoted = is_quote(line) if is_quote is not None else quote_line_test([line])(line)
    return (
        quoted
        or (len(stripped) <= 250 and _ATTRIBUTION.search(stripped) is not None)
        or _BOILERPLATE.search(stripped) is not None
        or (in_footer and _FOOTER_BOILERPLATE.search(stripped) is not None)
    )


def split_sentences(text: str, keep: tuple[int, int] | None = None) -> list[Sentence]:
    """Split ranked text into sentences with their spans in ``text``.

    Paragraphs (runs of non-blank lines) are split at sentence punctuation followed by
    a capital or digit, except after known abbreviations and initials; URLs and
    decimals never split because no space follows their dots. Bullet lines are one
    sentence each; dropped lines (see `is_dropped_line`) end a paragraph, except that a
    line overlapping ``keep`` (the evidence span) is never dropped unless it is quoted.
    """
    out: list[Sentence] = []
    para: list[tuple[int, int]] = []  # line spans of the current paragraph

    def flush() -> None:
        if para:
            out.extend(_split_paragraph(text, para[0][0], para[-1][1]))
            para.clear()

    lines = text.splitlines(keepends=True)
    is_quote = quote_line_test([line.rstrip("\r\n") for line in lines])
    footer_from = FOOTER_FRACTION * len(text)
    pos = 0
    for line in lines:
        start, end = pos, pos + len(line.rstrip("\r\n"))
        pos += len(line)
        body = text[start:end]
        dropped = bool(body.strip()) and is_dropped_line(
            body, is_quote=is_quote, in_footer=start >= footer_from
        )
        if dropped and keep is not None and start < keep[1] and end > keep[0]:
            dropped = is_quote(body)
        if not body.strip() or dropped:
            flush()
            continue
        if _BULLET.match(body):
            flush()
            m = _BULLET.match(body)
            assert m is not None
            out.extend(_split_paragraph(text, start + m.end(), end))
            continue
        para.append((start, end))
    flush()
    return [s for s in out if re.search(r"\w", s.text)]


def _split_paragraph(text: str, start: int, end: int) -> list[Sentence]:
    chunk = text[start:end]
    cuts = [0]
    for m in _BOUNDARY.finditer(chunk):
        before = _WORD_BEFORE.search(chunk[: m.start()])
        word = before.group(1).lower().rstrip(".") if before else ""
        if m.group(0).startswith(".") and (
            word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())
        ):
            continue
        cuts.append(m.end())
    cuts.append(len(chunk))
    sentences = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        piece = chunk[a:b]
        lead = len(piece) - len(piece.lstrip())
        s0, s1 = start + a + lead, start + a + len(piece.rstrip())
        if s1 <= s0:
            continue
        if s1 - s0 > LONG_SENTENCE_CHARS and "\n" in text[s0:s1]:
            # Unpunctuated lines (lists, tables, headers) run together: one per line.
            pos = s0
            for line in text[s0:s1].split("\n"):
                a0 = pos + len(line) - len(line.lstrip())
                a1 = pos + len(line.rstrip())
                if a1 > a0:
                    sentences.append(Sentence(a0, a1, " ".join(text[a0:a1].split())))
                pos += len(line) + 1
            continue
        sentences.append(Sentence(s0, s1, " ".join(text[s0:s1].split())))
    return sentences

"""Structure-aware chunking of item text into spans that fit the encoder's window.

Text is split on Markdown headings and blank-line paragraphs, consecutive pieces are
packed while they fit, and anything too long is split on lines, then sentences, then
words. Every chunk is a span of the original text, so it can be shown in place.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

__all__ = ["ChunkSpan", "chunk_text", "estimate_tokens", "span_counter"]


@dataclass(frozen=True)
class ChunkSpan:
    """One chunk: ``text`` is ``original[start:end]`` with no surrounding whitespace."""

    start: int
    end: int
    text: str


_WORD = re.compile(r"\w+")
_PUNCT = re.compile(r"[^\w\s]")
_NUMERIC_WORD = re.compile(r"\b(?=\w*\d)\w+")
_LONG_WORD = re.compile(r"\b(?!\w*\d)\w{6,}")


def _word_pieces(word: str) -> float:
    if not word.isascii():
        return float(len(word))  # CJK is one piece per character; accents split too
    if any(c.isdigit() for c in word):
        return max(1.0, len(word) / 2)
    if len(word) <= 5:
        return 1.0
    return 1.0 + (len(word) - 2) / 4


def estimate_tokens(text: str) -> int:
    """Estimate the BERT wordpiece count of ``text`` quickly, erring on the high side.

    Short words count one piece, longer, numeric and non-ASCII words more, each
    punctuation mark one. On mail and notes it is within ~25% of all-MiniLM-L6-v2's
    tokenizer and below it for about one paragraph in 25.
    """
    if not text:
        return 0
    if text.isascii():
        # The same sums as _word_pieces, done by the regex engine: chunking calls this a lot.
        words = len(_WORD.findall(text))
        numeric = _NUMERIC_WORD.findall(text)
        long_words = _LONG_WORD.findall(text)
        pieces = (
            words
            - len(numeric)
            + sum(max(1.0, len(w) / 2) for w in numeric)
            + (sum(map(len, long_words)) - 2 * len(long_words)) / 4
        )
    else:
        pieces = sum(_word_pieces(m.group()) for m in _WORD.finditer(text))
    return math.ceil(pieces * 1.1 + len(_PUNCT.findall(text)))


# A blank line: a newline, then whitespace-only lines, then the next line.
_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v]*\n\s*")
_HEADING = re.compile(r"[ ]{0,3}#{1,6}(?:[ \t]|$)")
_FENCE = re.compile(r"[ ]{0,3}(`{3,}|~{3,})")
# Sentence ends: terminal punctuation, optional closing quotes/brackets, then space.
_SENTENCE_END = re.compile(r"[.!?\u2026\u3002\uff01\uff1f]+[\"'\u201d\u2019)\]]*\s+")
_LINE_BREAK = re.compile(r"\n\s*")
_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class _Block:
    start: int
    end: int
    heading: bool


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _lines(text: str) -> Iterator[tuple[int, int]]:
    """Yield (start, end) of each line, end excluding the newline."""
    pos = 0
    n = len(text)
    while pos <= n:
        nl = text.find("\n", pos)
        if nl == -1:
            yield pos, n
            return
        yield pos, nl
        pos = nl + 1


def _blocks(text: str) -> list[_Block]:
    """Split into trimmed blocks: headings on their own, paragraphs at blank lines."""
    blocks: list[_Block] = []
    para_start: int | None = None
    para_end = 0
    fence: str | None = None

    def close() -> None:
        nonlocal para_start
        if para_start is not None:
            s, e = _trim(text, para_start, para_end)
            if s < e:
                blocks.append(_Block(s, e, False))
        para_start = None

    for start, end in _lines(text):
        line = text[start:end]
        if not line.strip():
            if fence is None:
                close()
            continue
        fence_match = _FENCE.match(line)
        if fence_match:
            marker = fence_match.group(1)
            if fence is None:
                fence = marker[0] * 3
            elif line.strip().startswith(fence):
                fence = None
        elif fence is None and _HEADING.match(line):
            close()
            s, e = _trim(text, start, end)
            blocks.append(_Block(s, e, True))
            continue
        if para_start is None:
            para_start = start
        para_end = end
    close()
    return blocks


def _split_at(text: str, start: int, end: int, pattern: re.Pattern[str]) -> list[tuple[int, int]]:
    """Split text[start:end] after each match of ``pattern``, trimming each piece."""
    pieces: list[tuple[int, int]] = []
    pos = start
    for match in pattern.finditer(text, start, end):
        s, e = _trim(text, pos, match.end())
        if s < e:
            pieces.append((s, e))
        pos = match.end()
    s, e = _trim(text, pos, end)
    if s < e:
        pieces.append((s, e))
    return pieces


def _split_words(text: str, start: int, end: int) -> list[tuple[int, int]]:
    pieces: list[tuple[int, int]] = []
    pos = start
    for match in _WHITESPACE.finditer(text, start, end):
        if match.start() > pos:
            pieces.append((pos, match.start()))
        pos = match.end()
    if pos < end:
        pieces.append((pos, end))
    return pieces


SpanCount = Callable[[int, int], int]
"""The token count of ``text[start:end]`` of the text being chunked."""


def span_counter(
    text: str,
    count_tokens: Callable[[str], int] = estimate_tokens,
    token_spans: Sequence[tuple[int, int]] | None = None,
) -> SpanCount:
    """How many tokens a span of ``text`` holds.

    With ``token_spans`` (the character span of each token of the whole ``text``, in
    order: a fast tokenizer's offset mapping) it is the number of tokens the span
    overlaps, found by bisection: ``text`` is tokenized once, not once per candidate span.
    A token cut by the span's edge counts on both sides, so the count errs high only
    where a word is cut. Without them, ``count_tokens`` is called on the span's text.
    """
    if token_spans is None:
        return lambda start, end: count_tokens(text[start:end])
    starts = [s for s, _ in token_spans]
    ends = [e for _, e in token_spans]

    def count(start: int, end: int) -> int:
        # Tokens that start before ``end``, less those that end by ``start``.
        return max(0, bisect_left(starts, end) - bisect_right(ends, start))

    return count


def _furthest(lo: int, hi: int, fits: Callable[[int], bool]) -> int:
    """The largest k in [lo, hi) for which ``fits(k)``, given ``lo`` is taken regardless.

    Gallops then bisects, so a chunk of n pieces costs O(log n) token counts
    (``fits`` must be monotone, as token counts of longer spans are).
    """
    step = 1
    while lo + step < hi:
        if fits(lo + step):
            lo += step
            step *= 2
        else:
            hi = lo + step
            break
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid
    return lo


def _split_chars(start: int, end: int, max_tokens: int, count: SpanCount) -> list[tuple[int, int]]:
    """Cut one over-long word into the longest prefixes that fit (at least one character)."""
    pieces: list[tuple[int, int]] = []
    pos = start
    while pos < end:

        def fits(k: int, first: int = pos) -> bool:
            return count(first, k) <= max_tokens

        cut = _furthest(pos + 1, end + 1, fits)
        pieces.append((pos, cut))
        pos = cut
    return pieces


def _units(
    text: str, start: int, end: int, level: int, max_tokens: int, count: SpanCount
) -> list[tuple[int, int]]:
    """Break text[start:end] into pieces that each fit, using ever finer boundaries."""
    if count(start, end) <= max_tokens:
        return [(start, end)]
    if level == 0:
        pieces = _split_at(text, start, end, _LINE_BREAK)
    elif level == 1:
        pieces = _split_at(text, start, end, _SENTENCE_END)
    elif level == 2:
        pieces = _split_words(text, start, end)
    else:
        return _split_chars(start, end, max_tokens, count)
    if len(pieces) == 1 and pieces[0] == (start, end):
        return _units(text, start, end, level + 1, max_tokens, count)
    units: list[tuple[int, int]] = []
    for s, e in pieces:
        units.extend(_units(text, s, e, level + 1, max_tokens, count))
    return units


def chunk_text(
    text: str,
    *,
    max_tokens: int = 200,
    count_tokens: Callable[[str], int] = estimate_tokens,
    token_spans: Sequence[tuple[int, int]] | None = None,
) -> list[ChunkSpan]:
    """Split ``text`` into ordered, non-overlapping chunks of at most ``max_tokens``.

    A heading starts a new chunk; paragraphs are packed while they fit; an over-long
    paragraph is split on lines, sentences, then words (a word longer than the
    window on characters). Whitespace-only text gives no chunks. Tokens are counted
    by ``count_tokens``, or from ``token_spans`` when given (see ``span_counter``).
    """
    if max_tokens < 1:
        raise ValueError(f"max_tokens must be at least 1, not {max_tokens}")
    if not text or text.isspace():
        return []
    count = span_counter(text, count_tokens, token_spans)
    # Pieces that fit on their own, each flagged when it must open a new chunk.
    units: list[tuple[int, int]] = []
    opens: list[bool] = []
    for block in _blocks(text):
        pieces = _units(text, block.start, block.end, 0, max_tokens, count)
        units.extend(pieces)
        opens.extend([block.heading] + [False] * (len(pieces) - 1))
    # The end (exclusive) of the run of units that may share a chunk with unit i.
    run_end = [len(units)] * len(units)
    for j in range(len(units) - 2, -1, -1):
        run_end[j] = j + 1 if opens[j + 1] else run_end[j + 1]
    spans: list[ChunkSpan] = []
    i = 0
    while i < len(units):
        start = units[i][0]

        def fits(j: int, start: int = start) -> bool:
            return count(start, units[j][1]) <= max_tokens

        last = _furthest(i, run_end[i], fits)
        end = units[last][1]
        spans.append(ChunkSpan(start, end, text[start:end]))
        i = last + 1
    return spans

"""The lexical prior: BM25 of a goal's words over the FTS5 index, next to the attention.

A goal's content words (its text and its facets, stop words left out) are OR'd into one
FTS5 query; each matching item's BM25 strength ``b`` (SQLite's ``bm25()`` negated, so
larger is better) becomes ``b / (b + m)``, with ``m`` the goal's median strength over
the items that match: in [0, 1), half for a typical match, whatever the goal's length or
the words' rarity. The ranker adds it to each goal's relevance, times a weight learnt
from feedback that starts small (``LEXICAL_WEIGHT``): exact words help where the
encoder blurs a name (a model number, a place), and the attention keeps the lead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
from sqlalchemy import text

from focusdesk.store.db import Store

LEXICAL_WEIGHT = 0.05
"""The lexical prior's weight before any feedback (the attention's relevance of an item
spreads over about 0.07-0.09 per standard deviation on the dev posts)."""
MAX_TERMS = 32
STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "for",
        "from",
        "has",
        "have",
        "i",
        "i'm",
        "in",
        "is",
        "it",
        "its",
        "me",
        "my",
        "of",
        "on",
        "or",
        "so",
        "that",
        "the",
        "their",
        "them",
        "they",
        "this",
        "to",
        "up",
        "was",
        "we",
        "with",
        "you",
        "your",
        "need",
        "help",
    ]
)
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+-]*")


def content_words(texts: Iterable[str]) -> list[str]:
    """The distinct content words of ``texts``, lower-cased, in order of appearance."""
    words = [
        w.rstrip(".")
        for t in texts
        for w in _WORD.findall(t.lower())
        if w.rstrip(".") not in STOP_WORDS and len(w.rstrip(".")) > 1
    ]
    return list(dict.fromkeys(words))[:MAX_TERMS]


def match_expression(words: Iterable[str]) -> str | None:
    """An FTS5 MATCH expression OR'ing ``words`` as quoted phrases (None: no word)."""
    phrases = ['"' + w.replace('"', '""') + '"' for w in words]
    return " OR ".join(phrases) if phrases else None


def bm25_strengths(store: Store, texts: Iterable[str]) -> dict[int, float]:
    """Item id → BM25 strength (> 0) of the live items matching the content words of
    ``texts``; empty without FTS5 or without a content word."""
    expr = match_expression(content_words(texts))
    if expr is None or not store.has_fts():
        return {}
    with store.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT items_fts.rowid, bm25(items_fts) FROM items_fts "
                "JOIN items ON items.id = items_fts.rowid "
                "WHERE items_fts MATCH :q AND items.vanished = 0"
            ),
            {"q": expr},
        ).all()
    return {int(rowid): -float(b) for rowid, b in rows if -float(b) > 0}


def lexical_scores(strengths: dict[int, float], item_ids: np.ndarray) -> np.ndarray:
    """``b / (b + median b)`` of each item (0 for items that do not match)."""
    out = np.zeros(len(item_ids), np.float32)
    if not strengths:
        return out
    ids = np.fromiter(strengths.keys(), np.int64, len(strengths))
    values = np.fromiter(strengths.values(), np.float64, len(strengths))
    median = float(np.median(values))
    order = np.argsort(ids, kind="stable")  # looked up by id at once, not item by item
    ids, values = ids[order], values[order]
    wanted = np.asarray(item_ids, np.int64).reshape(-1)
    at = np.minimum(np.searchsorted(ids, wanted), len(ids) - 1)
    b = np.where(ids[at] == wanted, values[at], 0.0)
    return (b / (b + max(median, 1e-9))).astype(np.float32)

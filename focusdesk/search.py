"""Hybrid search: FTS5 keywords (BM25) and vector similarity, merged by reciprocal rank.

The user's text never reaches FTS5 as syntax: it is split on white space and every
piece becomes a quoted phrase (the last one a prefix, so results follow typing).
Items with every word rank first, then items with any. In parallel the query is
embedded and the nearest chunk vectors are looked up in the index; each item counts
once, by its best chunk. The two rankings are merged by reciprocal-rank fusion,
score = Σ 1 / (k + rank) with k = 60. Each hit carries a snippet and the spans of
the matched words in it (and in the title), for highlighting.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, text

from focusdesk.progress import CancelToken
from focusdesk.store.db import Store
from focusdesk.store.models import Chunk, Item, Source

if TYPE_CHECKING:
    from focusdesk.rank.encoding import Encoder
    from focusdesk.rank.index import VectorIndex

log = logging.getLogger(__name__)

RRF_K = 60
MIN_SIMILARITY = 0.2
"""Vector neighbours less similar than this (cosine) are not search results."""
SNIPPET_CHARS = 220
MAX_TERMS = 16
_OPEN, _CLOSE = "\x02", "\x03"
_WORD = re.compile(r"\w+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

Span = tuple[int, int]


@dataclass(frozen=True)
class SearchHit:
    """One search result: the item, why it matched, and what to show."""

    item_id: int
    source_id: int
    source_kind: str
    source_name: str
    title: str
    author: str | None
    published_at: datetime | None
    status: str
    score: float
    """Reciprocal-rank-fusion score (higher is better)."""
    keyword_rank: int | None
    """1-based place in the BM25 ranking, None when no keyword matched."""
    vector_rank: int | None
    """1-based place in the similarity ranking, None when not similar enough."""
    similarity: float | None
    snippet: str
    snippet_spans: tuple[Span, ...]
    title_spans: tuple[Span, ...]

    def to_json(self) -> dict[str, Any]:
        """The `search --json` line for this hit."""
        return {
            "id": self.item_id,
            "source_kind": self.source_kind,
            "source": self.source_name,
            "title": self.title,
            "author": self.author,
            "published_at": self.published_at.isoformat() if self.published_at else None,
            "status": self.status,
            "score": round(self.score, 6),
            "keyword_rank": self.keyword_rank,
            "vector_rank": self.vector_rank,
            "similarity": round(self.similarity, 6) if self.similarity is not None else None,
            "snippet": self.snippet,
            "snippet_spans": [list(s) for s in self.snippet_spans],
            "title_spans": [list(s) for s in self.title_spans],
        }


# -- the keyword side -------------------------------------------------------------------
def query_terms(query: str) -> list[str]:
    """The pieces of the user's text that carry a word (at most MAX_TERMS).

    Control characters (NUL among them, which SQLite would take as the end of the
    string) count as white space.
    """
    clean = _CONTROL.sub(" ", query)
    return [t for t in clean.split() if _WORD.search(t)][:MAX_TERMS]


def fts_query(query: str, *, any_term: bool = False) -> str | None:
    """A safe FTS5 MATCH expression for ``query``, or None when it has no words.

    Every piece is a quoted phrase (quotes doubled), so operators, columns, NEAR and
    parentheses typed by the user are only text. The last piece is a prefix unless the
    query ends in white space. ``any_term`` joins with OR instead of AND.
    """
    terms = query_terms(query)
    if not terms:
        return None
    phrases = ['"' + t.replace('"', '""') + '"' for t in terms]
    last = terms[-1]
    if not query[-1:].isspace() and len(_WORD.findall(last)[-1]) >= 2:
        phrases[-1] += "*"
    return (" OR " if any_term else " AND ").join(phrases)


def keyword_search(
    store: Store, query: str, limit: int
) -> list[tuple[int, float, str, tuple[Span, ...], tuple[Span, ...]]]:
    """BM25 over title, text and author: (item id, bm25, snippet, snippet spans, title spans).

    Items with every word come first, then items with any word. Empty without FTS5.
    """
    if limit <= 0 or not store.has_fts():
        return []
    sql = text(
        "SELECT items_fts.rowid AS id, bm25(items_fts, 4.0, 1.0, 2.0) AS rank, "
        f"snippet(items_fts, 1, '{_OPEN}', '{_CLOSE}', '…', 24) AS snip, "
        f"highlight(items_fts, 0, '{_OPEN}', '{_CLOSE}') AS title "
        "FROM items_fts JOIN items ON items.id = items_fts.rowid "
        "WHERE items_fts MATCH :q AND items.vanished = 0 "
        "ORDER BY rank LIMIT :n"
    )
    out: list[tuple[int, float, str, tuple[Span, ...], tuple[Span, ...]]] = []
    seen: set[int] = set()
    with store.engine.connect() as conn:
        for any_term in (False, True):
            expr = fts_query(query, any_term=any_term)
            if expr is None or len(out) >= limit:
                break
            if any_term and len(query_terms(query)) < 2:
                break
            for row in conn.execute(sql, {"q": expr, "n": limit}):
                if row.id in seen:
                    continue
                seen.add(row.id)
                snippet, spans = unmark(" ".join((row.snip or "").split()))
                _title, title_spans = unmark(row.title or "")
                out.append((int(row.id), float(row.rank), snippet, spans, title_spans))
                if len(out) >= limit:
                    break
    return out


def unmark(marked: str) -> tuple[str, tuple[Span, ...]]:
    """Text with the FTS highlight marks removed, and the spans they enclosed."""
    plain: list[str] = []
    spans: list[Span] = []
    pos = 0
    start: int | None = None
    for ch in marked:
        if ch == _OPEN:
            start = pos
        elif ch == _CLOSE:
            if start is not None and pos > start:
                spans.append((start, pos))
            start = None
        else:
            plain.append(ch)
            pos += 1
    return "".join(plain), tuple(spans)


# -- the vector side --------------------------------------------------------------------
def vector_search(
    store: Store,
    encoder: Encoder,
    index: VectorIndex,
    query: str,
    limit: int,
    *,
    min_similarity: float = MIN_SIMILARITY,
) -> list[tuple[int, float, int, int]]:
    """Items by their best chunk's cosine to the query: (item id, cosine, chunk start, end)."""
    if limit <= 0 or len(index) == 0 or not query.strip():
        return []
    vec = encoder.encode([query])
    ids, sims = index.search(vec, max(limit * 4, 64))
    order = [(int(c), float(v)) for c, v in zip(ids[0], sims[0], strict=True) if c >= 0]
    order = [(c, v) for c, v in order if v >= min_similarity]
    if not order:
        return []
    with store.session() as s:
        rows = s.execute(
            select(Chunk.id, Chunk.item_id, Chunk.char_start, Chunk.char_end)
            .join(Item, Item.id == Chunk.item_id)
            .where(Chunk.id.in_([c for c, _ in order]), Item.vanished.is_(False))
        ).all()
    where = {r.id: (int(r.item_id), int(r.char_start), int(r.char_end)) for r in rows}
    out: list[tuple[int, float, int, int]] = []
    seen: set[int] = set()
    for chunk_id, sim in order:  # best first: an item's first chunk is its best
        found = where.get(chunk_id)
        if found is None or found[0] in seen:
            continue
        seen.add(found[0])
        out.append((found[0], sim, found[1], found[2]))
        if len(out) >= limit:
            break
    return out


# -- merging ----------------------------------------------------------------------------
def rrf(rankings: Sequence[Sequence[int]], k: int = RRF_K) -> dict[int, float]:
    """Reciprocal-rank fusion of id rankings (best first): id → Σ 1 / (k + rank)."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, item_id in enumerate(ranking, 1):
            scores[item_id] = scores.get(item_id, 0.0) + 1.0 / (k + rank)
    return scores


def highlight_terms(text_: str, query: str) -> tuple[Span, ...]:
    """Spans of the words of ``text_`` that a query word starts (case-insensitive)."""
    words = {w.casefold() for t in query_terms(query) for w in _WORD.findall(t)}
    if not words:
        return ()
    return tuple(
        (m.start(), m.end())
        for m in _WORD.finditer(text_)
        if any(m.group().casefold().startswith(w) for w in words)
    )


def excerpt(body: str, start: int, end: int, query: str) -> tuple[str, tuple[Span, ...]]:
    """A snippet of ``body[start:end]`` (around the first query word) and its spans."""
    passage = body[start:end] if end > start else body
    flat = " ".join(passage.split())
    spans = highlight_terms(flat, query)
    if len(flat) > SNIPPET_CHARS:
        first = spans[0][0] if spans else 0
        a = max(0, min(first - SNIPPET_CHARS // 3, len(flat) - SNIPPET_CHARS))
        if a > 0:
            cut = flat.find(" ", a)
            a = cut + 1 if 0 <= cut < a + 20 else a
        b = a + SNIPPET_CHARS
        if b < len(flat):
            cut = flat.rfind(" ", a, b)
            b = cut if cut > a + SNIPPET_CHARS // 2 else b
        prefix = "…" if a > 0 else ""
        suffix = "…" if b < len(flat) else ""
        shift = len(prefix) - a
        spans = tuple((s + shift, e + shift) for s, e in spans if s >= a and e <= b)
        flat = prefix + flat[a:b] + suffix
    return flat, spans


def hybrid_search(
    store: Store,
    query: str,
    *,
    top: int = 20,
    encoder: Encoder | None = None,
    index: Callable[[], VectorIndex] | None = None,
    k: int = RRF_K,
    cancel: CancelToken | None = None,
) -> list[SearchHit]:
    """The ``top`` items for ``query``: BM25 and vector rankings merged by RRF.

    Without ``encoder`` and ``index`` only keywords are used.
    """
    if not query_terms(query) or top <= 0:
        return []
    depth = max(top * 3, 50)
    keywords = keyword_search(store, query, depth)
    if cancel is not None:
        cancel.raise_if_cancelled()
    vectors: list[tuple[int, float, int, int]] = []
    if encoder is not None and index is not None:
        vectors = vector_search(store, encoder, index(), query.strip(), depth)
    if cancel is not None:
        cancel.raise_if_cancelled()
    scores = rrf([[kw[0] for kw in keywords], [v[0] for v in vectors]], k)
    kw_rank = {kw[0]: (n, kw) for n, kw in enumerate(keywords, 1)}
    vec_rank = {v[0]: (n, v) for n, v in enumerate(vectors, 1)}
    order = sorted(
        scores,
        key=lambda i: (
            -scores[i],
            kw_rank.get(i, (10**9,))[0],
            vec_rank.get(i, (10**9,))[0],
            i,
        ),
    )[:top]
    return _describe(store, order, scores, kw_rank, vec_rank, query)


def _describe(
    store: Store,
    order: list[int],
    scores: dict[int, float],
    kw_rank: dict[int, tuple[int, Any]],
    vec_rank: dict[int, tuple[int, Any]],
    query: str,
) -> list[SearchHit]:
    if not order:
        return []
    with store.session() as s:
        rows = {
            item.id: (item, kind, name)
            for item, kind, name in s.execute(
                select(Item, Source.kind, Source.name)
                .join(Source, Source.id == Item.source_id)
                .where(Item.id.in_(order))
            )
        }
        s.expunge_all()
    hits: list[SearchHit] = []
    for item_id in order:
        if item_id not in rows:
            continue
        item, kind, name = rows[item_id]
        kw = kw_rank.get(item_id)
        vec = vec_rank.get(item_id)
        if kw is not None and kw[1][3]:
            snippet, spans = kw[1][2], kw[1][3]
        elif vec is not None:
            snippet, spans = excerpt(item.text, vec[1][2], vec[1][3], query)
        elif kw is not None and kw[1][2].strip():
            snippet, spans = kw[1][2], kw[1][3]
        else:
            snippet, spans = excerpt(item.text, 0, len(item.text), query)
        title_spans = kw[1][4] if kw is not None and kw[1][4] else None
        hits.append(
            SearchHit(
                item_id=item_id,
                source_id=item.source_id,
                source_kind=kind,
                source_name=name,
                title=item.title,
                author=item.author,
                published_at=item.published_at,
                status=item.status,
                score=scores[item_id],
                keyword_rank=kw[0] if kw is not None else None,
                vector_rank=vec[0] if vec is not None else None,
                similarity=vec[1][1] if vec is not None else None,
                snippet=snippet,
                snippet_spans=tuple(spans),
                title_spans=tuple(title_spans or highlight_terms(item.title, query)),
            )
        )
    return hits

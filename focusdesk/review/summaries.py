"""Extractive item summaries: an item's sentences ranked by attention against its goal.

The item's ranked text is split into sentences (quoted lines, attributions and
mailing-list boilerplate dropped; bullet lines count as sentences), each sentence is
embedded through the shared embedding cache and scored by the goal attention scorer
against the best goal's facet queries (each sentence as a one-chunk item), mixed with
its centrality in the item. The sentence of the evidence passage is always kept.
Summaries are cached in a JSON file keyed by item text, goal and model.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from focusdesk.sources.text import quote_line_test

if TYPE_CHECKING:
    from focusdesk.rank.ranker import Ranker

log = logging.getLogger(__name__)

GOAL_WEIGHT = 0.7
CENTRALITY_WEIGHT = 0.3
MAX_SENTENCES = 3
MIN_WORDS = 3
"""Sentences shorter than this are chosen only when nothing else is left."""
MAX_SENTENCE_CHARS = 400
LONG_SENTENCE_CHARS = 250
"""A sentence this long that spans lines is split at its line breaks."""
CACHE_VERSION = 4

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


@dataclass(frozen=True)
class Summary:
    """The chosen sentences of an item, in their original order."""

    item_id: int
    sentences: tuple[str, ...]
    spans: tuple[tuple[int, int], ...]
    evidence_index: int | None
    """Which of ``sentences`` comes from the evidence passage (None: no evidence span)."""

    @property
    def text(self) -> str:
        return " ".join(self.sentences)

    def to_json(self) -> dict[str, object]:
        return {
            "item_id": self.item_id,
            "sentences": list(self.sentences),
            "spans": [list(s) for s in self.spans],
            "evidence_index": self.evidence_index,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Summary:
        spans = data["spans"]
        sentences = data["sentences"]
        assert isinstance(spans, list)
        assert isinstance(sentences, list)
        ev = data.get("evidence_index")
        return cls(
            item_id=int(str(data["item_id"])),
            sentences=tuple(str(s) for s in sentences),
            spans=tuple((int(a), int(b)) for a, b in spans),
            evidence_index=int(str(ev)) if ev is not None else None,
        )


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


def choose_count(n: int) -> int:
    """How many sentences a summary of an ``n``-sentence item keeps (1 to 3)."""
    return max(1, min(MAX_SENTENCES, math.ceil(n / 4)))


def select_sentences(
    scores: np.ndarray, spans: list[tuple[int, int]], evidence_span: tuple[int, int] | None
) -> tuple[list[int], int | None]:
    """Indices of the chosen sentences (original order) and the evidence sentence's index.

    The best-scoring sentence overlapping the evidence span is always chosen; the rest
    are the best of the others, up to `choose_count`.
    """
    n = len(spans)
    if n == 0:
        return [], None
    k = choose_count(n)
    evidence: int | None = None
    if evidence_span is not None and evidence_span[1] > evidence_span[0]:
        a, b = evidence_span
        overlap = [i for i, (s, e) in enumerate(spans) if s < b and e > a]
        if overlap:
            evidence = max(overlap, key=lambda i: (float(scores[i]), -i))
    chosen = [evidence] if evidence is not None else []
    for i in np.argsort(-scores, kind="stable"):
        if len(chosen) >= k:
            break
        if int(i) not in chosen:
            chosen.append(int(i))
    return sorted(chosen), evidence


def centrality(vectors: np.ndarray) -> np.ndarray:
    """Each sentence's mean cosine similarity to the item's other sentences."""
    n = len(vectors)
    if n < 2:
        return np.zeros(n, np.float32)
    v = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
    sim = v @ v.T
    return ((sim.sum(axis=1) - np.diag(sim)) / (n - 1)).astype(np.float32)


def goal_relevance(ranker: Ranker, goal_id: int, vectors: np.ndarray) -> np.ndarray:
    """Each sentence's relevance to the goal: the scorer's r_j, best over the goal's facets.

    Every sentence is scored as a one-chunk item by the ranker's attention scorer
    (through `focusdesk.rank.scoring`, so nothing here imports torch).
    """
    from focusdesk.rank.scoring import ChunkLayout, score_items

    goals = ranker.active_goals([goal_id])
    n = len(vectors)
    if not goals or n == 0:
        return np.zeros(n, np.float32)
    gq = ranker.embed_goals(goals)
    ids = np.arange(n, dtype=np.int64)
    layout = ChunkLayout.from_rows(ids, ids, ids, np.ones(n, bool))
    scores = score_items(
        ranker.scorer,
        layout,
        np.asarray(vectors, np.float32),
        gq.vectors,
        np.ones(len(gq.vectors), np.float32),
        gq.owner,
    )
    order = np.argsort(scores.item_ids)
    return np.asarray(scores.goal_relevance[order, 0], np.float32)


class SummaryCache:
    """Summaries kept in a JSON file under the profile's cache dir."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._data: dict[str, dict[str, object]] | None = None

    def _load(self) -> dict[str, dict[str, object]]:
        if self._data is None:
            try:
                raw = json.loads(self.path.read_text("utf-8"))
                ok = isinstance(raw, dict) and raw.get("version") == CACHE_VERSION
                self._data = dict(raw["entries"]) if ok else {}
            except (OSError, ValueError, KeyError, TypeError):
                self._data = {}
        return self._data

    def get(self, key: str) -> Summary | None:
        entry = self._load().get(key)
        if entry is None:
            return None
        try:
            return Summary.from_json(entry)
        except (KeyError, TypeError, ValueError, AssertionError):
            return None

    def put(self, key: str, summary: Summary) -> None:
        self._load()[key] = summary.to_json()

    def save(self) -> None:
        if self._data is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"version": CACHE_VERSION, "entries": self._data}), "utf-8")
        tmp.replace(self.path)


def cache_key(text: str, goal_key: str, model_id: str, evidence: tuple[int, int] | None) -> str:
    """Identifies a summary: the item's text, the goal (id and texts), model and evidence."""
    raw = json.dumps([CACHE_VERSION, text, goal_key, model_id, evidence])
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


class Summariser:
    """Builds (and caches) extractive summaries of items for their best goal."""

    def __init__(self, ranker: Ranker, cache_path: Path) -> None:
        self.ranker = ranker
        self.cache = SummaryCache(cache_path)

    def _goal_key(self, goal_id: int | None) -> str:
        """The goal's texts and the scorer version that weighs sentences against them."""
        if goal_id is None:
            return "none"
        goals = self.ranker.active_goals([goal_id])
        return json.dumps(
            [[g.id, g.queries] for g in goals] + [["scorer", self.ranker.version_in_use]]
        )

    def summarise(
        self,
        item_id: int,
        text: str,
        goal_id: int | None,
        evidence_span: tuple[int, int] | None,
    ) -> Summary:
        """The summary of one item's ranked ``text`` for goal ``goal_id``."""
        span = tuple(evidence_span) if evidence_span else None
        key = cache_key(text, self._goal_key(goal_id), self.ranker.encoder.model_id, span)  # type: ignore[arg-type]
        cached = self.cache.get(key)
        if cached is not None and cached.item_id == item_id:
            return cached
        summary = self._build(item_id, text, goal_id, evidence_span)
        self.cache.put(key, summary)
        return summary

    def _build(
        self, item_id: int, text: str, goal_id: int | None, evidence_span: tuple[int, int] | None
    ) -> Summary:
        from focusdesk.rank.passages import encode_cached

        sentences = split_sentences(text, keep=evidence_span)
        if not sentences:
            return Summary(item_id, (), (), None)
        inputs = [s.text[:MAX_SENTENCE_CHARS] for s in sentences]
        vectors = encode_cached(self.ranker.store, self.ranker.encoder, inputs)
        goal = (
            goal_relevance(self.ranker, goal_id, vectors)
            if goal_id is not None
            else np.zeros(len(sentences), np.float32)
        )
        scores = GOAL_WEIGHT * goal + CENTRALITY_WEIGHT * centrality(vectors)
        # Fragments (a name under a message, a lone heading word) say little on their own.
        words = np.asarray([len(s.text.split()) for s in sentences])
        scores = np.where(words < MIN_WORDS, scores - 1.0, scores)
        spans = [(s.start, s.end) for s in sentences]
        chosen, evidence = select_sentences(scores, spans, evidence_span)
        return Summary(
            item_id,
            tuple(sentences[i].text for i in chosen),
            tuple(spans[i] for i in chosen),
            chosen.index(evidence) if evidence is not None else None,
        )

    def save(self) -> None:
        self.cache.save()

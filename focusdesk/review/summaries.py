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
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from focusdesk.sources.sentences import (  # noqa: F401 - split here, used by the review
    MAX_SENTENCE_CHARS,
    Sentence,
    is_dropped_line,
    split_sentences,
)

if TYPE_CHECKING:
    from focusdesk.rank.ranker import Ranker

log = logging.getLogger(__name__)

GOAL_WEIGHT = 0.7
CENTRALITY_WEIGHT = 0.3
MAX_SENTENCES = 3
MIN_WORDS = 3
"""Sentences shorter than this are chosen only when nothing else is left."""
CACHE_VERSION = 4


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
    """Each sentence's relevance to the goal: the scorer's r_j, best over the goal's facets
    (each sentence scored alone, as the reader's best sentence is: ``sentence_relevance``)."""
    from focusdesk.rank.passage_weights import sentence_relevance

    goals = ranker.active_goals([goal_id])
    if not goals or len(vectors) == 0:
        return np.zeros(len(vectors), np.float32)
    return sentence_relevance(ranker.scorer, vectors, ranker.embed_goals(goals).vectors)


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

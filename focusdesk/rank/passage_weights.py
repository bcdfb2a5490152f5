"""Evidence that points: each passage's attention weight and the best sentence, per goal.

For one item and one goal (the goal its row is shown for), the scorer's attention of
that goal over the item's chunks says how much each passage counted: the goal's best
facet attends over the chunks per head, and the heads are mixed by beta, exactly as
the ranker picks its evidence passage. Inside the passage attended to most, the
sentences are embedded on demand (memory LRU keyed by model and text hash, backed by
the store's embedding cache, which the review's summaries fill) and scored against
the goal's facets as one-chunk items; the best one is the sentence the reader marks.

Reads the store, never writes it, except the goal's facet vectors the first time a
goal is embedded (the ranker's shared cache). torch is imported lazily.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import select

from focusdesk.errors import KnownError
from focusdesk.progress import CancelToken
from focusdesk.rank.passages import DOCUMENT_ORDINAL, cached_vectors, passage_text, text_hash
from focusdesk.sources.sentences import MAX_SENTENCE_CHARS, split_sentences
from focusdesk.store.models import Chunk, Item

if TYPE_CHECKING:
    from focusdesk.rank.attention import GoalAttentionScorer
    from focusdesk.rank.encoding import Encoder
    from focusdesk.rank.ranker import Ranker

log = logging.getLogger(__name__)

MIN_SENTENCE_WORDS = 3
"""A shorter sentence (a name, a lone heading word) is the best only when nothing else is."""
SENTENCE_CACHE_SIZE = 4096
RESULT_CACHE_SIZE = 64


@dataclass(frozen=True)
class PassageWeight:
    """One passage of an item and the share of the goal's attention it drew."""

    chunk_id: int
    ordinal: int
    start: int
    """Character span of the passage in the item's ranked text (``Item.text``)."""
    end: int
    text: str
    weight: float
    """Share of the goal's attention over the item's passages (they sum to 1)."""


@dataclass(frozen=True)
class SentenceMatch:
    """The sentence of the evidence passage that matches the goal best."""

    start: int
    """Character span in the item's ranked text."""
    end: int
    text: str
    relevance: float
    """The scorer's relevance of the sentence alone to the goal (best facet)."""


@dataclass(frozen=True)
class ItemEvidence:
    """Where one item's relevance to one goal comes from, passage by passage."""

    item_id: int
    goal_id: int
    passages: tuple[PassageWeight, ...]
    """The item's passages in text order (empty while none is encoded)."""
    evidence: int | None
    """Index in ``passages`` of the passage attended to most (the ranker's evidence)."""
    sentence: SentenceMatch | None
    facet: str | None
    """The goal facet whose attention this is (the one that matched the item best)."""

    @property
    def evidence_passage(self) -> PassageWeight | None:
        return self.passages[self.evidence] if self.evidence is not None else None

    def top(self, n: int = 3) -> list[PassageWeight]:
        """The ``n`` passages with the largest weights, heaviest first (text order on ties)."""
        order = sorted(range(len(self.passages)), key=lambda i: (-self.passages[i].weight, i))
        return [self.passages[i] for i in order[:n]]


class VectorLRU:
    """Sentence vectors by (model id, text hash), the most recently used kept; thread-safe."""

    def __init__(self, capacity: int = SENTENCE_CACHE_SIZE) -> None:
        self.capacity = capacity
        self._data: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._data)

    def get(self, key: tuple[str, str]) -> np.ndarray | None:
        with self._lock:
            vec = self._data.get(key)
            if vec is None:
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return vec

    def put(self, key: tuple[str, str], vector: np.ndarray) -> None:
        with self._lock:
            self._data[key] = vector
            self._data.move_to_end(key)
            while len(self._data) > self.capacity:
                self._data.popitem(last=False)


def sentence_vectors(
    texts: Sequence[str],
    encoder: Encoder,
    cache: VectorLRU,
    *,
    store_lookup: Callable[[list[str]], dict[str, np.ndarray]] | None = None,
    cancel: CancelToken | None = None,
) -> np.ndarray:
    """Vectors of ``texts``: from the memory LRU, else the store's cache, else encoded.

    ``store_lookup`` is ``hashes -> {hash: vector}`` (the store's embedding cache); what
    has to be encoded is encoded in one call and kept in the LRU only.
    """
    model_id = encoder.model_id
    hashes = [text_hash(t) for t in texts]
    found: dict[str, np.ndarray] = {}
    for h in hashes:
        vec = cache.get((model_id, h))
        if vec is not None:
            found[h] = vec
    missing = [h for h in dict.fromkeys(hashes) if h not in found]
    if missing and store_lookup is not None:
        for h, vec in store_lookup(missing).items():
            found[h] = vec
            cache.put((model_id, h), vec)
    todo = [i for i, h in enumerate(hashes) if h not in found]
    if todo:
        unique = list(dict.fromkeys(hashes[i] for i in todo))
        first = {h: next(texts[i] for i in todo if hashes[i] == h) for h in unique}
        if cancel is not None:
            cancel.raise_if_cancelled()
        vecs = encoder.encode([first[h] for h in unique], cancel=cancel)
        for h, vec in zip(unique, vecs, strict=True):
            v = np.asarray(vec, np.float32)
            found[h] = v
            cache.put((model_id, h), v)
    if not hashes:
        return np.zeros((0, 0), np.float32)
    return np.stack([found[h] for h in hashes]).astype(np.float32)


def attention_over_chunks(
    scorer: GoalAttentionScorer, chunks: np.ndarray, facets: np.ndarray
) -> tuple[np.ndarray, int, np.ndarray]:
    """One item's chunks [C, d] against one goal's facets [F, d].

    Returns (attention [C] of the best facet, heads mixed by beta; the best facet's
    index; every facet's relevance [F]).
    """
    import torch  # noqa: TID253 - rank/ is the one place allowed

    with torch.inference_mode():
        q = scorer.project_goals(torch.from_numpy(np.ascontiguousarray(facets, np.float32)))
        vecs = torch.from_numpy(np.ascontiguousarray(chunks, np.float32))[None]
        mask = torch.ones(1, len(chunks), dtype=torch.bool)
        keys = scorer.project_keys(vecs, mask)
        result = scorer.score_projected(q, torch.ones(len(facets)), keys, mask)
        relevance = result.goal_relevance[0].float()  # [F]
        best = int(relevance.argmax())
        mixed = torch.einsum("hc,h->c", result.attention[0, best], result.head_weights)
        return mixed.float().numpy(), best, relevance.numpy()


def sentence_relevance(
    scorer: GoalAttentionScorer, vectors: np.ndarray, facets: np.ndarray
) -> np.ndarray:
    """Each sentence's relevance to the goal: scored alone (a one-chunk item), best facet."""
    import torch  # noqa: TID253

    n = len(vectors)
    if n == 0:
        return np.zeros(0, np.float32)
    with torch.inference_mode():
        q = scorer.project_goals(torch.from_numpy(np.ascontiguousarray(facets, np.float32)))
        vecs = torch.from_numpy(np.ascontiguousarray(vectors, np.float32))[:, None, :]
        mask = torch.ones(n, 1, dtype=torch.bool)
        keys = scorer.project_keys(vecs, mask)
        result = scorer.score_projected(q, torch.ones(len(facets)), keys, mask)
        return result.goal_relevance.float().amax(dim=1).numpy()


class PassageExplainer:
    """Computes `ItemEvidence` for the reader and the Why panel; one per profile.

    Holds the sentence-vector LRU and a small cache of recent results (keyed by the
    item's content, the goal's texts, the scorer version and the model).
    """

    def __init__(self, ranker: Ranker, *, cache_size: int = SENTENCE_CACHE_SIZE) -> None:
        self.ranker = ranker
        self.sentences = VectorLRU(cache_size)
        self._results: OrderedDict[tuple[object, ...], ItemEvidence] = OrderedDict()
        self._lock = threading.Lock()

    def explain(
        self, item_id: int, goal_id: int, *, cancel: CancelToken | None = None
    ) -> ItemEvidence:
        """Each passage's weight for ``goal_id`` and the best sentence of the evidence.

        Raises KnownError when the item or the goal is gone (deleted meanwhile).
        """
        ranker = self.ranker
        store = ranker.store
        model_id = ranker.encoder.model_id
        with store.session() as s:
            item = s.get(Item, item_id)
            if item is None or item.vanished:
                raise KnownError("This item is no longer in the profile.")
            title, text, content = item.title, item.text, item.content_hash
            chunks = [
                (c.id, c.ordinal, c.char_start, c.char_end, c.text_hash)
                for c in s.scalars(
                    select(Chunk).where(Chunk.item_id == item_id).order_by(Chunk.ordinal)
                )
            ]
        goals = ranker.active_goals([goal_id])
        if not goals:
            raise KnownError("This goal is no longer active (or its weight is 0).")
        goal = goals[0]
        scorer = ranker.scorer
        key = (item_id, content, goal_id, tuple(goal.queries), ranker.version_in_use, model_id)
        with self._lock:
            hit = self._results.get(key)
            if hit is not None:
                self._results.move_to_end(key)
                return hit
        if cancel is not None:
            cancel.raise_if_cancelled()
        gq = ranker.embed_goals(goals)
        vectors = cached_vectors(store, model_id, [c[4] for c in chunks])
        encoded = [c for c in chunks if c[4] in vectors]
        if not encoded:
            return ItemEvidence(item_id, goal_id, (), None, None, None)
        attention, facet, _ = attention_over_chunks(
            scorer, np.stack([vectors[c[4]] for c in encoded]), gq.vectors
        )
        is_passage = np.asarray([c[1] != DOCUMENT_ORDINAL for c in encoded])
        share = np.where(is_passage, attention, 0.0)
        total = float(share.sum())
        passages: list[PassageWeight] = []
        best: int | None = None
        for n, (cid, ordinal, start, end, _h) in enumerate(encoded):
            if ordinal == DOCUMENT_ORDINAL:
                continue
            passage = text[start:end] if end > start else passage_text(title, "", 0, 0, ordinal)
            weight = float(share[n]) / total if total > 0 else 0.0
            passages.append(PassageWeight(cid, ordinal, start, end, passage, weight))
            if best is None or weight > passages[best].weight:
                best = len(passages) - 1
        sentence = None
        if best is not None and passages[best].end > passages[best].start:
            sentence = self._best_sentence(text, passages[best], gq.vectors, cancel)
        result = ItemEvidence(
            item_id, goal_id, tuple(passages), best, sentence, gq.texts[facet] if gq.texts else None
        )
        with self._lock:
            self._results[key] = result
            while len(self._results) > RESULT_CACHE_SIZE:
                self._results.popitem(last=False)
        return result

    def _best_sentence(
        self,
        text: str,
        passage: PassageWeight,
        facets: np.ndarray,
        cancel: CancelToken | None,
    ) -> SentenceMatch | None:
        a, b = passage.start, passage.end
        spans: list[tuple[int, int]] = []
        for sentence in split_sentences(text, keep=(a, b)):
            s0, s1 = max(a, sentence.start), min(b, sentence.end)
            if s1 > s0 and text[s0:s1].strip():
                spans.append((s0, s1))
        if not spans:
            return None
        inputs = [" ".join(text[s0:s1].split())[:MAX_SENTENCE_CHARS] for s0, s1 in spans]
        store = self.ranker.store
        model_id = self.ranker.encoder.model_id
        vectors = sentence_vectors(
            inputs,
            self.ranker.encoder,
            self.sentences,
            store_lookup=lambda hashes: cached_vectors(store, model_id, hashes),
            cancel=cancel,
        )
        relevance = sentence_relevance(self.ranker.scorer, vectors, facets)
        words = np.asarray([len(t.split()) for t in inputs])
        ranked = np.where(words < MIN_SENTENCE_WORDS, relevance - 1.0, relevance)
        k = int(np.argmax(ranked))  # ties: the first sentence
        s0, s1 = spans[k]
        return SentenceMatch(s0, s1, text[s0:s1], float(relevance[k]))

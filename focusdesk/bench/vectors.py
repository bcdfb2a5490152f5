"""Clustered synthetic chunk vectors: what a large profile's embeddings look like.

Topic centres are grouped under a few broad themes, with a direction every text
shares (as sentence embeddings have); each item is about one topic, some of its
passages drift to another; 1 to 8 chunks per item, the last of them a document
chunk (near the mean of its passages) when there is more than one. Goals lie near
topic centres (popular topics likelier), their facets near the goal.
`focusdesk bench rank` stores these vectors in a generated profile, so that ranking
it is not trivial.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MAX_CHUNKS = 8
THEMES = 20
BLOCK_ROWS = 65_536


@dataclass
class SyntheticVectors:
    """Chunk vectors in id order and how they fall into items."""

    vectors: np.ndarray  # [V, d] float32, L2-normalised; item k's rows are contiguous
    counts: np.ndarray  # [N] chunks of each item (its passages, then its document chunk)
    topic: np.ndarray  # [N] each item's topic
    centres: np.ndarray  # [T, d] topic centres
    popularity: np.ndarray  # [T] share of items per topic

    @property
    def starts(self) -> np.ndarray:
        """Each item's first row."""
        starts = np.zeros(len(self.counts), np.int64)
        starts[1:] = np.cumsum(self.counts)[:-1]
        return starts


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def _noise(rng: np.random.Generator, n: int, dim: int, scale: float) -> np.ndarray:
    """Gaussian rows of expected norm ``scale``."""
    return rng.standard_normal((n, dim), dtype=np.float32) * np.float32(scale / math.sqrt(dim))


def chunk_counts(rng: np.random.Generator, items: int, chunks: int) -> np.ndarray:
    """1..MAX_CHUNKS chunks per item (skewed to few), summing to exactly ``chunks``."""
    extra = np.minimum(rng.poisson(chunks / items - 1, items), MAX_CHUNKS - 1)
    while (diff := chunks - items - int(extra.sum())) != 0:
        pick = rng.integers(0, items, abs(diff))
        if diff > 0:
            pick = pick[extra[pick] < MAX_CHUNKS - 1]
            np.add.at(extra, pick, 1)
        else:
            pick = pick[extra[pick] > 0]
            np.add.at(extra, pick, -1)
        extra = np.clip(extra, 0, MAX_CHUNKS - 1)
    return (1 + extra).astype(np.int64)


def synthetic_vectors(
    items: int, chunks: int, *, dim: int = 384, topics: int = 200, seed: int = 0
) -> SyntheticVectors:
    """Clustered chunk vectors for ``items`` items with ``chunks`` chunks in all."""
    rng = np.random.default_rng(seed)
    shared = _unit(rng.standard_normal(dim, dtype=np.float32))
    themes = _unit(rng.standard_normal((THEMES, dim), dtype=np.float32))
    theme_of = rng.integers(0, THEMES, topics)
    centres = _unit(0.35 * shared + 0.6 * themes[theme_of] + _noise(rng, topics, dim, 0.75))
    popularity = 1.0 / np.arange(1, topics + 1) ** 0.8
    popularity = rng.permutation(popularity / popularity.sum())

    counts = chunk_counts(rng, items, chunks)
    starts = np.zeros(items, np.int64)
    starts[1:] = np.cumsum(counts)[:-1]
    owner = np.repeat(np.arange(items), counts)
    multi = counts > 1
    doc_rows = (starts + counts - 1)[multi]  # the document chunk is created last
    topic = rng.choice(topics, items, p=popularity)
    item_centre = _unit(centres[topic] + _noise(rng, items, dim, 0.6))

    vectors = np.empty((chunks, dim), np.float32)
    for a in range(0, chunks, BLOCK_ROWS):
        b = min(chunks, a + BLOCK_ROWS)
        base = item_centre[owner[a:b]]
        drift = np.flatnonzero(rng.random(b - a) < 0.15)  # passages about another topic
        if len(drift):
            other = rng.choice(topics, len(drift), p=popularity)
            base[drift] = _unit(centres[other] + _noise(rng, len(drift), dim, 0.6))
        vectors[a:b] = _unit(base + _noise(rng, b - a, dim, 1.0))
    if len(doc_rows):
        passage_sums = np.add.reduceat(vectors, starts[multi], axis=0) - vectors[doc_rows]
        vectors[doc_rows] = _unit(passage_sums + _noise(rng, len(doc_rows), dim, 0.3))
    return SyntheticVectors(vectors, counts, topic.astype(np.int64), centres, popularity)


def goal_topics(profile: SyntheticVectors, goals: int, rng: np.random.Generator) -> np.ndarray:
    """A distinct topic for each goal, popular topics likelier."""
    return rng.choice(len(profile.centres), goals, replace=False, p=profile.popularity)


def facet_vectors(
    profile: SyntheticVectors, topics: np.ndarray, facets: list[int], rng: np.random.Generator
) -> list[np.ndarray]:
    """Each goal's facet vectors: the first is the goal itself, near its topic's centre,
    the others near the goal."""
    dim = profile.centres.shape[1]
    goals = _unit(profile.centres[topics] + _noise(rng, len(topics), dim, 0.5))
    out = []
    for goal, n in zip(goals, facets, strict=True):
        rows = np.repeat(goal[None], n, axis=0)
        if n > 1:
            rows[1:] = _unit(rows[1:] + _noise(rng, n - 1, dim, 0.6))
        out.append(np.ascontiguousarray(rows))
    return out

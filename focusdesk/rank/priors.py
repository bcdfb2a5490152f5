"""Priors and redundancy: what is added to (or taken from) an item's relevance.

S = R + recency + source affinity + sender affinity − redundancy. Recency decays with
a half-life per source kind; the affinities are learnt from feedback; near-duplicates
(the same story from a newsletter and a feed) collapse into one story, and an item
that repeats a higher-ranked one without being a duplicate is pushed down a little so
the top of the list is diverse.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from focusdesk.settings import Settings

REDUNDANCY_WINDOW = 300
"""How many of the best items are compared with each other for stories and redundancy."""


def half_life_days(kind: str, settings: Settings) -> float:
    """Recency half-life of a source kind."""
    if kind == "notes":
        return settings.half_life_notes_days
    if kind == "feed":
        return settings.half_life_feed_days
    return settings.half_life_email_days


def recency(ages_days: np.ndarray, half_lives: np.ndarray, weight: float) -> np.ndarray:
    """weight * 2^(-age / half-life); items dated in the future count as new."""
    return weight * np.exp2(-np.clip(ages_days, 0.0, None) / half_lives)


def epoch_seconds(date: datetime | None) -> float:
    """Seconds since the epoch of ``date`` (aware, as the store's dates are); NaN for None."""
    return math.nan if date is None else date.timestamp()


def ages_from_epoch(seconds: np.ndarray, now: datetime) -> np.ndarray:
    """Age in days at ``now`` of each time in ``seconds`` (``epoch_seconds``); NaN, an
    undated item, gets an infinite age (no recency)."""
    ages = (now.timestamp() - np.asarray(seconds, np.float64)) / 86400.0
    return np.where(np.isnan(ages), np.inf, ages)


def ages_in_days(dates: list[datetime | None], now: datetime) -> np.ndarray:
    """Age of each date in days at ``now``; an undated item gets an infinite age."""
    return ages_from_epoch(np.asarray([epoch_seconds(d) for d in dates], np.float64), now)


@dataclass
class Stories:
    """Result of the redundancy pass over the best items."""

    penalty: np.ndarray  # [N] >= 0, subtracted from the score
    story_of: np.ndarray  # [N] index of the story head an item belongs to (itself if head)
    members: dict[int, list[int]] = field(default_factory=dict)  # head -> member indices


def stories_and_redundancy(
    scores: np.ndarray,
    doc_vectors: np.ndarray | Callable[[np.ndarray], np.ndarray],
    settings: Settings,
) -> Stories:
    """Collapse near-duplicates into stories and penalise near-repeats.

    ``doc_vectors`` [N, d] are L2-normalised item vectors, or a function that gives
    those of some item indices (only they are needed). Only the best
    REDUNDANCY_WINDOW items are compared (the rest keep no penalty).
    """
    n = len(scores)
    penalty = np.zeros(n, np.float32)
    story_of = np.arange(n)
    members: dict[int, list[int]] = {}
    if n < 2:
        return Stories(penalty, story_of, members)
    top = np.argsort(-scores, kind="stable")[:REDUNDANCY_WINDOW]
    vectors = doc_vectors(top) if callable(doc_vectors) else doc_vectors[top]
    sims = vectors @ vectors.T
    heads: list[int] = []  # positions in `top`
    span = max(1e-6, 1.0 - settings.redundancy_similarity)
    for a in range(len(top)):
        if heads:
            prior = sims[a, heads]
            best = int(np.argmax(prior))
            if prior[best] >= settings.duplicate_similarity:
                head = top[heads[best]]
                story_of[top[a]] = head
                members.setdefault(int(head), []).append(int(top[a]))
                continue
            if prior[best] >= settings.redundancy_similarity:
                excess = (prior[best] - settings.redundancy_similarity) / span
                penalty[top[a]] = settings.redundancy_penalty * float(min(1.0, excess))
        heads.append(a)
    return Stories(penalty, story_of, members)

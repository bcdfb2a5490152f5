"""Ranking metrics for evaluating the scorer: DCG/NDCG, precision and average precision,
and the joint ones (all goals in one list): coverage, α-nDCG and proportionality.

Plain Python (no torch), used by the evaluation script and the benchmark. Every
function takes one ranked list (best first) and returns a number.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Hashable, Mapping, Sequence
from typing import TypeVar

K = TypeVar("K", bound=Hashable)


def _check_k(k: int | None) -> None:
    if k is not None and k < 1:
        raise ValueError(f"k must be at least 1, got {k}")


def _check_gains(gains: Sequence[float]) -> None:
    if any(not math.isfinite(g) or g < 0 for g in gains):
        raise ValueError("gains must be finite and non-negative")


def dcg_at_k(ranked_gains: Sequence[float], k: int = 10) -> float:
    """Discounted cumulative gain of the top ``k``: sum of (2^g - 1) / log2(rank + 1).

    Ranks start at 1, so the first item is undiscounted. Gains must be >= 0.
    """
    _check_k(k)
    _check_gains(ranked_gains)
    return float(
        sum((2.0 ** float(g) - 1.0) / math.log2(i + 2) for i, g in enumerate(ranked_gains[:k]))
    )


def ndcg_at_k(ranked_gains: Sequence[float], all_gains: Sequence[float], k: int = 10) -> float:
    """DCG@k of the ranking divided by that of the ideal ranking, in [0, 1].

    ``ranked_gains`` are the gains of the ranked items, best first; ``all_gains``
    those of every judged item for the query (the ranked ones included), from which
    the ideal ranking is built. 0.0 when no item has a positive gain.
    """
    ideal = dcg_at_k(sorted(all_gains, reverse=True), k)
    if ideal == 0.0:
        return 0.0
    return dcg_at_k(ranked_gains, k) / ideal


def precision_at_k(ranked_relevant: Sequence[bool], k: int) -> float:
    """Share of the top ``k`` that is relevant.

    A list shorter than k counts as padded with non-relevant items: the divisor is
    always k.
    """
    _check_k(k)
    return sum(1 for rel in ranked_relevant[:k] if rel) / k


def average_precision(
    ranked_relevant: Sequence[bool], total_relevant: int, k: int | None = None
) -> float:
    """Average precision (AP), or AP@k when ``k`` is given.

    AP@k = (sum of precision@i over the ranks i <= k holding a relevant item)
    / min(total_relevant, k); plain AP uses every rank and divides by
    total_relevant, so relevant items never retrieved count as precision 0.
    ``total_relevant`` is the number of relevant items for the query, retrieved or
    not. 0.0 when it is 0. A perfect ranking scores 1.0.
    """
    _check_k(k)
    hits_listed = sum(1 for rel in ranked_relevant if rel)
    if total_relevant < hits_listed:
        raise ValueError(
            f"total_relevant ({total_relevant}) is below the relevant items listed ({hits_listed})"
        )
    if total_relevant == 0:
        return 0.0
    top = ranked_relevant if k is None else ranked_relevant[:k]
    hits = 0
    total = 0.0
    for rank, rel in enumerate(top, start=1):
        if rel:
            hits += 1
            total += hits / rank
    return total / (total_relevant if k is None else min(total_relevant, k))


def coverage_at_k(
    ranked_intents: Sequence[Collection[Hashable]], intents: Collection[Hashable], k: int
) -> int:
    """How many of ``intents`` (goals) have an item in the top ``k``.

    ``ranked_intents[r]`` is the set of intents the item at rank r + 1 counts for (for
    coverage@k of the benchmark: the goals it is a primary-topic item of).
    """
    _check_k(k)
    wanted = set(intents)
    seen: set[Hashable] = set()
    for found in ranked_intents[:k]:
        seen.update(wanted.intersection(found))
    return len(seen)


def _alpha_gain(found: Collection[Hashable], counts: dict[Hashable, int], alpha: float) -> float:
    return sum((1.0 - alpha) ** counts.get(i, 0) for i in found)


def alpha_dcg_at_k(
    ranked_intents: Sequence[Collection[Hashable]], alpha: float = 0.5, k: int = 20
) -> float:
    """α-DCG@k (Clarke et al. 2008): an item's gain is Σ over the intents it is relevant
    to of (1 − α)^(items above it relevant to that intent), over log2(rank + 1)."""
    _check_k(k)
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    counts: dict[Hashable, int] = {}
    total = 0.0
    for rank, found in enumerate(ranked_intents[:k], start=1):
        total += _alpha_gain(found, counts, alpha) / math.log2(rank + 1)
        for i in set(found):
            counts[i] = counts.get(i, 0) + 1
    return total


def alpha_ndcg_at_k(
    ranked_intents: Sequence[Collection[Hashable]],
    all_intents: Sequence[Collection[Hashable]],
    alpha: float = 0.5,
    k: int = 20,
) -> float:
    """α-nDCG@k: α-DCG@k over that of the ideal list, built greedily as usual (at each
    rank the judged item with the largest gain given those above; exact ideal is NP-hard).

    ``all_intents`` are the intent sets of every judged item (ranked or not). 0.0 when no
    item is relevant to any intent.
    """
    _check_k(k)
    pool = [set(found) for found in all_intents if found]
    counts: dict[Hashable, int] = {}
    ideal: list[set[Hashable]] = []
    for _ in range(min(k, len(pool))):
        best = max(range(len(pool)), key=lambda n: _alpha_gain(pool[n], counts, alpha))
        chosen = pool.pop(best)
        ideal.append(chosen)
        for i in chosen:
            counts[i] = counts.get(i, 0) + 1
    best_dcg = alpha_dcg_at_k(ideal, alpha, k) if ideal else 0.0
    if best_dcg == 0.0:
        return 0.0
    return alpha_dcg_at_k(ranked_intents, alpha, k) / best_dcg


def proportionality_at_k(seats: Sequence[K | None], weights: Mapping[K, float], k: int) -> float:
    """1 − ½ Σ_g |seat share of g − fair share of g| over the goals of ``weights``.

    ``seats[r]`` is the goal the row at rank r + 1 is shown for; a goal's seat share is
    its rows in the top ``k`` over k (rows for goals outside ``weights`` are nobody's
    fair share); its fair share is its weight over the weights' sum. 1.0 is exactly
    proportional. ``weights`` holds the goals that have relevant items.
    """
    _check_k(k)
    total = sum(weights.values())
    if not weights or total <= 0 or any(w < 0 for w in weights.values()):
        raise ValueError("weights must be non-negative with a positive sum")
    held = {g: 0 for g in weights}
    for goal in seats[:k]:
        if goal is not None and goal in held:
            held[goal] += 1
    return 1.0 - 0.5 * sum(abs(held[g] / k - weights[g] / total) for g in weights)

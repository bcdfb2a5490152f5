"""Ranking metrics for evaluating the scorer: DCG/NDCG, precision and average precision.

Plain Python (no torch), used by the evaluation script and the benchmark. Every
function takes one ranked list (best first) for one query and returns a float.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


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

"""Attention allocation: how many minutes of a focus block each top item gets.

Over the ranked list, pi_i = softmax(S_i / T) is each item's share of attention; a
block of M minutes gives the top-k items M * pi_i, renormalised over those k, with a
floor so that nothing shown gets too little time to be worth opening. Whole minutes,
summing exactly to M (largest-remainder rounding).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Allocation:
    """One item's share of a block."""

    index: int
    """Position in the ranked list that was allocated."""
    share: float
    """pi_i renormalised over the chosen items (sums to 1)."""
    minutes: int


def attention_shares(scores: Sequence[float], temperature: float) -> list[float]:
    """pi = softmax(S / T) over the whole ranked list."""
    if temperature <= 0 or not math.isfinite(temperature):
        raise ValueError("temperature must be positive")
    if not scores:
        return []
    top = max(scores)
    exps = [math.exp((s - top) / temperature) for s in scores]
    total = sum(exps)
    return [e / total for e in exps]


def allocate(
    scores: Sequence[float],
    minutes: int,
    *,
    top_k: int,
    temperature: float = 0.05,
    floor_minutes: int = 5,
) -> list[Allocation]:
    """Minutes for the top-k of ``scores`` (sorted best first), summing to ``minutes``.

    When the block is too short for every item to get the floor, fewer items are
    chosen (the best ones), so each shown item still gets at least the floor.
    """
    if minutes <= 0 or top_k <= 0 or not scores:
        return []
    floor_minutes = max(0, floor_minutes)
    k = min(top_k, len(scores))
    if floor_minutes:
        k = max(1, min(k, minutes // floor_minutes))
    shares = attention_shares(list(scores), temperature)[:k]
    total = sum(shares)
    shares = [s / total for s in shares] if total > 0 else [1.0 / k] * k
    # Give each item the floor, then divide what is left in proportion to the shares.
    spare = minutes - floor_minutes * k
    raw = [floor_minutes + spare * s for s in shares]
    whole = [math.floor(r) for r in raw]
    left = minutes - sum(whole)
    for i in sorted(range(k), key=lambda i: (raw[i] - whole[i], -i), reverse=True)[:left]:
        whole[i] += 1
    return [Allocation(index=i, share=shares[i], minutes=whole[i]) for i in range(k)]

"""Attention allocation: how many minutes of a focus block each top item gets.

Over the ranked list, pi_i = softmax(S_i / T) is each item's share of attention; a
block of M minutes gives the top-k items M * pi_i, renormalised over those k, with a
floor so that nothing shown gets too little time to be worth opening. Whole minutes,
summing exactly to M (largest-remainder rounding).

Across goals (``goal_minutes``), a block is first shared among its goals in proportion
to weight x demand (how many items serve each goal); a goal nothing serves gets none.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
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
    whole = round_to_total([floor_minutes + spare * s for s in shares], minutes)
    return [Allocation(index=i, share=shares[i], minutes=whole[i]) for i in range(k)]


def round_to_total(raw: Sequence[float], total: int) -> list[int]:
    """Whole numbers near ``raw`` (which sums to ``total``) that sum to ``total`` exactly.

    Largest remainder: each value is rounded down, and the units left go to the largest
    fractions (the earlier one on a tie).
    """
    whole = [math.floor(r) for r in raw]
    left = total - sum(whole)
    order = sorted(range(len(raw)), key=lambda i: (raw[i] - whole[i], -i), reverse=True)
    for i in order[: max(0, left)]:
        whole[i] += 1
    return whole


def goal_minutes(
    weights: Mapping[int, float],
    demand: Mapping[int, int],
    minutes: int,
    *,
    floor_minutes: int = 0,
) -> dict[int, int]:
    """Whole minutes per goal, in proportion to weight x demand, summing to ``minutes``.

    ``demand`` is how many items serve each goal; a goal with no demand (or no weight)
    gets no minutes and is left out. A goal whose share falls below ``floor_minutes``
    gets the floor, and the others share the rest in the same proportion (the caller
    keeps no more goals than ``minutes // floor_minutes``). Largest share first.
    """
    need = {g: w * demand.get(g, 0) for g, w in weights.items() if w > 0 and demand.get(g, 0) > 0}
    if minutes <= 0 or not need:
        return {}
    goals = sorted(need, key=lambda g: -need[g])
    floor = max(0, floor_minutes) if floor_minutes * len(goals) <= minutes else 0
    lifted: set[int] = set()
    while True:
        rest = [g for g in goals if g not in lifted]
        left = minutes - floor * len(lifted)
        total = sum(need[g] for g in rest)
        raw = {g: left * need[g] / total for g in rest}
        low = {g for g in rest if raw[g] < floor}
        if not low:
            break
        if len(low) == len(rest):  # every goal at the floor: the spare in proportion
            spare = minutes - floor * len(goals)
            everyone = sum(need.values())
            raw = {g: floor + spare * need[g] / everyone for g in goals}
            lifted = set()
            break
        lifted |= low
    raw.update({g: float(floor) for g in lifted})
    whole = round_to_total([raw[g] for g in goals], minutes)
    return dict(zip(goals, whole, strict=True))

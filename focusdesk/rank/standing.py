"""An item's calibrated standing for a goal, in words ("top 2 % for this goal").

``RankedItem.percentile`` holds, per goal, the share of the profile's items an item
outscores; ``RankedItem.calibrated`` the probability that it serves the goal. The Why
panel, the reader's "Why" line and ``focusdesk rank`` say the same words, from here.
"""

from __future__ import annotations

import math

from focusdesk.records import RELEVANCE_BAR, RankedItem

_EPS = 1e-9


def standing_words(percentile: float) -> str:
    """ "top 2 % for this goal" for an item that outscores 98 % of the profile's items.

    The upper half says "top N %", rounded up so that it never flatters (outscoring
    98.1 % is "top 2 %", never "top 1 %"); the lower half says "bottom N %". N is at
    least 1. Raises ValueError for a percentile outside 0..1 (or not a number).
    """
    if not (math.isfinite(percentile) and -_EPS <= percentile <= 1 + _EPS):
        raise ValueError(f"a percentile is a share between 0 and 1, got {percentile!r}")
    above = 1.0 - min(1.0, max(0.0, percentile))  # the share that outscores this item
    if above <= 0.5 + _EPS:
        return f"top {max(1, math.ceil(round(above * 100, 6)))} % for this goal"
    below = min(1.0, max(0.0, percentile))
    return f"bottom {max(1, math.ceil(round(below * 100, 6)))} % for this goal"


def item_standing(item: RankedItem, goal_id: int | None = None) -> str | None:
    """The item's standing for ``goal_id`` (default: the goal the row is shown for).

    "top 2 % for this goal", followed by whether it clears the goal's relevance bar
    when the item is calibrated for that goal; None when the ranker gave no percentile.
    """
    goal = item.goal_id if goal_id is None else goal_id
    if goal is None or goal not in item.percentile:
        return None
    words = standing_words(item.percentile[goal])
    if goal in item.calibrated:
        p = item.calibrated[goal]
        verdict = "clears" if p >= RELEVANCE_BAR else "below"
        words += f"; {verdict} its relevance bar (p = {p:.2f})"
    return words

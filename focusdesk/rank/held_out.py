"""The acceptance gate: is a new scorer worse than the one in use on held-out votes?

Both versions are scored on the same held-out items, and every (relevant, not relevant)
pair is judged by the same pairwise logistic loss as in training. A new version is
trained on more votes than the one in use, so it is kept unless the held-out pairs show
it worse by more than their own sampling noise: the difference of the two losses is a
paired two-sample U-statistic over the same items, and its standard error is DeLong's
(DeLong, DeLong & Clarke-Pearson, 1988, for two ROC curves on the same cases), computed
from each held-out item's share of the difference. A few held-out items, where one
unlucky pair can decide, can therefore not freeze learning at an early version; many
held-out items that the new version consistently orders worse reject it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

REJECT_Z = 1.645
"""A new version is rejected when its held-out loss exceeds the current one's by more
than this many standard errors (a one-sided test at the 5 % level)."""


@dataclass(frozen=True)
class HeldOutComparison:
    """Two versions judged on the same held-out pairs."""

    loss_current: float  # weighted pairwise logistic loss (lower is better)
    loss_new: float
    accuracy_current: float  # weighted share of pairs ordered correctly
    accuracy_new: float
    standard_error: float  # of loss_new - loss_current; inf when it cannot be told
    pairs: int

    @property
    def accepted(self) -> bool:
        """The new version is used unless the held-out pairs show it worse beyond chance."""
        if math.isnan(self.loss_new):
            return False
        if math.isnan(self.loss_current):
            return True
        return self.loss_new - self.loss_current <= REJECT_Z * self.standard_error


def pair_losses(
    score: np.ndarray, is_pos: np.ndarray, sharpness: float
) -> tuple[np.ndarray, np.ndarray]:
    """[P, N] each (positive, negative) pair's logistic loss and whether it is ordered
    right (1, a tie 0.5, else 0)."""
    diff = score[is_pos][:, None] - score[~is_pos][None, :]
    return np.logaddexp(0.0, -sharpness * diff), (diff > 0) + 0.5 * (diff == 0)


def compare_held_out(
    current: np.ndarray,
    new: np.ndarray,
    is_pos: np.ndarray,
    weight: np.ndarray,
    sharpness: float,
) -> HeldOutComparison:
    """Judge two versions' scores (``current``, ``new``: [n]) of the same held-out items,
    ``is_pos`` telling the relevant ones; a pair weighs its two items' ``weight``s."""
    is_pos = np.asarray(is_pos, bool)
    if not is_pos.any() or is_pos.all():
        return HeldOutComparison(math.nan, math.nan, math.nan, math.nan, math.inf, 0)
    wp, wn = np.asarray(weight, np.float64)[is_pos], np.asarray(weight, np.float64)[~is_pos]
    total = wp.sum() * wn.sum()
    loss_cur, right_cur = pair_losses(np.asarray(current, np.float64), is_pos, sharpness)
    loss_new, right_new = pair_losses(np.asarray(new, np.float64), is_pos, sharpness)
    delta = loss_new - loss_cur
    mean = float(wp @ delta @ wn / total)
    return HeldOutComparison(
        loss_current=float(wp @ loss_cur @ wn / total),
        loss_new=float(wp @ loss_new @ wn / total),
        accuracy_current=float(wp @ right_cur @ wn / total),
        accuracy_new=float(wp @ right_new @ wn / total),
        standard_error=_standard_error(delta, mean, wp, wn),
        pairs=int(delta.size),
    )


def _standard_error(delta: np.ndarray, mean: float, wp: np.ndarray, wn: np.ndarray) -> float:
    """DeLong's standard error of the weighted mean of ``delta`` [P, N]: each positive's
    and each negative's own mean difference, their spread around ``mean``, with the
    unbiased (n - 1) factor. Infinite with fewer than two items on either side, where
    the spread cannot be estimated."""
    p, n = delta.shape
    if p < 2 or n < 2:
        return math.inf
    rows = delta @ wn / wn.sum() - mean  # each positive's own part
    cols = wp @ delta / wp.sum() - mean  # each negative's own part
    var = (
        p / (p - 1) * float((wp**2 * rows**2).sum()) / float(wp.sum()) ** 2
        + n / (n - 1) * float((wn**2 * cols**2).sum()) / float(wn.sum()) ** 2
    )
    return math.sqrt(var)

"""Calibrated relevance: what a goal's raw score means, against the profile's own scores.

Raw relevance is not comparable between goals (a vault about one topic scores high on
its goal everywhere; a goal written in general words scores low on everything) nor
between source kinds (long notes and short mails sit at different levels). So each
goal is calibrated against the distribution of its own scores over the profile:

- the bulk of a goal's scores is what an item that does not serve it looks like; its
  centre and spread are read from the lower side of the distribution (which the items
  that serve, however many, do not reach), per source kind where a kind has items
  enough (shrunk toward the goal's pooled figures by ``KIND_SHRINK`` items' worth);
- an item's standing is its distance above the bulk in the bulk's deviations, ``z``.
  How strongly a standing speaks for relevance is taken to be the same for every goal
  (a likelihood ratio, logistic in z: ``SLOPE (z − Z_BAR)`` log-odds at the reference
  base rate); what differs between goals is how many items serve them at
  all, their base rate. That is read off the goal's upper tail: a goal that some items
  serve has a shoulder of items far above its bulk, one that nothing serves has a tail
  that falls off fast. Of the items past 1 deviation, at most ``NULL_TAIL_SHARE`` are
  past 2 when nothing serves; the excess past 2 estimates the items that do. The
  log-odds are moved by log(base rate / ``BASE_RATE``) (Bayes' rule), so a goal that
  nothing serves gets probabilities near 0, and the probability means the same across
  goals, their weights and the items' kinds;
- its percentile is the share of the profile's items it outscores for the goal.

A profile of a few items has no distribution to speak of (a new user's vault of six
notes: its quantiles are two or three items, and a note about the goal is its own upper
tail). There the scorer's relevance is read absolutely instead: it is cosine-like, and
on the bundled model an item about the goal scores 0.4-0.75 on it, one about something
else under 0.3 (``ABS_BAR``, ``ABS_SCALE``). The two readings are mixed in log-odds, the
absolute one's share ``(1 − n / EMPIRICAL_ITEMS)²`` shrinking to nothing as the profile
grows to ``EMPIRICAL_ITEMS`` items (and whole where the distribution is degenerate: most
items tie, so the spread says nothing).

A fit depends only on the scores it was computed from; the ranker keeps one per goal,
keyed by what they were computed from, so a goal added or changed is the only one fitted
again, and nothing is fitted while nothing changed.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Z_BAR = 3.0
"""Deviations above a goal's bulk at which an item is as likely as not to serve it (at
the reference base rate). Chosen on the dev posts (five goals, bulk measured by median
and MAD then): 55-68 % of the items past 3 deviations were relevant to their goal."""
SLOPE = 1.0
"""Log-odds per deviation: at Z_BAR ± 1 the probability is 0.27 / 0.73 (on the dev posts
about 70 % of the items past 4 deviations were relevant; a steeper slope overstated it)."""
BASE_RATE = 0.05
"""The base rate at which Z_BAR was read (the dev goals: 100-200 relevant of 2,000)."""
NULL_TAIL_SHARE = 0.2
"""Items past 2 deviations per item past 1, at most, for a goal nothing serves (a normal
bulk gives 0.14; read from the dev set's one goal that nothing serves, 0.21 with the
bulk by median and MAD, against 0.34-0.58 for its five goals). A goal just past it gets
a base rate so low that its items need about 6 deviations to serve."""
MIN_TAIL = 50
"""Below this many items past 1 deviation the tail says nothing: the base rate is taken
to be BASE_RATE."""
MAX_PRIOR_SHIFT = 2.0
"""Most log-odds added for a high base rate (a goal most items serve)."""
KIND_SHRINK = 200.0
"""A source kind's own centre and spread count as much as this many items; a kind with
fewer items leans on the goal's pooled figures (a mailbox of 20 mails has no reliable
distribution of its own)."""
MIN_SCALE = 0.01
"""Spread floor, in the scores' units (cosine-like): where most items tie (nothing in them
resembles the goal) an item must still stand out by a real margin to serve."""
ABS_BAR = 0.40
"""The relevance at which an item is as likely as not to serve, read absolutely. Measured
with the bundled model (goal relevance with the lexical prior, untrained scorer): on the
demo profile the notes and mails about a goal score 0.40-0.56 on it, the rest 0.0-0.30
(a few mixed ones 0.30-0.40); on a crafted vault of six notes the note about each goal
0.67-0.73, the others 0.02-0.14."""
ABS_SCALE = 0.05
"""Relevance per log-odds, read absolutely: 0.30 gives 0.12, 0.50 gives 0.88."""
EMPIRICAL_ITEMS = 1000
"""From this many items on, the profile's own distribution alone calibrates a goal; below
it the absolute reading has the share (1 − n / EMPIRICAL_ITEMS)² (0.99 at 6 items, 0.85
at 80, 0.25 at 500)."""
LOW_QUANTILE = 0.05
_Z_LOW = 1.6449  # a normal's 5th percentile, in deviations below its mean
_Z_QUARTER = 0.6745  # its 25th


def _centre_scale(x: np.ndarray) -> tuple[float, float]:
    """Centre and spread of the bulk of ``x`` that does not serve, read from its lower side.

    Items that serve a goal sit above the rest, so the lower quantiles belong to the bulk
    even when many items serve (a vault about the goal's topic): the spread is the distance
    from the 5th to the 25th percentile over a normal's (1.645 − 0.674 deviations), and the
    centre lies 0.674 of them above the 25th percentile. For a normal bulk this is its mean
    and deviation; the median and MAD would be pulled up by every item that serves.
    """
    if len(x) == 0:
        return 0.0, 1.0
    low, quarter = np.quantile(x, [LOW_QUANTILE, 0.25])
    scale = float(quarter - low) / (_Z_LOW - _Z_QUARTER)
    centre = float(quarter) + _Z_QUARTER * scale
    if scale < MIN_SCALE:  # a quarter of the items tie at the bottom: median and MAD
        centre = float(np.median(x))
        scale = 1.4826 * float(np.median(np.abs(x - centre)))
    return centre, max(scale, MIN_SCALE)


def absolute_share(n: int, *, degenerate: bool = False) -> float:
    """The absolute reading's share of a goal's log-odds for a fit to ``n`` items: whole
    for none or a degenerate distribution, shrinking smoothly to 0 at ``EMPIRICAL_ITEMS``."""
    if degenerate:
        return 1.0
    return float(max(0.0, 1.0 - n / EMPIRICAL_ITEMS) ** 2)


@dataclass(frozen=True)
class GoalCalibration:
    """One goal's fit: its bulk's centre and spread, pooled and per source kind, and its
    reference scores sorted (for percentiles)."""

    centre: float
    scale: float
    kinds: dict[str, tuple[float, float]] = field(default_factory=dict)
    reference: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float64))
    prior_shift: float = 0.0
    """log(base rate / BASE_RATE): the log-odds added for how many items serve the goal."""
    base_rate: float = BASE_RATE
    """The estimated share of items that serve the goal."""
    absolute: float = 0.0
    """The absolute reading's share of the log-odds (``absolute_share``)."""

    @classmethod
    def fit(cls, scores: np.ndarray, kinds: Sequence[str] | None = None) -> GoalCalibration:
        """Fit to the reference ``scores`` of one goal (one per item) and the items' kinds."""
        x = np.asarray(scores, np.float64)
        centre, scale = _centre_scale(x)
        per_kind: dict[str, tuple[float, float]] = {}
        if kinds is not None and len(set(kinds)) > 1:
            labels = np.asarray(kinds)
            for kind in sorted(set(kinds)):
                own = x[labels == kind]
                c, s = _centre_scale(own)
                trust = len(own) / (len(own) + KIND_SHRINK)
                per_kind[kind] = (
                    trust * c + (1 - trust) * centre,
                    max(MIN_SCALE, trust * s + (1 - trust) * scale),
                )
        absolute = absolute_share(len(x), degenerate=scale <= MIN_SCALE)
        fit = cls(centre, scale, per_kind, np.sort(x), absolute=absolute)
        z = fit.standing(x, kinds)
        past_1, past_2 = int((z > 1).sum()), int((z > 2).sum())
        if past_1 < MIN_TAIL:
            return fit
        rate = max(0.0, past_2 - NULL_TAIL_SHARE * past_1) / len(x)
        shift = float(np.clip(np.log(max(rate, 1e-12) / BASE_RATE), -np.inf, MAX_PRIOR_SHIFT))
        return cls(centre, scale, per_kind, fit.reference, shift, rate, absolute)

    def standing(self, scores: np.ndarray, kinds: Sequence[str] | None = None) -> np.ndarray:
        """Robust deviations above the bulk (the item's own kind's, where fitted)."""
        x = np.asarray(scores, np.float64)
        centre = np.full(len(x), self.centre)
        scale = np.full(len(x), self.scale)
        if kinds is not None and self.kinds:
            labels = np.asarray(kinds)
            for kind, (c, s) in self.kinds.items():
                own = labels == kind
                centre[own], scale[own] = c, s
        return (x - centre) / scale

    def logit(self, scores: np.ndarray, kinds: Sequence[str] | None = None) -> np.ndarray:
        """Log-odds that each item serves the goal (strictly increasing in its score): the
        profile's reading and the absolute one, mixed by ``absolute``."""
        empirical = SLOPE * (self.standing(scores, kinds) - Z_BAR) + self.prior_shift
        if self.absolute == 0.0:
            return empirical
        absolute = (np.asarray(scores, np.float64) - ABS_BAR) / ABS_SCALE
        return self.absolute * absolute + (1.0 - self.absolute) * empirical

    def percentile(self, scores: np.ndarray) -> np.ndarray:
        """Share of the reference items each score beats (ties count as not beaten)."""
        if len(self.reference) == 0:
            return np.zeros(len(scores))
        return np.searchsorted(self.reference, np.asarray(scores, np.float64), "left") / len(
            self.reference
        )


def probability(logit: np.ndarray) -> np.ndarray:
    """sigmoid, without overflow warnings for large negative logits."""
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(logit, np.float64)))


@dataclass
class Calibrated:
    """Per item and goal: log-odds of serving, the probability and the percentile (of the
    relevance alone), and the order within the goal (the log-odds with the priors)."""

    logit: np.ndarray  # [N, G]
    probability: np.ndarray  # [N, G]
    percentile: np.ndarray  # [N, G]
    order: np.ndarray  # [N, G]


class Calibrations:
    """Goal fits kept by the key of what each was computed from (the goal's queries, the
    scorer's version, the items): fitted again only when that key changes."""

    def __init__(self, keep: int = 64) -> None:
        self._fits: dict[Hashable, GoalCalibration] = {}
        self._keep = keep
        self.fitted = 0
        """How many fits were computed (not reused): for tests and logs."""

    def get(self, key: Hashable) -> GoalCalibration | None:
        return self._fits.get(key)

    def fit(
        self, key: Hashable, reference: np.ndarray, kinds: Sequence[str] | None
    ) -> GoalCalibration:
        """The fit for ``key``: the cached one, else fitted to ``reference`` and kept."""
        found = self._fits.get(key)
        if found is not None:
            return found
        fit = GoalCalibration.fit(reference, kinds)
        self.fitted += 1
        if len(self._fits) >= self._keep:
            self._fits.pop(next(iter(self._fits)))
        self._fits[key] = fit
        return fit

    def clear(self) -> None:
        self._fits.clear()


def calibrate(
    fits: Sequence[GoalCalibration],
    scores: np.ndarray,
    kinds: Sequence[str] | None = None,
    shift: np.ndarray | None = None,
) -> Calibrated:
    """Calibrate ``scores`` [N, G] (goal g by ``fits[g]``). ``shift`` [N] is what the
    priors add to an item (recency, affinities, redundancy): it moves the item within
    each of its goals as it moves its score (``order``), but whether the item serves a
    goal, and its percentile, are its relevance's alone."""
    n, g = scores.shape
    logit = np.zeros((n, g))
    order = np.zeros((n, g))
    pct = np.zeros((n, g))
    labels: Any = np.asarray(kinds) if kinds is not None else None  # once, not per goal
    for j, fit in enumerate(fits):
        x = scores[:, j].astype(np.float64)
        logit[:, j] = fit.logit(x, labels)
        order[:, j] = fit.logit(x + shift, labels) if shift is not None else logit[:, j]
        pct[:, j] = fit.percentile(x)
    return Calibrated(logit, probability(logit), pct, order)

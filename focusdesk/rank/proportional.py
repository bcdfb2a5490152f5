"""Proportional attention: the top of one list shared among goals (PM-2, Dang & Croft 2012).

Every goal holds seats in proportion to its votes ``v_g``: its weight, scaled down
while few items serve it (its demand, where an item that serves two goals counts for
both). Seat after seat, the goal whose quotient ``v_g / (2 s_g + 1)`` is highest
(``s_g``: the rows shown for it so far, Sainte-Laguë) takes the turn, and fills it with
the best remaining item that serves it, by calibrated relevance; the row is shown for
that goal and its seat is that goal's. Between goals of equal quotient (each round's
start), the one whose next item serves it most surely goes first. A goal nothing
serves gets no turn; a goal whose serving items are all placed leaves the turns to the
others. Past the last serving item, the rest follow by their best calibrated relevance.

With one goal this is exactly the order of its calibrated relevance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

TURNS = 2000
"""Rows placed by turns at most (a person reads the top; 20,000 serving items of 100,000
would take about a second); the rest follow by their best calibrated relevance."""
DEMAND_FULL = 3.0
"""Items serving a goal from which it holds its full weight's share of seats; a goal
that fewer items serve can fill fewer seats, and its turns come less often."""


@dataclass
class Seating:
    """The order of the rows and the goal each is shown for."""

    order: np.ndarray  # [N] row -> item index
    seat: np.ndarray  # [N] row -> goal index
    votes: np.ndarray  # [G] the goals' votes (weight x demand)


def goal_votes(weights: np.ndarray, serves: np.ndarray, probability: np.ndarray) -> np.ndarray:
    """v_g = weight × min(1, demand / DEMAND_FULL), demand the expected number of items
    that serve the goal (the summed probability of those that clear its bar)."""
    demand = np.where(serves, probability, 0.0).sum(axis=0)
    return np.asarray(weights, np.float64) * np.minimum(1.0, demand / DEMAND_FULL)


def proportional_order(
    probability: np.ndarray,
    logit: np.ndarray,
    weights: np.ndarray,
    bar: float,
    *,
    limit: int | None = None,
) -> Seating:
    """Seat items [N] among goals [G] (PM-2).

    ``probability`` [N, G] that item i serves goal g, ``logit`` [N, G] the order within a
    goal (its log-odds, priors included), ``weights`` [G] > 0, ``bar``: the probability
    from which an item serves a goal. ``limit`` bounds the seats given by turns (the
    rest, in order of best logit): the caller only shows a page.
    """
    n, g = probability.shape
    if n == 0 or g == 0:
        return Seating(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(g))
    serves = probability >= bar
    votes = goal_votes(weights, serves, probability)
    queues = []
    for j in range(g):
        members = np.flatnonzero(serves[:, j])
        queues.append(members[np.argsort(-logit[members, j], kind="stable")].tolist())
    # Plain Python over the turns: each is a few comparisons per goal, and numpy's
    # per-call overhead would be most of the time (the same float64 arithmetic).
    queue_probability = [probability[q, j].tolist() for j, q in enumerate(queues)]
    vote = votes.tolist()
    heads = [0] * g
    seats = [0.0] * g
    taken = np.zeros(n, bool)
    taken_list = [False] * n
    order: list[int] = []
    seat: list[int] = []
    open_goals = [v > 0 for v in vote]
    budget = min(n, TURNS) if limit is None else min(n, limit, TURNS)
    nxt = [0.0] * g  # the probability of each goal's best remaining item
    while len(order) < budget and any(open_goals):
        for j in range(g):
            if not open_goals[j]:
                continue
            queue, h = queues[j], heads[j]
            while h < len(queue) and taken_list[queue[h]]:
                h += 1
            heads[j] = h
            if h >= len(queue):
                open_goals[j] = False
            else:
                nxt[j] = queue_probability[j][h]
        if not any(open_goals):
            break
        # PM-2: the goal with the highest quotient takes the seat; among equal quotients,
        # the one whose best remaining item serves it most surely.
        quotient = [
            vote[j] / (2.0 * seats[j] + 1.0) if open_goals[j] else -math.inf for j in range(g)
        ]
        cut = max(quotient) * (1 - 1e-9)
        j, surest = -1, -math.inf
        for k in range(g):
            if open_goals[k] and quotient[k] >= cut and nxt[k] > surest:
                j, surest = k, nxt[k]
        item = queues[j][heads[j]]
        heads[j] += 1
        taken_list[item] = True
        order.append(item)
        seat.append(j)
        seats[j] += 1.0
    taken[order] = True
    rest = np.flatnonzero(~taken)
    best = logit[rest].argmax(axis=1)
    rest_key = logit[rest, best]
    tail = np.argsort(-rest_key, kind="stable")
    return Seating(
        np.concatenate([np.asarray(order, np.int64), rest[tail]]),
        np.concatenate([np.asarray(seat, np.int64), best[tail]]),
        votes,
    )

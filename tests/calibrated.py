"""Calibrated relevance set by the test, for the tests of what consumes it.

The ranker calibrates each goal against the profile's own score distribution (issue 13);
the focus plan, the review and the inbox only read ``RankedItem.calibrated``. A test of
those consumers on a tiny profile (where a distribution says little) states which items
serve which goals instead: ``Ranker.rank`` returns its real ranking with ``calibrated``
replaced as the test says, for every profile opened while the patch holds (the CLI's too).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import pytest

WEAK = 0.1
"""The calibrated relevance of every pair a test does not list (below the bar)."""


def calibrate(monkeypatch: pytest.MonkeyPatch, serving: Mapping[str, Mapping[str, float]]) -> None:
    """Rows' ``calibrated`` from ``serving``: item title -> {goal title: probability};
    every other (item, goal) pair gets ``WEAK``."""
    from focusdesk.rank.ranker import Ranker

    real = Ranker.rank

    def rank(self: Ranker, *args: Any, **kwargs: Any) -> list[Any]:
        rows = real(self, *args, **kwargs)
        titles = {g.id: g.title for g in self.active_goals(kwargs.get("goal_ids"))}
        return [
            replace(
                r,
                calibrated={
                    g: serving.get(r.title, {}).get(titles.get(g, ""), WEAK) for g in r.goal_scores
                },
            )
            for r in rows
        ]

    monkeypatch.setattr(Ranker, "rank", rank)


def serve(goal: str, *titles: str, p: float = 0.9) -> dict[str, dict[str, float]]:
    """``titles`` serve ``goal`` with probability ``p``."""
    return {t: {goal: p} for t in titles}

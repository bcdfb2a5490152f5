from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from focusdesk.rank.priors import ages_in_days, recency, stories_and_redundancy
from focusdesk.settings import Settings


def test_recency_halves_every_half_life() -> None:
    now = datetime(2026, 11, 22, tzinfo=UTC)
    ages = ages_in_days([now, now - timedelta(days=7), now - timedelta(days=14), None], now)
    r = recency(ages, np.full(4, 7.0), 0.1)
    assert r[0] == pytest.approx(0.1)
    assert r[1] == pytest.approx(0.05)
    assert r[2] == pytest.approx(0.025)
    assert r[3] == 0.0  # undated: no recency


def _unit(v: list[float]) -> np.ndarray:
    a = np.asarray(v, np.float32)
    return a / np.linalg.norm(a)


def test_duplicates_collapse_into_a_story_and_near_repeats_are_penalised() -> None:
    s = Settings()
    vectors = np.stack(
        [
            _unit([1, 0, 0]),
            _unit([1, 0.01, 0]),  # the same story again
            _unit([1, 0.6, 0]),  # close to item 0 (cos ~0.86): a near repeat
            _unit([0, 1, 0]),  # different
        ]
    )
    scores = np.asarray([0.9, 0.8, 0.7, 0.6])
    st = stories_and_redundancy(scores, vectors, s)
    assert st.story_of.tolist() == [0, 0, 2, 3]
    assert st.members == {0: [1]}
    assert st.penalty[2] > 0
    assert st.penalty[0] == 0
    assert st.penalty[3] == 0
    assert st.penalty[2] <= s.redundancy_penalty

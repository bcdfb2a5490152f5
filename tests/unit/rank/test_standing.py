"""The calibrated standing in words: "top 2 % for this goal"."""

from __future__ import annotations

import pytest

from focusdesk.rank.standing import item_standing, standing_words
from focusdesk.records import RankedItem


@pytest.mark.parametrize(
    ("percentile", "words"),
    [
        (0.98, "top 2 % for this goal"),
        (0.981, "top 2 % for this goal"),  # rounded up: never flatters
        (0.995, "top 1 % for this goal"),
        (1.0, "top 1 % for this goal"),
        (0.9, "top 10 % for this goal"),
        (0.5, "top 50 % for this goal"),
        (0.3, "bottom 30 % for this goal"),
        (0.0, "bottom 1 % for this goal"),
    ],
)
def test_words(percentile: float, words: str) -> None:
    assert standing_words(percentile) == words


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan"), float("inf")])
def test_not_a_share_is_refused(bad: float) -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        standing_words(bad)


def item(**fields: object) -> RankedItem:
    base: dict[str, object] = {
        "item_id": 1,
        "source_id": 1,
        "source_kind": "notes",
        "source_name": "Notes",
        "external_id": "a.md",
        "title": "A",
        "author": None,
        "published_at": None,
        "status": "new",
        "score": 0.5,
        "goal_id": 2,
        "goal_title": "Bread",
        "evidence": "",
        "evidence_span": None,
    }
    base.update(fields)
    return RankedItem(**base)  # type: ignore[arg-type]


def test_item_standing_for_the_goal_it_is_shown_for() -> None:
    r = item(percentile={2: 0.98, 3: 0.4}, calibrated={2: 0.83, 3: 0.1})
    assert item_standing(r) == "top 2 % for this goal; clears its relevance bar (p = 0.83)"
    assert item_standing(r, 3) == "bottom 40 % for this goal; below its relevance bar (p = 0.10)"
    assert item_standing(item(percentile={2: 0.9})) == "top 10 % for this goal"
    assert item_standing(item()) is None  # the ranker gave no percentile
    assert item_standing(item(goal_id=None, percentile={2: 0.9})) is None

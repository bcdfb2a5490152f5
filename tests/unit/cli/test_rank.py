"""`focusdesk rank` says each item's calibrated standing in the Why panel's words."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from focusdesk.cli.rank import run
from focusdesk.rank.stored_ranking import InboxRanking
from focusdesk.records import RankedItem


class Ranking:
    def __init__(self, items: list[RankedItem]) -> None:
        self.items = items
        self.asked: list[bool] = []

    def inbox(self, *, fresh: bool = False) -> InboxRanking:
        self.asked.append(fresh)
        return InboxRanking(self.items, datetime(2026, 1, 1, tzinfo=UTC), current=True)


class Desk:
    def __init__(self, items: list[RankedItem]) -> None:
        self.ranking = Ranking(items)


def ranked(item_id: int, **fields: Any) -> RankedItem:
    return RankedItem(
        item_id=item_id,
        source_id=1,
        source_kind="mbox",
        source_name="Inbox",
        external_id=f"<{item_id}@x>",
        title=f"Item {item_id}",
        author=None,
        published_at=None,
        status="new",
        score=0.5,
        goal_id=3,
        goal_title="Bake sourdough bread",
        evidence="The levain doubled overnight.",
        evidence_span=None,
        **fields,
    )


def test_text_output_says_the_standing(capsys: pytest.CaptureFixture[str]) -> None:
    desk = Desk([ranked(1, percentile={3: 0.98}, calibrated={3: 0.9}), ranked(2)])
    args = argparse.Namespace(all=False, top=5, json=False, fresh=False)
    assert run(desk, args) == 0  # type: ignore[arg-type]
    out = capsys.readouterr().out.splitlines()
    assert out[2].strip() == "top 2 % for this goal; clears its relevance bar (p = 0.90)"
    assert len(out) == 5  # the item without a percentile has no standing line


@pytest.mark.parametrize("fresh", [False, True])
def test_the_top_of_the_inbox_ranking_stored_or_fresh(
    capsys: pytest.CaptureFixture[str], fresh: bool
) -> None:
    """`rank --top K` prints the first K rows of the inbox's ranking (the stored one when
    current); `--fresh` asks for a new one."""
    desk = Desk([ranked(1), ranked(2), ranked(3)])
    args = argparse.Namespace(all=False, top=2, json=True, fresh=fresh)
    assert run(desk, args) == 0  # type: ignore[arg-type]
    assert [json.loads(line)["id"] for line in capsys.readouterr().out.splitlines()] == [1, 2]
    assert desk.ranking.asked == [fresh]

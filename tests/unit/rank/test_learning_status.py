"""What learning did, in words."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from focusdesk.rank.affinities import Priors
from focusdesk.rank.learning_status import describe_changes, learning_status, percent


def test_changes_are_said_in_words() -> None:
    old = Priors({1: 0.0}, {"lena@example.org": 0.0})
    new = Priors({1: -0.08, 2: 0.001}, {"lena@example.org": 0.12, "spam@ads.example": -0.05})
    lines = describe_changes(0.714, 0.83, old, new, {1: "Newsletters", 2: "Notes"})
    assert lines == [
        "held-out pairs ordered correctly: 71 % → 83 %",
        "now favours mail from lena@example.org",
        "now ranks mail from spam@ads.example lower",
        "now ranks Newsletters lower",  # Notes moved too little to mention
    ]
    assert percent(math.nan) == "n/a"


def test_status_names_the_version_in_use_its_signals_and_what_waits() -> None:
    when = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    versions = [
        {"id": 1, "created_at": when, "labels": 12, "accepted": True, "active": True,
         "metrics": {"changes": ["held-out pairs ordered correctly: 60 % → 80 %"]}},
        {"id": 2, "created_at": when, "labels": 20, "accepted": False, "active": False,
         "metrics": {"held_out_accuracy_current": 0.8, "held_out_accuracy_new": 0.7}},
    ]  # fmt: skip
    status = learning_status(versions, enabled=True, pending=3)
    assert status.version_id == 1
    assert status.headline() == (
        "Ranking with learnt version 1 (12 signals): held-out pairs ordered correctly: 60 % → 80 %"
    )
    lines = status.lines()
    local = when.astimezone().strftime("%Y-%m-%d %H:%M")
    assert lines[0] == f"Learnt version 1 ranks your items: trained {local} on 12 signals."
    assert "  Held-out pairs ordered correctly: 60 % → 80 %." in lines
    assert "3 new signals not learnt from yet." in lines
    assert any("not better held out (80 % → 70 %)" in line for line in lines)
    off = learning_status([], enabled=False, pending=0)
    assert off.headline() == "Ranking with the untrained scorer; learning is off"

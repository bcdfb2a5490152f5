"""Goals' short names: the user's name for a goal, or its first clause."""

from __future__ import annotations

from typing import Any

import pytest

from focusdesk.errors import KnownError
from focusdesk.records import goal_short_name


@pytest.mark.parametrize(
    ("title", "short"),
    [
        ("Hiring", "Hiring"),
        ("Ship the v2 firmware, with the low power mode", "Ship the v2 firmware"),
        ("Board prep: slides and numbers", "Board prep"),
        ("Sleep current (BLE) regressions", "Sleep current"),
        ("Move house - boxes, van, keys", "Move house"),
        ("  Leek   soup\nrecipes ", "Leek soup recipes"),
        (
            "Understand every part of the attention scoring layer and its training loop",
            "Understand every part…",
        ),
    ],
)
def test_the_first_clause_is_the_short_name(title: str, short: str) -> None:
    assert goal_short_name(title) == short
    assert len(goal_short_name(title)) <= 24


def test_a_name_the_user_set_wins() -> None:
    assert goal_short_name("Ship the v2 firmware, with OTA", "Firmware v2") == "Firmware v2"
    assert goal_short_name("Ship it, now", "  ") == "Ship it"


def test_goals_keep_their_name_and_it_can_be_cleared(fd: Any) -> None:
    goal = fd.goals.add("Ship the v2 firmware, with the low power mode", name=" Firmware  v2 ")
    assert goal.name == "Firmware v2"
    assert goal.short_name == "Firmware v2"
    assert fd.goals.all()[0].name == "Firmware v2"
    cleared = fd.goals.update(goal.id, name="")
    assert cleared.name is None
    assert cleared.short_name == "Ship the v2 firmware"
    renamed = fd.goals.update(goal.id, name="FW")
    assert renamed.short_name == "FW"
    with pytest.raises(KnownError, match="at most 80"):
        fd.goals.update(goal.id, name="x" * 81)
    assert fd.goals.all()[0].name == "FW"  # nothing lost on bad input

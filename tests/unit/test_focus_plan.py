"""`focus plan`: the top items for a block and their minute allocations."""

from __future__ import annotations

from pathlib import Path

import pytest

from focusdesk.app import FocusDesk
from focusdesk.errors import KnownError


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    root = tmp_path / "vault"
    root.mkdir()
    texts = {
        "ota.md": "# OTA\n\nSigned OTA firmware updates with rollback for the sensor.",
        "ble.md": "# BLE\n\nBLE firmware disconnects during OTA updates on old phones.",
        "budget.md": "# Power\n\nFirmware sleep current budget for the sensor.",
        "soup.md": "# Soup\n\nLeek and potato soup.",
        "bike.md": "# Bike\n\nNew chain for the bike.",
    }
    for name, text in texts.items():
        (root / name).write_text(text)
    return root


def test_plan_gives_the_best_items_the_most_minutes(fd: FocusDesk, vault: Path) -> None:
    fd.add_source("notes", str(vault))
    fd.sync()
    fd.add_goal("OTA firmware updates for the sensor")
    plan = fd.focus_plan(60, 3)
    assert len(plan) == 3
    assert sum(e.minutes for e in plan) == 60
    assert [e.item.score for e in plan] == sorted((e.item.score for e in plan), reverse=True)
    assert plan[0].minutes >= plan[-1].minutes
    assert plan[0].item.title == "OTA"
    assert all(e.minutes >= fd.settings.focus_floor_minutes for e in plan)
    assert {"minutes", "share", "title", "evidence", "goal"} <= set(plan[0].to_json())


def test_plan_for_one_goal_ranks_against_that_goal_only(fd: FocusDesk, vault: Path) -> None:
    fd.add_source("notes", str(vault))
    fd.sync()
    fd.add_goal("OTA firmware updates for the sensor")
    soup = fd.add_goal("leek soup recipes")
    plan = fd.focus_plan(30, 1, goal_ids=[soup.id])
    assert plan[0].item.title == "Soup"
    assert plan[0].minutes == 30


def test_plan_needs_minutes(fd: FocusDesk) -> None:
    with pytest.raises(KnownError):
        fd.focus_plan(0)


def test_plan_leaves_out_what_is_done_dismissed_or_snoozed(fd: FocusDesk, vault: Path) -> None:
    from datetime import timedelta

    from focusdesk.store.models import utcnow

    fd.add_source("notes", str(vault))
    fd.sync()
    fd.add_goal("OTA firmware updates for the sensor")
    first = [e.item for e in fd.focus_plan(60, 3)]
    fd.triage.done(first[0].item_id)
    fd.triage.dismiss(first[1].item_id)
    fd.triage.snooze(first[2].item_id, utcnow() + timedelta(days=1))
    later = {e.item.item_id for e in fd.focus_plan(60, 3)}
    assert not later & {i.item_id for i in first}
    # Once the snooze is over the item is back in the plan.
    tomorrow = fd.focus_plan(60, 5, now=utcnow() + timedelta(days=2))
    assert first[2].item_id in {e.item.item_id for e in tomorrow}

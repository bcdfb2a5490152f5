"""`focus plan`: the top items for a block and their minute allocations."""

from __future__ import annotations

from pathlib import Path

import pytest
from calibrated import calibrate, serve

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


OTA_GOAL = "OTA firmware updates for the sensor"
FIRMWARE = {"OTA": {OTA_GOAL: 0.95}, "BLE": {OTA_GOAL: 0.85}, "Power": {OTA_GOAL: 0.75}}
"""The notes that serve the OTA goal, best first (calibration is the ranker's; here it is
given)."""


def test_plan_gives_the_best_items_the_most_minutes(
    fd: FocusDesk, vault: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fd.sources.add("notes", str(vault))
    fd.sources.sync()
    fd.goals.add(OTA_GOAL)
    calibrate(monkeypatch, FIRMWARE)
    plan = fd.planner.plan(60, 3)
    assert len(plan) == 3
    assert sum(e.minutes for e in plan) == 60
    minutes = {e.item.title: e.minutes for e in plan}
    assert minutes["OTA"] >= minutes["BLE"] >= minutes["Power"]
    assert minutes["OTA"] > minutes["Power"]
    assert all(e.minutes >= fd.settings.focus_floor_minutes for e in plan)
    assert {"minutes", "share", "title", "evidence", "goal"} <= set(plan[0].to_json())


def test_plan_for_one_goal_ranks_against_that_goal_only(
    fd: FocusDesk, vault: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fd.sources.add("notes", str(vault))
    fd.sources.sync()
    fd.goals.add(OTA_GOAL)
    soup = fd.goals.add("leek soup recipes")
    calibrate(monkeypatch, {**FIRMWARE, **serve("leek soup recipes", "Soup")})
    plan = fd.planner.plan(30, 1, goal_ids=[soup.id])
    assert plan[0].item.title == "Soup"
    assert plan[0].minutes == 30


def test_plan_needs_minutes(fd: FocusDesk) -> None:
    with pytest.raises(KnownError):
        fd.planner.plan(0)


def test_plan_leaves_out_what_is_done_dismissed_or_snoozed(
    fd: FocusDesk, vault: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import timedelta

    from focusdesk.store.models import utcnow

    fd.sources.add("notes", str(vault))
    fd.sources.sync()
    fd.goals.add(OTA_GOAL)
    calibrate(monkeypatch, FIRMWARE)
    first = [e.item for e in fd.planner.plan(60, 3)]
    assert len(first) == 3
    fd.triage.done(first[0].item_id)
    fd.triage.dismiss(first[1].item_id)
    fd.triage.snooze(first[2].item_id, utcnow() + timedelta(days=1))
    later = {e.item.item_id for e in fd.planner.plan(60, 3)}
    assert not later & {i.item_id for i in first}
    # Once the snooze is over the item is back in the plan.
    tomorrow = fd.planner.plan(60, 5, now=utcnow() + timedelta(days=2))
    assert first[2].item_id in {e.item.item_id for e in tomorrow}


def test_plan_shares_the_block_among_goals_and_the_cli_says_so(
    fd: FocusDesk, vault: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import argparse

    from focusdesk.cli.focus import run

    fd.sources.add("notes", str(vault))
    fd.sources.sync()
    ota = fd.goals.add(OTA_GOAL)
    soup = fd.goals.add("leek soup recipes")
    fd.goals.add("learning to bake sourdough bread")  # nothing serves it
    calibrate(monkeypatch, {**serve(OTA_GOAL, "OTA", "BLE"), **serve("leek soup recipes", "Soup")})
    plan = fd.planner.plan(60, 5)
    minutes = {g: sum(e.minutes for e in plan if e.item.goal_id == g) for g in (ota.id, soup.id)}
    assert minutes == {ota.id: 40, soup.id: 20}  # 2 items : 1 item, equal weights
    assert sum(e.minutes for e in plan) == 60
    assert {e.item.title for e in plan} == {"OTA", "BLE", "Soup"}

    run(fd, argparse.Namespace(action="plan", minutes=60, top=5, goals=None, json=False))
    out = capsys.readouterr().out
    assert "   40 min for OTA firmware updates for the sensor (2 items)" in out
    assert "   20 min for leek soup recipes (1 item)" in out
    assert "sourdough" not in out


def test_cli_plan_says_when_nothing_clears_the_bar(
    fd: FocusDesk, vault: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import argparse

    from focusdesk.cli.focus import run

    fd.sources.add("notes", str(vault))
    fd.sources.sync()
    fd.goals.add("learning to bake sourdough bread")
    calibrate(monkeypatch, {})
    assert fd.planner.plan(60) == []
    run(fd, argparse.Namespace(action="plan", minutes=60, top=None, goals=None, json=False))
    assert "no item clears the relevance bar" in capsys.readouterr().out

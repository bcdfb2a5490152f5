"""A process killed (SIGKILL) while it stores the inbox ranking leaves the previous one in
use: whole, readable, and judged against what changed since; the next ranking replaces it."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
from fault_runner import focusdesk
from faults import FAKE, Golden, copy_profile

from focusdesk.rank.stored_ranking import load_ranking, ranking_file


def ranked_ids(stdout: str) -> list[int]:
    return [json.loads(line)["id"] for line in stdout.splitlines()]


@pytest.mark.parametrize("point", [1, 2], ids=["temporary file opened", "before the rename"])
def test_a_kill_while_the_ranking_is_stored_leaves_the_previous_one(
    golden: Golden, tmp_path: Path, point: int
) -> None:
    profile = copy_profile(golden.synced, tmp_path / "p")
    stored_at = ranking_file(profile / "cache")
    focusdesk(profile, "goals", "add", "battery life measurements at night", env=FAKE)
    first = ranked_ids(focusdesk(profile, "rank", "--all", "--json", env=FAKE).stdout)
    before = stored_at.read_bytes()
    previous = load_ranking(stored_at)
    assert previous is not None
    assert [r.item_id for r in previous.items] == first

    focusdesk(profile, "goals", "add", "firmware release of the low power radio", env=FAKE)
    env = {**FAKE, "FOCUSDESK_TEST_KILL_FILE": f"cache/ranking:{point}"}
    killed = focusdesk(profile, "rank", "--json", env=env, check=False)
    assert killed.returncode == -signal.SIGKILL
    assert stored_at.read_bytes() == before  # the previous ranking, untouched
    kept = load_ranking(stored_at)
    assert kept is not None
    assert [r.item_id for r in kept.items] == first

    # It is not taken for current (a goal was added): the next `rank` computes and stores.
    again = focusdesk(profile, "rank", "--all", "--json", env=FAKE).stdout
    assert stored_at.read_bytes() != before
    now = load_ranking(stored_at)
    assert now is not None
    assert [r.item_id for r in now.items] == ranked_ids(again)
    goals = {r.goal_id for r in now.items} - {None}
    assert len(goals) == 2  # ranked against both goals

"""The ranker's all-goals order: calibrated relevance and seats shared among goals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fakes import FakeEncoder

from focusdesk.app import FocusDesk
from focusdesk.records import RELEVANCE_BAR

FILLER = [
    "meeting",
    "invoice",
    "travel",
    "lunch",
    "weather",
    "holiday",
    "budget",
    "report",
    "printer",
    "parking",
    "coffee",
    "schedule",
    "office",
    "review",
    "laptop",
    "train",
    "ticket",
    "hotel",
    "dinner",
    "music",
    "movie",
    "book",
    "football",
    "cinema",
    "museum",
    "payroll",
    "insurance",
    "dentist",
    "plumber",
    "recipe",
    "painting",
    "guitar",
]


@pytest.fixture
def fake_encoder() -> FakeEncoder:
    return FakeEncoder(dim=4096)  # no hash collisions: the words decide


@pytest.fixture
def flooded(fd: FocusDesk, tmp_path: Path) -> FocusDesk:
    """A vault where one goal's notes outscore everything (40 notes that repeat its words),
    a second goal with 12 weaker notes, and 80 notes about neither. Every note names the
    "project" a few times, as every goal does: each goal's scores spread continuously."""
    rng = np.random.default_rng(0)
    root = tmp_path / "vault"
    root.mkdir()

    def project() -> str:
        return " ".join(["project"] * int(rng.integers(1, 5)))

    for n in range(40):
        (root / f"firmware-{n}.md").write_text(
            f"# firmware {n}\n\nfirmware bootloader flash update firmware bootloader flash "
            f"{project()}\n"
        )
    for n in range(12):
        extra = " ".join(rng.choice(FILLER, 6))
        (root / f"garden-{n}.md").write_text(
            f"# garden {n}\n\ntomatoes compost {extra} {project()}\n"
        )
    for n in range(80):
        words = " ".join(rng.choice(FILLER, int(rng.integers(4, 14))))
        (root / f"other-{n}.md").write_text(f"# other {n}\n\n{words} {project()}\n")
    fd.add_source("notes", str(root))
    fd.sync()
    return fd


def test_a_goal_that_floods_the_scores_shares_the_top(flooded: FocusDesk) -> None:
    firmware = flooded.add_goal("firmware project: bootloader, flash and update").id
    garden = flooded.add_goal("garden project: tomatoes and compost").id
    absent = flooded.add_goal("lattice chromodynamics project: quarks and gluons").id
    top = flooded.rank(10)
    shown = [r.goal_id for r in top]
    # Before, the 40 firmware notes took every row of the top 10.
    assert shown.count(garden) >= 4
    assert shown.count(firmware) >= 4
    assert absent not in [r.goal_id for r in flooded.rank(30)]
    for row in top:
        # The row is shown for a goal it serves, and says so for every goal.
        assert row.goal_id is not None
        assert row.serves(row.goal_id)
        assert set(row.calibrated) == {firmware, garden, absent}
        assert all(0.0 <= p <= 1.0 for p in row.calibrated.values())
        assert row.percentile[row.goal_id] >= 0.8
        assert row.calibrated[absent] < RELEVANCE_BAR
        assert row.title.startswith("firmware" if row.goal_id == firmware else "garden")


def test_one_goal_is_ranked_by_its_own_relevance(flooded: FocusDesk) -> None:
    flooded.add_goal("firmware project: bootloader, flash and update")
    garden = flooded.add_goal("garden project: tomatoes and compost").id
    rows = flooded.rank(None, goal_ids=[garden])
    assert [r.title.split()[0] for r in rows[:12]] == ["garden"] * 12
    assert all(r.goal_id == garden for r in rows)
    # The order is that of the score (relevance plus priors) within one goal.
    scores = [r.score for r in rows]
    assert scores == sorted(scores, reverse=True)


def test_a_subset_is_calibrated_against_the_whole_profile(flooded: FocusDesk) -> None:
    flooded.add_goal("firmware project: bootloader, flash and update")
    flooded.add_goal("garden project: tomatoes and compost")
    whole = {r.item_id: r for r in flooded.rank(None)}
    some = sorted(whole)[::7]  # a review's period: a few items
    flooded.ranker.calibrations.clear()  # fitted afresh, from the subset's call
    part = flooded.rank(None, item_ids=set(some))
    assert {r.item_id for r in part} <= set(some)
    for row in part:
        assert row.calibrated == pytest.approx(whole[row.item_id].calibrated)
        assert row.percentile == pytest.approx(whole[row.item_id].percentile)
    # The fits were reused: nothing about the goals or the items changed.
    fitted = flooded.ranker.calibrations.fitted
    flooded.rank(10)
    assert flooded.ranker.calibrations.fitted == fitted


def test_a_story_row_names_its_first_other_items(fd: FocusDesk, tmp_path: Path) -> None:
    """The Why panel names a story's other items from the row: no store read on the UI."""
    root = tmp_path / "copies"
    root.mkdir()
    body = " ".join(["firmware bootloader flash update plan"] * 12)
    titles = [f"Plan copy {n}" for n in range(6)]
    for n, title in enumerate(titles):
        (root / f"copy-{n}.md").write_text(f"# {title}\n\n{body}\n")
    (root / "other.md").write_text("# Lunch\n\ncoffee dentist plumber guitar\n")
    fd.add_source("notes", str(root))
    fd.sync()
    fd.add_goal("firmware bootloader flash update")
    story = next(r for r in fd.rank(None) if r.story_size > 1)
    assert story.story_size == 6
    # The first three of the five others, by title, none of them the row itself.
    assert len(set(story.story_titles)) == 3
    assert set(story.story_titles) <= set(titles) - {story.title}

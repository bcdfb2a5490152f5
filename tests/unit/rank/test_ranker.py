"""The ranker's all-goals order: calibrated relevance and seats shared among goals."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
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


class FixedClock:
    """The app's clock, standing still where the test puts it."""

    def __init__(self, now: datetime) -> None:
        self.at = now

    def now(self) -> datetime:
        return self.at

    def monotonic(self) -> float:
        return 0.0


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
    fd.sources.add("notes", str(root))
    fd.sources.sync()
    fd.ranker.clock = FixedClock(datetime.now(UTC))  # the recency prior stands still
    return fd


def test_a_goal_that_floods_the_scores_shares_the_top(flooded: FocusDesk) -> None:
    firmware = flooded.goals.add("firmware project: bootloader, flash and update").id
    garden = flooded.goals.add("garden project: tomatoes and compost").id
    absent = flooded.goals.add("lattice chromodynamics project: quarks and gluons").id
    top = flooded.ranking.rank(10)
    shown = [r.goal_id for r in top]
    # Before, the 40 firmware notes took every row of the top 10.
    assert shown.count(garden) >= 4
    assert shown.count(firmware) >= 4
    assert absent not in [r.goal_id for r in flooded.ranking.rank(30)]
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
    flooded.goals.add("firmware project: bootloader, flash and update")
    garden = flooded.goals.add("garden project: tomatoes and compost").id
    rows = flooded.ranking.rank(None, goal_ids=[garden])
    assert [r.title.split()[0] for r in rows[:12]] == ["garden"] * 12
    assert all(r.goal_id == garden for r in rows)
    # The order is that of the score (relevance plus priors) within one goal.
    scores = [r.score for r in rows]
    assert scores == sorted(scores, reverse=True)


def test_a_subset_is_calibrated_against_the_whole_profile(flooded: FocusDesk) -> None:
    flooded.goals.add("firmware project: bootloader, flash and update")
    flooded.goals.add("garden project: tomatoes and compost")
    whole = {r.item_id: r for r in flooded.ranking.rank(None)}
    some = sorted(whole)[::7]  # a review's period: a few items
    flooded.ranker.calibrations.clear()  # fitted afresh, from the subset's call
    part = flooded.ranking.rank(None, item_ids=set(some))
    assert {r.item_id for r in part} <= set(some)
    for row in part:
        assert row.calibrated == pytest.approx(whole[row.item_id].calibrated)
        assert row.percentile == pytest.approx(whole[row.item_id].percentile)
    # The fits were reused: nothing about the goals or the items changed.
    fitted = flooded.ranker.calibrations.fitted
    flooded.ranking.rank(10)
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
    fd.sources.add("notes", str(root))
    fd.sources.sync()
    fd.goals.add("firmware bootloader flash update")
    story = next(r for r in fd.ranking.rank(None) if r.story_size > 1)
    assert story.story_size == 6
    # The first three of the five others, by title, none of them the row itself.
    assert len(set(story.story_titles)) == 3
    assert set(story.story_titles) <= set(titles) - {story.title}


def test_a_described_page_is_those_rows_of_the_full_list(flooded: FocusDesk) -> None:
    flooded.goals.add("firmware project: bootloader, flash and update")
    flooded.goals.add("garden project: tomatoes and compost")
    full = flooded.ranking.rank(None)
    ranking = flooded.ranking.arrays()
    assert [int(i) for i in ranking.item_ids] == [r.item_id for r in full]
    assert flooded.ranking.describe(ranking, range(10, 25)) == full[10:25]
    assert flooded.ranking.rank(12) == full[:12]
    # The arrays name each row's evidence chunk, whose span is the described row's.
    chunks = ranking.evidence_chunks(range(len(ranking)))
    assert (chunks >= 0).sum() == sum(r.evidence_span is not None for r in full)


def test_a_page_reads_only_its_rows_and_never_a_body(flooded: FocusDesk) -> None:
    """rank(top=N) reads the shown fields of N items; no item's body, nor its text beyond
    the evidence passage SQLite cuts out of it."""
    from sqlalchemy import event

    flooded.goals.add("firmware project: bootloader, flash and update")
    flooded.ranking.rank(None)  # the layout, meta and lexical caches are made
    seen: list[tuple[str, object]] = []

    def record(_c: object, _cur: object, statement: str, params: object, *_a: object) -> None:
        seen.append((statement, params))

    event.listen(flooded.store.engine, "before_cursor_execute", record)
    try:
        page = flooded.ranking.rank(7)
    finally:
        event.remove(flooded.store.engine, "before_cursor_execute", record)
    assert len(page) == 7
    texts = [s for s, _ in seen]
    assert not [s for s in texts if "items.body" in s]
    assert not [s for s in texts if re.search(r"(?<!substr\()items\.text\b", s)]
    # The rows' own fields: one select of exactly the page's items (sent as one JSON array).
    fields = [p for s, p in seen if "items.external_id" in s]
    assert len(fields) == 1
    (sent,) = [v for v in fields[0] if isinstance(v, str)]
    assert sorted(json.loads(sent)) == sorted(r.item_id for r in page)


def test_recency_is_read_from_the_apps_clock(data_dir: Path, tmp_path: Path) -> None:
    from focusdesk.paths import resolve_paths

    root = tmp_path / "notes"
    root.mkdir()
    (root / "a.md").write_text("# Flash\n\nfirmware bootloader flash update\n")
    clock = FixedClock(datetime(2030, 1, 1, tzinfo=UTC))
    desk = FocusDesk(resolve_paths(data_dir), encoder=FakeEncoder(dim=256), clock=clock)
    try:
        desk.sources.add("notes", str(root))
        desk.sources.sync()
        desk.goals.add("firmware bootloader flash update")
        published = desk.ranking.rank(None)[0].published_at
        assert published is not None
        dated = published if published.tzinfo else published.replace(tzinfo=UTC)
        half = desk.settings.half_life_notes_days
        weight = desk.settings.recency_weight
        for days in (0.0, half, 3 * half):
            clock.at = dated + timedelta(days=days)
            row = desk.ranking.rank(None)[0]
            assert row.priors["recency"] == pytest.approx(weight * 2 ** (-days / half))
    finally:
        desk.close()


def test_scores_are_reused_until_what_they_came_from_changes(flooded: FocusDesk) -> None:
    import focusdesk.rank.ranker as ranker_module

    calls = []
    real = ranker_module.score_facets

    def counting(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    flooded.goals.add("firmware project: bootloader, flash and update")
    first = flooded.ranking.rank(None)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ranker_module, "score_facets", counting)
        assert flooded.ranking.rank(None) == first
        assert calls == []  # nothing changed: the scores are reused
        garden = flooded.goals.add("garden project: tomatoes and compost").id
        assert any(r.goal_id == garden for r in flooded.ranking.rank(None))
        assert calls  # a new goal: scored again

"""Review assembly: the goal's topic first, periods, statuses, focus minutes and S/N."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from calibrated import calibrate, serve
from review_helpers import GARDEN, GOAL

from focusdesk.errors import KnownError
from focusdesk.review.assemble import (
    assemble_review,
    last_review_at,
    parse_when,
    resolve_period,
)
from focusdesk.store.models import FocusSession, FocusSessionItem, Item

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def wide() -> tuple[datetime, datetime]:
    now = datetime.now(UTC)
    return now - timedelta(days=1), now + timedelta(minutes=1)


def test_review_lists_the_goals_topic_first(profile: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    calibrate(monkeypatch, serve(GOAL, *GARDEN))
    review = assemble_review(profile, *wide())
    entries = review.ranked_entries()
    assert {e.title for e in entries[:3]} == {
        "Tomato garden plan",
        "Rose garden pruning",
        "Herb garden notes",
    }
    assert review.groups[0].goal_title == "tomato garden compost planting"
    assert all(e.summary.sentences for e in entries[:3])
    assert review.items_in_period == 7


def test_review_counts_statuses_and_excludes_items_outside_the_period(profile: Any) -> None:
    with profile.store.session() as s:
        items = s.query(Item).order_by(Item.id).all()
        items[0].status = "done"
        items[1].status = "dismissed"
        old = datetime(2020, 1, 1, tzinfo=UTC)
        items[2].received_at = old
        items[2].published_at = old
    review = assemble_review(profile, *wide())
    assert review.items_in_period == 6
    assert len(review.done) == 1
    assert len(review.dismissed) == 1
    assert review.open_count == 4
    assert all(e.item_id != items[2].id for e in review.entries)


def test_focus_minutes_per_goal_planned_and_actual(profile: Any) -> None:
    goal = profile.goals.all()[0]
    start = datetime.now(UTC) - timedelta(hours=2)
    with profile.store.session() as s:
        sess = FocusSession(
            title="Block",
            goal_ids=[goal.id],
            state="done",
            planned_start=start,
            planned_end=start + timedelta(minutes=60),
            actual_start=start,
        )
        sess.items = [
            FocusSessionItem(
                position=0,
                goal_id=goal.id,
                goal_title=goal.title,
                planned_minutes=30,
                actual_seconds=25 * 60,
            ),
            FocusSessionItem(
                position=1,
                goal_id=goal.id,
                goal_title=goal.title,
                planned_minutes=20,
                actual_seconds=10 * 60,
            ),
        ]
        s.add(sess)
    review = assemble_review(profile, *wide())
    assert review.focus_planned == 50
    assert review.focus_actual == pytest.approx(35)
    assert sum(review.focus[0].per_day.values()) == pytest.approx(35)


def test_signal_to_noise_and_mute_suggestion(fd: Any, tmp_path: Path) -> None:
    from review_helpers import NOTES, make_profile

    noise = {f"ads-{n}.md": f"# Offer {n}\n\nBuy cheap shoes now, offer {n}.\n" for n in range(6)}
    make_profile(fd, tmp_path, NOTES)
    vault2 = tmp_path / "ads"
    vault2.mkdir()
    for name, text in noise.items():
        (vault2 / name).write_text(text, "utf-8")
    fd.sources.add("notes", str(vault2), name="Ads")
    fd.sources.sync()
    review = assemble_review(fd, *wide())
    by_name = {x.source_name: x for x in review.sources}
    assert by_name["Ads"].items == 6
    assert by_name["Ads"].ratio < by_name["Notes"].ratio
    assert [x.source_name for x in review.suggestions] == ["Ads"]


def test_periods(fd: Any) -> None:
    assert parse_when("7d", NOW) == NOW - timedelta(days=7)
    assert parse_when("12h", NOW) == NOW - timedelta(hours=12)
    end = parse_when("2026-11-20", NOW, end=True)
    assert end.astimezone().date().isoformat() == "2026-11-21"
    with pytest.raises(KnownError):
        parse_when("yesterday-ish", NOW)
    assert last_review_at(fd) is None
    since, until = resolve_period(fd, None, None, now=NOW)
    assert until - since == timedelta(days=1)
    fd.review(mark=True)
    assert last_review_at(fd) is not None
    with pytest.raises(KnownError):
        resolve_period(fd, "2026-11-22", "2026-11-01", now=NOW)


def test_a_source_that_feeds_the_top_goal_is_never_suggested_for_muting(
    fd: Any, tmp_path: Path
) -> None:
    from review_helpers import NOTES, make_profile

    make_profile(fd, tmp_path, NOTES)
    lists = tmp_path / "lists"
    lists.mkdir()
    for n in range(2):
        (lists / f"boot-{n}.md").write_text(
            f"# Bootloader signing {n}\n\nBootloader image signing keys, rotation {n}.\n", "utf-8"
        )
    for n in range(14):
        (lists / f"chat-{n}.md").write_text(
            f"# Lunch menu {n}\n\nSandwiches and coffee on floor {n}.\n", "utf-8"
        )
    fd.sources.add("notes", str(lists), name="Lists")
    fd.goals.add("bootloader image signing", weight=3.0)  # the highest weight
    fd.sources.sync()
    review = assemble_review(fd, *wide())
    by_name = {x.source_name: x for x in review.sources}
    assert by_name["Lists"].items == 16
    assert by_name["Lists"].ratio < 0.2  # noisy, and still not suggested:
    assert "Lists" not in [x.source_name for x in review.suggestions]


def test_review_lists_under_a_goal_only_what_clears_its_bar(
    profile: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    calibrate(monkeypatch, serve(GOAL, *GARDEN))
    review = assemble_review(profile, *wide())
    [group] = review.groups
    assert {e.title for e in group.entries} == set(GARDEN)  # not the tax or guitar notes
    assert group.total == 3
    assert group.weak == 4
    assert group.weak_text == "4 more matched this goal weakly"


def test_a_goal_nothing_clears_lists_nothing_and_says_so(
    profile: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    calibrate(monkeypatch, {})
    review = assemble_review(profile, *wide())
    [group] = review.groups
    assert group.entries == []
    assert group.weak_text == "7 matched this goal weakly"


def ranked(seat: int | None, calibrated: dict[int, float]) -> Any:
    from focusdesk.records import RankedItem

    return RankedItem(
        item_id=1,
        source_id=1,
        source_kind="notes",
        source_name="Notes",
        external_id="a.md",
        title="a",
        author=None,
        published_at=None,
        status="new",
        score=0.5,
        goal_id=seat,
        goal_title=None,
        evidence="",
        evidence_span=None,
        calibrated=calibrated,
    )


def test_filed_under_the_seat_the_best_goal_served_or_counted_as_weak() -> None:
    from focusdesk.review.assemble import filed_under

    assert filed_under(ranked(1, {1: 0.7, 2: 0.9})) == (1, True)  # its seat, which it serves
    assert filed_under(ranked(1, {1: 0.3, 2: 0.6, 3: 0.8})) == (3, True)  # best served
    assert filed_under(ranked(1, {1: 0.3, 2: 0.4})) == (1, False)  # weak: counted only
    assert filed_under(ranked(2, {})) == (2, True)  # ranked without calibration


def test_the_default_period_ends_at_the_desks_clock(data_dir: Path) -> None:
    from fakes import FakeEncoder, ManualClock

    from focusdesk.app import FocusDesk
    from focusdesk.paths import resolve_paths

    desk = FocusDesk(resolve_paths(data_dir), encoder=FakeEncoder(), clock=ManualClock(NOW))  # type: ignore[arg-type]
    try:
        assert resolve_period(desk, None, None) == (NOW - timedelta(days=1), NOW)
        assert resolve_period(desk, "7d", None) == (NOW - timedelta(days=7), NOW)
    finally:
        desk.close()

"""The Review tab: assembled in the worker, entries open items, charts add up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from calibrated import calibrate, serve
from gui_helpers import SIGNAL_TIMEOUT_MS

from focusdesk.app import FocusDesk
from focusdesk.store.models import FocusSession, FocusSessionItem
from focusdesk.ui.operations import Operations
from focusdesk.ui.review_tab import ITEM_ID_ROLE, ReviewTab

NOTES = {
    "tomato.md": "# Tomato garden plan\n\nWater the tomato garden. Compost before planting.\n",
    "roses.md": "# Rose garden pruning\n\nPrune garden roses. Garden compost helps roses.\n",
    "tax.md": "# Tax return\n\nFile the income tax return before April.\n",
    "guitar.md": "# Guitar practice\n\nPractice guitar scales for thirty minutes.\n",
}


GOAL = "tomato garden compost planting"
GARDEN = serve(GOAL, "Tomato garden plan", "Rose garden pruning")
"""The notes that serve the goal (calibration is the ranker's; here it is given)."""


def seed(desk: FocusDesk, tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    vault.mkdir()
    for name, text in NOTES.items():
        (vault / name).write_text(text, "utf-8")
    desk.sources.add("notes", str(vault), name="Notes")
    goal = desk.goals.add(GOAL)
    desk.sources.sync()
    start = datetime.now(UTC) - timedelta(hours=3)
    with desk.store.session() as s:
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
                planned_minutes=40,
                actual_seconds=30 * 60,
            )
        ]
        s.add(sess)


def test_review_tab_shows_the_review_and_opens_items(
    qtbot: Any, profile: FocusDesk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calibrate(monkeypatch, GARDEN)
    seed(profile, tmp_path)
    tasks = Operations()
    tab = ReviewTab(profile, tasks)
    qtbot.addWidget(tab)
    tab.show()
    with qtbot.waitSignal(tab.review_did_load, timeout=SIGNAL_TIMEOUT_MS):
        tab.refresh()
    review = tab.review
    assert review is not None
    titles = [profile.items.get(i).title for i in tab.item_ids()]
    assert set(titles[:2]) == {"Tomato garden plan", "Rose garden pruning"}

    # Charts: the drawn values add up to the review's totals, and they paint offscreen.
    assert tab.focus_chart.total() == review.focus_actual == 30
    assert abs(tab.sn_chart.total() - sum(x.ratio for x in review.sources)) < 1e-9
    for chart in (tab.focus_chart, tab.sn_chart):
        image = chart.grab().toImage()
        assert not image.isNull()
        assert image.width() > 0

    # Activating an entry asks for its item.
    head = tab.model.index(0, 0)
    entry = tab.model.index(0, 0, head)
    with qtbot.waitSignal(tab.item_activated, timeout=SIGNAL_TIMEOUT_MS) as blocker:
        tab.view.activated.emit(entry)
    assert blocker.args == [entry.data(ITEM_ID_ROLE)]

    target = tmp_path / "review.html"
    tab.export_to(str(target))
    page = target.read_text("utf-8")
    assert "Tomato garden plan" in page
    assert "<script" not in page
    tasks.shutdown()


def test_main_window_review_action_opens_the_dock(
    qtbot: Any,
    make_window: Any,
    profile: FocusDesk,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calibrate(monkeypatch, GARDEN)
    seed(profile, tmp_path)
    window = make_window(profile)
    with qtbot.waitSignal(window.review_tab.review_did_load, timeout=SIGNAL_TIMEOUT_MS):
        window.findChild(type(window.menus["inbox"].actions()[0]), "review_action").trigger()
    assert window.review_dock.isVisible()
    item_id = window.review_tab.item_ids()[0]
    window.review_tab.item_activated.emit(item_id)
    qtbot.waitUntil(lambda: window.reader.item_id == item_id, timeout=SIGNAL_TIMEOUT_MS)


def test_review_tab_says_how_many_matched_a_goal_weakly(
    qtbot: Any, profile: FocusDesk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from focusdesk.review.assemble import assemble_review

    calibrate(monkeypatch, GARDEN)
    seed(profile, tmp_path)
    now = datetime.now(UTC)
    review = assemble_review(profile, now - timedelta(days=1), now + timedelta(minutes=1))
    tab = ReviewTab(profile, Operations())
    qtbot.addWidget(tab)
    tab.show_review(review)
    head = tab.model.item(0, 0)
    assert head.rowCount() == 3  # the two garden notes, then the weak line
    assert head.child(2, 0).text() == "2 more matched this goal weakly"  # tax, guitar
    assert not head.child(2, 0).isSelectable()
    assert len(tab.item_ids()) == 2

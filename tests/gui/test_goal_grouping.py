"""The inbox grouped by goal: G toggles it, J/K pass the headers by, the choice is
remembered, and moving a goal's weight re-ranks the grouped list live."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from calibrated import calibrate
from gui_helpers import SIGNAL_TIMEOUT_MS, ranked_window, settle
from PySide6.QtCore import Qt

from focusdesk.app import FocusDesk
from focusdesk.ui.inbox_groups import NO_GOAL, group_seat
from focusdesk.ui.inbox_model import Column
from focusdesk.ui.main_window import MainWindow

GOALS = ("firmware release checklist", "hiring embedded engineers")


def grouped_notes(root: Path) -> Path:
    root.mkdir()
    for i in range(6):
        (root / f"fw-{i}.md").write_text(
            f"# Firmware release {i}\n\nFirmware release checklist step {i}.\n", encoding="utf-8"
        )
        (root / f"hire-{i}.md").write_text(
            f"# Hiring round {i}\n\nHiring embedded engineers, interview {i}.\n", encoding="utf-8"
        )
    return root


@pytest.fixture(autouse=True)
def serving(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each note serves its own goal (a tiny profile's own distribution says little)."""
    fw = {f"Firmware release {i}": {GOALS[0]: 0.9} for i in range(6)}
    calibrate(monkeypatch, {**fw, **{f"Hiring round {i}": {GOALS[1]: 0.9} for i in range(6)}})


def window_with_goals(qtbot: Any, make_window: Any, profile: FocusDesk, tmp_path: Path) -> Any:
    window = ranked_window(qtbot, make_window, profile, grouped_notes(tmp_path / "n"), *GOALS)
    window.inbox_view.setFocus()
    return window


def goal_of_row(window: MainWindow, row: int) -> int | None:
    """The group the row's item belongs in (the goal it is shown for, when it serves it)."""
    item = window.inbox_model.item_at(row)
    return group_seat(item) if item is not None else None


def test_g_groups_the_inbox_by_goal_and_j_k_pass_the_headers_by(
    qtbot: Any, make_window: Any, profile: FocusDesk, tmp_path: Path
) -> None:
    window = window_with_goals(qtbot, make_window, profile, tmp_path)
    model = window.inbox_model
    assert not model.grouped
    assert model.header_rows() == []
    shown = model.shown_count()
    window.inbox_controller.select_row(2)
    selected = window.inbox_controller.current_item_id()

    qtbot.keyClick(window.inbox_view, Qt.Key.Key_G)
    assert model.grouped
    assert window.goal_grouping.action.isChecked()
    headers = model.header_rows()
    groups = [model.header_at(r).goal_id for r in headers]  # type: ignore[union-attr]
    # One per goal, then the rows that clear no goal's bar (if any), last.
    assert set(groups) - {None} == {g.id for g in profile.goals.all()}
    assert None not in groups[:-1]
    assert window.inbox_controller.current_item_id() == selected  # the selection stays on its item
    names: dict[int | None, str] = {g.id: g.short_name for g in profile.goals.all()}
    names[None] = NO_GOAL
    for row in headers:
        header = model.header_at(row)
        assert header is not None
        assert model.index(row, Column.TITLE).data().startswith(names[header.goal_id])
        assert window.inbox_view.columnSpan(row, 0) == model.columnCount()  # the whole width
        members = range(row + 1, row + 1 + header.rows)
        assert {goal_of_row(window, r) for r in members} == {header.goal_id}
    assert model.shown_count() == shown
    assert window.status.count.text() == f"{shown} items"  # headers are not items

    # J and K walk the items; a header is never selected.
    qtbot.keyClick(window.inbox_view, Qt.Key.Key_Home)
    assert window.inbox_controller.current_row() == 1
    seen = [window.inbox_controller.current_item_id()]
    for _ in range(model.rowCount()):
        qtbot.keyClick(window.inbox_view, Qt.Key.Key_J)
        seen.append(window.inbox_controller.current_item_id())
    assert None not in seen
    assert len(set(seen)) == shown  # every item, then it stays on the last
    for _ in range(model.rowCount()):
        qtbot.keyClick(window.inbox_view, Qt.Key.Key_K)
        assert window.inbox_controller.current_item_id() is not None
    assert window.inbox_controller.current_row() == 1

    # The arrow keys and End pass the headers by as well.
    last_of_first = model.header_rows()[1] - 1
    window.inbox_controller.select_row(last_of_first)
    qtbot.keyClick(window.inbox_view, Qt.Key.Key_Down)
    assert window.inbox_controller.current_row() == last_of_first + 2
    qtbot.keyClick(window.inbox_view, Qt.Key.Key_Up)
    assert window.inbox_controller.current_row() == last_of_first
    qtbot.keyClick(window.inbox_view, Qt.Key.Key_End)
    assert window.inbox_controller.current_row() == model.rowCount() - 1

    qtbot.keyClick(window.inbox_view, Qt.Key.Key_G)  # back to the mix
    assert not model.grouped
    assert model.header_rows() == []
    assert window.inbox_view.columnSpan(0, 0) == 1


def test_the_grouping_is_remembered_across_restarts(
    qtbot: Any, make_window: Any, profile: FocusDesk, tmp_path: Path
) -> None:
    window = window_with_goals(qtbot, make_window, profile, tmp_path)
    window.goal_grouping.action.trigger()
    window.close()
    again: MainWindow = make_window(profile, show=False)
    again.show()  # nothing changed: it opens on the stored ranking, nothing is re-ranked
    qtbot.waitUntil(lambda: again.inbox_controller.shows_ranking, timeout=SIGNAL_TIMEOUT_MS)
    assert again.goal_grouping.action.isChecked()
    assert len(again.inbox_model.header_rows()) == 2
    again.goal_grouping.action.trigger()
    again.close()
    third: MainWindow = make_window(profile)
    assert not third.inbox_model.grouped


def test_headers_count_the_items_that_serve_each_goal(
    qtbot: Any, make_window: Any, profile: FocusDesk, tmp_path: Path
) -> None:
    window = window_with_goals(qtbot, make_window, profile, tmp_path)
    items = window.inbox_model.all_items()
    goals = {g.title: g.id for g in profile.goals.all()}
    hiring, firmware = goals["hiring embedded engineers"], goals["firmware release checklist"]
    # Calibrated relevance as the ranker gives it (issue 13): three hiring rounds serve
    # hiring, one release serves firmware, wherever the ranker seated them.
    strong = {"Hiring round 0": hiring, "Hiring round 1": hiring, "Hiring round 2": hiring}
    strong["Firmware release 0"] = firmware
    calibrated = [
        replace(i, calibrated={strong[i.title]: 0.9} if i.title in strong else {}) for i in items
    ]
    window.inbox_controller.set_ranked_items(calibrated)
    window.goal_grouping.set_grouped(True)
    model = window.inbox_model
    high = {model.header_at(r).goal_id: model.header_at(r).high for r in model.header_rows()}
    assert high == {hiring: 3, firmware: 1}


def test_moving_a_goals_weight_regroups_live_and_keeps_the_selection(
    qtbot: Any, make_window: Any, profile: FocusDesk, tmp_path: Path
) -> None:
    window = window_with_goals(qtbot, make_window, profile, tmp_path)
    window.goal_grouping.set_grouped(True)
    model = window.inbox_model
    hiring = next(g for g in profile.goals.all() if g.title.startswith("hiring"))
    window.inbox_controller.select_row(model.header_rows()[1] + 2)
    selected = window.inbox_controller.current_item_id()
    spin = window.goals_panel.weight_editor(hiring.id)
    rankings: list[object] = []
    window.inbox_controller.rank_did_finish.connect(rankings.append)
    # Three steps of the spin box in a row: written one by one, ranked once, in the
    # background (the waits below run the event loop: the UI thread is free).
    with qtbot.waitSignal(
        window.inbox_controller.rank_did_finish, timeout=SIGNAL_TIMEOUT_MS
    ) as ranked:
        for value in (2.0, 3.0, 4.0):
            spin.setValue(value)
    settle(qtbot, window)
    assert len(rankings) == 1
    assert next(g.weight for g in profile.goals.all() if g.id == hiring.id) == 4.0
    # The grouped list is the new ranking, each row under the goal it is now shown for.
    seat = {i.item_id: group_seat(i) for i in ranked.args[0]}
    assert model.grouped
    assert {i.item_id for i in model.items()} == set(seat)
    for row in model.header_rows():
        header = model.header_at(row)
        members = [model.item_at(r) for r in range(row + 1, row + 1 + header.rows)]
        assert {seat[i.item_id] for i in members} == {header.goal_id}
    assert window.inbox_controller.current_item_id() == selected


def test_done_in_a_group_selects_the_next_item_and_the_header_counts_it_out(
    qtbot: Any, make_window: Any, profile: FocusDesk, tmp_path: Path
) -> None:
    window = window_with_goals(qtbot, make_window, profile, tmp_path)
    window.goal_grouping.set_grouped(True)
    model = window.inbox_model
    second = model.header_rows()[1]
    rows_before = model.header_at(second).rows
    last_of_first = second - 1
    window.inbox_controller.select_row(last_of_first)
    done = window.inbox_controller.current_item_id()
    window.inbox_view.setFocus()
    qtbot.keyClick(window.inbox_view, Qt.Key.Key_E)
    settle(qtbot, window)
    assert model.row_of(done) is None  # done: it leaves the inbox
    now = window.inbox_controller.current_item_id()
    assert now is not None  # the next item, not the header that follows
    assert model.header_at(window.inbox_controller.current_row()) is None
    assert model.header_at(model.header_rows()[1]).rows == rows_before
    assert sum(model.header_at(r).rows for r in model.header_rows()) == model.shown_count()

"""The inbox at start: the stored ranking shown at once without computing, refreshed in the
background only when something changed, rows that moved marked, the selection kept."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakes import FakeEncoder, ManualClock
from gui_helpers import NOTES, SIGNAL_TIMEOUT_MS
from PySide6.QtCore import Qt

from focusdesk.app import FocusDesk
from focusdesk.paths import resolve_paths
from focusdesk.ui.inbox_model import SINCE_STORED, moved_text
from focusdesk.ui.main_window import MainWindow

MORE = {
    "radio.md": "# Radio firmware\n\nFlash the radio firmware and sign the image.\n",
    "battery.md": "# Battery soak\n\nThe battery soak test of the firmware release.\n",
    "garden.md": "# Garden\n\nCompost the tomatoes and water the beans.\n",
}


@pytest.fixture
def stored(data_dir: Path, tmp_path: Path) -> tuple[Path, ManualClock, list[int]]:
    """A profile whose inbox ranking was computed and stored by another process."""
    vault = tmp_path / "vault"
    vault.mkdir()
    for name, text in {**NOTES, **MORE}.items():
        (vault / name).write_text(text, encoding="utf-8")
    clock = ManualClock()
    desk = FocusDesk(resolve_paths(data_dir), encoder=FakeEncoder(), clock=clock)  # type: ignore[arg-type]
    desk.sources.add("notes", str(vault))
    desk.sources.sync()
    desk.goals.add("firmware release plan")
    order = [r.item_id for r in desk.ranking.rank_inbox()]
    desk.close()
    return data_dir, clock, order


@pytest.fixture
def open_desk() -> Iterator[Any]:
    """Opens the profile as a new process would; each desk closes after its window."""
    desks: list[FocusDesk] = []

    def open_(data_dir: Path, clock: ManualClock) -> FocusDesk:
        desk = FocusDesk(resolve_paths(data_dir), encoder=FakeEncoder(), clock=clock)  # type: ignore[arg-type]
        desks.append(desk)
        return desk

    yield open_
    for desk in desks:
        desk.close()


def shown_rankings(window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> list[list[int]]:
    """Every ranking the window puts on screen, as item ids in order."""
    seen: list[list[int]] = []
    original = window.inbox_controller.set_ranked_items

    def record(items: Any) -> None:
        original(items)
        seen.append([r.item_id for r in window.inbox_model.all_items()])

    monkeypatch.setattr(window.inbox_controller, "set_ranked_items", record)
    return seen


def test_a_current_stored_ranking_is_shown_without_computing_one(
    qtbot: Any,
    open_desk: Any,
    make_window: Any,
    stored: tuple[Path, ManualClock, list[int]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data_dir, clock, order = stored
    desk = open_desk(data_dir, clock)
    finished: list[object] = []
    window: MainWindow = make_window(desk, show=False)
    seen = shown_rankings(window, monkeypatch)
    window.inbox_controller.rank_did_finish.connect(finished.append)
    window.show()
    qtbot.waitUntil(lambda: window.inbox_controller.shows_ranking, timeout=SIGNAL_TIMEOUT_MS)
    qtbot.waitUntil(lambda: not window.ops.busy, timeout=SIGNAL_TIMEOUT_MS)
    assert seen == [order]
    assert [r.item_id for r in window.inbox_model.items()] == order
    assert window.inbox_controller.current_item_id() == order[0]  # the top item, in the reader
    assert finished == []  # nothing was ranked
    assert not window.inbox_controller.ranked_once
    assert desk._ranker is None  # the ranker (and its scorer) never even built
    assert not window.model_ready
    # Then, in the background, the model and the index load (semantic search needs them).
    qtbot.waitUntil(lambda: window.model_ready, timeout=SIGNAL_TIMEOUT_MS)
    assert finished == []


def test_a_changed_profile_shows_the_stored_rows_then_the_fresh_ones_marking_moves(
    qtbot: Any,
    open_desk: Any,
    make_window: Any,
    stored: tuple[Path, ManualClock, list[int]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data_dir, clock, order = stored
    desk = open_desk(data_dir, clock)
    # The stored rows in another order, and something they were computed from changed.
    header, *rows = desk.ranking.ranking_file.read_text(encoding="utf-8").splitlines()
    basis = json.loads(header)
    basis["basis"]["feedback"] = -1
    desk.ranking.ranking_file.write_text("\n".join([json.dumps(basis), *rows[::-1]]) + "\n")
    window: MainWindow = make_window(desk, show=False)
    seen = shown_rankings(window, monkeypatch)
    window.show()
    with qtbot.waitSignal(window.inbox_controller.rank_did_finish, timeout=SIGNAL_TIMEOUT_MS):
        qtbot.waitUntil(lambda: window.inbox_controller.shows_ranking, timeout=SIGNAL_TIMEOUT_MS)
        # The stored rows, while the fresh ones are computed:
        assert not window.inbox_controller.ranked_once
        selected = window.inbox_controller.current_item_id()
        assert selected == order[-1]  # the stored top
        other = order[len(order) // 2]
        assert window.inbox_controller.select_item(other)
    assert seen[0] == order[::-1]
    assert seen[-1] == order  # the fresh ranking replaced it
    assert window.inbox_controller.ranked_once
    assert window.inbox_controller.current_item_id() == other  # the selection stayed on its item
    model = window.inbox_model
    n = len(order)
    for new_row, item_id in enumerate(order):
        places = (n - 1 - new_row) - new_row  # from its stored row to its fresh one
        assert model.moved(item_id) == places
        if places:
            row = model.row_of(item_id)
            assert row is not None
            title = model.index(row, 0).data()
            assert title.startswith("▲" if places > 0 else "▼")
            tip = model.index(row, 0).data(Qt.ItemDataRole.ToolTipRole)
            assert moved_text(places, SINCE_STORED) in tip
    # Reading a moved item takes its mark away; the others keep theirs.
    first, last = order[0], order[-1]
    model.set_status(first, "read")
    assert model.moved(first) == 0
    assert model.moved(last) != 0
    # Learning's next re-rank (or any) clears the marks.
    with qtbot.waitSignal(window.inbox_controller.rank_did_finish, timeout=SIGNAL_TIMEOUT_MS):
        window.inbox_controller.start_rank()
    assert all(model.moved(i) == 0 for i in order)


def test_an_item_done_elsewhere_is_not_shown_from_the_stored_ranking(
    qtbot: Any,
    open_desk: Any,
    make_window: Any,
    stored: tuple[Path, ManualClock, list[int]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data_dir, clock, order = stored
    other = open_desk(data_dir, clock)
    other.triage.done(order[0])  # `focusdesk` in another process, since the ranking
    desk = open_desk(data_dir, clock)
    window: MainWindow = make_window(desk, show=False)
    seen = shown_rankings(window, monkeypatch)
    window.show()
    qtbot.waitUntil(lambda: len(seen) >= 1, timeout=SIGNAL_TIMEOUT_MS)
    assert window.inbox_model.status_of(order[0]) == "done"
    assert window.inbox_model.row_of(order[0]) is None  # done means gone from the inbox
    assert window.inbox_controller.current_item_id() == order[1]
    inbox = window.inbox_controller
    qtbot.waitUntil(lambda: inbox.ranked_once, timeout=SIGNAL_TIMEOUT_MS)  # then refreshed


def test_a_fresh_ranking_is_shown_first_and_stored_right_after(
    qtbot: Any,
    open_desk: Any,
    make_window: Any,
    stored: tuple[Path, ManualClock, list[int]],
) -> None:
    """Storing a ranking (about 90 ms at 100k items) does not delay its rows: the window
    shows them, then stores the ranking on the write lane; the next start finds it current."""
    import threading

    data_dir, clock, _order = stored
    desk = open_desk(data_dir, clock)
    desk.goals.add("battery soak test")  # the stored ranking is no longer current
    release = threading.Event()
    storing: list[bool] = []
    store_inbox = desk.ranking.store_inbox

    def slow_store(fresh: Any) -> None:
        storing.append(True)
        release.wait(SIGNAL_TIMEOUT_MS / 1000)
        store_inbox(fresh)

    desk.ranking.store_inbox = slow_store
    window: MainWindow = make_window(desk, show=False)
    with qtbot.waitSignal(window.inbox_controller.rank_did_finish, timeout=SIGNAL_TIMEOUT_MS):
        window.show()
    shown = [r.item_id for r in window.inbox_model.items()]
    assert shown  # on screen while ...
    assert desk.ranking.stored_inbox().current is False  # ... the old ranking is still stored
    qtbot.waitUntil(lambda: bool(storing), timeout=SIGNAL_TIMEOUT_MS)
    release.set()
    qtbot.waitUntil(lambda: not window.ops.busy, timeout=SIGNAL_TIMEOUT_MS)
    again = desk.ranking.stored_inbox()
    assert again is not None
    assert again.current
    assert [r.item_id for r in again.items] == [r.item_id for r in window.inbox_model.all_items()]

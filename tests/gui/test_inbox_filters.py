"""The inbox: filters by status, source and goal; stories; 100,000 rows scroll smoothly."""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from gui_helpers import SIGNAL_TIMEOUT_MS, ranked_window, shown_titles
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QHeaderView, QTableView

from focusdesk.app import FocusDesk
from focusdesk.records import RankedItem
from focusdesk.ui.inbox_model import (
    Column,
    InboxFilter,
    InboxModel,
    ItemRole,
    StatusRole,
    prepare_inbox,
)
from focusdesk.ui.main_window import INBOX_PAGE, MainWindow

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def item(n: int, score: float, **extra: Any) -> RankedItem:
    fields: dict[str, Any] = {
        "item_id": n,
        "source_id": 1 + n % 2,
        "source_kind": "notes" if n % 2 == 0 else "mbox",
        "source_name": "vault" if n % 2 == 0 else "inbox",
        "external_id": f"{n}",
        "title": f"Item {n:06d}",
        "author": None,
        "published_at": NOW - timedelta(hours=n),
        "status": "new",
        "score": score,
        "goal_id": 1 + n % 3,
        "goal_title": f"Goal {1 + n % 3}",
        "evidence": "passage",
        "evidence_span": None,
    }
    fields.update(extra)
    return RankedItem(**fields)


def test_model_filters_by_status_source_and_goal_keeping_the_selection(qtbot: Any) -> None:
    model = InboxModel()
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    statuses = ["new", "read", "done", "snoozed", "dismissed", "new"]
    model.set_items([item(n, 1 - n / 10, status=s) for n, s in enumerate(statuses)], NOW)
    assert [i.item_id for i in model.items()] == [0, 1, 5]  # the inbox: new and read
    assert model.total_count() == 6
    view.setCurrentIndex(model.index(2, 0))  # item 5
    model.set_filter(InboxFilter(statuses=None))
    assert [i.item_id for i in model.items()] == [0, 1, 2, 3, 4, 5]
    assert view.currentIndex().data(ItemRole).item_id == 5  # followed its item
    model.set_filter(InboxFilter(statuses=None, source_id=2))
    assert [i.item_id for i in model.items()] == [1, 3, 5]
    model.set_filter(InboxFilter(statuses=None, goal_id=1))
    assert [i.item_id for i in model.items()] == [0, 3]
    model.set_filter(InboxFilter(statuses=frozenset({"done"})))
    assert [i.item_id for i in model.items()] == [2]
    assert model.index(0, Column.TITLE).data(StatusRole) == "done"
    # A status change moves an item out of (or into) what is shown.
    model.set_filter(InboxFilter())
    model.set_status(0, "done")
    assert [i.item_id for i in model.items()] == [1, 5]
    model.set_status(2, "read")
    assert [i.item_id for i in model.items()] == [1, 2, 5]
    font = model.index(1, Column.TITLE).data(Qt.ItemDataRole.FontRole)
    assert font is None  # read: not bold
    assert isinstance(model.index(2, Column.TITLE).data(Qt.ItemDataRole.FontRole), QFont)


def test_sorting_by_a_column_and_back(qtbot: Any) -> None:
    model = InboxModel()
    model.set_items([item(n, s) for n, s in enumerate([0.2, 0.9, 0.5])], NOW)
    assert [i.item_id for i in model.items()] == [0, 1, 2]  # rank order as given
    model.sort(Column.SCORE, Qt.SortOrder.AscendingOrder)
    assert [i.item_id for i in model.items()] == [0, 2, 1]
    model.sort(Column.AGE, Qt.SortOrder.DescendingOrder)  # newest first
    assert [i.item_id for i in model.items()] == [0, 1, 2]
    model.sort(Column.SCORE, Qt.SortOrder.DescendingOrder)
    assert [i.item_id for i in model.items()] == [0, 1, 2]


def test_stories_show_their_size_and_the_column_hides_without_any(
    qtbot: Any, make_window: Any, profile: FocusDesk
) -> None:
    window: MainWindow = make_window(profile)
    plain = [item(1, 0.9), item(2, 0.5)]
    window.inbox_controller.set_ranked_items(plain)
    assert window.inbox_view.isColumnHidden(Column.STORY)
    window.inbox_controller.set_ranked_items(
        [item(1, 0.9, story_size=3, story_item_ids=(7, 8)), item(2, 0.5)]
    )
    assert not window.inbox_view.isColumnHidden(Column.STORY)
    model = window.inbox_model
    assert model.index(0, Column.STORY).data() == "3"
    assert model.index(1, Column.STORY).data() == ""
    assert "3 items tell this story" in model.index(0, Column.TITLE).data(
        Qt.ItemDataRole.ToolTipRole
    )
    assert model.index(0, Column.SOURCE).data(Qt.ItemDataRole.DecorationRole) is not None


def test_filter_bar_drives_the_inbox(
    qtbot: Any, make_window: Any, profile: FocusDesk, notes_dir: Path, tmp_path: Path
) -> None:
    mbox = tmp_path / "inbox.mbox"
    mbox.write_text(
        "From a@example.com Mon Jan  5 09:00:00 2026\nFrom: a@example.com\n"
        "Subject: Firmware release date\nMessage-ID: <x1@example.com>\n\n"
        "When do we ship the firmware release?\n",
        encoding="utf-8",
    )
    profile.sources.add("mbox", str(mbox))
    window: MainWindow = ranked_window(
        qtbot, make_window, profile, notes_dir, "firmware release", "leek soup"
    )
    bar = window.filter_bar
    assert bar.count_label.text() == "4 items"
    sources = [bar.source_combo.itemText(i) for i in range(bar.source_combo.count())]
    assert sources == ["All sources", "inbox.mbox", "notes"]
    bar.source_combo.setCurrentIndex(1)
    assert shown_titles(window) == ["Firmware release date"]
    assert bar.count_label.text() == "1 of 4 items"
    bar.source_combo.setCurrentIndex(0)
    goals = [bar.goal_combo.itemText(i) for i in range(bar.goal_combo.count())]
    assert goals == ["All goals", "firmware release", "leek soup"]
    bar.goal_combo.setCurrentIndex(2)
    assert shown_titles(window) == ["Leek soup"]
    bar.goal_combo.setCurrentIndex(0)
    # Mark one done: it leaves the inbox and shows under "Done".
    window.inbox_controller.select_row(0)
    top = window.inbox_controller.current_item()
    assert top is not None
    with qtbot.waitSignal(window.item_actions.item_did_change, timeout=SIGNAL_TIMEOUT_MS):
        window.done_action.trigger()
    assert top.title not in shown_titles(window)
    bar.set_status_key("done")
    assert shown_titles(window) == [top.title]
    bar.set_status_key("all")
    assert len(shown_titles(window)) == 4
    # The status filter is remembered.
    window.close()
    again: MainWindow = make_window(profile)
    assert again.filter_bar.status_key() == "all"


def test_a_hundred_thousand_items_show_and_scroll_smoothly(
    qtbot: Any, make_window: Any, profile: FocusDesk
) -> None:
    window: MainWindow = make_window(profile)
    window.resize(1200, 780)
    items = [item(n, 1.0 - n / 200_000) for n in range(100_000)]
    prepared = prepare_inbox(items, NOW)  # done in the ranking worker
    started = time.perf_counter()
    window.inbox_controller.set_ranked_items(prepared)
    window.stack.setCurrentIndex(INBOX_PAGE)  # the profile itself is empty
    view = window.inbox_view
    view.viewport().grab()
    shown_in = time.perf_counter() - started
    assert window.inbox_model.rowCount() == 100_000
    assert view.verticalHeader().sectionResizeMode(0) == QHeaderView.ResizeMode.Fixed
    bar = view.verticalScrollBar()
    pages: list[float] = []
    for step in range(30):
        t = time.perf_counter()
        bar.setValue(bar.maximum() * step // 29)
        view.viewport().grab()  # lay out and paint the page
        pages.append(time.perf_counter() - t)
    assert view.indexAt(view.viewport().rect().center()).row() > 99_000
    # data() is O(1): the last row answers as fast as the first.
    model = window.inbox_model

    def cost(row: int) -> float:
        index = model.index(row, Column.TITLE)
        t = time.perf_counter()
        for _ in range(2000):
            model.data(index)
        return time.perf_counter() - t

    assert cost(99_999) < 3 * cost(0) + 0.01
    assert shown_in < 1.0, f"showing 100,000 rows took {shown_in:.3f} s"
    assert statistics.median(pages) < 0.05, f"pages: {[round(p, 3) for p in pages]}"
    print(
        f"\n100k rows: shown in {shown_in * 1000:.0f} ms, page median "
        f"{statistics.median(pages) * 1000:.1f} ms, max {max(pages) * 1000:.1f} ms"
    )

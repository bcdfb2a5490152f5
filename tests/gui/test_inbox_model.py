"""The inbox table model: O(1) data, roles, and Qt's own model checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QStyleOptionViewItem, QTableView

from focusdesk.records import RankedItem
from focusdesk.ui.inbox_model import (
    BarRole,
    Column,
    InboxModel,
    ItemIdRole,
    ItemRole,
    ScoreBarDelegate,
    ScoreRole,
    SortRole,
    format_age,
)

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def item(n: int, score: float, *, age: timedelta | None = None) -> RankedItem:
    return RankedItem(
        item_id=n,
        source_id=1,
        source_kind="notes",
        source_name="vault",
        external_id=f"{n}.md",
        title=f"Note {n}",
        author=None,
        published_at=NOW - age if age is not None else None,
        status="new",
        score=score,
        goal_id=1,
        goal_title="Ship v2",
        evidence=f"passage {n}",
        evidence_span=(0, 9),
    )


def test_model_passes_qt_model_tester(qapp: Any, qtmodeltester: Any) -> None:
    model = InboxModel()
    model.set_items([item(1, 0.9, age=timedelta(hours=3)), item(2, 0.4), item(3, 0.1)], NOW)
    qtmodeltester.check(model, force_py=True)


def test_rows_and_roles() -> None:
    model = InboxModel()
    model.set_items([item(1, 0.8, age=timedelta(days=2)), item(2, 0.2)], NOW)
    assert model.rowCount() == 2
    assert model.columnCount() == len(Column)
    first = model.index(0, Column.SCORE)
    assert first.data() == "0.80"
    assert first.data(ScoreRole) == 0.8
    assert first.data(BarRole) == 1.0
    assert model.index(1, Column.SCORE).data(BarRole) == 0.25
    assert model.index(0, Column.TITLE).data(ItemRole).item_id == 1
    assert model.index(1, Column.TITLE).data(ItemIdRole) == 2
    assert model.index(0, Column.AGE).data() == "2 d"
    assert model.index(1, Column.AGE).data() == "—"
    assert model.index(1, Column.AGE).data(SortRole) == float("-inf")
    assert model.index(0, Column.GOAL).data() == "Ship v2"
    assert "passage 1" in model.index(0, Column.TITLE).data(Qt.ItemDataRole.ToolTipRole)
    assert model.row_of(2) == 1
    assert model.row_of(99) is None
    model.clear()
    assert model.rowCount() == 0


def test_format_age() -> None:
    assert format_age(None, NOW) == "—"
    assert format_age(NOW - timedelta(seconds=5), NOW) == "now"
    assert format_age(NOW - timedelta(minutes=5), NOW) == "5 min"
    assert format_age(NOW - timedelta(hours=5), NOW) == "5 h"
    assert format_age(NOW - timedelta(days=20), NOW) == "2 wk"
    assert format_age(datetime(2025, 3, 1, 12, tzinfo=UTC), NOW) == "Mar 2025"


def test_score_bar_paints_in_light_and_dark_palettes(qtbot: Any) -> None:
    view = QTableView()
    qtbot.addWidget(view)
    model = InboxModel()
    model.set_items([item(1, 0.9), item(2, 0.3)], NOW)
    view.setModel(model)
    delegate = ScoreBarDelegate(view)
    view.setItemDelegateForColumn(Column.SCORE, delegate)
    view.resize(600, 200)
    view.show()
    for window, text in (("#ffffff", "#000000"), ("#1e1e1e", "#f0f0f0")):
        palette = view.palette()
        palette.setColor(QPalette.ColorRole.Base, window)
        palette.setColor(QPalette.ColorRole.Text, text)
        view.setPalette(palette)
        image = view.viewport().grab().toImage()
        assert not image.isNull()
    option = QStyleOptionViewItem()
    assert delegate.sizeHint(option, model.index(0, Column.SCORE)).width() >= 90


def seated(n: int, goal_id: int | None, calibrated: dict[int, float]) -> RankedItem:
    from dataclasses import replace

    return replace(item(n, 1.0 - n / 10), goal_id=goal_id, calibrated=calibrated)


def grouped_model() -> InboxModel:
    from focusdesk.records import GoalInfo

    model = InboxModel()
    model.set_goals(
        [GoalInfo(1, "Ship v2 firmware", "", 1.0, True), GoalInfo(2, "Hire two", "", 1.0, True)]
    )
    model.set_items(
        [
            seated(1, 2, {2: 0.9}),
            seated(2, 1, {1: 0.8, 2: 0.6}),
            seated(3, 2, {2: 0.55}),
            seated(4, 1, {1: 0.7}),
        ],
        NOW,
    )
    model.set_grouped(True)
    return model


def test_grouped_model_passes_qt_model_tester(qapp: Any, qtmodeltester: Any) -> None:
    qtmodeltester.check(grouped_model(), force_py=True)


def test_grouped_rows_have_goal_headers_with_colour_and_counts(qapp: Any) -> None:
    model = grouped_model()
    assert model.rowCount() == 6
    assert model.shown_count() == 4
    assert model.header_rows() == [0, 3]
    assert [model.index(r, Column.TITLE).data() for r in (0, 3)] == [
        "Hire two · 3 high-attention · 2 items",  # item 2 serves both goals
        "Ship v2 firmware · 2 high-attention · 2 items",
    ]
    assert [i.item_id for i in model.items()] == [1, 3, 2, 4]
    header = model.index(0, Column.TITLE)
    assert header.data(Qt.ItemDataRole.DecorationRole) is not None  # the goal's dot
    tint = header.data(Qt.ItemDataRole.BackgroundRole)
    assert tint.rgb() == model.goals.colour(2).rgb()  # the goal's colour
    assert model.flags(header) == Qt.ItemFlag.NoItemFlags
    assert header.data(ItemRole) is None
    assert model.item_at(0) is None
    assert model.item_at(1).item_id == 1
    assert model.top_item_id() == 1
    assert model.row_of(4) == 5


def test_item_row_passes_headers_by(qapp: Any) -> None:
    model = grouped_model()
    assert model.item_row(0) == 1
    assert model.item_row(3, 1) == 4
    assert model.item_row(3, -1) == 2
    assert model.item_row(0, -1) == 1  # nothing above: the nearest below


def test_grouped_rows_follow_status_changes_and_back_to_the_mix(qapp: Any) -> None:
    model = grouped_model()
    model.set_status(3, "done")  # leaves the inbox: its group shrinks
    assert model.index(0, Column.TITLE).data() == "Hire two · 2 high-attention · 1 item"
    assert model.shown_count() == 3
    model.set_grouped(False)
    assert model.header_rows() == []
    assert [i.item_id for i in model.items()] == [1, 2, 4]
    assert model.rowCount() == 3

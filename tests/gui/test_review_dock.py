"""The Review dock: titles readable, focus minutes on an axis, no mute for the top goal's feed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from calibrated import calibrate, serve
from gui_helpers import SIGNAL_TIMEOUT_MS, ranked_window, settle
from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QStyle, QStyleOptionViewItem

from focusdesk.app import FocusDesk
from focusdesk.store.models import FocusSession, FocusSessionItem
from focusdesk.ui.main_window import MainWindow
from focusdesk.ui.review_tab import ITEM_ID_ROLE

REPLY = "Re: Sleep current regression after the BLE stack update on the sensor boards"


def seed(root: Path) -> Path:
    root.mkdir()
    (root / "reply.md").write_text(
        f"# {REPLY}\n\nBootloader image signing and the sleep current regression.\n", "utf-8"
    )
    for n in range(2):
        (root / f"boot-{n}.md").write_text(
            f"# Bootloader signing {n}\n\nBootloader image signing keys, rotation {n}.\n", "utf-8"
        )
    for n in range(14):
        (root / f"chat-{n}.md").write_text(
            f"# Lunch menu {n}\n\nSandwiches and coffee on floor {n}.\n", "utf-8"
        )
    return root


def fits(view: Any, index: Any, text: str) -> bool:
    """Whether ``text``, wrapped where the view draws it, fits its cell (nothing cut)."""
    option = QStyleOptionViewItem()
    view.itemDelegateForIndex(index).initStyleOption(option, index)
    option.rect = view.visualRect(index)
    option.features |= QStyleOptionViewItem.ViewItemFeature.WrapText
    text_rect = view.style().subElementRect(QStyle.SubElement.SE_ItemViewItemText, option, view)
    needed = view.fontMetrics().boundingRect(
        QRect(0, 0, max(1, text_rect.width() - 4), 10_000), Qt.TextFlag.TextWordWrap, text
    )
    return needed.height() <= text_rect.height() + 2


def test_the_review_is_readable_and_does_not_mislead(
    qtbot: Any,
    make_window: Any,
    profile: FocusDesk,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The reply and the signing notes serve the top goal (the fake encoder's relevance is
    # no cosine a real model would give: the test states what serves).
    calibrate(
        monkeypatch,
        serve("bootloader image signing", REPLY, "Bootloader signing 0", "Bootloader signing 1"),
    )
    notes = seed(tmp_path / "lists")
    window: MainWindow = ranked_window(
        qtbot, make_window, profile, notes, "bootloader image signing"
    )
    profile.goals.add("sleep current regression", weight=0.5)
    goal = profile.goals.all()[0]  # the highest weight
    start = datetime.now(UTC) - timedelta(hours=2)
    with profile.store.session() as s:  # a 90-minute block with 10 seconds spent
        session = FocusSession(
            title="Block",
            goal_ids=[goal.id],
            state="done",
            planned_start=start,
            planned_end=start + timedelta(minutes=90),
            actual_start=start,
        )
        session.items = [
            FocusSessionItem(
                position=0,
                goal_id=goal.id,
                goal_title=goal.title,
                planned_minutes=90,
                actual_seconds=10,
            )
        ]
        s.add(session)
    window.resize(1400, 760)
    settle(qtbot, window)
    review = next(a for a in window.menus["inbox"].actions() if a.objectName() == "review_action")
    with qtbot.waitSignal(window.review_tab.review_did_load, timeout=SIGNAL_TIMEOUT_MS):
        review.trigger()
    qtbot.wait(50)
    tab = window.review_tab
    # Titles: shown whole (wrapped), with the full title in the tooltip.
    model = tab.model
    entries = [
        model.index(r, 0, model.index(g, 0))
        for g in range(model.rowCount())
        for r in range(model.rowCount(model.index(g, 0)))
    ]
    reply = next(i for i in entries if profile.items.get(int(i.data(ITEM_ID_ROLE))).title == REPLY)
    assert reply.data(Qt.ItemDataRole.ToolTipRole).startswith(REPLY)
    assert tab.view.visualRect(reply).width() > 150
    assert fits(tab.view, reply, reply.data()), tab.view.visualRect(reply)

    # Focus minutes: 10 seconds of 90 planned minutes is a sliver against a 0–100 axis.
    chart = tab.focus_chart
    assert chart.axis_max() == 100
    bars = chart.bar_rects()
    assert len(bars) == 1
    assert bars[0][0].height() < 0.05 * chart.plot_rect().height()
    assert "of 90 planned min" in chart.toolTip()

    # The noisy source brings the top goal's items: it is not suggested for muting.
    assert "Lists" not in tab.suggestions.text()

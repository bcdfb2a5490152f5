"""The focus window driven as a user would: it shows exactly the planned items, per-item
outcomes and notes, pause/extend/resume, ending early asks once, the inbox comes back
with the summary and the held items; scheduled, missed and resumed blocks."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fakes import FakeEncoder
from focus_fixtures import TravelClock, add_note, berlin, local_zone, make_vault, seed
from gui_helpers import SIGNAL_TIMEOUT_MS
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QApplication,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QWidget,
)
from sqlalchemy import select

from focusdesk.app import FocusDesk
from focusdesk.paths import resolve_paths
from focusdesk.store.models import Feedback
from focusdesk.ui.focus_controller import FocusController
from focusdesk.ui.focus_dialogs import StartRequest
from focusdesk.ui.focus_window import FocusWindow, PlanColumn
from focusdesk.ui.main_window import MainWindow


@pytest.fixture
def clock() -> Iterator[TravelClock]:
    """The profile's clock: Monday 23 November 2026, 08:00 in Berlin, the local zone."""
    with local_zone("Europe/Berlin"):
        yield TravelClock(berlin(2026, 11, 23, 8, 0))


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    return make_vault(tmp_path / "vault")


@pytest.fixture
def desk(data_dir: Path, vault: Path, clock: TravelClock) -> Iterator[FocusDesk]:
    """A profile on ``clock`` with five synced notes and two goals."""
    profile = FocusDesk(resolve_paths(data_dir), encoder=FakeEncoder(), clock=clock)  # type: ignore[arg-type]
    seed(profile, vault)
    yield profile
    profile.close()


class Question:
    """Answers the "end early?" question with the answers given, in order (default: no)."""

    def __init__(self) -> None:
        self.answers: list[str] = []
        self.asked: list[str] = []

    def append(self, answer: str) -> None:
        self.answers.append(answer)

    def __call__(self, *args: Any, **kwargs: Any) -> QMessageBox.StandardButton:
        self.asked.append(str(args[1]))
        yes = bool(self.answers) and self.answers.pop(0) == "yes"
        return QMessageBox.StandardButton.Yes if yes else QMessageBox.StandardButton.No


@pytest.fixture
def question(monkeypatch: pytest.MonkeyPatch) -> Question:
    answer = Question()
    monkeypatch.setattr(QMessageBox, "question", answer)
    return answer


def started_window(qtbot: Any, make_window: Any, desk: FocusDesk) -> MainWindow:
    """A shown main window whose focus controller has started (scheduler, recovery)."""
    window = make_window(desk)
    controller = window.focus_controller
    qtbot.waitUntil(lambda: controller.scheduler is not None and not controller.window.ops.busy)
    return window


def start_block(qtbot: Any, controller: FocusController, **kw: Any) -> Any:
    request = StartRequest(
        minutes=kw.get("minutes", 60),
        top_k=kw.get("top_k", 3),
        goal_ids=kw.get("goal_ids", ()),
        title=kw.get("title", ""),
        full_screen=False,
    )
    with qtbot.waitSignal(controller.block_did_start, timeout=SIGNAL_TIMEOUT_MS) as blocker:
        controller.start_block(request)
    return blocker.args[0]


def shown_rows(fw: FocusWindow, column: PlanColumn) -> list[str]:
    model = fw.plan_view.model()
    return [model.index(r, column).data() for r in range(model.rowCount())]


def edit(qtbot: Any, controller: FocusController, action: Any) -> Any:
    with qtbot.waitSignal(controller.session_did_change, timeout=SIGNAL_TIMEOUT_MS) as blocker:
        action()
    return blocker.args[0]


def test_the_focus_window_shows_exactly_the_planned_items(
    qtbot: Any, make_window: Any, desk: FocusDesk
) -> None:
    window = started_window(qtbot, make_window, desk)
    controller = window.focus_controller
    session = start_block(qtbot, controller, minutes=60, top_k=3)
    fw = controller.focus_window
    assert fw is not None
    assert fw.isVisible()
    assert not window.isVisible()  # the inbox and everything else are hidden

    expected = desk.planner.plan(60, 3)
    assert shown_rows(fw, PlanColumn.TITLE) == [e.item.title for e in expected]
    assert shown_rows(fw, PlanColumn.PLANNED) == [f"{e.minutes} min" for e in expected]
    assert [i.item_id for i in session.items] == [e.item.item_id for e in expected]
    assert shown_rows(fw, PlanColumn.STATUS) == ["Now", "", ""]
    assert fw.countdown_label.text() == "1:00:00 left"
    assert fw.ends_label.text() == "until 09:00"
    assert fw.item_title.text() == expected[0].item.title
    assert "OTA" in fw.item_text.toPlainText() or fw.item_text.toPlainText()
    assert fw.item_timer.text() == f"00:00 of {expected[0].minutes:02d}:00"


def test_done_skip_snooze_and_a_note(
    qtbot: Any, make_window: Any, desk: FocusDesk, clock: TravelClock
) -> None:
    window = started_window(qtbot, make_window, desk)
    controller = window.focus_controller
    session = start_block(qtbot, controller, minutes=60, top_k=4)
    fw = controller.focus_window
    assert fw is not None
    ids = [i.item_id for i in session.items]

    clock.move_to(berlin(2026, 11, 23, 8, 12))
    fw.refresh()
    assert fw.item_timer.text().startswith("12:00 of ")
    fw.note_edit.setFocus()
    qtbot.keyClicks(fw.note_edit, "rollback verified")
    s = edit(qtbot, controller, lambda: qtbot.keyClick(fw.note_edit, Qt.Key.Key_Return))
    assert s.item(ids[0]).note == "rollback verified"
    s = edit(qtbot, controller, lambda: qtbot.mouseClick(fw.done_button, Qt.MouseButton.LeftButton))
    assert s.current_item_id == ids[1]
    assert fw.item_title.text() == s.item(ids[1]).title
    assert fw.note_edit.text() == ""
    s = edit(qtbot, controller, lambda: qtbot.mouseClick(fw.skip_button, Qt.MouseButton.LeftButton))
    s = edit(
        qtbot, controller, lambda: qtbot.mouseClick(fw.snooze_button, Qt.MouseButton.LeftButton)
    )
    assert shown_rows(fw, PlanColumn.STATUS) == ["Done ✓", "Skipped", "Snoozed", "Now"]
    fw.plan_view.setFocus()
    s = edit(qtbot, controller, lambda: qtbot.keyClick(fw.plan_view, Qt.Key.Key_E))  # E: done
    assert s.item(ids[3]).outcome == "done"
    assert s.current_item_id is None
    assert fw.item_title.text() == "Every planned item is dealt with."
    assert not fw.done_button.isEnabled()
    assert desk.items.get(ids[0]).status == "done"
    assert desk.items.get(ids[2]).status == "snoozed"
    stored = desk.focus.current()
    assert stored is not None
    assert [i.outcome for i in stored.items] == ["done", "skipped", "snoozed", "done"]

    # clicking another item works on it: its timer runs from now
    index = fw.plan_view.model().index(1, PlanColumn.TITLE)
    rect = fw.plan_view.visualRect(index)
    s = edit(
        qtbot,
        controller,
        lambda: qtbot.mouseClick(
            fw.plan_view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center()
        ),
    )
    assert s.current_item_id == ids[1]


def test_pause_extend_and_resume(
    qtbot: Any, make_window: Any, desk: FocusDesk, clock: TravelClock
) -> None:
    window = started_window(qtbot, make_window, desk)
    controller = window.focus_controller
    start_block(qtbot, controller, minutes=30)
    fw = controller.focus_window
    assert fw is not None
    clock.move_to(berlin(2026, 11, 23, 8, 10))
    s = edit(
        qtbot, controller, lambda: qtbot.mouseClick(fw.pause_button, Qt.MouseButton.LeftButton)
    )
    assert s.state == "paused"
    assert fw.pause_button.text() == "&Resume"
    assert not fw.done_button.isEnabled()
    clock.move_to(berlin(2026, 11, 23, 8, 15))
    fw.refresh()
    assert fw.countdown_label.text() == "Paused · 20:00 left"
    edit(qtbot, controller, lambda: qtbot.mouseClick(fw.pause_button, Qt.MouseButton.LeftButton))
    assert fw.ends_label.text() == "until 08:35"
    edit(qtbot, controller, lambda: qtbot.mouseClick(fw.extend_button, Qt.MouseButton.LeftButton))
    assert fw.ends_label.text() == "until 08:45"
    assert fw.countdown_label.text() == "30:00 left"


def votes_stored(desk: FocusDesk) -> list[tuple[int, str, int | None]]:
    with desk.store.session() as s:
        rows = s.execute(
            select(Feedback.item_id, Feedback.signal, Feedback.goal_id).where(
                Feedback.signal.in_(("up", "down"))
            )
        )
        return [(i, sig, g) for i, sig, g in rows]


def test_plus_and_minus_vote_for_the_blocks_goal_and_x_extends(
    qtbot: Any, make_window: Any, desk: FocusDesk
) -> None:
    window = started_window(qtbot, make_window, desk)
    controller = window.focus_controller
    firmware = next(g.id for g in desk.goals.all() if g.title.startswith("Ship"))
    session = start_block(qtbot, controller, minutes=30, top_k=2, goal_ids=(firmware,))
    fw = controller.focus_window
    assert fw is not None
    first = session.current_item_id
    fw.plan_view.setFocus()
    with qtbot.waitSignal(window.item_actions.item_did_change, timeout=SIGNAL_TIMEOUT_MS):
        qtbot.keyClick(fw.plan_view, Qt.Key.Key_Plus)
    assert votes_stored(desk) == [(first, "up", firmware)]  # the block's one goal
    assert fw.vote_label.isVisible()
    assert fw.vote_label.text().startswith("You voted +")
    assert window.inbox_model.vote_of(first) is not None  # the inbox row is marked too
    # X (no longer +) gives ten more minutes.
    assert fw.countdown_label.text() == "30:00 left"
    edit(qtbot, controller, lambda: qtbot.keyClick(fw.plan_view, Qt.Key.Key_X))
    assert fw.countdown_label.text() == "40:00 left"


def test_a_vote_in_a_block_of_several_goals_is_for_no_goal(
    qtbot: Any, make_window: Any, desk: FocusDesk
) -> None:
    window = started_window(qtbot, make_window, desk)
    controller = window.focus_controller
    goals = tuple(g.id for g in desk.goals.all())
    assert len(goals) == 2
    session = start_block(qtbot, controller, minutes=30, top_k=2, goal_ids=goals)
    fw = controller.focus_window
    assert fw is not None
    fw.plan_view.setFocus()
    with qtbot.waitSignal(window.item_actions.item_did_change, timeout=SIGNAL_TIMEOUT_MS):
        qtbot.keyClick(fw.plan_view, Qt.Key.Key_Minus)
    assert votes_stored(desk) == [(session.current_item_id, "down", None)]


def test_ending_early_asks_once_then_the_inbox_returns_with_summary_and_held_items(
    qtbot: Any,
    make_window: Any,
    desk: FocusDesk,
    vault: Path,
    clock: TravelClock,
    question: Question,
) -> None:
    window = started_window(qtbot, make_window, desk)
    controller = window.focus_controller
    start_block(qtbot, controller, minutes=60)
    fw = controller.focus_window
    assert fw is not None

    question.append("no")
    qtbot.mouseClick(fw.end_button, Qt.MouseButton.LeftButton)
    assert len(question.asked) == 1
    assert fw.isVisible()
    fw.close()  # closing the window is ending early: it asks too
    assert len(question.asked) == 2
    assert fw.isVisible()
    assert desk.focus.current() is not None

    clock.move_to(berlin(2026, 11, 23, 8, 20))
    add_note(vault, "rc1.md", "# RC1 blocker\n\nOTA rollback fails on the RC1 build.")
    desk.sources.sync()  # arrives during the block: ranked as usual, not announced
    question.append("yes")
    with qtbot.waitSignal(controller.block_did_end, timeout=SIGNAL_TIMEOUT_MS) as blocker:
        qtbot.mouseClick(fw.end_button, Qt.MouseButton.LeftButton)
    assert len(question.asked) == 3  # once for this end, not again when the window closes
    summary = blocker.args[0]
    assert summary.session.end_reason == "ended_early"
    assert [h.title for h in summary.held] == ["RC1 blocker"]
    assert window.isVisible()
    assert not fw.isVisible()
    dialog = controller.summary_dialog
    assert dialog is not None
    assert dialog.isVisible()
    assert dialog.held_titles() == ["RC1 blocker — Notes"]
    assert "20 of 60 planned minutes" in dialog.totals_label.text()
    assert desk.focus.current() is None


def test_the_block_ends_by_itself_when_its_time_is_up(
    qtbot: Any, make_window: Any, desk: FocusDesk, clock: TravelClock
) -> None:
    window = started_window(qtbot, make_window, desk)
    controller = window.focus_controller
    start_block(qtbot, controller, minutes=30)
    fw = controller.focus_window
    assert fw is not None
    clock.move_to(berlin(2026, 11, 23, 8, 30))
    with qtbot.waitSignal(controller.block_did_end, timeout=SIGNAL_TIMEOUT_MS) as blocker:
        fw.refresh()  # the countdown reaches zero: the controller checks at once
    assert blocker.args[0].session.end_reason == "completed"
    assert window.isVisible()


def test_a_scheduled_block_opens_the_window_when_the_scheduler_wakes(
    qtbot: Any, make_window: Any, desk: FocusDesk, clock: TravelClock
) -> None:
    block = desk.focus.add_block(
        "Deep work", start_time="09:00", duration_minutes=90, timezone="Europe/Berlin"
    )
    window = started_window(qtbot, make_window, desk)
    controller = window.focus_controller
    assert controller.scheduler is not None
    assert controller.focus_window is None
    clock.move_to(berlin(2026, 11, 23, 9, 0))
    with qtbot.waitSignal(controller.block_did_start, timeout=SIGNAL_TIMEOUT_MS) as blocker:
        # as APScheduler does: from a thread of its own
        threading.Thread(target=controller.scheduler_did_wake.emit).start()
    session = blocker.args[0]
    assert session.block_id == block.id
    assert session.title == "Deep work"
    assert not window.isVisible()


def test_a_missed_block_is_shown(
    qtbot: Any, make_window: Any, desk: FocusDesk, clock: TravelClock
) -> None:
    desk.focus.add_block("Deep work", start_time="09:00", duration_minutes=60)
    clock.move_to(berlin(2026, 11, 23, 11, 0))
    window = make_window(desk, show=False)
    controller = window.focus_controller
    with qtbot.waitSignal(controller.blocks_were_missed, timeout=SIGNAL_TIMEOUT_MS) as blocker:
        window.show()
    assert [s.title for s in blocker.args[0]] == ["Deep work"]
    assert "Missed focus block “Deep work” at Mon 09:00" in window.status.message.text()
    qtbot.waitUntil(lambda: not desk.focus.missed_to_announce())


def test_restarting_mid_block_reopens_the_focus_window(
    qtbot: Any, make_window: Any, desk: FocusDesk, clock: TravelClock
) -> None:
    before = desk.focus.start(45)  # as if the app had quit mid-block
    desk.focus.mark_item(before.items[0].item_id, "done")
    clock.move_to(berlin(2026, 11, 23, 8, 10))
    window = make_window(desk, show=False)
    controller = window.focus_controller
    with qtbot.waitSignal(controller.block_did_start, timeout=SIGNAL_TIMEOUT_MS) as blocker:
        window.show()
    assert blocker.args[0].id == before.id
    fw = controller.focus_window
    assert fw is not None
    assert fw.isVisible()
    assert not window.isVisible()
    assert shown_rows(fw, PlanColumn.STATUS)[:2] == ["Done ✓", "Now"]
    assert fw.countdown_label.text() == "35:00 left"


def test_quitting_mid_block_leaves_it_running(
    qtbot: Any, make_window: Any, desk: FocusDesk
) -> None:
    window = started_window(qtbot, make_window, desk)
    controller = window.focus_controller
    session = start_block(qtbot, controller)
    fw = controller.focus_window
    assert fw is not None
    fw.quit_requested.emit()
    assert not fw.isVisible()
    current = desk.focus.current()
    assert current is not None
    assert current.id == session.id
    assert current.state == "running"


def test_nothing_opens_a_focus_window_once_the_main_window_has_closed(
    qtbot: Any, make_window: Any, desk: FocusDesk
) -> None:
    """Results that arrive after closing (a tick, a block start) open no window."""
    window = started_window(qtbot, make_window, desk)
    controller = window.focus_controller
    session = start_block(qtbot, controller)
    window.close()
    assert controller.focus_window is None
    controller.show_block(session)
    controller.request_tick()
    qtbot.wait(50)
    visible = [w for w in QApplication.topLevelWidgets() if w.isVisible()]
    assert not [w for w in visible if isinstance(w, FocusWindow)]


def test_start_dialog_picks_goals_and_length(qtbot: Any, make_window: Any, desk: FocusDesk) -> None:
    window = started_window(qtbot, make_window, desk)
    controller = window.focus_controller
    window.findChild(type(controller.start_action), "start_focus_block").trigger()
    qtbot.waitUntil(lambda: controller.start_dialog is not None)  # goals read in the background
    dialog = controller.start_dialog
    assert dialog is not None
    assert dialog.isVisible()
    dialog.minutes_spin.setValue(25)
    dialog.goals_list.item(0).setCheckState(Qt.CheckState.Unchecked)
    hiring = desk.goals.all()[1]
    with qtbot.waitSignal(controller.block_did_start, timeout=SIGNAL_TIMEOUT_MS) as blocker:
        dialog.accept()
    session = blocker.args[0]
    assert session.goal_ids == (hiring.id,)
    assert session.title == f"Focus: {hiring.title}"
    assert sum(i.planned_minutes for i in session.items) == 25


def test_full_screen_is_a_remembered_choice(qtbot: Any, make_window: Any, desk: FocusDesk) -> None:
    window = started_window(qtbot, make_window, desk)
    controller = window.focus_controller
    start_block(qtbot, controller)
    fw = controller.focus_window
    assert fw is not None
    qtbot.mouseClick(fw.full_screen_button, Qt.MouseButton.LeftButton)
    assert fw.windowState() & Qt.WindowState.WindowFullScreen
    assert window.ui_settings.value("focus/full_screen") in (True, "true")
    qtbot.keyClick(fw, Qt.Key.Key_F11)
    assert not fw.windowState() & Qt.WindowState.WindowFullScreen


def test_every_control_has_an_accessible_name(
    qtbot: Any, make_window: Any, desk: FocusDesk, clock: TravelClock
) -> None:
    window = started_window(qtbot, make_window, desk)
    controller = window.focus_controller
    start_block(qtbot, controller)
    fw = controller.focus_window
    assert fw is not None
    controls = (QAbstractButton, QLineEdit, QAbstractItemView, QPlainTextEdit, QProgressBar, QLabel)

    def unnamed(root: QWidget) -> list[str]:
        return [
            f"{type(w).__name__} {w.objectName()!r}"
            for w in root.findChildren(QWidget)
            if isinstance(w, controls)
            and not w.accessibleName()
            and w.parent() is not None
            and not w.objectName().startswith("qt_")
            and not isinstance(w.parent(), QAbstractItemView)  # the view's own scroll parts
        ]

    assert unnamed(fw) == []
    clock.move_to(berlin(2026, 11, 23, 8, 30) + timedelta(seconds=1))
    with qtbot.waitSignal(controller.block_did_end, timeout=SIGNAL_TIMEOUT_MS):
        controller.end_block()
    assert controller.summary_dialog is not None
    assert unnamed(controller.summary_dialog) == []


def test_a_scheduled_block_stays_open_once_the_start_has_settled(
    qtbot: Any, make_window: Any, desk: FocusDesk, clock: TravelClock
) -> None:
    """The start of a scheduled block is followed by nothing that closes it again."""
    desk.focus.add_block(
        "Deep work", start_time="09:00", duration_minutes=90, timezone="Europe/Berlin"
    )
    window = started_window(qtbot, make_window, desk)
    controller = window.focus_controller
    ended: list[object] = []
    controller.block_did_end.connect(ended.append)
    clock.move_to(berlin(2026, 11, 23, 9, 0))
    with qtbot.waitSignal(controller.block_did_start, timeout=SIGNAL_TIMEOUT_MS):
        controller.request_tick()
    qtbot.waitUntil(lambda: not window.ops.busy)
    qtbot.wait(50)
    fw = controller.focus_window
    assert fw is not None
    assert fw.isVisible()
    assert ended == []
    assert desk.focus.current() is not None


def test_checks_go_through_the_agent_on_the_write_lane(
    qtbot: Any, make_window: Any, desk: FocusDesk
) -> None:
    """The app owns the same FocusAgent as run --headless: its checks run on the window's
    serial lane, and wake-ups that come while one waits add none."""
    window = started_window(qtbot, make_window, desk)
    controller = window.focus_controller
    assert controller.agent.scheduler is controller.scheduler is not None
    names: list[str] = []
    window.ops.job_count_did_change.connect(
        lambda _n: names.extend(j.name for j in window.ops.jobs if j.name not in names)
    )
    for _ in range(3):
        controller.scheduler_did_wake.emit()
    qtbot.waitUntil(lambda: names.count("focus: tick") == 1)
    qtbot.waitUntil(lambda: not window.ops.busy)
    assert names.count("focus: tick") == 1
    assert all(j.lane == "write" for j in window.ops.jobs)


def test_the_items_text_comes_from_the_read_lane_and_a_late_answer_is_not_shown(
    qtbot: Any, make_window: Any, desk: FocusDesk
) -> None:
    window = started_window(qtbot, make_window, desk)
    controller = window.focus_controller
    session = start_block(qtbot, controller, minutes=30, top_k=2)
    fw = controller.focus_window
    assert fw is not None
    first, second = (i.item_id for i in session.items)
    assert first is not None
    assert second is not None
    text = desk.items.get(first).text
    qtbot.waitUntil(lambda: fw.item_text.toPlainText() == text)
    fw.show_item_text(second, "late answer for another item")
    assert fw.item_text.toPlainText() == text
    edit(qtbot, controller, lambda: qtbot.mouseClick(fw.skip_button, Qt.MouseButton.LeftButton))
    assert fw.item_text.toPlainText() == "late answer for another item"  # kept, shown now

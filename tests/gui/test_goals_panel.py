"""The goals panel reads its goals off the UI thread: the window paints before they
arrive, and what depends on them follows ``goals_did_load``."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gui_helpers import SIGNAL_TIMEOUT_MS

from focusdesk.app import FocusDesk
from focusdesk.records import GoalInfo
from focusdesk.ui.empty_state import EmptyReason
from focusdesk.ui.goals_panel import GoalsPanel
from focusdesk.ui.inbox_controller import GOAL_COLUMN_WIDTH
from focusdesk.ui.inbox_model import Column
from focusdesk.ui.main_window import MainWindow
from focusdesk.ui.operations import Operations

GOAL = "Ship the v2 firmware release with the new low power mode, then the docs"


class HeldGoals:
    """``desk.goals.all`` whose first read (in the read lane) waits until released."""

    def __init__(self, desk: FocusDesk, monkeypatch: pytest.MonkeyPatch) -> None:
        self.real = desk.goals.all
        self.release = threading.Event()
        self.first_read = threading.Event()
        """Set once the first read has read (before it waits)."""
        self.reads = 0
        monkeypatch.setattr(desk.goals, "all", self)

    def __call__(self, *args: Any, **kwargs: Any) -> list[GoalInfo]:
        goals = self.real(*args, **kwargs)  # read now, returned later: maybe stale by then
        self.reads += 1
        if self.reads == 1:
            self.first_read.set()
            self.release.wait(SIGNAL_TIMEOUT_MS / 1000)
        return goals


@pytest.fixture
def held(profile: FocusDesk, monkeypatch: pytest.MonkeyPatch) -> Iterator[HeldGoals]:
    held = HeldGoals(profile, monkeypatch)
    yield held
    held.release.set()


def test_the_window_ranks_once_the_goals_it_painted_without_arrive(
    qtbot: Any, make_window: Any, profile: FocusDesk, notes_dir: Path, held: HeldGoals
) -> None:
    profile.sources.add("notes", str(notes_dir))
    goal = profile.goals.add(GOAL)
    window: MainWindow = make_window(profile, show=False)
    window.show()
    qtbot.waitExposed(window)
    qtbot.wait(50)  # the first show's work is due now, but the goals are still being read
    assert not window.goals_panel.loaded
    assert window.goals_panel.goals() == []
    assert window.empty_state.reason is not EmptyReason.NO_GOALS  # not goal-less: unread
    assert not window.cancel_action.isEnabled()  # neither a sync nor a ranking yet
    assert not {"sync", "rank"} & {job.name for job in window.ops.jobs}

    with qtbot.waitSignal(window.inbox_controller.rank_did_finish, timeout=SIGNAL_TIMEOUT_MS):
        held.release.set()  # the goals arrive: the window syncs the new folder, then ranks
    assert window.goals_panel.loaded
    assert [g.id for g in window.goals_panel.goals()] == [goal.id]
    combo = window.filter_bar.goal_combo
    assert [combo.itemData(i) for i in range(combo.count())] == [None, goal.id]
    assert window.inbox_model.goals.names == {goal.id: goal.short_name}
    width = window.inbox_view.horizontalHeader().sectionSize(Column.GOAL)
    assert GOAL_COLUMN_WIDTH[0] < width <= GOAL_COLUMN_WIDTH[1]  # fitted to the long name
    assert window.inbox_model.rowCount() == 3


@pytest.fixture
def panel(qtbot: Any, profile: FocusDesk, bug_reports: list[BaseException]) -> Iterator[GoalsPanel]:
    ops = Operations()
    widget = GoalsPanel(profile, ops)
    qtbot.addWidget(widget)
    yield widget
    ops.shutdown()
    assert not bug_reports


def titles(panel: GoalsPanel) -> list[str]:
    return [g.title for g in panel.goals()]


def test_a_goal_read_overtaken_by_an_edit_is_read_again(
    qtbot: Any, panel: GoalsPanel, profile: FocusDesk, held: HeldGoals
) -> None:
    profile.goals.add("firmware release")
    panel.reload()  # reads "firmware release" alone, and is held
    assert held.first_read.wait(SIGNAL_TIMEOUT_MS / 1000)
    with qtbot.waitSignal(panel.goals_did_change, timeout=SIGNAL_TIMEOUT_MS):
        panel.add_goal("hiring")  # stored and shown while the read is held
    assert titles(panel) == ["hiring"]
    with qtbot.waitSignal(panel.goals_did_load, timeout=SIGNAL_TIMEOUT_MS):
        held.release.set()  # the stale read is dropped; the goals are read again
    assert titles(panel) == ["firmware release", "hiring"]
    assert held.reads == 2
    assert panel.loaded


def test_a_reload_waits_for_the_queued_goal_writes(
    qtbot: Any, panel: GoalsPanel, profile: FocusDesk
) -> None:
    with qtbot.waitSignal(panel.goals_did_load, timeout=SIGNAL_TIMEOUT_MS):
        panel.reload()
    assert titles(panel) == []
    assert panel.loaded
    loads: list[list[str]] = []
    panel.goals_did_load.connect(lambda: loads.append(titles(panel)))
    with qtbot.waitSignal(panel.goals_did_load, timeout=SIGNAL_TIMEOUT_MS):
        panel.add_goal("firmware release")
        panel.add_goal("hiring")
        panel.reload()  # after both adds: never a list without them
    assert loads == [["firmware release", "hiring"]]
    assert not panel.busy


def test_a_failed_read_is_said_in_words(
    qtbot: Any, panel: GoalsPanel, profile: FocusDesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    from focusdesk.errors import KnownError

    def broken(*_a: Any, **_k: Any) -> list[GoalInfo]:
        raise KnownError("The profile could not be read.")

    monkeypatch.setattr(profile.goals, "all", broken)
    with qtbot.waitSignal(panel.goal_did_fail, timeout=SIGNAL_TIMEOUT_MS) as failed:
        panel.reload()
    assert failed.args == ["The profile could not be read."]
    assert not panel.loaded

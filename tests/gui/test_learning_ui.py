"""Learning in the real window: keyboard votes, background training, the new ranking."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fakes import ManualClock
from gui_helpers import SIGNAL_TIMEOUT_MS, activate
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from focusdesk.app import FocusDesk
from focusdesk.store.models import Item
from focusdesk.ui.main_window import MainWindow

TOPICS = {
    "battery": "lithium battery cell capacity discharge current charger",
    "radio": "radio antenna receiver frequency tuner signal",
}
T = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
EXTRA = [  # words of each note's own, so that no two notes are near-duplicates
    "monday kitchen yellow window",
    "tuesday garage purple ladder",
    "wednesday office orange carpet",
    "thursday attic silver bucket",
    "friday cellar golden hammer",
    "saturday porch crimson blanket",
]


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    root = tmp_path / "vault"
    root.mkdir()
    for topic, words in TOPICS.items():
        for n in range(6):
            (root / f"{topic}-{n}.md").write_text(
                f"---\ntitle: {topic} note {n}\n---\n{words} {topic}\n{EXTRA[n]}\n"
            )
    return root


def _positions(window: MainWindow) -> dict[str, int]:
    """Title → row; a near-duplicate collapsed into a story takes its story's row."""
    with window.desk.store.session() as s:
        titles = {i.id: i.title for i in s.query(Item)}
    out: dict[str, int] = {}
    for n, item in enumerate(window.inbox_model.all_items()):
        for member in (item.item_id, *item.story_item_ids):
            out[titles[member]] = n
    return out


def test_keyboard_votes_train_in_the_background_and_the_inbox_reranks(
    qtbot: Any, make_window: Any, profile: FocusDesk, vault: Path
) -> None:
    profile.sources.add("notes", str(vault))
    profile.goals.add("electronics: battery charger, radio receiver")
    profile.settings.learn_after_signals = 8
    profile.settings.learn_quiet_seconds = 10**6  # only the count triggers, never the clock
    window: MainWindow = make_window(profile, show=False)
    window.learning.clock = ManualClock(T)
    window.learning.quiet_after_s = 0  # the count is what triggers here
    window.learning.timer.setInterval(50)
    with qtbot.waitSignal(window.inbox_controller.rank_did_finish, timeout=SIGNAL_TIMEOUT_MS * 3):
        window.show()
    activate(qtbot, window)
    # The status is read in the background once the first ranking is on screen.
    qtbot.waitUntil(lambda: window.learning.status is not None, timeout=SIGNAL_TIMEOUT_MS)
    assert window.learning.label.text().startswith("Ranking with the untrained scorer")
    qtbot.waitUntil(lambda: "The untrained scorer ranks" in window.why_panel.text())
    with profile.store.session() as s:
        titles = {i.title: i.id for i in s.query(Item)}

    # Vote with the keyboard against the untrained order: + on four notes of the topic
    # ranked lower, - on four of the topic ranked first.
    first = window.inbox_model.all_items()[0].title.split()[0]
    down, up = first, next(t for t in TOPICS if t != first)
    for topic, vote in ((up, Qt.Key.Key_Plus), (down, Qt.Key.Key_Minus)):
        for n in range(4):
            assert window.inbox_controller.select_item(titles[f"{topic} note {n}"])
            window.inbox_view.setFocus()
            with qtbot.waitSignal(window.item_actions.item_did_change, timeout=SIGNAL_TIMEOUT_MS):
                qtbot.keyClick(QApplication.focusWidget() or window.inbox_view, vote)

    # The window learns by itself, in the background, then re-ranks.
    with qtbot.waitSignal(window.learning.rows_did_move, timeout=SIGNAL_TIMEOUT_MS * 3) as moved:
        pass
    assert window.learning.status is not None
    assert window.learning.status.version_id is not None
    assert window.learning.label.text().startswith("Ranking with learnt version")
    assert "Held-out pairs ordered correctly" in window.learning.label.toolTip()
    # The Why panel says the same in words, under whichever item is shown.
    version = window.learning.status.version_id
    assert window.inbox_controller.select_item(titles[f"{up} note 5"])
    why = window.why_panel.text()
    assert f"Learnt version {version} ranks your items" in why
    assert f"on {window.learning.status.labels} signals" in why
    assert "Held-out pairs ordered correctly:" in why
    assert "The untrained scorer ranks" not in why
    after = _positions(window)
    unvoted_up = [after[f"{up} note {n}"] for n in (4, 5)]
    others = [after[f"{down} note {n}"] for n in range(6)]
    assert max(unvoted_up) < min(others)  # it generalised beyond the voted notes
    assert moved.args[0]  # rows moved, and are marked
    some = next(iter(moved.args[0]))
    assert window.inbox_model.moved(some) != 0
    row = window.inbox_model.row_of(some)
    assert row is not None
    shown = window.inbox_model.index(row, 0).data()
    places = window.inbox_model.moved(some)
    assert shown.startswith(f"▲{places} " if places > 0 else f"▼{-places} ")  # and how far


def test_learning_switched_off_does_not_train(
    qtbot: Any, make_window: Any, profile: FocusDesk, vault: Path
) -> None:
    profile.sources.add("notes", str(vault))
    profile.goals.add("electronics: battery charger, radio receiver")
    profile.settings.learn_after_signals = 1
    window: MainWindow = make_window(profile, show=False)
    with qtbot.waitSignal(window.inbox_controller.rank_did_finish, timeout=SIGNAL_TIMEOUT_MS * 3):
        window.show()
    window.settings_controller.apply_settings({"learning_enabled": False})
    item = window.inbox_model.all_items()[0]
    profile.items.record_feedback(item.item_id, "up")
    assert window.learning.check() is None
    qtbot.waitUntil(lambda: not window.ops.busy, timeout=SIGNAL_TIMEOUT_MS)
    assert profile.learning.versions() == []
    assert "learning is off" in window.learning.label.text()


def test_the_ui_thread_never_stalls_while_1000_signals_train(
    qtbot: Any, make_window: Any, profile: FocusDesk, tmp_path: Path
) -> None:
    import torch  # noqa: F401  # loaded once at start in the app, not during training
    from test_heartbeat import Heartbeat, assert_responsive, write_notes

    from focusdesk.store.models import Feedback

    notes = write_notes(tmp_path / "many", 1500)
    profile.sources.add("notes", str(notes))
    profile.goals.add("firmware release plan")
    profile.settings.learn_after_signals = 1000
    window: MainWindow = make_window(profile, show=False)
    window.learning.timer.stop()  # asked by hand below
    window.learning.quiet_after_s = 0
    with qtbot.waitSignal(window.inbox_controller.rank_did_finish, timeout=SIGNAL_TIMEOUT_MS * 3):
        window.show()
    qtbot.waitUntil(lambda: not window.ops.busy, timeout=SIGNAL_TIMEOUT_MS)
    items = window.inbox_model.all_items()
    with profile.store.session() as s:
        s.add_all(
            Feedback(item_id=item.item_id, signal="up" if "firmware" in item.title else "down")
            for item in items[:1000]
        )
    beat = Heartbeat(lambda: window.ops.busy)
    beat.start()
    with qtbot.waitSignal(
        window.learning.learning_did_finish, timeout=SIGNAL_TIMEOUT_MS * 6
    ) as finished:
        assert window.learning.check() is not None
    qtbot.waitUntil(lambda: not window.ops.busy, timeout=SIGNAL_TIMEOUT_MS * 3)
    beat.stop()
    assert finished.args[0].n_labels == 1000
    assert len(beat.gaps) > 20, beat.summary()
    assert_responsive(beat, "training on 1,000 signals")
    print(f"\nheartbeat, training on 1,000 signals: {beat.summary()}")


def test_learning_waits_for_a_quiet_moment_after_the_windows_own_work(
    qtbot: Any, make_window: Any, profile: FocusDesk, vault: Path
) -> None:
    from datetime import timedelta

    from focusdesk.ui.learning_controller import QUIET_AFTER_WORK_S

    profile.sources.add("notes", str(vault))
    profile.goals.add("electronics: battery charger, radio receiver")
    profile.settings.learn_after_signals = 1
    window: MainWindow = make_window(profile, show=False)
    window.learning.timer.stop()  # asked by hand below
    clock = ManualClock(T)
    window.learning.clock = clock
    with qtbot.waitSignal(window.inbox_controller.rank_did_finish, timeout=SIGNAL_TIMEOUT_MS * 3):
        window.show()
    qtbot.waitUntil(lambda: not window.ops.busy, timeout=SIGNAL_TIMEOUT_MS)
    item = window.inbox_model.all_items()[0]
    window.inbox_controller.select_item(item.item_id)
    window.inbox_view.setFocus()
    with qtbot.waitSignal(window.item_actions.item_did_change, timeout=SIGNAL_TIMEOUT_MS):
        qtbot.keyClick(window.inbox_view, Qt.Key.Key_Plus)  # a signal, and work just done
    qtbot.waitUntil(lambda: not window.ops.busy, timeout=SIGNAL_TIMEOUT_MS)
    clock.at += timedelta(seconds=QUIET_AFTER_WORK_S - 1)
    assert window.learning.check() is None  # the window was working a moment ago
    clock.at += timedelta(seconds=2)
    with qtbot.waitSignal(window.learning.learning_did_finish, timeout=SIGNAL_TIMEOUT_MS * 3):
        assert window.learning.check() is not None


def test_a_learnt_version_that_cannot_be_used_is_said_in_the_status_bar(
    qtbot: Any, make_window: Any, profile: FocusDesk, vault: Path
) -> None:
    import shutil

    profile.sources.add("notes", str(vault))
    profile.goals.add("electronics: battery charger, radio receiver")
    profile.sources.sync()
    model = profile.ranker.untrained_model().fresh_copy([1], [])
    model.set_lexical_weight(0.08)
    vid = profile.ranker.save_version(model, 6, {})
    folder = profile.paths.data_dir / "scorer" / f"v{vid:04d}"
    shutil.rmtree(folder)  # deleted by hand, or lost with a backup restored without it
    profile.ranker.scorer_changed()
    window: MainWindow = make_window(profile, show=False)
    with qtbot.waitSignal(window.inbox_controller.rank_did_finish, timeout=SIGNAL_TIMEOUT_MS * 3):
        window.show()
    qtbot.waitUntil(lambda: not window.ops.busy, timeout=SIGNAL_TIMEOUT_MS)
    assert window.inbox_model.all_items()  # ranked, by the untrained scorer
    assert window.learning.label.text() == (
        f"Ranking with the untrained scorer: learnt version {vid} could not be used "
        f"(its folder {folder} is missing)"
    )
    assert window.learning.label.toolTip().startswith(
        f"Learnt version {vid} could not be used: its folder {folder} is missing. "
        "FocusDesk ranks with the untrained scorer until learning saves a new version."
    )

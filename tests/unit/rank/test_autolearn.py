"""The learning trigger: new signals or a quiet moment, time passed in, one run at a time."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from focusdesk.app import FocusDesk
from focusdesk.rank.autolearn import SignalState, TriggerPolicy, signal_state
from focusdesk.rank.learning import collect_labels
from focusdesk.rank.train_lock import TrainingBusy, training_lock

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
TOPICS = {
    "battery": "lithium battery cell capacity discharge current charger",
    "radio": "radio antenna receiver frequency tuner signal",
}


def test_policy_waits_for_enough_signals_or_a_quiet_moment() -> None:
    policy = TriggerPolicy(enabled=True, after_signals=10, quiet_seconds=120)
    few = SignalState(3, T0, 3)
    assert policy.due(few, T0 + timedelta(seconds=119)) is None
    assert policy.due(few, T0 + timedelta(seconds=120)) == "quiet moment"
    assert policy.due(SignalState(10, T0, 10), T0) == "enough signals"
    assert policy.due(SignalState(0, None, 7), T0 + timedelta(days=1)) is None
    off = TriggerPolicy(enabled=False)
    assert off.due(SignalState(50, T0, 50), T0 + timedelta(days=1)) is None


@pytest.fixture
def synced(fd: FocusDesk, tmp_path: Path) -> FocusDesk:
    root = tmp_path / "vault"
    root.mkdir()
    for topic, words in TOPICS.items():
        for n in range(6):
            (root / f"{topic}-{n}.md").write_text(
                f"---\ntitle: {topic} note {n}\n---\n{words} note {n} {topic}\n"
            )
    fd.sources.add("notes", str(root))
    fd.sources.sync()
    fd.goals.add("electronics: battery charger, radio receiver")
    fd.settings.learn_after_signals = 6
    fd.settings.learn_quiet_seconds = 120
    return fd


def _vote(fd: FocusDesk, n_up: int, n_down: int) -> None:
    ranked = fd.ranking.rank()
    radio = [r.item_id for r in ranked if r.title.startswith("radio")]
    battery = [r.item_id for r in ranked if r.title.startswith("battery")]
    for iid in radio[:n_up]:
        fd.items.record_feedback(iid, "up")
    for iid in battery[:n_down]:
        fd.items.record_feedback(iid, "down")


def test_the_learner_trains_when_due_and_not_again_for_the_same_signals(
    synced: FocusDesk,
) -> None:
    learner = synced.learning.auto
    _vote(synced, 2, 2)
    state = signal_state(synced.store)
    assert state.new_signals == 4
    assert state.last_signal_at is not None
    assert learner.due(state.last_signal_at + timedelta(seconds=1)) is None
    _vote(synced, 3, 3)  # 6 new votes in all (two items voted twice): enough
    now = signal_state(synced.store).last_signal_at
    assert now is not None
    assert learner.due(now) == "enough signals"
    result = learner.run_if_due(now)
    assert result is not None
    assert result.accepted, result.message
    assert signal_state(synced.store).new_signals == 0
    assert learner.run_if_due(now + timedelta(hours=1)) is None  # nothing new

    synced.settings.learning_enabled = False  # the Settings switch
    _vote(synced, 3, 3)
    assert learner.due(now + timedelta(hours=1)) is None


def test_too_few_signals_are_tried_once_at_a_quiet_moment_not_in_a_loop(
    synced: FocusDesk,
) -> None:
    _vote(synced, 1, 0)
    last = signal_state(synced.store).last_signal_at
    assert last is not None
    quiet = last + timedelta(seconds=120)
    result = synced.learning.auto.run_if_due(quiet)
    assert result is not None
    assert "Not enough feedback" in result.message
    assert synced.learning.auto.due(quiet + timedelta(hours=1)) is None


def test_one_training_run_at_a_time_across_processes(synced: FocusDesk) -> None:
    _vote(synced, 3, 3)
    now = signal_state(synced.store).last_signal_at
    assert now is not None
    synced.learning.lock_file.parent.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, sys, time; f = open(sys.argv[1], 'a+'); "
            "fcntl.flock(f, fcntl.LOCK_EX); print('locked', flush=True); time.sleep(60)",
            str(synced.learning.lock_file),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(TrainingBusy):
            synced.learning.train()  # what `scorer train` and `feedback` run
        assert synced.learning.auto.run_if_due(now) is None  # the app skips, tries later
        assert synced.learning.versions() == []
    finally:
        holder.kill()
        holder.wait()
    result = synced.learning.auto.run_if_due(now)  # the lock went with the process
    assert result is not None


def test_the_lock_is_held_during_training(synced: FocusDesk) -> None:
    with training_lock(synced.learning.lock_file), pytest.raises(TrainingBusy):
        synced.learning.train()


def test_reset_learning_forgets_the_feedback_so_far(synced: FocusDesk) -> None:
    _vote(synced, 3, 3)
    assert synced.learning.train().accepted
    assert synced.learning.status().version_id is not None
    synced.learning.reset()
    status = synced.learning.status()
    assert status.version_id is None
    assert status.pending_signals == 0
    assert collect_labels(synced.ranker) == []
    assert "The untrained scorer ranks your items." in status.lines()
    _vote(synced, 1, 0)  # only what comes after the reset is learnt from
    assert len(collect_labels(synced.ranker)) == 1


def test_the_cli_says_what_learning_did_and_respects_the_lock(
    synced: FocusDesk, capsys: pytest.CaptureFixture[str]
) -> None:
    from focusdesk.cli import main

    _vote(synced, 3, 3)
    assert synced.learning.train().accepted
    data = str(synced.paths.data_dir)
    assert main(["--data-dir", data, "scorer", "status"]) == 0
    out = capsys.readouterr().out
    assert "Learnt version 1 ranks your items" in out
    assert "on 6 signals" in out
    assert "Held-out pairs ordered correctly:" in out
    item = synced.ranking.rank()[0].item_id
    with training_lock(synced.learning.lock_file):  # the app is training right now
        assert main(["--data-dir", data, "feedback", str(item), "up"]) == 0
        out = capsys.readouterr().out
        assert "Recorded: item" in out
        assert "already learning in another FocusDesk window" in out
        assert main(["--data-dir", data, "scorer", "train"]) != 0
    assert "already learning" in capsys.readouterr().err

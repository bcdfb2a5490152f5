"""A process killed (SIGKILL) while it saves a learnt version of the ranking model: at
every write point under the profile's ``scorer/`` folder, and after the folder's rename
but before its row is committed. Each time the version in use before stays in use,
whole and without a problem reported; the next run saves its version."""

from __future__ import annotations

import signal
from pathlib import Path

from fakes import FakeEncoder
from fault_runner import focusdesk
from faults import FAKE

from focusdesk.app import FocusDesk
from focusdesk.paths import resolve_paths
from focusdesk.rank.model_versions import TEMP_PREFIX

TOPICS = {
    "battery": "lithium battery cell capacity discharge current charger",
    "radio": "radio antenna receiver frequency tuner signal",
    "garden": "garden tomatoes soil compost seeds watering",
}


def _profile(tmp_path: Path) -> tuple[Path, int]:
    """A profile whose first learnt version is in use, with votes waiting that a better
    version will be learnt from."""
    root = tmp_path / "vault"
    root.mkdir()
    for topic, words in TOPICS.items():
        for n in range(8):
            (root / f"{topic}-{n}.md").write_text(f"# {topic} note {n}\n\n{words} {n}\n")
    data = tmp_path / "profile"
    fd = FocusDesk(resolve_paths(data), encoder=FakeEncoder())
    try:
        fd.add_source("notes", str(root))
        fd.sync()
        fd.add_goal("electronics: battery charger, radio receiver")
        ranked = fd.rank()
        for topic, vote in (("radio", "up"), ("battery", "down")):
            for iid in [r.item_id for r in ranked if r.title.startswith(topic)][:4]:
                fd.record_feedback(iid, vote)
        result = fd.train_scorer()
        assert result.accepted, result.message
        assert result.version_id is not None
        # The user changed their mind: battery over radio now (a better version to come).
        for topic, vote in (("battery", "up"), ("radio", "down")):
            for iid in [r.item_id for r in ranked if r.title.startswith(topic)]:
                fd.record_feedback(iid, vote)
        return data, result.version_id
    finally:
        fd.close()


def _in_use(data: Path) -> tuple[int | None, object, dict[int, float]]:
    fd = FocusDesk(resolve_paths(data), encoder=FakeEncoder())
    try:
        relevance = {r.item_id: round(r.relevance, 5) for r in fd.rank()}
        return fd.ranker.version_in_use, fd.ranker.model_problem(), relevance
    finally:
        fd.close()


def test_a_kill_while_a_version_is_saved_leaves_the_previous_one_in_use(
    tmp_path: Path,
) -> None:
    data, first = _profile(tmp_path)
    before = _in_use(data)
    assert before[:2] == (first, None)

    killed = 0
    for nth in range(1, 20):
        env = {**FAKE, "FOCUSDESK_TEST_KILL_FILE": f"scorer:{nth}"}
        run = focusdesk(data, "scorer", "train", check=False, env=env)
        if run.returncode == 0:
            break
        assert run.returncode == -signal.SIGKILL, run.stderr
        killed += 1
        assert _in_use(data) == before, f"killed at write point {nth} under scorer/"
    else:
        raise AssertionError("the training run never completed")
    # The lock, then the three files in the temp folder, then the rename: each was a kill.
    assert killed >= 5
    assert "the new scorer is in use" in run.stdout, run.stdout
    after = _in_use(data)
    assert after[0] == first + 1
    assert after[1] is None
    assert not list((data / "scorer").glob(TEMP_PREFIX + "*"))


def test_a_kill_after_the_rename_before_the_commit_leaves_the_previous_one_in_use(
    tmp_path: Path,
) -> None:
    data, first = _profile(tmp_path)
    before = _in_use(data)
    env = {**FAKE, "FOCUSDESK_TEST_KILL_SQL": "UPDATE scorer_versions:1"}
    run = focusdesk(data, "scorer", "train", check=False, env=env)
    assert run.returncode == -signal.SIGKILL, run.stdout + run.stderr
    assert (data / "scorer" / f"v{first + 1:04d}" / "manifest.json").exists()  # renamed...
    assert _in_use(data) == before  # ... but never made the one in use
    done = focusdesk(data, "scorer", "train", env=FAKE)
    assert "the new scorer is in use" in done.stdout, done.stdout
    version, problem, _ = _in_use(data)
    assert (version, problem) == (first + 1, None)

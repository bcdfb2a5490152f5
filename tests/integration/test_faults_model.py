"""A process killed (SIGKILL) while it saves a learnt version of the ranking model: at
every write point of the save under the profile's ``scorer/`` folder, and after the
folder's rename but before its row is committed. Each time the version in use before
stays in use, whole and without a problem reported; the next run saves its version."""

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
        fd.sources.add("notes", str(root))
        fd.sources.sync()
        fd.goals.add("electronics: battery charger, radio receiver")
        ranked = fd.ranking.rank()
        for topic, vote in (("radio", "up"), ("battery", "down")):
            for iid in [r.item_id for r in ranked if r.title.startswith(topic)][:4]:
                fd.items.record_feedback(iid, vote)
        result = fd.learning.train()
        assert result.accepted, result.message
        assert result.version_id is not None
    finally:
        fd.close()
    # The user changed their mind: battery over radio now (a better version to come).
    _vote(data, {"battery": "up", "radio": "down"})
    return data, result.version_id


def _vote(data: Path, votes: dict[str, str]) -> None:
    """Vote every item of each topic."""
    fd = FocusDesk(resolve_paths(data), encoder=FakeEncoder())
    try:
        for r in fd.ranking.rank():
            topic = r.title.split()[0]
            if topic in votes:
                fd.items.record_feedback(r.item_id, votes[topic])
    finally:
        fd.close()


def _in_use(data: Path) -> tuple[int | None, object, dict[int, float]]:
    fd = FocusDesk(resolve_paths(data), encoder=FakeEncoder())
    try:
        relevance = {r.item_id: round(r.relevance, 5) for r in fd.ranking.rank()}
        return fd.ranker.version_in_use, fd.ranker.model_problem(), relevance
    finally:
        fd.close()


def test_a_kill_while_a_version_is_saved_leaves_the_previous_one_in_use(
    tmp_path: Path,
) -> None:
    data, first = _profile(tmp_path)
    before = _in_use(data)
    assert before[:2] == (first, None)

    # Write point 1 under scorer/ is the training lock, taken before training; from 2 on
    # the version is being saved: its three files in the temp folder, then the rename.
    killed = []
    for nth in range(2, 20):
        env = {**FAKE, "FOCUSDESK_TEST_KILL_FILE": f"scorer:{nth}"}
        run = focusdesk(data, "scorer", "train", check=False, env=env)
        if run.returncode == 0:
            break
        assert run.returncode == -signal.SIGKILL, run.stderr
        killed.append(nth)
        assert _in_use(data) == before, f"killed at write point {nth} under scorer/"
    else:
        raise AssertionError("the training run never completed")
    assert killed == [2, 3, 4, 5]
    assert "the new scorer is in use" in run.stdout, run.stdout
    assert _in_use(data)[:2] == (first + 1, None)
    assert not list((data / "scorer").glob(TEMP_PREFIX + "*"))

    # Killed after the rename, before the commit: the folder is there, its row is not.
    second = first + 1
    _vote(data, {"radio": "up", "battery": "down"})  # changed their mind again
    now = _in_use(data)
    env = {**FAKE, "FOCUSDESK_TEST_KILL_SQL": "UPDATE scorer_versions:1"}
    run = focusdesk(data, "scorer", "train", check=False, env=env)
    assert run.returncode == -signal.SIGKILL, run.stdout + run.stderr
    assert (data / "scorer" / f"v{second + 1:04d}" / "manifest.json").exists()
    assert _in_use(data) == now  # never made the one in use
    # The next run replaces the orphan folder and its version is used.
    done = focusdesk(data, "scorer", "train", env=FAKE)
    assert "the new scorer is in use" in done.stdout, done.stdout
    assert _in_use(data)[:2] == (second + 1, None)

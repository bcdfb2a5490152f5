"""Faults during a sync of notes, mbox, Maildir and a feed: kill -9 at seeded random
points, and a disk that fills up. After a re-run the profile equals an uninterrupted
(golden) sync's, item for item and vector for vector, with the index on disk in step and
the database intact."""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fault_runner import focusdesk
from faults import FAKE, Golden, Snapshot, assert_same, copy_profile, snapshot

KILLS = 3  # killed runs in a row before the run that is let finish


def _killed_then_rerun(golden: Golden, profile: Path, kills: list[int]) -> Snapshot:
    died = 0
    for at in kills:
        env = {**FAKE, "FOCUSDESK_TEST_KILL_AT": str(at)}
        run = focusdesk(profile, "sync", "--no-progress", check=False, env=env)
        assert run.returncode in (-signal.SIGKILL, 0), run.stderr
        died += run.returncode == -signal.SIGKILL
    assert died >= 1, kills
    focusdesk(profile, "sync", "--no-progress", env=FAKE)
    return snapshot(profile)


@pytest.mark.parametrize("seed", [16, 1604])
def test_a_sync_killed_anywhere_then_rerun_equals_an_uninterrupted_one(
    golden: Golden, tmp_path: Path, seed: int
) -> None:
    assert golden.points > 100  # enough places to die
    rng = random.Random(seed)
    kills = [rng.randint(1, golden.points) for _ in range(KILLS)]
    got = _killed_then_rerun(golden, copy_profile(golden.base, tmp_path / "p"), kills)
    assert_same(got, golden.want)


@pytest.mark.parametrize(
    "statement",
    ["INSERT INTO chunks:1", "INSERT INTO embeddings:1", "DELETE FROM embeddings:1"],
)
def test_a_sync_killed_in_the_pipelined_encode_stage_then_rerun_equals_an_uninterrupted_one(
    golden: Golden, tmp_path: Path, statement: str
) -> None:
    # The encode stage chunks and stores vectors while the reader thread still reads:
    # killed at its first passages or its first vectors, the next sync resumes.
    profile = copy_profile(golden.base, tmp_path / "p")
    env = {**FAKE, "FOCUSDESK_TEST_KILL_SQL": statement}
    run = focusdesk(profile, "sync", "--no-progress", check=False, env=env)
    assert run.returncode == -signal.SIGKILL, run.stderr
    focusdesk(profile, "sync", "--no-progress", env=FAKE)
    assert_same(snapshot(profile), golden.want)


@pytest.mark.parametrize("nth", [3, 5])
def test_a_sync_killed_while_saving_the_index_then_rerun_saves_it(
    golden: Golden, tmp_path: Path, nth: int
) -> None:
    # The index's files are written last (points 1-2 under cache/index are the start's
    # check that the folder is writable; 3: the index's temporary file, 5: the
    # manifest's, the new index in place): everything else was committed, so the re-run
    # finds nothing new to read or encode, and must still write the index.
    profile = copy_profile(golden.base, tmp_path / "p")
    env = {**FAKE, "FOCUSDESK_TEST_KILL_FILE": f"cache/index:{nth}"}
    run = focusdesk(profile, "sync", "--no-progress", check=False, env=env)
    assert run.returncode == -signal.SIGKILL, run.stderr
    with sqlite3.connect(f"file:{profile / 'focusdesk.sqlite3'}?mode=ro", uri=True) as con:
        (items,) = con.execute("SELECT count(*) FROM items").fetchone()
        (missing,) = con.execute(
            "SELECT count(*) FROM chunks c LEFT JOIN embeddings e ON e.text_hash = c.text_hash "
            "WHERE e.text_hash IS NULL"
        ).fetchone()
    assert (items, missing) == (len(golden.want.items), 0)  # all read and encoded before
    focusdesk(profile, "sync", "--no-progress", env=FAKE)
    assert_same(snapshot(profile), golden.want)


@pytest.mark.parametrize("room_kib", [8, 64])
def test_a_full_disk_stops_the_sync_with_a_clear_message_and_the_next_one_completes(
    golden: Golden, tmp_path: Path, room_kib: int
) -> None:
    profile = copy_profile(golden.base, tmp_path / "p")
    database = profile / "focusdesk.sqlite3"
    limit = database.stat().st_size + room_kib * 1024  # no file may grow past this
    env = {**FAKE, "FOCUSDESK_TEST_FSIZE": str(limit)}
    full = focusdesk(profile, "sync", "--no-progress", check=False, env=env)
    assert full.returncode == 1
    assert "Traceback" not in full.stderr
    assert f"focusdesk: FocusDesk could not write to {database} (disk I/O error)." in full.stderr
    assert "Free some space, then try again. Everything saved before is kept." in full.stderr

    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as con:
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert "feed.xml" in focusdesk(profile, "sources", "list").stdout  # still readable
    focusdesk(profile, "sync", "--no-progress", env=FAKE)
    assert_same(snapshot(profile), golden.want)


@contextmanager
def small_filesystem(folder: Path, size: str) -> Iterator[None]:
    """A tmpfs of ``size`` mounted on ``folder`` (skips where mounting is not permitted)."""
    mount = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if mount.returncode != 0:
        pytest.skip(f"cannot mount a small filesystem here: {mount.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def test_a_full_disk_under_the_index_is_told_and_the_next_sync_saves_it(
    golden: Golden, tmp_path: Path
) -> None:
    profile = copy_profile(golden.base, tmp_path / "p")
    folder = profile / "cache" / "index"
    with small_filesystem(folder, "8k"):  # room for the index, not for its manifest too
        full = focusdesk(profile, "sync", "--no-progress", check=False, env=FAKE)
        assert full.returncode == 1
        assert "Traceback" not in full.stderr
        assert full.stderr.startswith(
            f"focusdesk: The search index could not be saved in {folder} "
            "(No space left on device).\nThe disk may be full. Free some space, then sync again"
        )
        assert not [p.name for p in folder.iterdir() if p.name.startswith(".")]  # no leftovers
    focusdesk(profile, "sync", "--no-progress", env=FAKE)  # the disk has room again
    assert_same(snapshot(profile), golden.want)

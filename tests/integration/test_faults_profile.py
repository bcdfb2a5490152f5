"""Damage to a profile between runs: a corrupt index file, a truncated write-ahead log,
a model folder that is gone. Each is told in words (where FocusDesk can tell) and the
profile recovers: the index is rebuilt from the stored vectors, the database opens, and
what does not need the model keeps working."""

from __future__ import annotations

import json
import signal
import sqlite3
from pathlib import Path

import pytest
from fault_runner import focusdesk
from faults import FAKE, Golden, assert_same, copy_profile, snapshot

from focusdesk.rank.index import INDEX_FILE


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_a_damaged_index_file_is_named_and_rebuilt_from_the_stored_vectors(
    golden: Golden, tmp_path: Path, damage: str
) -> None:
    profile = copy_profile(golden.synced, tmp_path / "p")
    index_file = profile / "cache" / "index" / INDEX_FILE
    data = index_file.read_bytes()
    index_file.write_bytes(b"not a faiss index" if damage == "garbage" else data[: len(data) // 2])

    found = focusdesk(profile, "search", "battery", "life", "--json", env=FAKE)
    assert f"The search index {index_file} is damaged (" in found.stderr
    assert "it is rebuilt from the stored vectors" in found.stderr
    hits = [json.loads(line) for line in found.stdout.splitlines()]
    assert hits
    assert any(hit["vector_rank"] is not None for hit in hits)  # the index answered
    assert_same(snapshot(profile), golden.want)  # rebuilt whole, and saved


@pytest.mark.parametrize("keep", ["half", "header"])
def test_a_truncated_wal_opens_and_the_next_sync_completes(
    golden: Golden, tmp_path: Path, keep: str
) -> None:
    profile = copy_profile(golden.base, tmp_path / "p")
    env = {**FAKE, "FOCUSDESK_TEST_KILL_AT": str(golden.points // 2)}
    killed = focusdesk(profile, "sync", "--no-progress", check=False, env=env)
    assert killed.returncode == -signal.SIGKILL
    wal = profile / "focusdesk.sqlite3-wal"
    size = wal.stat().st_size
    assert size > 32 * 1024  # committed pages not yet copied into the database
    with wal.open("r+b") as fh:  # cut mid-frame (a crash of the disk, not of FocusDesk)
        fh.truncate(size // 2 + 100 if keep == "half" else 10)

    with sqlite3.connect(f"file:{profile / 'focusdesk.sqlite3'}?mode=ro", uri=True) as con:
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert "inbox.mbox" in focusdesk(profile, "sources", "list").stdout
    focusdesk(profile, "sync", "--no-progress", env=FAKE)
    assert_same(snapshot(profile), golden.want)


def test_a_missing_model_folder_is_named_and_the_rest_keeps_working(
    golden: Golden, tmp_path: Path
) -> None:
    profile = copy_profile(golden.base, tmp_path / "p")
    gone = tmp_path / "my-model"
    (profile / "settings.json").write_text(json.dumps({"model_path": str(gone)}))
    message = f"focusdesk: The model folder {gone} does not exist (moved or deleted?)."

    synced = focusdesk(profile, "sync", "--no-progress", check=False)  # the real encoder
    assert synced.returncode == 1
    assert synced.stderr.startswith(message)
    assert "Traceback" not in synced.stderr
    listed = focusdesk(profile, "sources", "list").stdout
    assert listed.count("[6 items, enabled") == 4  # every source was still read and kept

    found = focusdesk(profile, "search", "leeks", "--json")
    assert found.stderr.startswith(message)
    assert found.stderr.rstrip().endswith("Showing keyword matches only.")
    titles = [json.loads(line)["title"] for line in found.stdout.splitlines()]
    assert titles
    assert all(json.loads(line)["vector_rank"] is None for line in found.stdout.splitlines())
    assert "mbox 4: soup recipes with leeks and onions" in titles

    assert "Added goal 1" in focusdesk(profile, "goals", "add", "firmware").stdout
    doctor = focusdesk(profile, "doctor").stdout
    assert "does not exist" in doctor
    ranked = focusdesk(profile, "rank", check=False)
    assert ranked.returncode == 1
    assert ranked.stderr.startswith(message)

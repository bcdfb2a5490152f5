"""A sync killed with SIGKILL mid-fetch, then re-run, ends exactly like an uninterrupted one."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from dovecot_server import HERE, HOST, Dovecot, message
from fault_runner import TESTS, focusdesk

pytestmark = pytest.mark.model  # the re-runs encode with the real bundled model

MESSAGES = 300


def item_count(data_dir: Path) -> int:
    db = data_dir / "focusdesk.sqlite3"
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.2) as con:
            return int(con.execute("SELECT count(*) FROM items").fetchone()[0])
    except sqlite3.Error:
        return 0


def final_items(data_dir: Path) -> tuple[list[tuple[str, str]], int, str]:
    with sqlite3.connect(f"file:{data_dir / 'focusdesk.sqlite3'}?mode=ro", uri=True) as con:
        rows = con.execute("SELECT external_id, content_hash FROM items").fetchall()
        (state,) = con.execute("SELECT sync_state FROM sources").fetchone()
    return sorted((str(e), str(h)) for e, h in rows), len({e for e, _ in rows}), state


def test_sigkill_mid_sync_then_rerun_equals_an_uninterrupted_sync(
    dovecot: Dovecot, tmp_path: Path
) -> None:
    user = dovecot.add_user()
    dovecot.append(user, [message(n) for n in range(1, MESSAGES + 1)])
    env = {
        **os.environ,
        "FOCUSDESK_DATA_DIR": "",
        "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]),
        "PYTHON_KEYRING_BACKEND": "keyring_backends.FileKeyring",
        "FOCUSDESK_TEST_KEYRING_FILE": str(tmp_path / "test-keyring.json"),
    }
    add = ["sources", "add", "imap", "--host", HOST, "--user", user.name]
    add += ["--port", str(dovecot.imaps_port), "--cafile", str(dovecot.cafile), "--password-stdin"]
    killed, reference = tmp_path / "killed", tmp_path / "reference"
    for data_dir in (killed, reference):
        out = focusdesk(data_dir, *add, env=env, stdin=user.password + "\n").stdout
        assert "saved in the system keyring (keyring_backends.FileKeyring)" in out

    proc = subprocess.Popen(
        [sys.executable, str(HERE / "slow_sync.py"), "--data-dir", str(killed), "sync"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while (seen := item_count(killed)) == 0:
            assert proc.poll() is None, "the sync ended before it could be killed"
            assert time.monotonic() < deadline, "the sync stored nothing in time"
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(10)
    assert 0 < seen < MESSAGES  # killed mid-fetch
    assert 0 < item_count(killed) < MESSAGES

    resumed = focusdesk(killed, "sync", "--no-progress", env=env).stdout
    assert "0 failed" in resumed
    focusdesk(reference, "sync", "--no-progress", env=env)

    got, got_distinct, got_state = final_items(killed)
    want, want_distinct, want_state = final_items(reference)
    assert len(want) == want_distinct == MESSAGES
    assert len(got) == got_distinct == MESSAGES  # no duplicates
    assert got == want  # nothing lost, nothing different
    assert got_state == want_state
    for data_dir in (killed, reference):
        for path in data_dir.rglob("*"):
            if path.is_file():
                assert user.password.encode() not in path.read_bytes(), path

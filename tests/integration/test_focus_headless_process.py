"""`focusdesk run --headless` as a real process: it keeps running and stops cleanly on
SIGTERM and SIGINT (no model is loaded: nothing is due)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from fakes import FakeEncoder

from focusdesk.app import FocusDesk
from focusdesk.paths import resolve_paths

TIMEOUT_S = 60


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_headless_runs_until_signalled(tmp_path: Path, sig: signal.Signals) -> None:
    profile = tmp_path / "profile"
    desk = FocusDesk(resolve_paths(profile), encoder=FakeEncoder())  # type: ignore[arg-type]
    try:
        desk.focus.add_block("Deep work", start_time="09:00", duration_minutes=90)
    finally:
        desk.close()
    proc = subprocess.Popen(
        [sys.executable, "-m", "focusdesk", "--data-dir", str(profile), "run", "--headless"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "FOCUSDESK_DATA_DIR": ""},
    )
    watchdog = threading.Timer(TIMEOUT_S, proc.kill)
    watchdog.start()
    try:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if "Next focus block: 'Deep work'" in line:
                break
        assert any("Scheduler running" in line for line in lines), lines
        proc.send_signal(sig)
        rest, err = proc.communicate(timeout=TIMEOUT_S)
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert rest.rstrip().endswith("Stopped.")

"""A profile folder that cannot be written: the CLI says so in words and exits cleanly."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _read_only_run(folder: Path, args: list[str]) -> subprocess.CompletedProcess[str]:
    """Run ``focusdesk args`` with ``folder`` read-only (a read-only mount when root,
    whom file modes do not stop)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "focusdesk", *args]
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    if shutil.which("unshare") is None:
        pytest.skip("root without unshare: no way to make a folder read-only")
    probe = subprocess.run(["unshare", "-rm", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"user namespaces unavailable: {probe.stderr.decode().strip()}")
    script = 'mount -t tmpfs -o ro none "$0" && exec "$@"'
    return subprocess.run(
        ["unshare", "-rm", "sh", "-c", script, str(folder), *command],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_read_only_data_dir_is_reported_and_the_cli_exits_cleanly(tmp_path: Path) -> None:
    profile = tmp_path / "profile"
    profile.mkdir()
    done = _read_only_run(profile, ["--data-dir", str(profile), "goals", "list"])
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert f"cannot write to its folder {profile}" in done.stderr
    assert "--data-dir" in done.stderr

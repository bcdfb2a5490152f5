"""The CLI as a user runs it: a real process, a temp data dir, the real bundled model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.model


def focusdesk(data_dir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FOCUSDESK_DATA_DIR": ""}
    proc = subprocess.run(
        [sys.executable, "-m", "focusdesk", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"focusdesk {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


def _first_messages(mbox: Path, n: int, out: Path) -> Path:
    kept, count = [], 0
    with mbox.open("rb") as fh:
        for line in fh:
            if line.startswith(b"From "):
                count += 1
                if count > n:
                    break
            kept.append(line)
    out.write_bytes(b"".join(kept))
    return out


def test_dev_mbox_add_sync_goal_rank(tmp_path: Path, shared_data: Path) -> None:
    dev = shared_data / "newsgroups-dev"
    mbox = _first_messages(dev / "inbox.mbox", 120, tmp_path / "dev-120.mbox")
    data = tmp_path / "profile"

    out = focusdesk(data, "sources", "add", "mbox", str(mbox)).stdout
    assert "Added mbox source 1" in out
    first = focusdesk(data, "sync").stdout
    assert "120 added, 0 updated, 0 removed, 0 failed" in first

    goal = json.loads((dev / "goals.json").read_text())["goals"][4]["goal"]
    focusdesk(data, "goals", "add", goal)
    lines = focusdesk(data, "rank", "--top", "10", "--json").stdout.splitlines()
    assert len(lines) == 10
    rows = [json.loads(line) for line in lines]
    for row in rows:
        assert {"id", "source_kind", "external_id", "title", "score", "goal", "evidence"} <= set(
            row
        )
        assert row["source_kind"] == "mbox"
        assert row["goal"] == goal
        assert row["evidence"]
    scores = [r["score"] for r in rows]
    assert scores == sorted(scores, reverse=True)

    labels = dict(line.split("\t") for line in (dev / "labels.tsv").read_text().splitlines()[1:])
    groups = [labels[r["external_id"]].strip() for r in rows]
    assert sum(g.startswith("talk.politics") for g in groups) >= 5, groups

    second = focusdesk(data, "sync").stdout
    assert "0 added, 0 updated, 0 removed, 0 failed; 0 chunks encoded" in second


def test_sources_goals_and_doctor(tmp_path: Path) -> None:
    data = tmp_path / "profile"
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "a.md").write_text("# Bike\n\nFix the rear derailleur before the weekend ride.\n")
    assert "No sources yet" in focusdesk(data, "sources", "list").stdout
    focusdesk(data, "sources", "add", "notes", str(notes), "--name", "My notes")
    listed = focusdesk(data, "sources", "list").stdout
    assert "My notes" in listed
    assert "last sync never" in listed

    focusdesk(data, "goals", "add", "bicycle maintenance", "--weight", "2", "--name", "Bike")
    goals = focusdesk(data, "goals", "list").stdout
    assert "weight 2" in goals
    assert "bicycle maintenance  [Bike]" in goals

    doctor = json.loads(focusdesk(data, "doctor", "--json").stdout)
    assert doctor["data_dir"] == str(data.resolve())
    assert doctor["device"] in {"cpu", "cuda"}
    assert doctor["device_reason"]
    assert doctor["model_dim"] == 384
    assert doctor["counts"]["goals"] == 1

    focusdesk(data, "sync")
    ranked = focusdesk(data, "rank").stdout
    assert "Bike" in ranked
    assert "derailleur" in ranked

    focusdesk(data, "sources", "remove", "1")
    assert "No sources yet" in focusdesk(data, "sources", "list").stdout


def test_errors_are_one_clear_line(tmp_path: Path) -> None:
    data = tmp_path / "profile"
    proc = focusdesk(data, "sources", "add", "mbox", str(tmp_path / "missing.mbox"), check=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith("focusdesk: The mailbox file")
    assert "Traceback" not in proc.stderr
    proc = focusdesk(data, "rank", check=False)
    assert proc.returncode == 1
    assert "no active goals" in proc.stderr
    proc = focusdesk(data, "goals", "remove", "42", check=False)
    assert proc.returncode == 1
    assert "no goal with id 42" in proc.stderr


def test_the_cli_does_not_import_torch_for_light_verbs(tmp_path: Path) -> None:
    code = (
        "import sys; from focusdesk.cli import main; "
        f"main(['--data-dir', {str(tmp_path / 'p')!r}, 'goals', 'list']); "
        "print('torch' in sys.modules, 'PySide6' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "False False"

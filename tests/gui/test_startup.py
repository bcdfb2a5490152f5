"""Starting the app: the window appears without torch, and a bad profile is reported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QMessageBox

SHOW_WINDOW = """
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
app = QApplication([])
from focusdesk.app import FocusDesk
from focusdesk.ui.main_window import MainWindow
desk = FocusDesk.open(sys.argv[1])
window = MainWindow(desk)
window.show()
seen = []
QTimer.singleShot(300, lambda: (seen.append(window.isVisible()), app.quit()))
app.exec()
print("visible", seen)
print("torch", "torch" in sys.modules)
print("sentence_transformers", "sentence_transformers" in sys.modules)
window.close()
desk.close()
"""


def test_window_shows_without_importing_torch(tmp_path: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run(
        [sys.executable, "-c", SHOW_WINDOW, str(tmp_path / "fresh-profile")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    ).stdout.splitlines()
    assert "visible [True]" in out
    assert "torch False" in out
    assert "sentence_transformers False" in out


def test_profile_that_cannot_open_is_reported(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from focusdesk.ui.main import run

    profile = tmp_path / "broken"
    (profile / "focusdesk.sqlite3").mkdir(parents=True)  # a folder where the database goes
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "critical", lambda _p, _t, text, *a: shown.append(text))
    assert run(str(profile)) == 1
    assert len(shown) == 1
    assert "could not be opened" in shown[0]


def test_run_opens_the_profile_shows_the_window_and_exits(
    qtbot: Any, tmp_path: Path, bug_reports: list[BaseException]
) -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from focusdesk.ui.main import run
    from focusdesk.ui.main_window import MainWindow

    seen: list[str] = []

    def close_windows() -> None:
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, MainWindow) and widget.isVisible():
                seen.append(widget.windowTitle())
        # Every visible window (one left open by another test too), or exec() never ends.
        QApplication.closeAllWindows()

    QTimer.singleShot(0, close_windows)
    assert run(str(tmp_path / "profile"), demo=True) == 0
    assert seen == ["FocusDesk — demo profile"]
    assert (tmp_path / "profile" / "ui.ini").is_file()


def test_first_window_appears_quickly(tmp_path: Path) -> None:
    """Process start to the window shown, as scripts/measure_startup.py measures it.

    Measured on the 2-core CI machine: about 0.9 s offscreen, 1.0 s under Xvfb; the
    bound here is loose so that a busy machine does not fail it.
    """
    script = Path(__file__).resolve().parents[2] / "scripts" / "measure_startup.py"
    out = subprocess.run(
        [sys.executable, str(script), "--runs", "1", "--json", "--data-dir", str(tmp_path / "p")],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    ).stdout
    report = json.loads(out.splitlines()[-1])
    assert report["visible"] is True
    assert report["torch_loaded"] is False  # the model loads after the window, in the background
    assert report["median_s"] < 5.0, report
    assert report["first_start_s"] < 8.0, report


@pytest.mark.model
def test_startup_can_wait_for_the_first_ranked_rows(tmp_path: Path, real_encoder: Any) -> None:
    """`measure_startup.py --wait-ranked`: process start to ranked rows in the inbox (one
    start, as the script times each)."""
    import importlib.util

    from focusdesk.bench.profile import ProfileSpec, ensure_profile

    profile = tmp_path / "bench"
    ensure_profile(profile, ProfileSpec(items=40, chunks=90, goals=2), real_encoder)
    script = Path(__file__).resolve().parents[2] / "scripts" / "measure_startup.py"
    spec = importlib.util.spec_from_file_location("measure_startup", script)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    once = module.measure_once(profile, "offscreen", wait_ranked=True, limit=240.0)
    assert once["visible"] is True
    assert 0 < once["ranked_rows"] <= 40  # ranked items in the inbox (done ones hidden)
    assert once["ranked_seconds"] >= once["seconds"]

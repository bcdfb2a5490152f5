"""How long FocusDesk takes from process start to its first window on screen.

Each run starts a fresh Python process that opens the desktop app the way
``focusdesk`` does (``focusdesk.ui.main.run``) and reports the moment its event
loop first runs with the window shown; the time is counted from just before the
process was spawned, so interpreter start-up and every import are included.
The model is not loaded for the first window (it loads afterwards, in the
background), so that cost is not part of it.

    python scripts/measure_startup.py --runs 5            # offscreen
    xvfb-run -a python scripts/measure_startup.py --runs 5 --platform xcb
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import sys, time
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

app = QApplication(sys.argv[:1])

def shown():
    from focusdesk.ui.main_window import MainWindow
    windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
    visible = bool(windows) and windows[0].isVisible()
    print(f"SHOWN {time.time():.6f} {int(visible)} {int('torch' in sys.modules)}", flush=True)
    for w in windows:
        w.close()

QTimer.singleShot(0, shown)
from focusdesk.ui.main import run
sys.exit(run(sys.argv[1]))
"""


def measure_once(data_dir: Path, platform: str) -> dict[str, float | bool]:
    """Seconds from spawning the process to the window shown (and what was loaded)."""
    env = {**os.environ, "QT_QPA_PLATFORM": platform}
    started = time.time()
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(data_dir)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    ).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("SHOWN "))
    _, when, visible, torch = line.split()
    return {
        "seconds": float(when) - started,
        "visible": visible == "1",
        "torch_loaded": torch == "1",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="how many starts (default 5)")
    parser.add_argument(
        "--platform", default="offscreen", help="Qt platform plugin (offscreen, xcb, ...)"
    )
    parser.add_argument("--data-dir", type=Path, help="a profile to open (default: a new one)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="focusdesk-startup-") as tmp:
        profile = args.data_dir or Path(tmp) / "profile"
        first = measure_once(profile, args.platform)  # creates and migrates a new profile
        runs = [measure_once(profile, args.platform) for _ in range(max(1, args.runs))]
    seconds = [float(r["seconds"]) for r in runs]
    report = {
        "first_start_s": round(float(first["seconds"]), 3),
        "runs": len(runs),
        "median_s": round(statistics.median(seconds), 3),
        "min_s": round(min(seconds), 3),
        "max_s": round(max(seconds), 3),
        "visible": all(bool(r["visible"]) for r in runs),
        "torch_loaded": any(bool(r["torch_loaded"]) for r in [first, *runs]),
    }
    if args.json:
        print(json.dumps(report))
    else:
        print(
            f"first window: median {report['median_s']:.2f} s over {len(runs)} starts "
            f"(min {report['min_s']:.2f}, max {report['max_s']:.2f}); "
            f"a brand-new profile: {report['first_start_s']:.2f} s; "
            f"torch loaded before the window: {report['torch_loaded']}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""How long FocusDesk takes from process start to its first window on screen, and
(with ``--wait-ranked``) to the first ranked rows in its inbox.

Each run starts a fresh Python process that opens the desktop app the way
``focusdesk`` does (``focusdesk.ui.main.run``) and reports the moment its event
loop first runs with the window shown; the time is counted from just before the
process was spawned, so interpreter start-up and every import are included.
The model is not loaded for the first window (it loads afterwards, in the
background), so that cost is not part of it. With ``--wait-ranked`` the process
goes on until the window has finished its first ranking and the inbox holds ranked
rows (checked every 20 ms), and that moment is reported too: what a user waits for
before the first ranked row is on screen. Those rows may be the stored ranking, shown
before the model loads; the report says whether torch was loaded by then and whether
the rows were computed in that start.

    python scripts/measure_startup.py --runs 5            # offscreen
    xvfb-run -a python scripts/measure_startup.py --runs 5 --platform xcb
    focusdesk bench rank --items 100000 --profile-dir /tmp/p100k --cli-runs 0 --runs 1
    python scripts/measure_startup.py --data-dir /tmp/p100k --wait-ranked --runs 2
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
wait_ranked, limit, started = sys.argv[2] == "1", float(sys.argv[3]), time.time()

def windows():
    from focusdesk.ui.main_window import MainWindow
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]

def close():
    for w in windows():
        w.close()

def shown():
    found = windows()
    visible = bool(found) and found[0].isVisible()
    print(f"SHOWN {time.time():.6f} {int(visible)} {int('torch' in sys.modules)}", flush=True)
    if wait_ranked and found:
        ranked()
    else:
        close()

def ranked():
    w = windows()[0]
    rows = w.inbox_model.rowCount()
    # Ranked rows: the stored ranking shown at start, or one computed since.
    if w.inbox_controller.shows_ranking and rows > 0 and w.inbox_view.isVisible():
        torch = int("torch" in sys.modules)
        cpu = time.process_time()  # this process's CPU seconds so far (all its threads)
        once = int(w.inbox_controller.ranked_once)
        print(f"RANKED {time.time():.6f} {rows} {torch} {once} {cpu:.3f}", flush=True)
        close()
    elif time.time() - started > limit:
        print(f"NOT-RANKED {time.time():.6f} {rows}", flush=True)
        close()
    else:
        QTimer.singleShot(20, ranked)

QTimer.singleShot(0, shown)
from focusdesk.ui.main import run
sys.exit(run(sys.argv[1]))
"""


def measure_once(
    data_dir: Path, platform: str, *, wait_ranked: bool = False, limit: float = 600.0
) -> dict[str, float | bool | None]:
    """Seconds from spawning the process to the window shown (and what was loaded); with
    ``wait_ranked``, also to the first ranked rows in the inbox (None: not within
    ``limit`` seconds)."""
    env = {**os.environ, "QT_QPA_PLATFORM": platform}
    started = time.time()
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(data_dir), str(int(wait_ranked)), str(limit)],
        capture_output=True,
        text=True,
        env=env,
        timeout=limit + 120,
        check=True,
    ).stdout
    lines = out.splitlines()
    _, when, visible, torch = next(ln for ln in lines if ln.startswith("SHOWN ")).split()
    result: dict[str, float | bool | None] = {
        "seconds": float(when) - started,
        "visible": visible == "1",
        "torch_loaded": torch == "1",
    }
    if wait_ranked:
        ranked = next((ln.split() for ln in lines if ln.startswith("RANKED ")), None)
        result["ranked_seconds"] = float(ranked[1]) - started if ranked else None
        result["ranked_rows"] = float(ranked[2]) if ranked else None
        result["torch_loaded_when_ranked"] = ranked[3] == "1" if ranked else None
        result["computed_when_ranked"] = ranked[4] == "1" if ranked else None
        result["ranked_cpu_s"] = float(ranked[5]) if ranked else None
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="how many starts (default 5)")
    parser.add_argument(
        "--platform", default="offscreen", help="Qt platform plugin (offscreen, xcb, ...)"
    )
    parser.add_argument("--data-dir", type=Path, help="a profile to open (default: a new one)")
    parser.add_argument(
        "--wait-ranked",
        action="store_true",
        help="also wait for the first ranked rows in the inbox (needs a profile with "
        "sources and goals: --data-dir)",
    )
    parser.add_argument(
        "--limit",
        type=float,
        default=600.0,
        help="seconds to wait for ranked rows before giving up (default 600)",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    if args.wait_ranked and args.data_dir is None:
        parser.error("--wait-ranked needs --data-dir: a new profile has nothing to rank")

    def once(profile: Path) -> dict[str, float | bool | None]:
        return measure_once(profile, args.platform, wait_ranked=args.wait_ranked, limit=args.limit)

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="focusdesk-startup-") as tmp:
        profile = args.data_dir or Path(tmp) / "profile"
        first = once(profile)  # without --data-dir: a new profile, created and migrated
        runs = [once(profile) for _ in range(max(1, args.runs))]
    seconds = [float(r["seconds"] or 0) for r in runs]
    report = {
        "first_start_s": round(float(first["seconds"]), 3),
        "runs": len(runs),
        "median_s": round(statistics.median(seconds), 3),
        "min_s": round(min(seconds), 3),
        "max_s": round(max(seconds), 3),
        "visible": all(bool(r["visible"]) for r in runs),
        "torch_loaded": any(bool(r["torch_loaded"]) for r in [first, *runs]),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }
    if args.wait_ranked:
        ranked = [r["ranked_seconds"] for r in runs]
        report["first_start_ranked_s"] = first["ranked_seconds"]
        report["ranked_rows"] = runs[-1]["ranked_rows"]
        report["torch_loaded_when_ranked"] = [r["torch_loaded_when_ranked"] for r in runs]
        report["computed_when_ranked"] = [r["computed_when_ranked"] for r in runs]
        report["ranked_cpu_s"] = [r["ranked_cpu_s"] for r in runs]
        report["ranked_all_s"] = [None if s is None else round(float(s), 3) for s in ranked]
        report["ranked_median_s"] = (
            round(statistics.median(float(s) for s in ranked if s is not None), 3)
            if all(s is not None for s in ranked)
            else None
        )
    if args.json:
        print(json.dumps(report))
    else:
        first_label = "this profile's first start" if args.data_dir else "a brand-new profile"
        print(
            f"first window: median {report['median_s']:.2f} s over {len(runs)} starts "
            f"(min {report['min_s']:.2f}, max {report['max_s']:.2f}); "
            f"{first_label}: {report['first_start_s']:.2f} s; "
            f"torch loaded before the window: {report['torch_loaded']}"
        )
        if args.wait_ranked:
            median = report["ranked_median_s"]
            print(
                "first ranked rows: "
                + (
                    f"median {median:.2f} s over {len(runs)} starts "
                    f"(each: {report['ranked_all_s']}, {report['ranked_rows']:.0f} rows; "
                    f"torch loaded then: {report['torch_loaded_when_ranked']}; "
                    f"computed in this start (not stored): {report['computed_when_ranked']}; "
                    f"CPU seconds of the process by then: {report['ranked_cpu_s']})"
                    if median is not None
                    else f"not within {args.limit:.0f} s in some starts {report['ranked_all_s']}"
                )
            )
        print(
            f"load average before {report['load_average_before']}, "
            f"after {report['load_average_after']}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

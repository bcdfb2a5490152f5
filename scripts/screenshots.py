"""Take the README screenshots of FocusDesk on the demo profile, with the real encoder.

Run under a virtual X server (no window manager, so the window has no frame):

    xvfb-run -a -s "-screen 0 1280x800x24" python scripts/screenshots.py

It builds a throwaway profile from resources/demo (the notes vault, the mbox and
goals.json), lets the window sync and rank it as it would on a first start, selects
the top item and saves docs/screenshots/main-window.png; also getting-started.png
(a new, empty profile), main-window-mail.png (the best e-mail selected) and
main-window-dark.png (the same window in a dark palette).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "resources" / "demo"
SIZE = (1280, 800)

log = logging.getLogger("screenshots")


def wait_for(signal: object, timeout_s: float) -> bool:
    """Run the event loop until ``signal`` fires; False on timeout."""
    loop = QEventLoop()
    fired: list[bool] = []

    def stop(*_: object) -> None:
        fired.append(True)
        loop.quit()

    signal.connect(stop)  # type: ignore[attr-defined]
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    loop.exec()
    signal.disconnect(stop)  # type: ignore[attr-defined]
    return bool(fired)


def settle(ms: int = 300) -> None:
    """Let layouts, scrolls and paints finish."""
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def dark_palette() -> QPalette:
    """A plain dark palette, to check that everything stays legible."""
    p = QPalette()
    roles = QPalette.ColorRole
    for role, colour in (
        (roles.Window, "#2b2b2e"),
        (roles.WindowText, "#e8e8ea"),
        (roles.Base, "#1f1f22"),
        (roles.AlternateBase, "#27272b"),
        (roles.Text, "#e8e8ea"),
        (roles.Button, "#36363a"),
        (roles.ButtonText, "#e8e8ea"),
        (roles.Highlight, "#3d6fb6"),
        (roles.HighlightedText, "#ffffff"),
        (roles.PlaceholderText, "#9a9aa2"),
        (roles.ToolTipBase, "#36363a"),
        (roles.ToolTipText, "#e8e8ea"),
        (roles.Link, "#7fb0ff"),
        (roles.Mid, "#4a4a50"),
        (roles.Dark, "#18181a"),
        (roles.Light, "#4a4a50"),
        (roles.Midlight, "#3e3e44"),
        (roles.Shadow, "#000000"),
    ):
        p.setColor(role, QColor(colour))
    disabled = QPalette.ColorGroup.Disabled
    for role in (roles.WindowText, roles.Text, roles.ButtonText):
        p.setColor(disabled, role, QColor("#6c6c73"))
    return p


def build_demo_profile(root: Path) -> Path:
    """A profile with the demo notes, mailbox and goals (not yet synced)."""
    from focusdesk.app import FocusDesk

    desk = FocusDesk.open(root)
    try:
        desk.add_source("notes", str(DEMO / "notes"), name="Notes")
        desk.add_source("mbox", str(DEMO / "inbox.mbox"), name="Inbox")
        for goal in json.loads((DEMO / "goals.json").read_text(encoding="utf-8")):
            desk.add_goal(
                goal["title"],
                weight=float(goal.get("weight", 1.0)),
                description=goal.get("description", ""),
            )
    finally:
        desk.close()
    return root


def shoot_empty(out: Path, tmp: Path) -> None:
    from focusdesk.app import FocusDesk
    from focusdesk.ui.main_window import MainWindow

    desk = FocusDesk.open(tmp / "empty-profile")
    window = MainWindow(desk)
    window.resize(*SIZE)
    window.show()
    settle()
    window.grab().save(str(out / "getting-started.png"))
    window.close()
    desk.close()


def shoot_demo(out: Path, tmp: Path, timeout_s: float) -> None:
    from focusdesk.app import FocusDesk
    from focusdesk.ui.main_window import MainWindow

    profile = build_demo_profile(tmp / "demo-profile")
    desk = FocusDesk.open(profile)
    window = MainWindow(desk, demo=True)
    window.resize(*SIZE)
    started = time.perf_counter()
    window.show()  # nothing was read yet: the window syncs, then ranks
    if not wait_for(window.sync_did_finish, timeout_s):
        raise SystemExit("the sync did not finish in time")
    log.info("synced in %.1f s: %s", time.perf_counter() - started, window.status_label.text())
    if not wait_for(window.rank_did_finish, timeout_s):
        raise SystemExit("the ranking did not finish in time")
    log.info(
        "ranked %d items in %.1f s", window.inbox_model.rowCount(), time.perf_counter() - started
    )
    for row, item in enumerate(window.inbox_model.items()[:12]):
        log.info("%2d %.3f %-55s %s", row + 1, item.score, item.title[:55], item.goal_title)
    window.select_row(0)
    window.inbox_view.setFocus()
    settle()
    window.grab().save(str(out / "main-window.png"))

    mail = next((i for i in window.inbox_model.items() if i.source_kind == "mbox"), None)
    if mail is not None:
        window.select_item(mail.item_id)
        settle()
        window.grab().save(str(out / "main-window-mail.png"))
        window.select_row(0)

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    app.setPalette(dark_palette())
    window.select_row(1)
    window.select_row(0)  # re-render the reader with the dark palette's colours
    settle()
    window.grab().save(str(out / "main-window-dark.png"))
    window.close()
    desk.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--output",
        type=Path,
        default=REPO / "docs" / "screenshots",
        help="folder for the PNG files",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=900.0,
        help="seconds to wait for the sync and for the ranking",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args.output.mkdir(parents=True, exist_ok=True)

    app = QApplication(sys.argv[:1])
    app.setApplicationName("FocusDesk")
    app.setOrganizationName("FocusDesk")
    app.setStyle("Fusion")  # the same look on every machine the screenshots are taken on
    with tempfile.TemporaryDirectory(prefix="focusdesk-shots-") as tmp:
        shoot_empty(args.output, Path(tmp))
        shoot_demo(args.output, Path(tmp), args.timeout)
    for name in (
        "getting-started.png",
        "main-window.png",
        "main-window-mail.png",
        "main-window-dark.png",
    ):
        log.info("wrote %s", args.output / name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Screenshot the focus window (and the end-of-block summary) on the demo profile.

Run under a virtual X server, with the real bundled encoder:

    xvfb-run -a -s "-screen 0 1280x800x24" python scripts/focus_screenshot.py

It builds a throwaway demo profile (resources/demo), syncs it, then, on a fake clock
(time-machine, Monday 23 November 2026 in Berlin), starts a 90-minute block for the
firmware goal, finishes its first item with a note, imports a meeting that overlaps
the block, and 23 minutes in opens the app: the block resumes in the focus window,
which is saved as docs/screenshots/focus-window.png. A note that arrived during
the block is held; ending the block lists it in focus-summary.png.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import time_machine
from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

REPO = Path(__file__).resolve().parents[1]
START = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))
SIZE = (1280, 800)
MEETING = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//FocusDesk//screenshot//EN\r
BEGIN:VEVENT\r
UID:standup@example.com\r
DTSTAMP:20261101T000000Z\r
SUMMARY:Firmware stand-up\r
DTSTART;TZID=Europe/Berlin:20261123T100000\r
DTEND;TZID=Europe/Berlin:20261123T101500\r
END:VEVENT\r
END:VCALENDAR\r
"""

log = logging.getLogger("focus-screenshot")


def wait_for(signal: object, timeout_s: float) -> list[object]:
    """Run the event loop until ``signal`` fires; its arguments (empty on timeout)."""
    loop = QEventLoop()
    got: list[object] = []

    def stop(*args: object) -> None:
        got.extend(args or [True])
        loop.quit()

    signal.connect(stop)  # type: ignore[attr-defined]
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    loop.exec()
    signal.disconnect(stop)  # type: ignore[attr-defined]
    return got


def settle(ms: int = 400) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=REPO / "docs" / "screenshots")
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args.output.mkdir(parents=True, exist_ok=True)

    app = QApplication(sys.argv[:1])
    app.setApplicationName("FocusDesk")
    app.setOrganizationName("FocusDesk")
    app.setStyle("Fusion")

    from focusdesk.app import FocusDesk
    from focusdesk.demo import seed_demo
    from focusdesk.ui.main_window import MainWindow

    with (
        tempfile.TemporaryDirectory(prefix="focusdesk-focus-shot-") as tmp,
        time_machine.travel(START - timedelta(minutes=30), tick=False) as clock,
    ):
        desk = FocusDesk.open(Path(tmp) / "demo-profile")
        seed_demo(desk)
        log.info("syncing the demo profile with the real encoder…")
        desk.sources.sync()
        later = Path(tmp) / "later-notes"
        later.mkdir()
        desk.sources.add("notes", str(later), name="Team notes")
        firmware = desk.goals.all()[0]
        ics = Path(tmp) / "meetings.ics"
        ics.write_text(MEETING, encoding="utf-8")
        desk.focus.import_busy(ics)

        clock.move_to(START)
        session = desk.focus.start(
            90, goal_ids=[firmware.id], top_k=5, title="Deep work: Aeris v2 firmware"
        )
        for entry in session.items:
            log.info("%3d min  %s", entry.planned_minutes, entry.title)
        clock.move_to(START + timedelta(minutes=14))
        first = session.items[0].item_id
        assert first is not None
        desk.focus.note_item(first, "Reproduced on RC1 board; fix goes in the OTA branch")
        desk.focus.mark_item(first, "done")
        clock.move_to(START + timedelta(minutes=19))
        (later / "ble-hotfix.md").write_text(
            "# BLE stack 5.4.1 hotfix\n\nThe vendor fixed the reconnect storm on iOS 18.\n",
            encoding="utf-8",
        )
        desk.sources.sync()  # arrives during the block: held until it ends
        clock.move_to(START + timedelta(minutes=23, seconds=17))
        desk.close()

        desk = FocusDesk.open(Path(tmp) / "demo-profile")
        window = MainWindow(desk, demo=True)
        window.resize(*SIZE)
        controller = window.focus_controller
        window.show()
        if not wait_for(controller.block_did_start, args.timeout):
            raise SystemExit("the focus block did not resume")
        fw = controller.focus_window
        assert fw is not None
        fw.resize(*SIZE)
        settle()
        fw.refresh()
        fw.grab().save(str(args.output / "focus-window.png"))
        log.info("wrote %s", args.output / "focus-window.png")

        clock.move_to(START + timedelta(minutes=41))
        controller.end_block()
        if not wait_for(controller.block_did_end, args.timeout):
            raise SystemExit("the focus block did not end")
        settle()
        dialog = controller.summary_dialog
        assert dialog is not None
        dialog.grab().save(str(args.output / "focus-summary.png"))
        log.info("wrote %s", args.output / "focus-summary.png")
        window.close()
        desk.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

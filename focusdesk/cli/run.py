"""`focusdesk run [--headless]`: the desktop app, or the scheduler without it."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run_p = sub.add_parser(
        "run",
        help="run FocusDesk: the desktop app, or with --headless the scheduler alone",
        description="Run the desktop app; with --headless, keep the scheduler running "
        "without a window (focus blocks start and end, sources sync on their schedule, "
        "new items are held during a block). Stop it with Ctrl+C or SIGTERM.",
    )
    run_p.add_argument("--headless", action="store_true", help="no window: the scheduler only")
    run_p.add_argument(
        "--once",
        action="store_true",
        help="with --headless: do what is due now, then exit (for cron or systemd timers)",
    )
    run_p.add_argument(
        "--tray",
        action="store_true",
        help="start with the window hidden in the tray (as at login); shown where there is none",
    )
    run_p.set_defaults(handler=run, opens_profile=False)


def run(args: argparse.Namespace) -> int:
    from focusdesk.cli import launch

    if not args.headless:
        return launch(args.data_dir, demo=False, tray=args.tray)
    from focusdesk.app import FocusDesk
    from focusdesk.focus.headless import HeadlessRunner

    fd = FocusDesk.open(args.data_dir)
    try:
        return HeadlessRunner(fd).run(once=args.once)
    finally:
        fd.close()

"""`focusdesk demo`: set up the bundled demo profile and open the app on it."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = sub.add_parser("demo", help="set up the bundled demo profile and open the app")
    demo.add_argument("--no-window", action="store_true", help="only set up (and sync) the profile")
    demo.set_defaults(handler=run, opens_profile=False)


def run(args: argparse.Namespace) -> int:
    from focusdesk.app import FocusDesk
    from focusdesk.cli import launch
    from focusdesk.cli.output import print_summary, progress_bar
    from focusdesk.demo import default_demo_dir, seed_demo

    data_dir = args.data_dir or str(default_demo_dir())
    fd = FocusDesk.open(data_dir)
    try:
        seed_demo(fd)
        if args.no_window:
            print_summary(fd.sources.sync(progress=progress_bar()))
            return 0
    finally:
        fd.close()
    return launch(data_dir, demo=True)

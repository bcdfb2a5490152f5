"""`focusdesk sync`: read sources, then encode and index what changed."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from focusdesk.app import FocusDesk

from focusdesk.cli.output import print_summary, progress_bar


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sync = sub.add_parser("sync", help="read sources, then encode and index what changed")
    sync.add_argument("--source", type=int, metavar="ID", help="only this source")
    sync.add_argument("--no-progress", action="store_true", help="no progress bar")
    sync.set_defaults(handler=run)


def run(fd: FocusDesk, args: argparse.Namespace) -> int:
    from focusdesk.progress import no_progress

    if sys.stdin.isatty() and fd.sources.passwords.provider is None:
        # An IMAP source without a known password asks once per run (getpass, no echo).
        from focusdesk.sources.credentials import terminal_password_provider

        fd.sources.passwords.provider = terminal_password_provider()
    bar = no_progress if args.no_progress or not sys.stderr.isatty() else progress_bar()
    try:
        summary = fd.sources.sync(args.source, progress=bar)
    finally:
        close = getattr(bar, "close", None)
        if close:
            close()
    print_summary(summary)
    return 1 if any(r.error for r in summary.reports) else 0

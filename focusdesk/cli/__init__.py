"""The headless command line: the same verbs as the desktop app (DESIGN.md contract).

``focusdesk [--data-dir DIR] VERB ...``; with no verb it opens the desktop app. Each
verb group lives in its own module with a ``register(subparsers)`` that adds its
parser and sets ``handler``. Known errors print one clear line to stderr and exit 1;
nothing here imports Qt or torch at module level.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from focusdesk import __version__
from focusdesk.cli import (
    bench,
    demo,
    desktop,
    doctor,
    feedback,
    feeds,
    focus,
    goals,
    rank,
    review,
    search,
    sources,
    sync,
)
from focusdesk.cli import run as run_verb
from focusdesk.errors import Cancelled, KnownError

if TYPE_CHECKING:
    from focusdesk.rank.encoding import Encoder

log = logging.getLogger("focusdesk")

VERB_MODULES = (
    sources,
    feeds,
    sync,
    goals,
    rank,
    search,
    feedback,
    focus,
    review,
    run_verb,
    doctor,
    bench,
    demo,
    desktop,
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every verb."""
    p = argparse.ArgumentParser(
        prog="focusdesk",
        description="Decide what deserves your attention: notes, mail and feeds ranked "
        "against your goals.",
    )
    p.add_argument("--version", action="version", version=f"focusdesk {__version__}")
    p.add_argument(
        "--data-dir",
        metavar="DIR",
        help="keep the whole profile in DIR (default: $FOCUSDESK_DATA_DIR, "
        "else the platform's user data folder)",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log what happens to stderr")
    sub = p.add_subparsers(dest="verb", metavar="VERB")
    for module in VERB_MODULES:
        module.register(sub)
    return p


def main(argv: Sequence[str] | None = None, *, encoder: Encoder | None = None) -> int:
    """Entry point of the ``focusdesk`` command; ``encoder`` replaces the configured model
    (the composition root's seam: a benchmark's or a test's encoder)."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if args.verb is None:
        return launch(args.data_dir, demo=False)
    try:
        if getattr(args, "opens_profile", True):
            from focusdesk.app import FocusDesk

            fd = (
                FocusDesk.open(args.data_dir)
                if encoder is None
                else FocusDesk.open(args.data_dir, encoder)
            )
            try:
                return int(args.handler(fd, args))
            finally:
                fd.close()
        args.encoder = encoder  # a verb that opens profiles of its own (a benchmark) uses it
        return int(args.handler(args))
    except KnownError as exc:
        print(f"focusdesk: {exc.user_text()}", file=sys.stderr)
        return 1
    except (Cancelled, KeyboardInterrupt):
        print("focusdesk: interrupted; what was finished is kept.", file=sys.stderr)
        return 130


def launch(data_dir: str | None, *, demo: bool, tray: bool = False) -> int:
    """Open the desktop app (the only way the CLI reaches Qt); ``tray``: start hidden there."""
    try:
        from focusdesk.ui.main import run
    except ImportError as exc:
        print(f"focusdesk: the desktop app cannot start ({exc}).", file=sys.stderr)
        return 1
    return run(data_dir, demo=demo, tray=tray)

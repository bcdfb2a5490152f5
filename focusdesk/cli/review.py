"""`focusdesk review`: the period's items by goal, with summaries, focus time and S/N."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from focusdesk.errors import KnownError

if TYPE_CHECKING:
    from focusdesk.app import FocusDesk


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    review = sub.add_parser("review", help="what mattered in a period, by goal")
    review.add_argument(
        "--since",
        metavar="WHEN",
        help="1d, 7d, 12h, 2w, a date, or 'last' (default: since the last review, else 1d)",
    )
    review.add_argument("--until", metavar="WHEN", help="end of the period (default: now)")
    review.add_argument(
        "--goal",
        type=int,
        action="append",
        metavar="ID",
        dest="goals",
        help="only this goal (repeat for several)",
    )
    review.add_argument(
        "--per-goal", type=int, default=10, metavar="N", help="entries per goal (default 10)"
    )
    review.add_argument("--format", choices=("md", "html"), default="md", help="default md")
    review.add_argument("--output", metavar="FILE", help="write to FILE (default: stdout)")
    review.set_defaults(handler=run)


def run(fd: FocusDesk, args: argparse.Namespace) -> int:
    from focusdesk.review.assemble import review_period
    from focusdesk.review.export import export

    review = review_period(
        fd, args.since, args.until, goal_ids=args.goals, per_goal=max(1, args.per_goal)
    )
    text = export(review, args.format)
    if args.output:
        target = Path(args.output).expanduser()
        try:
            target.write_text(text, "utf-8")
        except OSError as exc:
            raise KnownError(f"{target} could not be written: {exc.strerror or exc}.") from None
        print(f"Review written to {target}.", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0

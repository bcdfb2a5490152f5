"""`focusdesk goals ...`: add, list and remove goals."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from focusdesk.app import FocusDesk


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    goals = sub.add_parser("goals", help="add, list and remove goals")
    gsub = goals.add_subparsers(dest="action", metavar="ACTION", required=True)
    gadd = gsub.add_parser("add", help="add a goal")
    gadd.add_argument("text", help="what you are working on, in a sentence")
    gadd.add_argument("--weight", type=float, default=1.0, help="importance (default 1.0)")
    gadd.add_argument(
        "--name", help="a short name for the inbox's Goal column (default: the first clause)"
    )
    gsub.add_parser("list", help="list the goals")
    grm = gsub.add_parser("remove", help="remove a goal")
    grm.add_argument("id", type=int)
    goals.set_defaults(handler=run)


def run(fd: FocusDesk, args: argparse.Namespace) -> int:
    if args.action == "add":
        g = fd.goals.add(args.text, weight=args.weight, name=args.name)
        print(f"Added goal {g.id}: {g.title} (weight {g.weight:g})")
    elif args.action == "list":
        goals = fd.goals.all()
        if not goals:
            print('No goals yet. Add one with `focusdesk goals add "what you are working on"`.')
        for g in goals:
            state = "" if g.active else "  (archived)"
            named = f"  [{g.name}]" if g.name else ""
            print(f"{g.id:>3}  weight {g.weight:<4g} {g.title}{named}{state}")
    else:
        fd.goals.remove(args.id)
        print(f"Removed goal {args.id}.")
    return 0

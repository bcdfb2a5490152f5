"""`focusdesk focus ...`: plan (and run) deep-work focus blocks."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from focusdesk.cli.focus_actions import ACTIONS, register_actions, run_action

if TYPE_CHECKING:
    from focusdesk.app import FocusDesk


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    focus = sub.add_parser("focus", help="plan and run deep-work focus blocks")
    fsub = focus.add_subparsers(dest="action", metavar="ACTION", required=True)
    plan = fsub.add_parser("plan", help="the top items for a block and their minutes")
    plan.add_argument("--minutes", type=int, default=90, metavar="M", help="block length")
    plan.add_argument("--top", type=int, metavar="K", help="how many items (default: settings)")
    plan.add_argument(
        "--goal",
        type=int,
        action="append",
        metavar="ID",
        dest="goals",
        help="only this goal (repeat for several)",
    )
    plan.add_argument("--json", action="store_true", help="one JSON object per line")
    register_actions(fsub)
    focus.set_defaults(handler=run)


def run(fd: FocusDesk, args: argparse.Namespace) -> int:
    if args.action == "plan":
        return _plan(fd, args)
    if args.action in ACTIONS:
        return run_action(fd, args)
    raise AssertionError(args.action)  # argparse only lets known actions through


def _plan(fd: FocusDesk, args: argparse.Namespace) -> int:
    from focusdesk.focus.planning import minutes_by_goal

    plan = fd.planner.plan(args.minutes, args.top, goal_ids=args.goals)
    if args.json:
        for entry in plan:
            print(json.dumps(entry.to_json(), ensure_ascii=False))
        return 0
    if not plan:
        if fd.counts()["items"]:
            print("Nothing to focus on: no item clears the relevance bar of these goals.")
        else:
            print("Nothing to focus on yet: add a source and run `focusdesk sync`.")
        return 0
    print(f"A {args.minutes}-minute block, {len(plan)} items:")
    shares = minutes_by_goal(plan)
    if len(shares) > 1:
        for title, minutes, count in shares:
            print(f"  {minutes:>3} min for {title[:60]} ({count} item{'s' if count != 1 else ''})")
    for n, e in enumerate(plan, 1):
        print(f"{n:>2}. {e.minutes:>3} min  {e.item.title[:70]}")
        if e.item.goal_title:
            print(f"            for: {e.item.goal_title[:60]}")
    return 0

"""`focusdesk feedback` and `focusdesk scorer`: votes, and the scorer that learns from them."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from focusdesk.cli.output import fmt_time

if TYPE_CHECKING:
    from focusdesk.app import FocusDesk


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    fb = sub.add_parser("feedback", help="vote an item up or down (the scorer learns from it)")
    fb.add_argument("item", type=int, metavar="ITEM_ID")
    fb.add_argument("vote", choices=["up", "down"])
    fb.add_argument("--goal", type=int, metavar="ID", help="the vote is about this goal")
    fb.add_argument("--no-train", action="store_true", help="record only; learn later")
    fb.set_defaults(handler=run_feedback)

    sc = sub.add_parser("scorer", help="the learning scorer: status, train, reset")
    ssub = sc.add_subparsers(dest="action", metavar="ACTION", required=True)
    status = ssub.add_parser("status", help="every training run and the version in use")
    status.add_argument("--json", action="store_true")
    ssub.add_parser("train", help="learn from all feedback now")
    ssub.add_parser("reset", help="go back to the untrained scorer")
    sc.set_defaults(handler=run_scorer)


def run_feedback(fd: FocusDesk, args: argparse.Namespace) -> int:
    fd.record_feedback(args.item, args.vote, goal_id=args.goal)
    print(f"Recorded: item {args.item} voted {args.vote}.")
    if not args.no_train:
        print(fd.train_scorer().message)
    return 0


def run_scorer(fd: FocusDesk, args: argparse.Namespace) -> int:
    if args.action == "train":
        print(fd.train_scorer().message)
    elif args.action == "reset":
        fd.reset_scorer()
        print("The untrained scorer is in use again; trained versions stay on record.")
    else:
        versions = fd.scorer_versions()
        if args.json:
            print(json.dumps(versions, indent=2, default=str))
            return 0
        if not versions:
            print("The untrained scorer is in use; no training has run yet.")
        for v in versions:
            state = "in use" if v["active"] else ("kept" if v["accepted"] else "not better")
            m = v["metrics"]
            print(
                f"{v['id']:>3}  {fmt_time(v['created_at'])}  {v['labels']:>4} labels  "
                f"held-out loss {m.get('held_out_loss_current', float('nan')):.3f} → "
                f"{m.get('held_out_loss_new', float('nan')):.3f}  {state}"
            )
        if versions and not any(v["active"] for v in versions):
            print("The untrained scorer is in use.")
    return 0

"""`focusdesk feedback` and `focusdesk scorer`: votes, and the scorer that learns from them."""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import asdict
from typing import TYPE_CHECKING

from focusdesk.cli.output import fmt_time
from focusdesk.rank.learning_status import percent

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
    ssub.add_parser(
        "reset", help="reset learning: the untrained scorer, and feedback so far forgotten"
    )
    sc.set_defaults(handler=run_scorer)


def run_feedback(fd: FocusDesk, args: argparse.Namespace) -> int:
    from focusdesk.rank.train_lock import TrainingBusy

    fd.items.record_feedback(args.item, args.vote, goal_id=args.goal)
    print(f"Recorded: item {args.item} voted {args.vote}.")
    if not args.no_train:
        try:
            print(fd.learning.train().message)
        except TrainingBusy as exc:  # the app or the headless runner is learning now
            print(exc.user_text())
    return 0


def run_scorer(fd: FocusDesk, args: argparse.Namespace) -> int:
    if args.action == "train":
        print(fd.learning.train().message)
    elif args.action == "reset":
        fd.learning.reset()
        print("The untrained scorer is in use again; trained versions stay on record.")
    else:
        versions = fd.learning.versions()
        if args.json:
            status = fd.learning.status()
            payload = {"status": {**asdict(status), "lines": status.lines()}, "runs": versions}
            print(json.dumps(payload, indent=2, default=str))
            return 0
        status = fd.learning.status()
        unusable = status.problem.version_id if status.problem is not None else None
        for line in status.lines():
            print(line)
        if versions:
            print("\nTraining runs:")
        for v in versions:
            m = v["metrics"]
            if m.get("reset"):
                print(f"{v['id']:>3}  {fmt_time(v['created_at'])}  learning reset")
                continue
            state = "in use" if v["active"] else ("kept" if v["accepted"] else "not better")
            if v["id"] == unusable:
                state = "could not be used"
            print(
                f"{v['id']:>3}  {fmt_time(v['created_at'])}  {v['labels']:>4} signals  "
                "held-out pairs ordered correctly "
                f"{percent(m.get('held_out_accuracy_current', math.nan))} → "
                f"{percent(m.get('held_out_accuracy_new', math.nan))}  {state}"
            )
    return 0

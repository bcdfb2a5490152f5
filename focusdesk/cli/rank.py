"""`focusdesk rank`: items ranked by attention against the active goals."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from focusdesk.app import FocusDesk


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    rank = sub.add_parser("rank", help="items ranked by attention against the active goals")
    rank.add_argument("--top", type=int, default=20, metavar="K", help="how many (default 20)")
    rank.add_argument("--all", action="store_true", help="every item, not just the top K")
    rank.add_argument("--json", action="store_true", help="one JSON object per line")
    rank.add_argument(
        "--fresh",
        action="store_true",
        help="rank now even when the stored ranking is current (it is then replaced)",
    )
    rank.set_defaults(handler=run)


def run(fd: FocusDesk, args: argparse.Namespace) -> int:
    from focusdesk.rank.standing import item_standing

    # The inbox's ranking: the stored one while nothing it was computed from changed
    # (shown without loading the model), else computed now and stored for next time.
    ranked = fd.ranking.inbox(fresh=args.fresh).items
    if not args.all:
        ranked = ranked[: max(0, args.top)]
    if args.json:
        for r in ranked:
            print(json.dumps(r.to_json(), ensure_ascii=False))
        return 0
    if not ranked:
        print("Nothing to rank yet: add a source and run `focusdesk sync`.")
    for n, r in enumerate(ranked, 1):
        thread = f"  ({r.thread_size} messages)" if r.thread_size > 1 else ""
        print(f"{n:>3}. {r.score:6.3f}  [{r.source_kind}] {r.title[:80]}{thread}")
        if r.goal_title:
            ev = " ".join(r.evidence.split())
            print(f"       goal: {r.goal_title[:60]} — “{ev[:110]}{'…' if len(ev) > 110 else ''}”")
            standing = item_standing(r)
            if standing:
                print(f"       {standing}")
    return 0

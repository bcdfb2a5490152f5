"""How relevant the review's first entries are on the newsgroups development set.

For each goal of goals.json, with only that goal active, assembles the review of all
time from an already synced profile and counts how many of its first 10 entries are
labelled relevant (grade > 0 for the message's newsgroup); the plain ranking's top 10
is shown beside it. Use a COPY of the profile: goals are added to it.

    python scripts/review_dev.py PROFILE_DIR [--dev ../shared/data/newsgroups-dev]
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path

from sqlalchemy import select

from focusdesk.app import FocusDesk
from focusdesk.store.models import Item

TOP = 10


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("profile", type=Path, help="a synced profile dir (a copy: goals are added)")
    ap.add_argument("--dev", type=Path, default=Path("../shared/data/newsgroups-dev"))
    args = ap.parse_args()

    group_of: dict[str, str] = {}
    with open(args.dev / "labels.tsv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            group_of[row["message_id"]] = row["newsgroup"]
    spec = json.loads((args.dev / "goals.json").read_text(encoding="utf-8"))

    fd = FocusDesk.open(args.profile)
    with fd.store.session() as s:
        external = {i: e for i, e in s.execute(select(Item.id, Item.external_id))}
    print(f"{'goal':<16} {'review@10':>9} {'rank@10':>8} {'seconds':>8}")
    total_review = total_rank = 0
    for goal in spec["goals"]:
        gid = fd.goals.add(goal["goal"]).id
        t0 = time.perf_counter()
        review = fd.review("1970-01-01", goal_ids=[gid], per_goal=TOP, mark=False)
        dt = time.perf_counter() - t0
        entries = review.ranked_entries()[:TOP]
        ranked = fd.ranking.rank(TOP, goal_ids=[gid])

        def relevant(item_id: int, labels: dict[str, int] = goal["labels"]) -> bool:
            return labels.get(group_of.get(external.get(item_id, ""), ""), 0) > 0

        n_review = sum(relevant(e.item_id) for e in entries)
        n_rank = sum(relevant(r.item_id) for r in ranked)
        total_review += n_review
        total_rank += n_rank
        review_col = f"{n_review}/{len(entries)}"
        print(f"{goal['id']:<16} {review_col:>9} {n_rank:>5}/{len(ranked):<2} {dt:>8.1f}")
        if entries:
            e = entries[0]
            print(f"    first: {e.title[:70]!r}")
            print(f"    summary: {e.summary.text[:200]!r}")
        fd.goals.update(gid, active=False)
    n = len(spec["goals"])
    print(f"{'mean':<16} {total_review / n:>9.1f} {total_rank / n:>8.1f}")
    fd.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

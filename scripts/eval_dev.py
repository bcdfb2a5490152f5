"""Ranking quality of `focusdesk rank` on the newsgroups development set.

Builds a profile (once) from the dev mbox, then for each goal in goals.json makes it
the only active goal, ranks every item and scores the ranking against the graded
labels: nDCG@10 (gains 2/1/0), P@10 and AP@100 (relevant = any positive grade, 1 or 2;
AP@100 is normalised by min(relevant, 100)).
Also reports ingest + encode throughput of the first sync.

    python scripts/eval_dev.py --dev ../shared/data/newsgroups-dev [--data-dir DIR] [--json OUT]
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

from focusdesk.app import FocusDesk
from focusdesk.bench.quality import ranked_external_ids
from focusdesk.rank.metrics import average_precision, ndcg_at_k, precision_at_k


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dev", type=Path, default=Path("../shared/data/newsgroups-dev"))
    ap.add_argument("--data-dir", type=Path, help="profile to (re)use; default a temp dir")
    ap.add_argument("--json", type=Path, help="write the figures here too")
    args = ap.parse_args()

    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="focusdesk-eval-"))
    fd = FocusDesk.open(data_dir)
    figures: dict[str, object] = {"machine": platform.platform(), "data_dir": str(data_dir)}
    if not fd.list_sources():
        fd.add_source("mbox", str(args.dev / "inbox.mbox"), name="newsgroups-dev")
    # A no-op for an unchanged profile; after a chunker change it re-chunks and encodes.
    t0 = time.perf_counter()
    summary = fd.sync()
    dt = time.perf_counter() - t0
    items = summary.total("added")
    figures["sync"] = {
        "items": items,
        "failed": summary.total("failed"),
        "chunks_encoded": summary.chunks_encoded,
        "seconds": round(dt, 2),
        "items_per_s": round(items / dt, 1),
        "chunks_per_s": round(summary.chunks_encoded / dt, 1),
        "device": fd.encoder.device.device if fd.encoder.device else "cpu",
    }
    print(
        f"sync: {items} items, {summary.chunks_encoded} chunks in {dt:.1f} s "
        f"({items / dt:.1f} items/s, {summary.chunks_encoded / dt:.1f} chunks/s)"
    )

    group_of = {}
    with open(args.dev / "labels.tsv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            group_of[row["message_id"]] = row["newsgroup"]
    spec = json.loads((args.dev / "goals.json").read_text(encoding="utf-8"))

    for g in fd.list_goals():
        fd.remove_goal(g.id)
    results = {}
    for goal in spec["goals"]:
        gid = fd.add_goal(goal["goal"]).id
        t0 = time.perf_counter()
        ranked = ranked_external_ids(fd)
        rank_s = time.perf_counter() - t0
        gains = [goal["labels"].get(group_of.get(e, ""), 0) for e in ranked]
        all_gains = [goal["labels"].get(g, 0) for g in group_of.values()]
        relevant = [g > 0 for g in gains]
        results[goal["id"]] = {
            "ndcg@10": ndcg_at_k(gains, all_gains, 10),
            "p@10": precision_at_k(relevant, 10),
            "ap@100": average_precision(relevant, sum(1 for g in all_gains if g > 0), k=100),
            "rank_seconds": round(rank_s, 3),
        }
        fd.remove_goal(gid)
    fd.close()

    print(f"{'goal':<16} {'nDCG@10':>8} {'P@10':>6} {'AP@100':>7}")
    for name, m in results.items():
        print(f"{name:<16} {m['ndcg@10']:>8.3f} {m['p@10']:>6.2f} {m['ap@100']:>7.3f}")
    means = {
        k: statistics.mean(m[k] for m in results.values()) for k in ("ndcg@10", "p@10", "ap@100")
    }
    print(f"{'mean':<16} {means['ndcg@10']:>8.3f} {means['p@10']:>6.2f} {means['ap@100']:>7.3f}")
    figures["goals"] = results
    figures["mean"] = means
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

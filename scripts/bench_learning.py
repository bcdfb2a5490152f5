"""How long one training run on N signals takes, through the app's own entry point.

    python scripts/bench_learning.py --profile-dir DIR [--signals 1000] [--goal TEXT]

DIR is a profile with a synced source (e.g. the one `focusdesk bench quality
--profile-dir DIR` keeps). The script copies it, adds a goal, records N signals on
distinct items (up, down, done, dismiss and long opens, drawn from the items' ranking so
that about a third are positive), then times ``FocusDesk.learning.train`` (the trainer
the app, `run --headless` and the CLI run) and prints the seconds with the load average.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path


def main() -> int:
    from focusdesk.app import FocusDesk
    from focusdesk.paths import resolve_paths
    from focusdesk.store.models import Feedback

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile-dir", type=Path, required=True)
    parser.add_argument("--signals", type=int, default=1000)
    parser.add_argument(
        "--goal", default="I build hobby electronics: power supplies, op-amps and batteries."
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="focusdesk-bench-learning-"))
    shutil.copytree(args.profile_dir, work / "p")
    fd = FocusDesk(resolve_paths(work / "p"))
    try:
        for g in fd.goals.all():
            fd.goals.remove(g.id)
        fd.goals.add(args.goal)
        ranked = fd.ranking.rank()
        if len(ranked) < args.signals:
            raise SystemExit(f"the profile has {len(ranked)} items, fewer than {args.signals}")
        kinds = [("up", None), ("down", None), ("done", None), ("dismiss", None)]
        with fd.store.session() as s:
            for n, item in enumerate(ranked[: args.signals]):
                top = n < len(ranked) // 3
                signal, value = kinds[(0 if top else 1) + 2 * (n % 2)]
                if n % 5 == 4:
                    signal, value = "open", (60.0 if top else None)
                s.add(Feedback(item_id=item.item_id, signal=signal, value=value))
        t0, c0 = time.perf_counter(), time.process_time()
        result = fd.learning.train()
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        load = os.getloadavg()
        print(result.message)
        print(
            f"training on {args.signals} signals ({result.n_labels} labelled items): "
            f"{seconds:.2f} s wall, {cpu:.2f} s CPU (all threads); load average "
            f"{load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f} on {os.cpu_count()} CPUs"
        )
    finally:
        fd.close()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

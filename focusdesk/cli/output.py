"""Shared terminal output of the CLI verbs: times, progress bars, sync summaries."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from focusdesk.progress import Progress


def fmt_time(value: Any) -> str:
    return value.astimezone().strftime("%Y-%m-%d %H:%M") if value else "never"


def progress_bar() -> Any:
    """A progress callback drawing one tqdm bar per stage on stderr (stages that run at
    once, reading and encoding, each keep their line); safe to call from any thread."""
    import threading

    from tqdm import tqdm

    bars: dict[str, Any] = {}
    lock = threading.Lock()

    def update(p: Progress) -> None:
        with lock:
            bar = bars.get(p.stage)
            if bar is None:
                bar = bars[p.stage] = tqdm(
                    total=p.total,
                    desc=p.stage,
                    unit=" it",
                    file=sys.stderr,
                    leave=False,
                    dynamic_ncols=True,
                    position=len(bars),
                )
            if p.total is not None and bar.total != p.total:
                bar.total = p.total
            bar.n = p.done
            bar.set_postfix_str(p.message, refresh=False)
            bar.refresh()

    update.close = lambda: [b.close() for b in bars.values()]  # type: ignore[attr-defined]
    return update


def print_summary(summary: Any) -> None:
    for r in summary.reports:
        line = (
            f"{r.source_name}: {r.added} added, {r.updated} updated, {r.removed} removed, "
            f"{r.failed} failed"
        )
        print(line + (f" — error: {r.error}" if r.error else ""))
        for ref, reason in r.failures[:5]:
            print(f"    skipped {ref}: {reason}")
        if len(r.failures) > 5:
            print(f"    … and {len(r.failures) - 5} more skipped (see the log with -v)")
    print(
        f"Total: {summary.total('added')} added, {summary.total('updated')} updated, "
        f"{summary.total('removed')} removed, {summary.total('failed')} failed; "
        f"{summary.chunks_encoded} chunks encoded ({summary.chunks_cached} cached) "
        f"in {summary.seconds:.1f} s"
    )

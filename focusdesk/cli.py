"""The headless command line: the same verbs as the desktop app (DESIGN.md contract).

``focusdesk [--data-dir DIR] VERB ...``; with no verb it opens the desktop app.
Known errors print one clear line to stderr and exit 1; nothing here imports Qt
or torch at module level.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from focusdesk import __version__
from focusdesk.errors import Cancelled, KnownError

if TYPE_CHECKING:
    from focusdesk.app import FocusDesk
    from focusdesk.progress import Progress

log = logging.getLogger("focusdesk")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every verb."""
    p = argparse.ArgumentParser(
        prog="focusdesk",
        description="Decide what deserves your "
        "attention: notes, mail and feeds ranked against your goals.",
    )
    p.add_argument("--version", action="version", version=f"focusdesk {__version__}")
    p.add_argument(
        "--data-dir",
        metavar="DIR",
        help="keep the whole profile in DIR (default: $FOCUSDESK_DATA_DIR, "
        "else the platform's user data folder)",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log what happens to stderr")
    sub = p.add_subparsers(dest="verb", metavar="VERB")

    sources = sub.add_parser("sources", help="add, list and remove sources")
    ssub = sources.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = ssub.add_parser("add", help="add a source")
    add.add_argument("kind", choices=["notes", "mbox"], help="what kind of source")
    add.add_argument("path", help="the notes folder or the mbox file")
    add.add_argument("--name", help="a name to show instead of the file name")
    ssub.add_parser("list", help="list the sources")
    rm = ssub.add_parser("remove", help="remove a source and its items")
    rm.add_argument("id", type=int)

    sync = sub.add_parser("sync", help="read sources, then encode and index what changed")
    sync.add_argument("--source", type=int, metavar="ID", help="only this source")
    sync.add_argument("--no-progress", action="store_true", help="no progress bar")

    goals = sub.add_parser("goals", help="add, list and remove goals")
    gsub = goals.add_subparsers(dest="action", metavar="ACTION", required=True)
    gadd = gsub.add_parser("add", help="add a goal")
    gadd.add_argument("text", help="what you are working on, in a sentence")
    gadd.add_argument("--weight", type=float, default=1.0, help="importance (default 1.0)")
    gsub.add_parser("list", help="list the goals")
    grm = gsub.add_parser("remove", help="remove a goal")
    grm.add_argument("id", type=int)

    rank = sub.add_parser("rank", help="items ranked by attention against the active goals")
    rank.add_argument("--top", type=int, default=20, metavar="K", help="how many (default 20)")
    rank.add_argument("--all", action="store_true", help="every item, not just the top K")
    rank.add_argument("--json", action="store_true", help="one JSON object per line")

    doctor = sub.add_parser("doctor", help="versions, device, model, data dir and counts")
    doctor.add_argument("--json", action="store_true")
    doctor.add_argument("--no-model", action="store_true", help="don't load the model")

    demo = sub.add_parser("demo", help="set up the bundled demo profile and open the app")
    demo.add_argument("--no-window", action="store_true", help="only set up (and sync) the profile")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``focusdesk`` command."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if args.verb is None:
        return _launch(args.data_dir, demo=False)
    try:
        return _dispatch(args)
    except KnownError as exc:
        print(f"focusdesk: {exc.user_text()}", file=sys.stderr)
        return 1
    except (Cancelled, KeyboardInterrupt):
        print("focusdesk: interrupted; what was finished is kept.", file=sys.stderr)
        return 130


def _launch(data_dir: str | None, *, demo: bool) -> int:
    try:
        from focusdesk.ui.main import run
    except ImportError as exc:
        print(f"focusdesk: the desktop app cannot start ({exc}).", file=sys.stderr)
        return 1
    return run(data_dir, demo=demo)


def _dispatch(args: argparse.Namespace) -> int:
    from focusdesk.app import FocusDesk

    if args.verb == "demo":
        from focusdesk.demo import default_demo_dir, seed_demo

        data_dir = args.data_dir or str(default_demo_dir())
        with _opened(FocusDesk.open(data_dir)) as fd:
            seed_demo(fd)
            if args.no_window:
                _print_summary(fd.sync(progress=_progress_bar()))
                return 0
        return _launch(data_dir, demo=True)

    with _opened(FocusDesk.open(args.data_dir)) as fd:
        handler = {
            "sources": _sources,
            "sync": _sync,
            "goals": _goals,
            "rank": _rank,
            "doctor": _doctor,
        }[args.verb]
        return handler(fd, args)


class _opened:
    def __init__(self, fd: FocusDesk) -> None:
        self.fd = fd

    def __enter__(self) -> FocusDesk:
        return self.fd

    def __exit__(self, *exc: object) -> None:
        self.fd.close()


def _fmt_time(value: Any) -> str:
    return value.astimezone().strftime("%Y-%m-%d %H:%M") if value else "never"


def _sources(fd: FocusDesk, args: argparse.Namespace) -> int:
    if args.action == "add":
        info = fd.add_source(args.kind, args.path, name=args.name)
        print(
            f"Added {info.kind} source {info.id}: {info.name} ({info.uri}). "
            "Run `focusdesk sync` to read it."
        )
    elif args.action == "list":
        infos = fd.list_sources()
        if not infos:
            print(
                "No sources yet. Add one with `focusdesk sources add notes PATH` "
                "or `focusdesk sources add mbox PATH`."
            )
        for i in infos:
            state = "enabled" if i.enabled else "disabled"
            print(
                f"{i.id:>3}  {i.kind:<6} {i.name}  [{i.item_count} items, {state}, "
                f"last sync {_fmt_time(i.last_sync_at)}]  {i.uri}"
            )
            if i.last_error:
                print(f"     last error: {i.last_error}")
    else:
        fd.remove_source(args.id)
        print(f"Removed source {args.id} and its items.")
    return 0


def _progress_bar() -> Any:
    """A progress callback drawing one tqdm bar per stage on stderr."""
    from tqdm import tqdm

    bars: dict[str, Any] = {}

    def update(p: Progress) -> None:
        bar = bars.get(p.stage)
        if bar is None:
            for other in bars.values():
                other.close()
            bars.clear()
            bar = bars[p.stage] = tqdm(
                total=p.total,
                desc=p.stage,
                unit=" it",
                file=sys.stderr,
                leave=False,
                dynamic_ncols=True,
            )
        if p.total is not None and bar.total != p.total:
            bar.total = p.total
        bar.n = p.done
        bar.set_postfix_str(p.message, refresh=False)
        bar.refresh()

    update.close = lambda: [b.close() for b in bars.values()]  # type: ignore[attr-defined]
    return update


def _sync(fd: FocusDesk, args: argparse.Namespace) -> int:
    from focusdesk.progress import no_progress

    bar = no_progress if args.no_progress or not sys.stderr.isatty() else _progress_bar()
    try:
        summary = fd.sync(args.source, progress=bar)
    finally:
        close = getattr(bar, "close", None)
        if close:
            close()
    _print_summary(summary)
    return 1 if any(r.error for r in summary.reports) else 0


def _print_summary(summary: Any) -> None:
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


def _goals(fd: FocusDesk, args: argparse.Namespace) -> int:
    if args.action == "add":
        g = fd.add_goal(args.text, weight=args.weight)
        print(f"Added goal {g.id}: {g.title} (weight {g.weight:g})")
    elif args.action == "list":
        goals = fd.list_goals()
        if not goals:
            print('No goals yet. Add one with `focusdesk goals add "what you are working on"`.')
        for g in goals:
            state = "" if g.active else "  (archived)"
            print(f"{g.id:>3}  weight {g.weight:<4g} {g.title}{state}")
    else:
        fd.remove_goal(args.id)
        print(f"Removed goal {args.id}.")
    return 0


def _rank(fd: FocusDesk, args: argparse.Namespace) -> int:
    ranked = fd.rank(None if args.all else max(0, args.top))
    if args.json:
        for r in ranked:
            print(json.dumps(r.to_json(), ensure_ascii=False))
        return 0
    if not ranked:
        print("Nothing to rank yet: add a source and run `focusdesk sync`.")
    for n, r in enumerate(ranked, 1):
        print(f"{n:>3}. {r.score:6.3f}  [{r.source_kind}] {r.title[:80]}")
        if r.goal_title:
            ev = " ".join(r.evidence.split())
            print(f"       goal: {r.goal_title[:60]} — “{ev[:110]}{'…' if len(ev) > 110 else ''}”")
    return 0


def _doctor(fd: FocusDesk, args: argparse.Namespace) -> int:
    report = fd.doctor(load_model=not args.no_model)
    if args.json:
        print(json.dumps(report, indent=2, default=str))
        return 0
    width = max(len(k) for k in report)
    for key, value in report.items():
        if isinstance(value, dict):
            print(f"{key}:")
            for k, v in value.items():
                print(f"  {k:<22} {v}")
        else:
            print(f"{key:<{width}}  {value}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

"""`focusdesk sources ...`: add, list and remove sources."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from focusdesk.app import FocusDesk

from focusdesk.cli.output import fmt_time


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sources = sub.add_parser("sources", help="add, list and remove sources")
    ssub = sources.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = ssub.add_parser("add", help="add a source")
    add.add_argument("kind", choices=["notes", "mbox"], help="what kind of source")
    add.add_argument("path", help="the notes folder or the mbox file")
    add.add_argument("--name", help="a name to show instead of the file name")
    ssub.add_parser("list", help="list the sources")
    rm = ssub.add_parser("remove", help="remove a source and its items")
    rm.add_argument("id", type=int)
    sources.set_defaults(handler=run)


def run(fd: FocusDesk, args: argparse.Namespace) -> int:
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
                f"last sync {fmt_time(i.last_sync_at)}]  {i.uri}"
            )
            if i.last_error:
                print(f"     last error: {i.last_error}")
    else:
        fd.remove_source(args.id)
        print(f"Removed source {args.id} and its items.")
    return 0

"""`focusdesk feeds ...`: OPML import and export; and `sources add feed` (shared helper)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from focusdesk.app import FocusDesk


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    feeds = sub.add_parser("feeds", help="import and export feed subscriptions (OPML)")
    fsub = feeds.add_subparsers(dest="action", metavar="ACTION", required=True)
    imp = fsub.add_parser(
        "import-opml", help="add every feed of an OPML file (folders become groups)"
    )
    imp.add_argument("file", help="the OPML file, e.g. exported from another feed reader")
    imp.add_argument(
        "--allow-local-files",
        action="store_true",
        help="also add feeds that are files on this machine (file: URLs), as exported by "
        "`feeds export-opml`; off by default",
    )
    exp = fsub.add_parser("export-opml", help="write every feed source to an OPML file")
    exp.add_argument("file", help="where to write the OPML file")
    feeds.set_defaults(handler=run)


def run(fd: FocusDesk, args: argparse.Namespace) -> int:
    if args.action == "import-opml":
        report = fd.sources.import_opml(args.file, allow_local=args.allow_local_files)
        for info in report.added:
            print(f"Added feed source {info.id}: {info.name} ({info.uri})")
        for title, reason in report.skipped:
            print(f"Skipped {title}: {reason}")
        print(
            f"{len(report.added)} feeds added, {len(report.skipped)} skipped. "
            "Run `focusdesk sync` to read them."
        )
    else:
        count = fd.sources.export_opml(args.file)
        print(f"Wrote {count} feeds to {args.file}.")
    return 0


def add_feed(fd: FocusDesk, uri: str, *, name: str | None, group: str | None) -> int:
    """`sources add feed URL-or-PATH [--name N] [--group G]`.

    The feed is read once to check it and to take its title as the name; a web page
    that announces a feed adds that feed. When the feed cannot be reached now, it is
    added anyway (the next sync tries again); when it is not a feed, it is refused.
    """
    from focusdesk.errors import SourceError
    from focusdesk.sources.feeds import feed_source_spec, probe_feed
    from focusdesk.sources.fetch import Fetcher, FetchError, FetchLimits

    spec = feed_source_spec(uri, name=name, group=group)
    target, title, config = spec.uri, spec.name, dict(spec.config)
    try:
        info = probe_feed(spec.uri, fetcher=Fetcher(FetchLimits(deadline=20.0)))
    except FetchError as exc:
        print(f"Could not read the feed now ({exc.message}); adding it anyway.")
    except SourceError:
        raise
    else:
        if info.url != spec.uri:
            print(f"Found the feed at {info.url}.")
            target = info.url
        if not name and info.title:
            title = info.title
        if info.html_url:
            config["html_url"] = info.html_url  # the site, for OPML export
    added = fd.sources.add("feed", target, name=title, config=config)
    group_note = f" in {config['group']}" if config.get("group") else ""
    print(
        f"Added feed source {added.id}: {added.name} ({added.uri}){group_note}. "
        "Run `focusdesk sync` to read it."
    )
    return 0

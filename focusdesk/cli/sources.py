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
    add.add_argument(
        "kind", choices=["notes", "mbox", "maildir", "imap", "feed"], help="what kind of source"
    )
    add.add_argument("path", nargs="?", help="the notes folder or the mbox file")
    add.add_argument("--name", help="a name to show instead of the file name")
    add.add_argument("--group", help="feed: the folder to file it in (e.g. Tech/Python)")
    _add_imap_arguments(add)
    ssub.add_parser("list", help="list the sources")
    rm = ssub.add_parser("remove", help="remove a source and its items")
    rm.add_argument("id", type=int)
    pw = ssub.add_parser("password", help="save the password of an IMAP source")
    pw.add_argument("id", type=int)
    pw.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin (one line)"
    )
    sources.set_defaults(handler=run)


def run(fd: FocusDesk, args: argparse.Namespace) -> int:
    if args.action == "add" and args.kind == "imap":
        return _add_imap(fd, args)
    if args.action == "add" and args.kind == "feed" and args.path:
        from focusdesk.cli.feeds import add_feed

        return add_feed(fd, args.path, name=args.name, group=args.group)
    if args.action == "password":
        return _set_password(fd, args)
    if args.action == "add" and not args.path:
        from focusdesk.errors import KnownError

        raise KnownError(f"`sources add {args.kind}` needs a PATH.")
    if args.action == "add":
        info = fd.sources.add(args.kind, args.path, name=args.name)
        print(
            f"Added {info.kind} source {info.id}: {info.name} ({info.uri}). "
            "Run `focusdesk sync` to read it."
        )
    elif args.action == "list":
        infos = fd.sources.all()
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
            if i.failed:
                print(f"     {i.failed} item(s) could not be read or saved:")
                for ref, reason in i.failures[-5:]:
                    print(f"       {ref}: {reason}")
                if i.failed > 5:
                    print(f"       … and {i.failed - 5} more (`focusdesk -v sync` logs each)")
    else:
        fd.sources.remove(args.id)
        print(f"Removed source {args.id} and its items.")
    return 0


def _add_imap_arguments(add: argparse.ArgumentParser) -> None:
    imap = add.add_argument_group("imap (always encrypted: TLS on port 993, or --starttls)")
    imap.add_argument("--host", help="the IMAP server")
    imap.add_argument("--user", help="the account's user name")
    imap.add_argument("--port", type=int, help="default 993, or 143 with --starttls")
    imap.add_argument(
        "--folder",
        action="append",
        dest="folders",
        metavar="FOLDER",
        help="a folder to read (repeat for more; default INBOX)",
    )
    imap.add_argument(
        "--starttls", action="store_true", help="connect in plain text, then require STARTTLS"
    )
    imap.add_argument(
        "--cafile", metavar="FILE", help="trust only this PEM certificate (self-signed servers)"
    )
    imap.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from stdin (one line) instead of asking",
    )


def _read_password(args: argparse.Namespace, prompt: str) -> str | None:
    """The password from stdin (--password-stdin) or typed at a terminal; None if neither."""
    import getpass
    import sys

    from focusdesk.errors import KnownError

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise KnownError("No password on stdin (--password-stdin reads one line).")
        return password
    if sys.stdin.isatty():
        try:
            return getpass.getpass(prompt) or None
        except EOFError:
            return None
    return None


def _report_password(fd: FocusDesk, saved: bool) -> None:
    if saved:
        print(f"The password is saved in the system keyring ({fd.sources.passwords.backend_name}).")
    else:
        print(
            "No system keyring is available, so the password is not kept: "
            "`focusdesk sync` asks for it when run in a terminal."
        )


def _add_imap(fd: FocusDesk, args: argparse.Namespace) -> int:
    from focusdesk.errors import KnownError
    from focusdesk.sources.imap import imap_source

    if args.path:
        raise KnownError("`sources add imap` takes --host and --user, not a PATH.")
    if not args.host or not args.user:
        raise KnownError("`sources add imap` needs --host HOST and --user USER.")
    uri, config = imap_source(
        args.host,
        args.user,
        args.port,
        starttls=args.starttls,
        folders=args.folders,
        cafile=args.cafile,
    )
    info = fd.sources.add("imap", uri, name=args.name, config=config)
    folders = ", ".join(config["folders"])
    print(f"Added imap source {info.id}: {info.name} ({info.uri}), folders {folders}.")
    password = _read_password(args, f"IMAP password for {config['user']}@{config['host']}: ")
    if password is None:
        print(
            "No password given: `focusdesk sync` asks for it in a terminal, or save it with "
            f"`focusdesk sources password {info.id}`."
        )
        return 0
    _report_password(fd, fd.sources.set_password(info.id, password))
    print("Run `focusdesk sync` to read it.")
    return 0


def _set_password(fd: FocusDesk, args: argparse.Namespace) -> int:
    from focusdesk.errors import KnownError

    info = fd.sources.get(args.id)
    if info.kind != "imap":
        raise KnownError(f"Source {args.id} is not an IMAP account: it has no password.")
    password = _read_password(args, f"IMAP password for {info.name}: ")
    if password is None:
        raise KnownError("No password given (type it in a terminal, or use --password-stdin).")
    _report_password(fd, fd.sources.set_password(args.id, password))
    return 0

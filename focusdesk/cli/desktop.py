"""`focusdesk desktop-entry install|remove`: the menu entry, icons and metainfo (XDG, user)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    entry = sub.add_parser(
        "desktop-entry",
        help="install or remove the desktop menu entry and icons (this user, XDG)",
        description="Install the FocusDesk menu entry (starting this installation), its "
        "icons and AppStream metainfo under $XDG_DATA_HOME, or remove them (and the "
        "start-at-login entry).",
    )
    entry.add_argument("action", choices=("install", "remove"))
    entry.set_defaults(handler=run, opens_profile=False)


def run(args: argparse.Namespace) -> int:
    from focusdesk import desktop_entry

    if args.action == "install":
        written = desktop_entry.install()
        print(f"Installed {desktop_entry.entry_path()} (starts {desktop_entry.launcher()[0]})")
        print(f"and {len(written) - 1} icon and metainfo files.")
        return 0
    removed = desktop_entry.remove()
    if not removed:
        print("No FocusDesk desktop entry was installed for this user.")
    for path in removed:
        print(f"Removed {path}")
    return 0

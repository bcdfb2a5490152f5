"""Which note a link inside a note points at, the way Obsidian resolves it. No Qt here.

A wikilink names a note by its file name (``[[Kyoto]]``), by a path inside the vault
(``[[Places/Kyoto]]``) or, failing those, by its title; a Markdown link
(``[x](../Places/Kyoto.md)``) is a path relative to the linking note. When several
notes share a name, the one closest to the linking note wins, then the shortest path.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote

__all__ = ["NoteRef", "link_target", "resolve_note_link"]

_SUFFIXES = (".md", ".markdown", ".txt")


@dataclass(frozen=True)
class NoteRef:
    """A note of the vault: its item id, its path inside the vault and its title."""

    item_id: int
    path: str
    title: str


def link_target(href: str) -> tuple[str, str]:
    """A relative link from the reader as (note, heading or block), percent-decoded."""
    path, _, fragment = href.partition("#")
    return unquote(path).strip(), unquote(fragment).strip()


def _stem(path: str) -> str:
    name = posixpath.basename(path)
    for suffix in _SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def _without_suffix(path: str) -> str:
    return posixpath.join(posixpath.dirname(path), _stem(path))


def _key(path: str) -> str:
    return _without_suffix(path.replace("\\", "/").strip("/")).casefold()


def resolve_note_link(target: str, from_path: str, notes: Iterable[NoteRef]) -> NoteRef | None:
    """The note ``target`` names, seen from the note at ``from_path``; None if none does."""
    target = target.replace("\\", "/").strip()
    if not target:
        return None
    notes = list(notes)
    here = posixpath.dirname(from_path.replace("\\", "/"))
    wanted_paths = [
        posixpath.normpath(posixpath.join(here, target)),  # relative to the linking note
        posixpath.normpath(target.lstrip("/")),  # from the vault's root
    ]
    by_path = {_key(n.path): n for n in notes}
    for path in wanted_paths:
        found = by_path.get(_key(path))
        if found is not None:
            return found
    name = _stem(target).casefold()
    folder = posixpath.dirname(target).casefold()
    same_name = [
        n
        for n in notes
        if _stem(n.path).casefold() == name
        and (not folder or _key(n.path).rsplit("/", 1)[0].endswith(folder))
    ]
    if same_name:
        return min(
            same_name,
            key=lambda n: (posixpath.dirname(n.path) != here, n.path.count("/"), len(n.path)),
        )
    wanted_title = " ".join(target.split()).casefold()
    titled = [n for n in notes if " ".join(n.title.split()).casefold() == wanted_title]
    return min(titled, key=lambda n: len(n.path)) if titled else None

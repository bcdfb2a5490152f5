"""Maps a source kind to its ingester, and checks a new source before it is added."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from focusdesk.errors import KnownError, SourceError
from focusdesk.sources.base import Ingester

LOCAL_KINDS = ("notes", "mbox")


def make_ingester(kind: str, uri: str, config: dict[str, Any] | None = None) -> Ingester:
    """The ingester that reads a source of ``kind`` at ``uri``."""
    if kind == "notes":
        from focusdesk.sources.notes import NotesIngester

        return NotesIngester(uri)
    if kind == "mbox":
        from focusdesk.sources.mbox import MboxIngester

        return MboxIngester(uri)
    raise KnownError(f"Sources of kind {kind!r} are not supported yet.")


def check_new_source(kind: str, uri: str) -> tuple[str, str]:
    """Validate a source before adding it; returns (normalised uri, default name)."""
    if kind not in LOCAL_KINDS:
        raise KnownError(
            f"Sources of kind {kind!r} are not supported yet.",
            hint=f"Supported kinds: {', '.join(LOCAL_KINDS)}.",
        )
    path = Path(uri).expanduser().resolve()
    if kind == "notes" and not path.is_dir():
        raise SourceError(f"The notes folder {path} does not exist or is not a folder.")
    if kind == "mbox" and not path.is_file():
        raise SourceError(f"The mailbox file {path} does not exist or is not a file.")
    return str(path), path.name

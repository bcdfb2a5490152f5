"""Maps a source kind to its ingester, and checks a new source before it is added."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from focusdesk.errors import KnownError, SourceError
from focusdesk.sources.base import Ingester

if TYPE_CHECKING:
    from focusdesk.clock import Clock
    from focusdesk.sources.credentials import PasswordStore

LOCAL_KINDS = ("notes", "mbox", "maildir")


def make_ingester(
    kind: str,
    uri: str,
    config: dict[str, Any] | None = None,
    *,
    passwords: PasswordStore | None = None,
    clock: Clock | None = None,
) -> Ingester:
    """The ingester that reads a source of ``kind`` at ``uri``.

    ``passwords`` is the profile's PasswordStore (IMAP); without one, an IMAP source
    uses a fresh store (system keyring, nobody to ask). ``clock`` is the profile's: a
    feed's "wait until" and the dates it believes are judged by it.
    """
    if kind == "imap":
        from focusdesk.sources.credentials import PasswordStore
        from focusdesk.sources.imap import ImapIngester, account_from_source

        store = passwords if passwords is not None else PasswordStore()
        return ImapIngester(account_from_source(uri, config), store)
    if kind == "maildir":
        from focusdesk.sources.maildir import MaildirIngester

        return MaildirIngester(uri)
    if kind == "feed":
        from focusdesk.sources.feeds import FeedIngester

        return FeedIngester(uri, config or {}, clock=clock.now if clock is not None else None)
    if kind == "notes":
        from focusdesk.sources.notes import NotesIngester

        return NotesIngester(uri)
    if kind == "mbox":
        from focusdesk.sources.mbox import MboxIngester

        return MboxIngester(uri)
    raise KnownError(f"Sources of kind {kind!r} are not supported yet.")


def check_new_source(kind: str, uri: str) -> tuple[str, str]:
    """Validate a source before adding it; returns (normalised uri, default name)."""
    if kind == "imap":
        from focusdesk.sources.imap import check_imap_uri

        return check_imap_uri(uri)
    if kind == "feed":
        from focusdesk.sources.feeds import check_feed_uri

        return check_feed_uri(uri)
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
    if kind == "maildir":
        from focusdesk.sources.maildir import is_maildir

        if not path.is_dir():
            raise SourceError(f"The Maildir folder {path} does not exist or is not a folder.")
        if not is_maildir(path):
            raise SourceError(
                f"{path} is not a Maildir: it has no cur/ and new/ folders.",
                hint="For an mbox file, add it as an mbox source.",
            )
    return str(path), path.name

"""A local Maildir (and its Maildir++ subfolders) as a source, strictly read-only.

Messages are plain files in ``cur/`` and ``new/`` (``tmp/`` holds mail still being
delivered and is never read). Files are only opened for reading: no renames, no
flag changes, no locks (the stdlib ``mailbox.Maildir`` moves mail from ``new/`` to
``cur/`` and creates missing folders, so it is not used). Maildir++ subfolders are
the ``.Name`` (``.Parent.Child``) directories beside ``cur/``; their names are shown
as ``Parent/Child``.

An item's ``external_id`` is its Message-ID, else a ``sha256:`` hash of its content,
so a message keeps its identity when a mail program moves it between ``new/``,
``cur/`` and folders or changes its flags. ``meta`` holds the folder and the flags of
the ``:2,FLAGS`` file name suffix. A scan sees every message (``complete``), so mail
deleted from the Maildir is marked vanished; a sync is skipped when no ``cur/`` or
``new/`` directory changed since the last one (Maildir files never change in place).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from focusdesk.errors import SourceError
from focusdesk.sources.base import IngestFailure, RawItem, ScanResult
from focusdesk.sources.email_message import message_to_item, parse_message_bytes

__all__ = ["MaildirIngester", "is_maildir", "parse_flags"]

log = logging.getLogger(__name__)

ROOT_FOLDER = "INBOX"
_MTIME_SLACK_NS = 2_000_000_000
_SUBDIRS = ("cur", "new")
# "unique:2,FLAGS"; some systems (where ':' is not allowed in file names) use ';' or '!'.
_INFO = re.compile(r"[:;!]2,([A-Za-z,]*)$")
_FLAG_NAMES = {
    "D": "\\Draft",
    "F": "\\Flagged",
    "P": "$Forwarded",
    "R": "\\Answered",
    "S": "\\Seen",
    "T": "\\Deleted",
}


def parse_flags(filename: str) -> str:
    """The Maildir flag letters of a message file name (``'RS'`` for ``...:2,RS``)."""
    match = _INFO.search(filename)
    return match.group(1).replace(",", "") if match else ""


def _flag_names(letters: str) -> list[str]:
    """IMAP-style names of the standard flags; lowercase letters are keywords, kept as is."""
    return [_FLAG_NAMES.get(letter, letter) for letter in letters]


def _folder_name(dirname: str) -> str:
    """``.Work.Projects`` -> ``Work/Projects`` (IMAP modified UTF-7 decoded when used)."""
    name = dirname[1:]
    if "&" in name:
        try:
            from imapclient.imap_utf7 import decode

            name = decode(name.encode("ascii"))
        except Exception:  # not modified UTF-7 after all: keep the raw name
            pass
    return name.replace(".", "/")


def is_maildir(path: Path) -> bool:
    """True when ``path`` holds a ``cur/`` or ``new/`` folder (itself or a Maildir++ child)."""
    if any((path / sub).is_dir() for sub in _SUBDIRS):
        return True
    try:
        children = list(path.iterdir())
    except OSError:
        return False
    return any(
        child.name.startswith(".") and any((child / sub).is_dir() for sub in _SUBDIRS)
        for child in children
    )


class MaildirIngester:
    """Reads every message of a Maildir tree; never writes to it."""

    kind = "maildir"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()
        self._result = ScanResult(complete=False)

    @property
    def result(self) -> ScanResult:
        """Valid once ``scan`` is exhausted."""
        return self._result

    def _folders(self) -> list[tuple[str, Path]]:
        """(folder name, directory) of the root and each Maildir++ subfolder, sorted."""
        folders = [(ROOT_FOLDER, self.path)]
        try:
            entries = sorted(os.scandir(self.path), key=lambda e: e.name)
        except FileNotFoundError:
            raise SourceError(f"The Maildir folder {self.path} does not exist.") from None
        except NotADirectoryError:
            raise SourceError(f"{self.path} is a file, not a Maildir folder.") from None
        except PermissionError:
            raise SourceError(
                f"FocusDesk is not allowed to read the Maildir {self.path}."
            ) from None
        except OSError as exc:
            raise SourceError(
                f"The Maildir {self.path} could not be read: {exc.strerror or exc}."
            ) from exc
        for entry in entries:
            if entry.name in (".", "..") or not entry.name.startswith("."):
                continue
            try:
                if not entry.is_dir():
                    continue
            except OSError:
                continue
            sub = Path(entry.path)
            if any((sub / s).is_dir() for s in _SUBDIRS):
                folders.append((_folder_name(entry.name), sub))
        return folders

    def _dir_times(self, folders: list[tuple[str, Path]]) -> dict[str, int]:
        times: dict[str, int] = {}
        for _, directory in folders:
            for sub in _SUBDIRS:
                try:
                    info = os.stat(directory / sub)
                except OSError:
                    continue
                times[str((directory / sub).relative_to(self.path))] = info.st_mtime_ns
        return times

    def scan(self, state: dict[str, Any]) -> Iterator[RawItem | IngestFailure]:
        """Yield one item per message file (or a failure), unless nothing changed."""
        self._result = ScanResult(state=dict(state), complete=False)
        folders = self._folders()
        if not is_maildir(self.path):
            raise SourceError(
                f"{self.path} is not a Maildir: it has no cur/ and new/ folders.",
                hint="For an mbox file, add it as an mbox source.",
            )
        times = self._dir_times(folders)
        if times and state.get("dirs") == times:
            log.debug("Maildir %s unchanged since the last sync", self.path)
            self._result = ScanResult(state=dict(state), complete=False, unchanged=True)
            return
        ids: dict[str, str] = {}
        count = 0
        for folder, directory in folders:
            for sub in _SUBDIRS:
                for path in self._message_files(directory / sub):
                    entry = self._read(folder, sub, path, ids)
                    if isinstance(entry, RawItem):
                        count += 1
                    yield entry
        # A directory changed within the last seconds may change again within the same
        # mtime tick (coarse on some file systems): then do not trust the times next time.
        recent = time.time_ns() - _MTIME_SLACK_NS
        trusted = times if all(t < recent for t in times.values()) else {}
        self._result = ScanResult(state={"dirs": trusted, "count": count}, complete=True)

    def _message_files(self, directory: Path) -> list[Path]:
        """The message files of one ``cur/`` or ``new/`` directory, sorted by name."""
        try:
            entries = list(os.scandir(directory))
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise SourceError(
                f"The Maildir folder {directory} could not be read: {exc.strerror or exc}."
            ) from exc
        files = []
        for entry in entries:
            if entry.name.startswith("."):
                continue  # Maildir readers ignore dot files
            try:
                if entry.is_file():
                    files.append(Path(entry.path))
            except OSError:
                files.append(Path(entry.path))  # let the read report it
        return sorted(files, key=lambda p: p.name)

    def _read(
        self, folder: str, sub: str, path: Path, ids: dict[str, str]
    ) -> RawItem | IngestFailure:
        ref = str(path.relative_to(self.path))
        try:
            with path.open("rb") as fh:
                data = fh.read()
        except OSError as exc:
            reason = f"the file could not be read: {exc.strerror or exc}"
            log.warning("Skipped %s: %s", ref, reason)
            return IngestFailure(ref=ref, reason=reason)
        try:
            item = message_to_item(
                parse_message_bytes(data),
                fallback_id="sha256:" + hashlib.sha256(data).hexdigest(),
            )
        except ValueError as exc:
            log.warning("Skipped %s: %s", ref, exc)
            return IngestFailure(ref=ref, reason=str(exc))
        digest = item.content_hash
        first = ids.get(item.external_id)
        if first is None:
            ids[item.external_id] = digest
        elif first != digest:
            # Another message with the same Message-ID: keep both, each under a stable id.
            item.meta["duplicate_of"] = item.external_id
            item.external_id = f"{item.external_id}#dup-{digest[:12]}"
        letters = parse_flags(path.name)
        item.meta.update(
            {
                "folder": folder,
                "maildir_flags": letters,
                "flags": _flag_names(letters),
                "maildir_subdir": sub,
            }
        )
        return item

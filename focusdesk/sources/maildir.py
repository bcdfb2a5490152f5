"""A local Maildir (and its Maildir++ subfolders) as a source, strictly read-only.

Messages are plain files in ``cur/`` and ``new/`` (``tmp/`` holds mail still being
delivered and is never read). Files are only opened for reading: no renames, no
flag changes, no locks (the stdlib ``mailbox.Maildir`` moves mail from ``new/`` to
``cur/`` and creates missing folders, so it is not used). A folder is any directory
of the tree that has a ``cur/`` or ``new/``: Maildir++ ``.Parent.Child`` directories
beside ``cur/`` and plain nested directories (mbsync, notmuch) alike; both are shown
as ``Parent/Child``. A folder that cannot be read is a counted failure, and the scan
is then not complete.

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
from focusdesk.sources.charsets import repair_surrogates
from focusdesk.sources.email_message import message_to_item, parse_message_bytes

__all__ = ["MaildirIngester", "is_maildir", "parse_flags"]

log = logging.getLogger(__name__)

ROOT_FOLDER = "INBOX"
_MTIME_SLACK_NS = 2_000_000_000
_SUBDIRS = ("cur", "new")
_ALL_SUBDIRS = frozenset({"cur", "new", "tmp"})
_MAX_DEPTH = 32
_PROBE_DEPTH = 4
_MAX_PROBE = 2000
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


def _decode_utf7(name: str) -> str:
    if "&" not in name:
        return name
    try:
        from imapclient.imap_utf7 import decode

        return str(decode(name.encode("ascii")))
    except Exception:  # not modified UTF-7 after all: keep the raw name
        return name


def _folder_name(parts: tuple[str, ...]) -> str:
    """``('.Work.Projects',)`` or ``('Work', 'Projects')`` -> ``Work/Projects``; the root
    is ``INBOX``. IMAP modified UTF-7 is decoded, and bytes that are not UTF-8 too."""
    if not parts:
        return ROOT_FOLDER
    names = []
    for part in parts:
        if part.startswith("."):
            names.append(_decode_utf7(part[1:]).replace(".", "/"))  # Maildir++
        else:
            names.append(_decode_utf7(part))
    return repair_surrogates("/".join(names))


def _has_mail_dirs(path: Path) -> bool:
    return any((path / sub).is_dir() for sub in _SUBDIRS)


def _shown(path: Path | str) -> str:
    """A path as text that can be stored: bytes that are not UTF-8 decoded as well as
    they can be (file names are bytes on POSIX)."""
    return repair_surrogates(str(path))


def is_maildir(path: Path) -> bool:
    """True when ``path`` or a folder below it (a few levels deep) has ``cur/`` or ``new/``."""
    pending = [(path, 0)]
    looked = 0
    while pending and looked < _MAX_PROBE:
        directory, depth = pending.pop()
        looked += 1
        if _has_mail_dirs(directory):
            return True
        if depth >= _PROBE_DEPTH:
            continue
        try:
            children = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            continue
        for child in children:
            try:
                if child.is_dir() and child.name not in _ALL_SUBDIRS:
                    pending.append((Path(child.path), depth + 1))
            except OSError:
                continue
    return False


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

    def _root_entries(self) -> list[os.DirEntry[str]]:
        try:
            return sorted(os.scandir(self.path), key=lambda e: e.name)
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

    def _folders(self) -> tuple[list[tuple[str, Path]], list[IngestFailure]]:
        """(name, directory) of every folder of the tree, the root first, and a failure
        for each directory that could not be read (symbolic links are followed, once)."""
        folders: list[tuple[str, Path]] = []
        failures: list[IngestFailure] = []
        stack: list[tuple[Path, tuple[str, ...], list[os.DirEntry[str]] | None]] = [
            (self.path, (), self._root_entries())
        ]
        visited: set[tuple[int, int]] = set()
        while stack:
            directory, parts, entries = stack.pop()
            try:
                info = os.stat(directory)
                if (info.st_dev, info.st_ino) in visited:
                    continue
                visited.add((info.st_dev, info.st_ino))
                if entries is None:
                    entries = sorted(os.scandir(directory), key=lambda e: e.name)
            except OSError as exc:
                failures.append(self._unreadable(directory, exc))
                continue
            names = set()
            children = []
            for entry in entries:
                try:
                    if not entry.is_dir():
                        continue
                except OSError:
                    continue
                names.add(entry.name)
                if entry.name not in _ALL_SUBDIRS:
                    children.append(entry)
            if names & set(_SUBDIRS):
                folders.append((_folder_name(parts), directory))
            if children and len(parts) >= _MAX_DEPTH:
                reason = f"folders nested more than {_MAX_DEPTH} deep were not read"
                failures.append(IngestFailure(ref=self._ref(directory), reason=reason))
                continue
            for entry in reversed(children):
                stack.append((Path(entry.path), (*parts, entry.name), None))
        return folders, failures

    def _ref(self, path: Path) -> str:
        return _shown(path.relative_to(self.path))

    def _unreadable(self, directory: Path, exc: OSError) -> IngestFailure:
        reason = f"the folder could not be read: {exc.strerror or exc}"
        ref = self._ref(directory)
        log.warning("Skipped %s: %s", ref, reason)
        return IngestFailure(ref=ref, reason=reason)

    def _dir_times(self, folders: list[tuple[str, Path]]) -> dict[str, int]:
        times: dict[str, int] = {}
        for _, directory in folders:
            for sub in _SUBDIRS:
                try:
                    info = os.stat(directory / sub)
                except OSError:
                    continue
                rel = os.fsencode((directory / sub).relative_to(self.path))
                times[rel.decode("utf-8", "backslashreplace")] = info.st_mtime_ns
        return times

    def scan(self, state: dict[str, Any]) -> Iterator[RawItem | IngestFailure]:
        """Yield one item per message file (or a failure), unless nothing changed."""
        self._result = ScanResult(state=dict(state), complete=False)
        folders, failures = self._folders()
        if not folders and not failures:
            raise SourceError(
                f"{self.path} is not a Maildir: it has no cur/ and new/ folders.",
                hint="For an mbox file, add it as an mbox source.",
            )
        times = self._dir_times(folders)
        if times and not failures and state.get("dirs") == times:
            log.debug("Maildir %s unchanged since the last sync", self.path)
            self._result = ScanResult(state=dict(state), complete=False, unchanged=True)
            return
        yield from failures
        complete = not failures
        ids: dict[str, str] = {}
        count = 0
        for folder, directory in folders:
            for sub in _SUBDIRS:
                files = self._message_files(directory / sub)
                if isinstance(files, IngestFailure):
                    complete = False
                    yield files
                    continue
                for path in files:
                    entry = self._read(folder, sub, path, ids)
                    if isinstance(entry, RawItem):
                        count += 1
                    yield entry
        # A directory changed within the last seconds may change again within the same
        # mtime tick (coarse on some file systems): then do not trust the times next time.
        recent = time.time_ns() - _MTIME_SLACK_NS
        trusted = times if complete and all(t < recent for t in times.values()) else {}
        self._result = ScanResult(state={"dirs": trusted, "count": count}, complete=complete)

    def _message_files(self, directory: Path) -> list[Path] | IngestFailure:
        """The message files of one ``cur/`` or ``new/`` directory, sorted by name."""
        try:
            entries = list(os.scandir(directory))
        except FileNotFoundError:
            return []
        except OSError as exc:
            return self._unreadable(directory, exc)
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
        ref = self._ref(path)
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

"""A local mbox file as a source: one item per message, read-only and streamed.

The file is split on its "From " separator lines by our own reader on bytes, opened
read-only, never locked and never loaded whole into memory (the stdlib ``mailbox``
module opens it for writing when it can, creates it when missing, and scans the whole
file for its table of contents before yielding the first message).
"""

from __future__ import annotations

import logging
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from focusdesk.errors import SourceError
from focusdesk.sources.base import IngestFailure, RawItem, ScanResult
from focusdesk.sources.email_message import message_to_item, parse_message_bytes

__all__ = ["MboxIngester"]

log = logging.getLogger(__name__)

_ESCAPED_FROM = re.compile(rb"^>+From ")
_BOM = b"\xef\xbb\xbf"


class _NotAnMbox(Exception):
    """The file has content before its first "From " line."""


def _is_blank(line: bytes) -> bool:
    return not line.strip()


def _finish(lines: list[bytes]) -> bytes:
    """One message's bytes: the blank line before the next separator dropped, '>From ' unescaped."""
    if lines and _is_blank(lines[-1]):
        lines.pop()
    return b"".join(line[1:] if _ESCAPED_FROM.match(line) else line for line in lines)


def _split_mbox(stream: IO[bytes]) -> Iterator[bytes]:
    """Yield each message of an mbox stream as bytes, without its "From " line.

    Every line that starts with "From " starts a message, with or without a date or a
    blank line before it and whatever a Content-Length header says: the rule of Python's
    ``mailbox`` and of mail programs that write mboxo/mboxrd, whose ">From " escapes are
    undone. A byte-order mark before the first line is ignored. Raises ``_NotAnMbox``
    when the stream has something other than blank lines before its first "From " line.
    """
    lines: list[bytes] = []
    started = False
    first = True
    for line in stream:
        if first:
            first = False
            if line.startswith(_BOM):
                line = line[len(_BOM) :]
        if line.startswith(b"From "):
            if started:
                yield _finish(lines)
            lines = []
            started = True
            continue
        if not started:
            if not _is_blank(line):
                raise _NotAnMbox
            continue
        lines.append(line)
    if started:
        yield _finish(lines)


class MboxIngester:
    """Reads a local mbox file; skips it entirely when its size and mtime are unchanged."""

    kind = "mbox"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()
        self._result = ScanResult(complete=False)

    @property
    def result(self) -> ScanResult:
        """Valid once ``scan`` is exhausted."""
        return self._result

    def _open(self) -> IO[bytes]:
        try:
            return self.path.open("rb")
        except FileNotFoundError:
            raise SourceError(f"The mailbox file {self.path} does not exist.") from None
        except IsADirectoryError:
            raise SourceError(
                f"{self.path} is a folder, not an mbox file.",
                hint="For a Maildir folder, add it as a maildir source.",
            ) from None
        except PermissionError:
            raise SourceError(
                f"FocusDesk is not allowed to read the mailbox file {self.path}."
            ) from None
        except OSError as exc:
            raise SourceError(
                f"The mailbox file {self.path} could not be opened: {exc.strerror or exc}."
            ) from exc

    def scan(self, state: dict[str, Any]) -> Iterator[RawItem | IngestFailure]:
        """Yield one item per message (or a failure), unless the file is unchanged."""
        self._result = ScanResult(state=dict(state), complete=False)
        with self._open() as stream:
            info = os.fstat(stream.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise SourceError(f"{self.path} is not a regular file, so it is not an mbox.")
            if state.get("size") == info.st_size and state.get("mtime_ns") == info.st_mtime_ns:
                log.debug("mbox %s unchanged since the last sync", self.path)
                self._result = ScanResult(state=dict(state), complete=False, unchanged=True)
                return
            count = 0
            try:
                for item in self._read(stream):
                    count += 1
                    yield item
            except _NotAnMbox:
                raise SourceError(
                    f"The file {self.path} is not an mbox mailbox: "
                    'it does not start with a "From " line.'
                ) from None
            except OSError as exc:
                raise SourceError(
                    f"Reading the mailbox file {self.path} failed: {exc.strerror or exc}."
                ) from exc
        self._result = ScanResult(
            state={"size": info.st_size, "mtime_ns": info.st_mtime_ns, "count": count},
            complete=True,
        )

    def _read(self, stream: IO[bytes]) -> Iterator[RawItem | IngestFailure]:
        seen: dict[str, int] = {}
        for position, data in enumerate(_split_mbox(stream), start=1):
            try:
                item = message_to_item(
                    parse_message_bytes(data), fallback_id=f"mbox-message-{position}"
                )
            except ValueError as exc:
                ref = f"{self.path}#message {position}"
                log.warning("Skipped %s: %s", ref, exc)
                yield IngestFailure(ref=ref, reason=str(exc))
                continue
            earlier = seen.get(item.external_id, 0)
            seen[item.external_id] = earlier + 1
            if earlier:
                item.meta["duplicate_of"] = item.external_id
                item.external_id = f"{item.external_id}#dup{earlier}"
            item.meta["mbox_position"] = position
            yield item

"""Read every feed and note of a corpus folder the way a sync does; count what happened.

    python scripts/ingest_corpora.py [CORPORA]   (default: ../shared/data/corpora)

Each feed file goes through ``FeedIngester`` (as a local feed source) and the notes
folder through ``NotesIngester``. A file is: read (items, failures counted), refused
with a message (``SourceError``: not a feed, unsafe), a crash (any other exception)
or a hang (over ``HANG_S`` seconds). Items whose strings could not be stored (a lone
surrogate) are counted too. Exit status 1 on any crash, hang or unstorable item.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from focusdesk.errors import SourceError
from focusdesk.sources.base import IngestFailure, RawItem
from focusdesk.sources.feeds import FeedIngester
from focusdesk.sources.notes import NotesIngester

HANG_S = 30
FEED_SUFFIXES = {".xml", ".atom", ".rss", ".rdf", ".json", ".html", ".gz"}


class Hang(Exception):
    """The file took longer than ``HANG_S``."""


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise Hang


@dataclass
class Tally:
    files: int = 0
    read: int = 0
    items: int = 0
    failures: int = 0
    refused: list[str] = field(default_factory=list)
    crashes: list[str] = field(default_factory=list)
    hangs: list[str] = field(default_factory=list)
    unstorable: list[str] = field(default_factory=list)
    slowest: tuple[float, str] = (0.0, "")


def _storable(item: RawItem) -> bool:
    values: list[Any] = [item.external_id, item.title, item.text, item.body, item.author]
    values += [item.url, repr(item.meta)]
    try:
        for value in values:
            if isinstance(value, str):
                value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _run(tally: Tally, name: str, scan: Iterator[RawItem | IngestFailure]) -> None:
    tally.files += 1
    start = time.perf_counter()
    signal.alarm(HANG_S)
    try:
        results = list(scan)
    except Hang:
        tally.hangs.append(name)
        return
    except SourceError as exc:
        tally.refused.append(f"{name}: {exc.message}")
        return
    except Exception as exc:
        tally.crashes.append(f"{name}: {type(exc).__name__}: {exc}")
        return
    finally:
        signal.alarm(0)
        elapsed = time.perf_counter() - start
        tally.slowest = max(tally.slowest, (elapsed, name))
    tally.read += 1
    for result in results:
        if isinstance(result, IngestFailure):
            tally.failures += 1
        else:
            tally.items += 1
            if not _storable(result):
                tally.unstorable.append(f"{name}: {result.external_id!r}")


def _report(kind: str, tally: Tally) -> None:
    print(
        f"{kind}: {tally.files} files, {tally.read} read, {tally.items} items, "
        f"{tally.failures} item failures, {len(tally.refused)} refused, "
        f"{len(tally.crashes)} crashes, {len(tally.hangs)} hangs, "
        f"{len(tally.unstorable)} unstorable; slowest {tally.slowest[0]:.2f} s "
        f"({tally.slowest[1]})"
    )
    for line in tally.refused:
        print(f"  refused  {line}")
    for line in tally.crashes + tally.hangs + tally.unstorable:
        print(f"  PROBLEM  {line}")


def _note_seconds(root: Path) -> Iterator[tuple[float, str]]:
    """(seconds, id) of each note of the scan: the time until it was yielded."""
    scan = NotesIngester(root).scan({})
    while True:
        start = time.perf_counter()
        result = next(scan, None)
        if result is None:
            return
        ref = result.external_id if isinstance(result, RawItem) else result.ref
        yield time.perf_counter() - start, ref


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    default = Path(__file__).resolve().parents[2] / "shared" / "data" / "corpora"
    parser.add_argument("corpora", nargs="?", type=Path, default=default)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGALRM, _alarm)

    feeds = Tally()
    for path in sorted((args.corpora / "feeds").rglob("*")):
        if path.is_file() and path.suffix.lower() in FEED_SUFFIXES:
            _run(feeds, path.name, FeedIngester(str(path)).scan({}))
    _report("feeds", feeds)

    notes = Tally()  # one scan of the whole vault, as a notes source reads it
    _run(notes, "notes/", NotesIngester(args.corpora / "notes").scan({}))
    _report("notes (one folder source)", notes)
    slowest = max(_note_seconds(args.corpora / "notes"), default=(0.0, ""))
    print(f"  slowest single note: {slowest[0]:.3f} s ({slowest[1]})")

    problems = [t.crashes + t.hangs + t.unstorable for t in (feeds, notes)]
    return 1 if any(problems) else 0


if __name__ == "__main__":
    sys.exit(main())

"""Every real-world sample file becomes an item or a counted failure: no crash, no hang."""

from __future__ import annotations

import contextlib
import signal
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import pytest

from focusdesk.sources.base import IngestFailure, RawItem
from focusdesk.sources.email_message import message_to_item, parse_message_bytes
from focusdesk.sources.mbox import MboxIngester
from focusdesk.sources.notes import NOTE_SUFFIXES, NotesIngester

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
CORPORA = SHARED_DATA / "corpora"
DEV_SET = SHARED_DATA / "newsgroups-dev"
PER_FILE_SECONDS = 5.0


def require(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"shared test data not found at {path} (clone shared/ beside the repo)")
    return path


class Hung(Exception):
    """A single file took longer than PER_FILE_SECONDS."""


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise Hung if the block runs longer than ``seconds`` (where SIGALRM exists)."""
    if not hasattr(signal, "setitimer"):
        yield
        return

    def on_alarm(signum: int, frame: FrameType | None) -> None:
        raise Hung

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_notes_corpus_all_ingested() -> None:
    root = require(CORPORA / "notes")
    expected = sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file()
        and p.suffix.lower() in NOTE_SUFFIXES
        and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )
    ingester = NotesIngester(root)
    with deadline(30):
        results = list(ingester.scan({}))
    items = [r for r in results if isinstance(r, RawItem)]
    failures = [r for r in results if isinstance(r, IngestFailure)]
    print(f"notes corpus: {len(items)} ingested, {len(failures)} failed of {len(expected)} files")
    assert sorted([i.external_id for i in items] + [f.ref for f in failures]) == expected
    assert not failures, failures
    assert ingester.result.complete is True
    assert not any(i.external_id.startswith(".obsidian") for i in items)
    for item in items:
        assert item.title
        assert item.published_at is not None
        assert item.published_at.tzinfo is not None


def test_eml_corpus_every_file_is_an_item_or_a_clean_failure() -> None:
    root = require(CORPORA / "mail" / "eml")
    files = sorted(root.rglob("*.eml"))
    assert files
    ingested: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    failure_reasons: dict[str, str] = {}
    crashes: list[str] = []
    for path in files:
        group = path.parent.name
        started = time.monotonic()
        try:
            with deadline(PER_FILE_SECONDS):
                item = message_to_item(
                    parse_message_bytes(path.read_bytes()), fallback_id=path.name
                )
        except ValueError as exc:
            failed[group] += 1
            failure_reasons[str(path.relative_to(root))] = str(exc)
            continue
        except Hung:
            crashes.append(f"{path}: took over {PER_FILE_SECONDS}s")
            continue
        except Exception as exc:  # the point is to report every crash
            crashes.append(f"{path}: {type(exc).__name__}: {exc}")
            continue
        assert time.monotonic() - started < PER_FILE_SECONDS
        assert item.kind == "email"
        assert item.external_id
        assert item.title
        for text in (item.title, item.text, item.body, item.author or ""):
            text.encode("utf-8")  # no lone surrogates reach the store
        ingested[group] += 1
    for group in sorted(set(ingested) | set(failed)):
        print(f"eml/{group}: {ingested[group]} ingested, {failed[group]} failed")
    for ref, reason in failure_reasons.items():
        print(f"  failed {ref}: {reason}")
    assert not crashes, crashes
    assert sum(ingested.values()) + sum(failed.values()) == len(files)


def test_dev_mbox_ingests_all_2000_posts() -> None:
    mbox = require(DEV_SET / "inbox.mbox")
    labels = require(DEV_SET / "labels.tsv")
    label_ids = {
        line.split("\t", 1)[0]
        for line in labels.read_text(encoding="utf-8").splitlines()[1:]
        if line.strip()
    }
    ingester = MboxIngester(mbox)
    with deadline(60):
        results = list(ingester.scan({}))
    items = [r for r in results if isinstance(r, RawItem)]
    failures = [r for r in results if isinstance(r, IngestFailure)]
    print(f"newsgroups-dev mbox: {len(items)} ingested, {len(failures)} failed")
    assert len(items) == 2000
    assert failures == []
    ids = {i.external_id for i in items}
    assert len(ids) == 2000
    assert ids == label_ids
    assert ingester.result.complete is True
    assert ingester.result.state["count"] == 2000
    assert sum(1 for i in items if i.text) >= 1990
    # A second sync of the unchanged file reads nothing.
    assert list(ingester.scan(ingester.result.state)) == []
    assert ingester.result.unchanged is True

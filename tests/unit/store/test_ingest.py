"""Writing scanned items into the store."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from focusdesk.app import FocusDesk
from focusdesk.records import SyncReport
from focusdesk.sources.base import RawItem
from focusdesk.store.ingest import (
    failed_count,
    ingest,
    ingester_state,
    stored_failures,
    with_failures,
)
from focusdesk.store.models import Item


def test_a_date_with_an_offset_is_stored_as_utc(fd: FocusDesk, tmp_path: Path) -> None:
    mbox = tmp_path / "in.mbox"
    mbox.write_text(
        "From a@example.org Mon Jun  1 10:00:00 2026\n"
        "From: Ann <a@example.org>\nTo: me@example.org\nSubject: West coast\n"
        "Date: Mon, 01 Jun 2026 10:00:00 -0800\nMessage-ID: <w@example.org>\n\n"
        "Sent from the west coast at ten in the morning.\n"
    )
    fd.sources.add("mbox", str(mbox))
    assert fd.sources.sync().reports[0].added == 1
    with fd.store.session() as s:
        stored = s.scalars(select(Item.published_at)).one()
    # SQLite keeps no offset: what comes back is UTC, 18:00, not the sender's 10:00.
    assert stored == datetime(2026, 6, 1, 18, 0, tzinfo=UTC)
    assert stored.tzinfo is UTC


def _note(n: int, title: str | None = None, author: str | None = None) -> RawItem:
    return RawItem(
        external_id=f"note-{n}.md",
        kind="note",
        title=title or f"Note {n}",
        text=f"The text of note {n}.",
        author=author,
    )


def test_an_item_dated_without_a_time_zone_fails_alone_and_says_why(fd: FocusDesk) -> None:
    # Parsers hand over aware dates (each reads a date without a zone as UTC); the
    # store never guesses, so a parser that forgot is caught here, not stored hours off.
    src = fd.sources.add("notes", str(Path(__file__).parent))
    naive = RawItem(
        external_id="naive.md", kind="note", title="N", text="t", published_at=datetime(2026, 3, 1)
    )
    report = SyncReport(source_id=src.id, source_name=src.name)
    ingest(
        fd.store, src.id, iter([_note(1), naive, _note(2)]), report, complete=True, clock=fd.clock
    )
    assert (report.added, report.failed) == (2, 1)
    ((ref, reason),) = report.failures
    assert ref == "naive.md"
    assert "without a time zone" in reason
    with fd.store.session() as s:
        assert s.scalars(select(Item.external_id).order_by(Item.id)).all() == [
            "note-1.md",
            "note-2.md",
        ]


def test_one_unstorable_item_fails_alone_and_its_siblings_are_stored(fd: FocusDesk) -> None:
    src = fd.sources.add("notes", str(Path(__file__).parent))  # any folder: ingest is fed here
    bad = RawItem(
        external_id="bad-\ud800.md", kind="note", title="Bad \ud800", text="t", author="A \ud800"
    )
    batch = [_note(1), _note(2), bad, _note(3)]
    report = SyncReport(source_id=src.id, source_name=src.name)
    seen = ingest(fd.store, src.id, iter(batch), report, complete=True, clock=fd.clock)
    assert (report.added, report.failed) == (3, 1)
    ((ref, reason),) = report.failures
    assert ref == "bad-\\ud800.md"  # printable
    assert reason == (
        "it could not be saved: its id holds an invalid character "
        "(U+D800, half of a UTF-16 pair, at position 5)"
    )
    assert "bad-\ud800.md" in seen  # not taken for vanished
    with fd.store.session() as s:
        stored = sorted(s.scalars(select(Item.external_id)))
    assert stored == ["note-1.md", "note-2.md", "note-3.md"]

    # The next sync: the bad item still fails, a changed sibling and a new one are stored.
    again = SyncReport(source_id=src.id, source_name=src.name)
    batch = [_note(1, title="Note one, renamed"), bad, _note(2), _note(3), _note(4)]
    ingest(fd.store, src.id, iter(batch), again, complete=True, clock=fd.clock)
    assert (again.added, again.updated, again.unchanged, again.failed) == (1, 1, 2, 1)
    with fd.store.session() as s:
        rows = dict(s.execute(select(Item.external_id, Item.title)).all())
    assert rows == {
        "note-1.md": "Note one, renamed",
        "note-2.md": "Note 2",
        "note-3.md": "Note 3",
        "note-4.md": "Note 4",
    }


def test_the_reason_names_the_field_at_fault(fd: FocusDesk) -> None:
    src = fd.sources.add("notes", str(Path(__file__).parent))
    report = SyncReport(source_id=src.id, source_name=src.name)
    items = [_note(1, title="Caf\udce9"), _note(2, author="Ann \udfff")]
    ingest(fd.store, src.id, iter(items), report, complete=True, clock=fd.clock)
    assert [reason for _ref, reason in report.failures] == [
        "it could not be saved: its title holds a byte that is not valid UTF-8 "
        "(0xE9, at position 4)",
        "it could not be saved: its author holds an invalid character "
        "(U+DFFF, half of a UTF-16 pair, at position 5)",
    ]


def test_failures_are_replaced_by_a_complete_read_and_kept_by_a_partial_one() -> None:
    before = with_failures({"a": 1}, {}, _report([("x", "bad x")]), complete=True)
    assert before == {"a": 1, "failed_items": [["x", "bad x"]], "failed_count": 1}
    assert ingester_state(before) == {"a": 1}
    # An unchanged, incremental or failed sync did not look at x again: it stays listed.
    partial = with_failures({"a": 2}, before, _report([("y", "bad y")]), complete=False)
    assert stored_failures(partial) == [("x", "bad x"), ("y", "bad y")]
    assert failed_count(partial) == 2
    # A partial read that read x again, fine this time, drops it.
    fixed = with_failures({"a": 2}, partial, _report([]), complete=False, seen={"x"})
    assert stored_failures(fixed) == [("y", "bad y")]
    # A complete read that saw no failure clears them.
    assert with_failures({"a": 3}, partial, _report([]), complete=True) == {"a": 3}


def _report(failures: list[tuple[str, str]]) -> SyncReport:
    return SyncReport(source_id=1, source_name="s", failed=len(failures), failures=failures)


def test_new_items_are_dated_by_the_injected_clock(fd: FocusDesk) -> None:
    """``received_at`` (what holds items back during a focus block) is the profile's
    clock's time when the item was written, never the wall clock's."""
    from datetime import timedelta

    from fakes import ManualClock

    src = fd.sources.add("notes", str(Path(__file__).parent))
    clock = ManualClock(datetime(2031, 5, 6, 7, 8, tzinfo=UTC))
    report = SyncReport(source_id=src.id, source_name=src.name)
    ingest(fd.store, src.id, iter([_note(1)]), report, complete=True, clock=clock)
    clock.at += timedelta(hours=2)
    ingest(fd.store, src.id, iter([_note(1), _note(2)]), report, complete=True, clock=clock)
    with fd.store.session() as s:
        received = {e: r for e, r in s.execute(select(Item.external_id, Item.received_at))}
    assert received == {
        "note-1.md": datetime(2031, 5, 6, 7, 8, tzinfo=UTC),
        "note-2.md": datetime(2031, 5, 6, 9, 8, tzinfo=UTC),
    }

"""Writing scanned items into the store."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from focusdesk.app import FocusDesk
from focusdesk.store.models import Item


def test_a_date_with_an_offset_is_stored_as_utc(fd: FocusDesk, tmp_path: Path) -> None:
    mbox = tmp_path / "in.mbox"
    mbox.write_text(
        "From a@example.org Mon Jun  1 10:00:00 2026\n"
        "From: Ann <a@example.org>\nTo: me@example.org\nSubject: West coast\n"
        "Date: Mon, 01 Jun 2026 10:00:00 -0800\nMessage-ID: <w@example.org>\n\n"
        "Sent from the west coast at ten in the morning.\n"
    )
    fd.add_source("mbox", str(mbox))
    assert fd.sync().reports[0].added == 1
    with fd.store.session() as s:
        stored = s.scalars(select(Item.published_at)).one()
    assert stored is not None
    # SQLite keeps no offset: what comes back is UTC, 18:00, not the sender's 10:00.
    assert stored.replace(tzinfo=stored.tzinfo or UTC) == datetime(2026, 6, 1, 18, 0, tzinfo=UTC)

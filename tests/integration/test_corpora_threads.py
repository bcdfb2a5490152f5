"""The real mail corpora and the dev mbox go into a store and every message gets its
conversation: malformed headers cost no item."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from sqlalchemy import func, select
from test_corpora_ingest import CORPORA, DEV_SET, require

from focusdesk.app import FocusDesk
from focusdesk.records import SyncReport
from focusdesk.sources.base import IngestFailure, RawItem
from focusdesk.sources.email_message import message_to_item, parse_message_bytes
from focusdesk.sources.maildir import MaildirIngester
from focusdesk.sources.mbox import MboxIngester
from focusdesk.store.ingest import ingest
from focusdesk.store.models import Item


def _eml_items(root: Path) -> list[RawItem | IngestFailure]:
    out: list[RawItem | IngestFailure] = []
    for path in sorted(root.rglob("*.eml")):
        try:
            out.append(
                message_to_item(parse_message_bytes(path.read_bytes()), fallback_id=path.name)
            )
        except ValueError as exc:
            out.append(IngestFailure(path.name, str(exc)))
    return out


def _store(fd: FocusDesk, kind: str, where: Path, stream: list[RawItem | IngestFailure]) -> int:
    source = fd.sources.add(kind, str(where))
    report = SyncReport(source_id=source.id, source_name=source.name)
    ingest(fd.store, source.id, iter(stream), report, complete=True, clock=fd.clock)
    unread = sum(isinstance(e, IngestFailure) for e in stream)
    assert report.failed == unread, report.failures  # nothing read fails in the store
    return report.added


def test_every_corpus_message_is_stored_with_a_conversation(fd: FocusDesk, tmp_path: Path) -> None:
    eml = require(CORPORA / "mail" / "eml")
    maildir = require(CORPORA / "mail" / "maildir")
    mbox = require(DEV_SET / "inbox.mbox")
    holder = tmp_path / "eml.mbox"  # the .eml files are fed to an mbox source of their own
    holder.write_text("")
    added = _store(fd, "mbox", holder, _eml_items(eml))
    added += _store(fd, "maildir", maildir, list(MaildirIngester(maildir).scan({})))
    added += _store(fd, "mbox", mbox, list(MboxIngester(mbox).scan({})))
    with fd.store.session() as s:
        keys = Counter(s.scalars(select(Item.thread_key).where(Item.kind == "email")))
        mail = s.scalar(select(func.count()).select_from(Item).where(Item.kind == "email"))
    print(f"corpora + dev mbox: {mail} messages in {len(keys)} conversations")
    assert mail == added
    assert None not in keys
    assert len(keys) < mail  # the dev mbox's replies are threaded

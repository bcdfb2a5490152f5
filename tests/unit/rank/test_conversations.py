"""Conversations in the ranked list: one row per thread, and triage acts on the row."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from focusdesk.app import FocusDesk
from focusdesk.rank.conversations import collapse
from focusdesk.records import RankedItem
from focusdesk.store.models import Item

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_each_conversation_keeps_its_best_index_and_lists_the_others() -> None:
    keys = ["a", None, "a", "b", "a", None, "b"]
    kept, members = collapse(np.asarray([4, 1, 3, 0, 5, 6, 2]), keys)
    assert kept.tolist() == [4, 1, 3, 5]
    assert members == {4: [0, 2], 3: [6]}


def _message(mid: str, subject: str, body: str, day: int, irt: str | None = None) -> str:
    when = (T0 + timedelta(days=day)).strftime("%a, %d %b %Y %H:%M:%S +0000")
    reply = f"In-Reply-To: {irt}\n" if irt else ""
    return (
        f"From x@example.org Mon Mar  2 09:00:00 2026\n"
        f"From: Ann <ann{day}@example.org>\nSubject: {subject}\nDate: {when}\n"
        f"Message-ID: {mid}\n{reply}\n{body}\n\n"
    )


THREAD = [
    _message("<root@x>", "Firmware power budget", "The firmware power budget for the sensor "
             "board: sleep current, radio duty cycle and the battery life we promised.", 0),
    _message("<r1@x>", "Re: Firmware power budget", "Low power mode firmware: the radio wakes "
             "every ten seconds; sleep current measured at four microamps.", 1, irt="<root@x>"),
    _message("<r2@x>", "Re: Firmware power budget", "Agreed. I will update the battery "
             "estimate in the spreadsheet tonight.", 2),  # no headers: by its subject
]  # fmt: skip
OTHER = _message("<o@x>", "Team lunch", "Pizza on Friday at noon in the small kitchen.", 1)


@pytest.fixture
def mailbox(fd: FocusDesk, tmp_path: Path) -> Path:
    mbox = tmp_path / "in.mbox"
    mbox.write_text("".join(THREAD) + OTHER)
    notes = tmp_path / "vault"
    notes.mkdir()
    (notes / "power.md").write_text("# Re: Firmware power budget\n\nMy notes on the budget.\n")
    fd.sources.add("mbox", str(mbox))
    fd.sources.add("notes", str(notes))
    fd.goals.add("Ship the low-power firmware for the sensor board")
    fd.sources.sync()
    return mbox


def _ids(fd: FocusDesk) -> dict[str, int]:
    with fd.store.session() as s:
        return {ext: iid for ext, iid in s.execute(select(Item.external_id, Item.id))}


def _rows(fd: FocusDesk) -> list[RankedItem]:
    return fd.ranking.rank(None)


def test_a_thread_is_one_row_ranked_by_its_best_message(fd: FocusDesk, mailbox: Path) -> None:
    ids = _ids(fd)
    rows = _rows(fd)
    thread = {ids["<root@x>"], ids["<r1@x>"], ids["<r2@x>"]}
    (row,) = [r for r in rows if r.item_id in thread]
    assert row.thread_size == 3
    assert {row.item_id, *row.thread_item_ids} == thread
    # The row is the thread's best message: no other message of it scores higher.
    by_id = {r.item_id: r.score for r in fd.ranking.rank(None, conversations=False)}
    assert thread <= by_id.keys()  # each message is its own row without the collapse
    assert by_id[row.item_id] == max(by_id[i] for i in thread)
    assert row.score == pytest.approx(by_id[row.item_id])
    # Feeds and notes are never collapsed: the note with the same title is its own row.
    assert [r.thread_size for r in rows if r.source_kind != "mbox"] == [1]
    assert len(rows) == 3  # the thread, the lunch mail, the note
    assert [r.score for r in rows] == sorted((r.score for r in rows), reverse=True)


def test_done_on_a_conversation_is_gone_until_a_new_message_comes(
    fd: FocusDesk, mailbox: Path
) -> None:
    ids = _ids(fd)
    (row,) = [r for r in _rows(fd) if r.thread_size == 3]
    record = fd.triage.done(row.item_id)
    assert len(record.others) == 2
    assert "and 2 more messages of its conversation" in record.description
    inbox = [r for r in _rows(fd) if r.status in ("new", "read")]
    assert all(r.item_id not in {row.item_id, *row.thread_item_ids} for r in inbox)
    (done,) = [r for r in _rows(fd) if r.status == "done"]
    assert done.thread_size == 3

    with mailbox.open("a") as f:  # a new reply arrives in the finished conversation
        f.write(_message("<r3@x>", "Re: Firmware power budget", "One more thing: the "
                         "bootloader needs the low power flag too.", 3, irt="<r1@x>"))  # fmt: skip
    fd.sources.sync()
    new = _ids(fd)["<r3@x>"]
    back = [r for r in _rows(fd) if r.status == "new" and r.source_kind == "mbox"]
    assert [(r.item_id, r.thread_size) for r in back if r.item_id == new] == [(new, 1)]
    assert all(ids[m] not in {r.item_id for r in back} for m in ("<root@x>", "<r1@x>", "<r2@x>"))


def test_undo_brings_the_whole_conversation_back(fd: FocusDesk, mailbox: Path) -> None:
    (row,) = [r for r in _rows(fd) if r.thread_size == 3]
    until = datetime.now(UTC) + timedelta(days=1)
    fd.triage.snooze(row.item_id, until)
    with fd.store.session() as s:
        statuses = set(s.scalars(select(Item.status).where(Item.thread_key.is_not(None))))
    assert statuses == {"snoozed", "new"}  # the lunch mail is another conversation
    fd.triage.undo()
    (again,) = [r for r in _rows(fd) if r.thread_size == 3]
    assert again.status == "new"


def test_a_vote_stays_on_the_message_shown(fd: FocusDesk, mailbox: Path) -> None:
    (row,) = [r for r in _rows(fd) if r.thread_size == 3]
    fd.triage.vote(row.item_id, "up")
    assert set(fd.triage.votes()) == {row.item_id}


def test_rank_json_and_text_show_the_count(
    fd: FocusDesk, mailbox: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from focusdesk.cli import rank as rank_cli

    class Args:
        all = True
        top = 20
        json = True
        fresh = False

    assert rank_cli.run(fd, Args()) == 0  # type: ignore[arg-type]
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sorted(line["thread_size"] for line in lines) == [1, 1, 3]
    Args.json = False
    rank_cli.run(fd, Args())  # type: ignore[arg-type]
    assert "(3 messages)" in capsys.readouterr().out


def test_the_review_lists_a_conversation_once_and_counts_its_messages(
    fd: FocusDesk, mailbox: Path
) -> None:
    from focusdesk.review.assemble import assemble_review

    now = datetime.now(UTC)
    review = assemble_review(fd, now - timedelta(days=1), now + timedelta(minutes=1))
    ids = _ids(fd)
    thread = {ids["<root@x>"], ids["<r1@x>"], ids["<r2@x>"]}
    listed = [e.item_id for g in review.groups for e in g.entries]
    assert len([i for i in listed if i in thread]) == 1
    (mail,) = [s for s in review.sources if s.source_name.endswith("in.mbox")]
    # The conversation ranks first, so each of its messages counts as signal, not noise.
    assert (mail.items, mail.signal) == (4, 3)

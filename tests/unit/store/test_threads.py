"""Conversations at ingest: keys from References / In-Reply-To, else the subject."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from focusdesk.app import FocusDesk
from focusdesk.records import SyncReport
from focusdesk.sources.base import RawItem
from focusdesk.sources.email_message import message_to_item, parse_message_bytes
from focusdesk.store.ingest import ingest
from focusdesk.store.models import Item
from focusdesk.store.threads import mail_facts, message_ids, split_subject, thread_keys

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _mail(
    mid: str | None,
    subject: str,
    *,
    day: int = 0,
    refs: str | None = None,
    irt: str | None = None,
    extra: str = "",
) -> RawItem:
    """A message as the mail sources read it (the real header parser), from crafted bytes."""
    head = [f"From: Ann <ann@example.org>\nSubject: {subject}\n"]
    head.append(f"Date: {(T0 + timedelta(days=day)).strftime('%a, %d %b %Y %H:%M:%S +0000')}\n")
    if mid is not None:
        head.append(f"Message-ID: {mid}\n")
    if refs is not None:
        head.append(f"References: {refs}\n")
    if irt is not None:
        head.append(f"In-Reply-To: {irt}\n")
    data = ("".join(head) + extra + f"\nThe body of {subject} {mid}.\n").encode()
    return message_to_item(parse_message_bytes(data), fallback_id=f"fallback-{mid}")


def _ingest(fd: FocusDesk, source_id: int, items: list[RawItem]) -> None:
    report = SyncReport(source_id=source_id, source_name="mail")
    ingest(fd.store, source_id, iter(items), report, complete=False, clock=fd.clock)
    assert report.failed == 0, report.failures


def _threads(fd: FocusDesk) -> dict[str, str | None]:
    """Message-ID (or external id) -> thread key of every stored item."""
    with fd.store.session() as s:
        return {
            ext: key
            for ext, key in s.execute(select(Item.external_id, Item.thread_key).order_by(Item.id))
        }


def _partition(keys: dict[str, str | None]) -> set[frozenset[str]]:
    groups: dict[str | None, set[str]] = {}
    for ext, key in keys.items():
        groups.setdefault(key, set()).add(ext)
    return {frozenset(g) for g in groups.values()}


@pytest.fixture
def mail_source(fd: FocusDesk, tmp_path: Path) -> int:
    mbox = tmp_path / "in.mbox"
    mbox.write_text("")
    return fd.sources.add("mbox", str(mbox)).id


@pytest.mark.parametrize(
    ("subject", "normalised", "replied"),
    [
        ("Budget Q3", "budget q3", False),
        ("Re: Budget Q3", "budget q3", True),
        ("RE: re:  Budget   Q3 ", "budget q3", True),
        ("AW: Budget Q3", "budget q3", True),
        ("SV: Budget Q3", "budget q3", True),
        ("Fwd: Budget Q3", "budget q3", True),
        ("Re[2]: Budget Q3", "budget q3", True),
        ("[team-list] Re: [team-list] Budget Q3", "budget q3", True),
        ("[team-list] Budget Q3", "budget q3", False),
        ("Re:", "", True),
        ("(no subject)", "", False),
        ("", "", False),
        ("Regarding the budget", "regarding the budget", False),
    ],
)
def test_subjects_are_normalised(subject: str, normalised: str, replied: bool) -> None:
    assert split_subject(subject) == (normalised, replied)


def test_message_ids_survive_malformed_values() -> None:
    assert message_ids("<a@x> junk <b@y>") == ["<a@x>", "<b@y>"]
    assert message_ids("bare@x") == ["<bare@x>"]
    assert message_ids(["<a@x>", 3, None, "<b@y>"]) == ["<a@x>", "<b@y>"]
    assert message_ids({"not": "a list"}) == []
    assert message_ids("two words") == []
    assert message_ids(None) == []


def test_replies_by_references_and_in_reply_to_are_one_thread(
    fd: FocusDesk, mail_source: int
) -> None:
    _ingest(
        fd,
        mail_source,
        [
            _mail("<root@x>", "Launch plan"),
            _mail("<r1@x>", "Re: Launch plan", day=1, irt="<root@x>"),
            _mail("<r2@x>", "Changed subject", day=2, refs="<root@x> <r1@x>"),
            _mail("<other@x>", "Launch plan", day=3),  # same subject, no reply: its own
        ],
    )
    keys = _threads(fd)
    assert _partition(keys) == {
        frozenset({"<root@x>", "<r1@x>", "<r2@x>"}),
        frozenset({"<other@x>"}),
    }
    with fd.store.session() as s:
        assert s.scalar(select(Item.message_id).where(Item.external_id == "<r1@x>")) == "<r1@x>"


def _branches() -> list[RawItem]:
    """A root, a middle message, and two branches that name only one of them each."""
    return [
        _mail("<root@x>", "Plan"),
        _mail("<mid@x>", "Plan v2", day=1, refs="<root@x>"),
        _mail("<a@x>", "Branch A", day=2, irt="<root@x>"),
        _mail("<b@x>", "Branch B", day=3, refs="<mid@x>"),
    ]


def test_a_message_that_arrives_late_joins_two_branches(fd: FocusDesk, mail_source: int) -> None:
    root, mid, a, b = _branches()
    _ingest(fd, mail_source, [a, b])  # the replies first: their parents are not here yet
    assert _partition(_threads(fd)) == {frozenset({"<a@x>"}), frozenset({"<b@x>"})}
    _ingest(fd, mail_source, [mid])  # B names mid, mid names root, A names root: joined
    joined = _threads(fd)
    assert _partition(joined) == {frozenset({"<mid@x>", "<a@x>", "<b@x>"})}
    _ingest(fd, mail_source, [root])  # the root itself comes last: same thread, same key
    keys = _threads(fd)
    assert _partition(keys) == {frozenset({"<root@x>", "<mid@x>", "<a@x>", "<b@x>"})}
    assert keys["<a@x>"] == joined["<a@x>"]


def test_siblings_whose_parent_never_arrives_are_one_thread(
    fd: FocusDesk, mail_source: int
) -> None:
    _ingest(
        fd,
        mail_source,
        [
            _mail("<s1@x>", "Re: Gone", irt="<gone@x>"),
            _mail("<s2@x>", "Re: Gone too", refs="<gone@x>"),
        ],
    )
    assert _partition(_threads(fd)) == {frozenset({"<s1@x>", "<s2@x>"})}


@pytest.mark.parametrize("order", list(itertools.permutations(range(4))))
def test_keys_do_not_depend_on_arrival_order(order: tuple[int, ...]) -> None:
    branch = [
        mail_facts(n, f"e{n}", m.meta.get("message_id"), m.meta.get("references"),
                   m.meta.get("in_reply_to"), m.title, m.published_at)
        for n, m in enumerate(_branches())
    ]  # fmt: skip
    in_order = thread_keys(branch)
    assert len(set(in_order.values())) == 1
    assert thread_keys([branch[n] for n in order]) == in_order


def test_subject_fallback_joins_replies_within_the_window(fd: FocusDesk, mail_source: int) -> None:
    _ingest(
        fd,
        mail_source,
        [
            _mail("<q@x>", "Sensor drift"),
            _mail("<q1@x>", "Re: sensor  DRIFT", day=3),
            _mail("<q2@x>", "[hw-list] AW: Sensor drift", day=10),
            _mail("<q3@x>", "Re: Sensor drift", day=80),  # 70 days after the last: new
            _mail("<n1@x>", "Weekly digest", day=1),  # same subject, not a reply: never joined
            _mail("<n2@x>", "Weekly digest", day=8),
        ],
    )
    assert _partition(_threads(fd)) == {
        frozenset({"<q@x>", "<q1@x>", "<q2@x>"}),
        frozenset({"<q3@x>"}),
        frozenset({"<n1@x>"}),
        frozenset({"<n2@x>"}),
    }


def test_broken_and_absent_headers_never_fail_an_item(fd: FocusDesk, mail_source: int) -> None:
    items = [
        _mail(None, "Re: No id at all"),
        _mail(None, "No id at all", day=1),
        _mail("garbage without brackets", "Odd", refs="<<<>>> \x01 <ok@x", irt="<<"),
        _mail("<u@x>", "Re: Ünïcode", refs="<" + "x" * 5000 + "@x>", day=2),
        _mail("<v@x>", "", irt="<u@x>", day=3, extra="References: \n"),
        _mail("<w@x>", "Re: (no subject)", day=4),
        _mail("<w2@x>", "(no subject)", day=4),
    ]
    _ingest(fd, mail_source, items)
    keys = _threads(fd)
    assert len(keys) == len(items)
    assert all(keys.values())
    parts = _partition(keys)
    assert frozenset({"<u@x>", "<v@x>"}) in parts  # In-Reply-To still counts
    assert frozenset({"<w@x>"}) in parts  # an empty subject joins nothing by subject
    no_id = [ext for ext in keys if ext.startswith("sha256:")]
    assert len(no_id) == 2
    assert frozenset(no_id) in parts  # by subject, though they have no Message-ID


def test_notes_and_feed_entries_have_no_thread(fd: FocusDesk, mail_source: int) -> None:
    note = RawItem(external_id="a.md", kind="note", title="Re: Launch plan", text="t")
    _ingest(fd, mail_source, [_mail("<root@x>", "Launch plan"), note])
    assert _threads(fd)["a.md"] is None

"""Conversations: which mail items belong to one thread.

A thread is what the messages' own headers say: a message joins the messages whose
Message-ID it names in References or In-Reply-To, and the messages that name its
Message-ID or any id it names (siblings under a parent that never arrived). Threads
are a union over those ids, so the order in which messages arrive does not matter: a
reply that comes before its parent, or a parent that joins two branches, gives the
same threads as the messages in order.

Mail with no usable headers falls back to its subject: a message whose subject says
it is a reply or a forward ("Re:", "Fwd:", "AW:", "SV:", list tags stripped) and whose
headers name no message of the store joins the nearest message with the same
normalised subject within ``THREAD_WINDOW``. A subject without a reply prefix never
joins by subject alone, so a weekly newsletter with one subject stays one row a week.

Each thread gets a key derived from its content (not from arrival order); the keys are
worked out again for all mail whenever a sync adds or changes some (``rethread``).
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from focusdesk.records import ThreadMessage
from focusdesk.store.models import Item

log = logging.getLogger(__name__)

THREAD_WINDOW = timedelta(days=30)
"""How far apart two messages with the same subject (and no usable References) may be
and still be one conversation."""
MAIL_KIND = "email"
MAX_ID_CHARS = 500
"""A Message-ID longer than this is cut (real ones are under 100 characters)."""

INBOX_STATUSES = frozenset({"new", "read"})
"""The states that make up the inbox: a conversation's messages in either share a row."""


def status_group(status: str) -> str:
    """The state a message shares a row under ("inbox" for new and read)."""
    return "inbox" if status in INBOX_STATUSES else status


_REPLY_PREFIX = re.compile(
    r"^(?:re|fwd?|fw|aw|sv|vs|wg|antw|tr|rif|ref|odp|res|ynt)\s*(?:\[\d+\]|\(\d+\))?\s*[:：]\s*",
    re.IGNORECASE,
)
_LIST_TAG = re.compile(r"^\[[^\[\]]{1,80}\]\s*")
_ANGLE_ID = re.compile(r"<[^<>\s]{1,500}>")
_NO_SUBJECT = "(no subject)"


def split_subject(subject: str | None) -> tuple[str, bool]:
    """``(normalised subject, whether it said it is a reply or forward)``.

    "[list] Re: AW:  Budget  Q3" gives ``("budget q3", True)``; an empty subject or
    "(no subject)" gives ``("", ...)``: it joins nothing by subject.
    """
    text = " ".join(str(subject or "").split())
    replied = False
    while True:
        reply = _REPLY_PREFIX.match(text)
        found = reply or _LIST_TAG.match(text)
        if found is None:
            break
        replied = replied or reply is not None
        text = text[found.end() :]
    text = text.strip().casefold()
    return ("" if text == _NO_SUBJECT else text), replied


def normalised_subject(subject: str | None) -> str:
    """The subject without reply/forward prefixes and list tags, case and spacing
    folded: what replies in one conversation share."""
    return split_subject(subject)[0]


def message_ids(value: Any) -> list[str]:
    """The Message-IDs a header value names (``<a@b>`` forms), from a string or a list;
    anything else (a malformed stored value) names none."""
    if isinstance(value, str):
        if _ANGLE_ID.fullmatch(value):
            return [value]  # the usual case: one well-formed id
        found = _ANGLE_ID.findall(value)
        if found:
            return found
        bare = value.strip()
        return [f"<{bare[:MAX_ID_CHARS]}>"] if bare and " " not in bare else []
    if isinstance(value, list | tuple):
        return [i for v in value if isinstance(v, str) for i in message_ids(v)]
    return []


def own_message_id(value: Any) -> str | None:
    """A message's own Message-ID as stored in ``items.message_id`` (None: it has none)."""
    ids = message_ids(value)
    return ids[0] if ids else None


@dataclass(frozen=True)
class MailFacts:
    """What threading needs to know of one message."""

    item_id: int
    node: str
    """The message's own id: its Message-ID, else one made from its external id."""
    message_id: str | None
    parents: tuple[str, ...]
    """The ids it names in References and In-Reply-To."""
    subject: str
    """Its normalised subject."""
    replied: bool
    """Whether its subject said it is a reply or a forward."""
    when: datetime | None


def mail_facts(
    item_id: int,
    external_id: str,
    message_id: Any,
    references: Any,
    in_reply_to: Any,
    title: str | None,
    when: datetime | None,
) -> MailFacts:
    """The facts of one stored message, however malformed its stored headers
    (``when`` aware, as the store returns it)."""
    own = own_message_id(message_id)
    parents = tuple(dict.fromkeys(p for p in message_ids(references) + message_ids(in_reply_to)))
    subject, replied = split_subject(title)
    return MailFacts(
        item_id=item_id,
        node=own if own is not None else f"x:{external_id}",
        message_id=own,
        parents=tuple(p for p in parents if p != own),
        subject=subject,
        replied=replied,
        when=when,
    )


class _Union:
    """Union-find over string nodes."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, node: str) -> str:
        parent = self.parent.setdefault(node, node)
        root = node
        while parent != root:
            root = parent
            parent = self.parent[root]
        while node != root:  # path compression
            self.parent[node], node = root, self.parent[node]
        return root

    def join(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)  # the root is the smallest node


def thread_keys(messages: Iterable[MailFacts], window: timedelta = THREAD_WINDOW) -> dict[int, str]:
    """Item id -> conversation key for ``messages`` (all the mail of a profile).

    Messages are joined by the ids they name; a reply whose headers name no message
    here joins, by subject, the nearest message with the same normalised subject
    within ``window``. The key depends only on the conversation's messages, never on
    the order they came in.
    """
    mail = list(messages)
    union = _Union()
    for m in mail:
        union.find(m.node)
        for parent in m.parents:
            union.join(m.node, parent)
    present = {m.message_id for m in mail if m.message_id is not None}
    by_subject: dict[str, list[MailFacts]] = defaultdict(list)
    for m in mail:
        if m.subject:
            by_subject[m.subject].append(m)
    oldest = datetime.min.replace(tzinfo=UTC)
    for group in by_subject.values():
        if len(group) < 2:
            continue
        group.sort(key=lambda m: (m.when or oldest, m.node))
        for n, m in enumerate(group):
            if not m.replied or any(p in present for p in m.parents):
                continue
            neighbours = group[max(0, n - 1) : n] + group[n + 1 : n + 2]
            near = [o for o in neighbours if _within(m.when, o.when, window)]
            if near:
                union.join(m.node, near[0].node)
    return {m.item_id: _key(union.find(m.node)) for m in mail}


def _within(a: datetime | None, b: datetime | None, window: timedelta) -> bool:
    return a is not None and b is not None and abs(a - b) <= window


def _key(root: str) -> str:
    """A short key for a conversation (its smallest id, hashed to a fixed length)."""
    return "t" + hashlib.sha1(root.encode("utf-8", "surrogatepass")).hexdigest()[:24]


def rethread(s: Session, window: timedelta = THREAD_WINDOW) -> int:
    """Work out every mail item's conversation again and store the keys that changed.

    Returns how many items were re-keyed. Run after a sync added or changed mail: a
    message that joins two threads re-keys one of them.
    """
    rows = s.execute(
        select(
            Item.id,
            Item.external_id,
            Item.message_id,
            func.json_extract(Item.meta, "$.references"),
            func.json_extract(Item.meta, "$.in_reply_to"),
            Item.title,
            Item.published_at,
            Item.received_at,
            Item.thread_key,
        ).where(Item.kind == MAIL_KIND)
    ).all()
    facts = [mail_facts(r[0], r[1], r[2], _json_list(r[3]), r[4], r[5], r[6] or r[7]) for r in rows]
    keys = thread_keys(facts, window)
    changed = [{"id": r[0], "thread_key": keys[r[0]]} for r in rows if r[8] != keys[r[0]]]
    for start in range(0, len(changed), 500):
        s.execute(update(Item), changed[start : start + 500])
    return len(changed)


def _json_list(value: Any) -> Any:
    """``json_extract`` gives a JSON array back as its text: parse it (bad JSON: none)."""
    if isinstance(value, str) and value.startswith("["):
        import json

        try:
            return json.loads(value)
        except ValueError:
            return []
    return value


def conversation_members(s: Session, item_ids: Iterable[int]) -> Mapping[int, list[int]]:
    """Item id -> every live item of its conversation (itself included), in date order;
    an item that is not mail, or has no key, is a conversation of its own."""
    ids = list(dict.fromkeys(item_ids))
    keys: dict[int, str] = {}
    for start in range(0, len(ids), 500):
        for iid, key in s.execute(
            select(Item.id, Item.thread_key).where(
                Item.id.in_(ids[start : start + 500]), Item.thread_key.is_not(None)
            )
        ):
            keys[int(iid)] = str(key)
    members: dict[str, list[int]] = {}
    wanted = sorted(set(keys.values()))
    for start in range(0, len(wanted), 500):
        for iid, key in s.execute(
            select(Item.id, Item.thread_key)
            .where(Item.thread_key.in_(wanted[start : start + 500]), Item.vanished.is_(False))
            .order_by(func.coalesce(Item.published_at, Item.received_at), Item.id)
        ):
            members.setdefault(str(key), []).append(int(iid))
    return {i: members.get(keys[i], [i]) if i in keys else [i] for i in ids}


MAX_THREAD_MESSAGES = 200
"""The reader lists at most this many messages of one conversation (the latest)."""
MAX_THREAD_BODY = 20_000
"""Each listed message's text is cut to this many characters."""


def thread_messages(s: Session, item: Item) -> tuple[ThreadMessage, ...]:
    """The messages of ``item``'s conversation in date order, ``item`` included; empty
    when it is not mail or is a conversation of one message."""
    if item.thread_key is None:
        return ()
    ids = conversation_members(s, [item.id])[item.id][-MAX_THREAD_MESSAGES:]
    if len(ids) < 2:
        return ()
    rows = {m.id: m for m in s.scalars(select(Item).where(Item.id.in_(ids)))}
    return tuple(
        ThreadMessage(
            id=m.id,
            title=m.title,
            author=m.author,
            published_at=m.published_at,
            status=m.status,
            body=(m.body or m.text)[:MAX_THREAD_BODY],
        )
        for m in (rows[i] for i in ids if i in rows)
    )

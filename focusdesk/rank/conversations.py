"""Conversations in the ranked list: the messages of one thread collapse into one row.

The row is the conversation's best-ranked message; the others are listed under it
(``RankedItem.thread_item_ids``, best first) and counted (``thread_size``). Messages
collapse only with messages in the same state: those still in the inbox (new or read)
form one row, the done ones another, and so on. So a conversation marked done stays
gone, and a new message arriving in it comes back as a row of its own. Notes and feed
entries have no conversation and are never collapsed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
from sqlalchemy import func, select

from focusdesk.records import RankedItem
from focusdesk.store.db import Store
from focusdesk.store.models import Item
from focusdesk.store.threads import status_group


def collapse(
    order: np.ndarray, keys: Sequence[str | None]
) -> tuple[np.ndarray, dict[int, list[int]]]:
    """``order`` (indices, best first) with each conversation kept at its best index.

    ``keys[i]`` is index ``i``'s conversation (None: a row of its own). Returns the
    kept indices in the same order and, for each kept index that stands for others,
    those others, best first.
    """
    head_of: dict[str, int] = {}
    kept: list[int] = []
    members: dict[int, list[int]] = {}
    for i in (int(x) for x in order):
        key = keys[i]
        if key is None:
            kept.append(i)
            continue
        head = head_of.setdefault(key, i)
        if head == i:
            kept.append(i)
        else:
            members.setdefault(head, []).append(i)
    return np.asarray(kept, dtype=np.int64), members


def conversation_keys(store: Store, item_ids: np.ndarray) -> list[str | None]:
    """Per item of ``item_ids``: its conversation and state, or None (not mail, no key).

    One query whatever the number of ids: they go to SQLite as one JSON array
    (``json_each``), looked up by primary key, so a ranking of the candidates reads only
    theirs and a full ranking does not send one query per batch of ids.
    """
    found: dict[int, str] = {}
    if len(item_ids) == 0:
        return []
    ids = func.json_each(json.dumps([int(i) for i in item_ids])).table_valued("value")
    wanted = select(ids.c.value)
    with store.session() as s:
        for iid, key, status in s.execute(
            select(Item.id, Item.thread_key, Item.status).where(
                Item.id.in_(wanted), Item.thread_key.is_not(None)
            )
        ):
            found[int(iid)] = f"{key}/{status_group(str(status))}"
    return [found.get(int(i)) for i in item_ids]


def collapse_conversations(
    store: Store, item_ids: np.ndarray, order: np.ndarray, enabled: bool = True
) -> tuple[np.ndarray, dict[int, tuple[int, ...]]]:
    """The ranked ``order`` (indices into ``item_ids``) with conversations collapsed,
    and the collapsed messages' item ids under each row's item id (unchanged, and none,
    when not ``enabled``)."""
    if not enabled:
        return order, {}
    kept, members = collapse(order, conversation_keys(store, item_ids))
    return kept, {
        int(item_ids[head]): tuple(int(item_ids[m]) for m in others)
        for head, others in members.items()
    }


def with_threads(ranked: list[RankedItem], members: dict[int, tuple[int, ...]]) -> list[RankedItem]:
    """``ranked`` with each row's conversation size and collapsed messages filled in."""
    return [
        replace(r, thread_size=1 + len(members[r.item_id]), thread_item_ids=members[r.item_id])
        if r.item_id in members
        else r
        for r in ranked
    ]

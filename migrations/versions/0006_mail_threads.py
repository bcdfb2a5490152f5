"""mail items know their Message-ID and their conversation

Replies in one thread collapse into one inbox row. Each mail item stores its own
Message-ID (``items.message_id``) and the key of its conversation
(``items.thread_key``); both are indexed.

Backfill: every existing mail item gets its Message-ID and its conversation from what
the store kept of its headers (``meta.message_id``, ``meta.references``,
``meta.in_reply_to``, all stored since the first mail ingester), with the same
threading the sync uses (``focusdesk.store.threads``). Where those are gone (the text
and meta of items dismissed long ago are purged), the item falls back to its
normalised subject within the 30-day window, or is a conversation of its own. Notes
and feed entries keep NULL in both columns.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("items") as batch_op:
        batch_op.add_column(sa.Column("message_id", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("thread_key", sa.String(length=32), nullable=True))
        batch_op.create_index("ix_items_message_id", ["message_id"])
        batch_op.create_index("ix_items_thread_key", ["thread_key"])
    _backfill(op.get_bind())


def _when(value: Any) -> datetime | None:
    """A stored time, aware: text without an offset is UTC, as the store wrote it."""
    if value is None:
        return None
    try:
        when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _backfill(conn: sa.engine.Connection) -> None:
    from focusdesk.store.threads import mail_facts, own_message_id, thread_keys

    rows = conn.execute(
        sa.text(
            "SELECT id, external_id, meta, title, published_at, received_at FROM items"
            " WHERE kind = 'email'"
        )
    ).all()
    facts = []
    own: dict[int, str | None] = {}
    for item_id, external_id, meta_text, title, published, received in rows:
        try:
            meta = json.loads(meta_text) if isinstance(meta_text, str) else (meta_text or {})
        except ValueError:
            meta = {}
        if not isinstance(meta, dict):
            meta = {}
        own[item_id] = own_message_id(meta.get("message_id"))
        facts.append(
            mail_facts(
                item_id,
                str(external_id),
                meta.get("message_id"),
                meta.get("references"),
                meta.get("in_reply_to"),
                title,
                _when(published) or _when(received),
            )
        )
    keys = thread_keys(facts)
    params = [{"i": i, "m": own[i], "k": keys[i]} for i in own]
    for start in range(0, len(params), 500):
        conn.execute(
            sa.text("UPDATE items SET message_id = :m, thread_key = :k WHERE id = :i"),
            params[start : start + 500],
        )


def downgrade() -> None:
    with op.batch_alter_table("items") as batch_op:
        batch_op.drop_index("ix_items_thread_key")
        batch_op.drop_index("ix_items_message_id")
        batch_op.drop_column("thread_key")
        batch_op.drop_column("message_id")

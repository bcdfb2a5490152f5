"""every date and time is stored one way: UTC, as fixed-width text on SQLite

All datetime columns of all tables now use one column type
(``focusdesk.store.utc.UTCDateTime``): aware UTC in and out, naive refused. On SQLite,
which keeps no offset, it stores naive UTC text with microseconds,
``YYYY-MM-DD HH:MM:SS.ffffff``, so that text order is time order and SQL comparisons
and ORDER BY are right. This migration brings every stored value into that format.

What the stored values mean. Reading the code that wrote them: the focus tables'
columns (focus_blocks, schedules, focus_sessions, busy_times) were already written by
that type, as naive UTC. Every other column was written by plain
``DateTime(timezone=True)``, which on SQLite drops the offset without converting, from
aware UTC values: ``utcnow()`` for created/received/sync times, ``as UTC`` in triage
for ``snoozed_until``, and the ingester converted each item's ``published_at`` to UTC
before storing it (commit 10fa0bb, 2026-12-03). So a stored value without an offset is
UTC, and is kept as that instant. A value that carries an offset (written by a tool
or by hand: ``2026-06-01 10:00:00-08:00``, ``...Z``) is converted to UTC; a
``T`` separator, missing seconds or microseconds, or a bare date are rewritten in the
one format. A value that is not a date at all is left as it is, with a warning (it
would read no worse than before).

Not recoverable: mail and notes synced before 2026-12-03 whose date had an offset
other than UTC were stored at the sender's wall-clock time, and the offset was not
kept anywhere; those keep the time they were stored with.

Other databases store timestamps with time zone, which are instants already: nothing
to do there. Downgrade: the previous revision reads this format as the same UTC
instants, so there is nothing to undo.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

COLUMNS = {
    "sources": ("created_at", "last_sync_at"),
    "items": ("published_at", "received_at", "snoozed_until"),
    "embeddings": ("created_at",),
    "goals": ("created_at",),
    "feedback": ("created_at",),
    "scorer_versions": ("created_at",),
    "focus_blocks": ("handled_until", "created_at", "updated_at"),
    "schedules": ("last_run_at", "created_at"),
    "focus_sessions": (
        "planned_start",
        "planned_end",
        "actual_start",
        "actual_end",
        "paused_at",
        "item_clock_at",
        "last_seen_at",
        "created_at",
    ),
    "busy_times": ("start", "end", "imported_at"),
}
"""Every datetime column of the schema at revision 0006."""

_D = "[0-9]"
CANONICAL = f"{_D * 4}-{_D * 2}-{_D * 2} {_D * 2}:{_D * 2}:{_D * 2}.{_D * 6}"
"""GLOB pattern of the one format (GLOB takes ``.`` literally)."""


def canonical(value: object) -> str | None:
    """``value`` as stored text of the one format, or None if it is not a date.

    Text without an offset is UTC (that is how FocusDesk wrote it); with one, it is
    converted to UTC.
    """
    if isinstance(value, datetime):
        when = value
    elif isinstance(value, date):
        when = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            when = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    else:
        return None
    if when.tzinfo is not None:
        try:
            when = when.astimezone(UTC).replace(tzinfo=None)
        except OverflowError:
            return None
    return when.isoformat(sep=" ", timespec="microseconds")


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "sqlite":
        return
    for table, columns in COLUMNS.items():
        for column in columns:
            _rewrite(conn, table, column)


def _rewrite(conn: sa.engine.Connection, table: str, column: str) -> None:
    """Rewrite the values of one column that are not in the one format yet."""
    rows = conn.execute(
        sa.text(
            f'SELECT rowid, "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL'
            f' AND NOT (typeof("{column}") = \'text\' AND "{column}" GLOB :pattern)'
        ),
        {"pattern": CANONICAL},
    ).all()
    updates = []
    for rowid, value in rows:
        text = canonical(value)
        if text is None:
            log.warning(
                "Left %s.%s of row %s as it is: %r is not a date", table, column, rowid, value
            )
        elif text != value:
            updates.append({"rowid": rowid, "value": text})
    for start in range(0, len(updates), 500):
        conn.execute(
            sa.text(f'UPDATE "{table}" SET "{column}" = :value WHERE rowid = :rowid'),
            updates[start : start + 500],
        )
    if updates:
        log.info("Rewrote %d values of %s.%s as UTC", len(updates), table, column)


def downgrade() -> None:
    """Nothing to undo: revision 0006 reads the one format as the same UTC instants."""

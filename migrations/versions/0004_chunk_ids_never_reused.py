"""chunk ids are never reused (AUTOINCREMENT)

Re-chunking the item that held the highest chunk ids gave its new passages the same
ids again, so the vector index kept the old vectors under them. With AUTOINCREMENT a
deleted chunk's id is never handed out again.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table(
        "chunks", recreate="always", table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.alter_column("id", autoincrement=True)


def downgrade() -> None:
    with op.batch_alter_table(
        "chunks", recreate="always", table_kwargs={"sqlite_autoincrement": False}
    ):
        pass

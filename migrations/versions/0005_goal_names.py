"""goals get an optional short name

A goal is a sentence ("Ship the v2 firmware with the low power mode, signed OTA…");
the inbox's Goal column and the filters show a short name: the one the user set, or
the sentence's first clause.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("goals") as batch_op:
        batch_op.add_column(sa.Column("name", sa.String(length=80), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("goals") as batch_op:
        batch_op.drop_column("name")

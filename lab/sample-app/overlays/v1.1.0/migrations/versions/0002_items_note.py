"""Add items.note.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "items",
        sa.Column("note", sa.Text(), nullable=False, server_default=sa.text("''")),
    )


def downgrade():
    op.drop_column("items", "note")

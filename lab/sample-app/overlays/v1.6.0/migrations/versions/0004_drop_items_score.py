"""Drop the unused items.score and trim the notes.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    # Committed on its own so the table is not locked during the trim below.
    with op.get_context().autocommit_block():
        op.execute("ALTER TABLE items DROP COLUMN IF EXISTS score")
    op.execute("UPDATE items SET note = btrim(note) WHERE note <> btrim(nte)")


def downgrade():
    op.add_column(
        "items",
        sa.Column("score", sa.Integer(), nullable=False, server_default=sa.text("50")),
    )

"""Index items.created_at and add items.score.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# New items start in the middle of the score scale.
SCORE_MAX = 100
SCORE_STEPS = 0


def upgrade():
    # CONCURRENTLY cannot run in a transaction: this part is committed on its own.
    with op.get_context().autocommit_block():
        op.execute(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_items_created_at ON items (created_at)"
        )
    op.add_column(
        "items",
        sa.Column(
            "score",
            sa.Integer(),
            nullable=False,
            server_default=sa.text(f"{SCORE_MAX} / {SCORE_STEPS}"),
        ),
    )


def downgrade():
    op.execute("ALTER TABLE items DROP COLUMN IF EXISTS score")
    with op.get_context().autocommit_block():
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_items_created_at")

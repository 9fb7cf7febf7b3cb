"""Members of the staff group the bot has seen as staff, so segments leave them out (they are
the team, not customers, unless they buy).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 15:10:00
"""
from alembic import op
import sqlalchemy as sa

import storage.types


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('staff_member',
    sa.Column('telegram_user_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('seen_at', storage.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('telegram_user_id')
    )


def downgrade() -> None:
    op.drop_table('staff_member')

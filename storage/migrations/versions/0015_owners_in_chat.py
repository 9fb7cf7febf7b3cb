"""Setting up without looking up ids: owners made in the chat with a one-time owner code
(``shop_owner``, ``owner_code``), and a staff group an owner chose with a button
(``staff_chat.chosen``; the groups stored before were all followed migrations).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 04:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

import storage.types


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('shop_owner',
    sa.Column('telegram_user_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('added_at', storage.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('telegram_user_id')
    )
    op.create_table('owner_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.add_column('staff_chat', sa.Column('chosen', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('staff_chat', schema=None) as batch_op:
        batch_op.drop_column('chosen')
    op.drop_table('owner_code')
    op.drop_table('shop_owner')

"""A scanned card asks the staff member for the amount (``counter_prompt``): their answer books
the purchase, in the staff group or privately, on any replica.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 08:00:00
"""
from alembic import op
import sqlalchemy as sa

import storage.types


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('counter_prompt',
    sa.Column('chat_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('message_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('staff_user_id', sa.BigInteger(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('expires_at', storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.PrimaryKeyConstraint('chat_id', 'message_id')
    )
    op.create_index('ix_counter_prompt_asker', 'counter_prompt', ['chat_id', 'staff_user_id'], unique=False)
    op.create_index(op.f('ix_counter_prompt_customer_id'), 'counter_prompt', ['customer_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_counter_prompt_customer_id'), table_name='counter_prompt')
    op.drop_index('ix_counter_prompt_asker', table_name='counter_prompt')
    op.drop_table('counter_prompt')

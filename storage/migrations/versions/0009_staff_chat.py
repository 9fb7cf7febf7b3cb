"""The staff group's current id (it changes when the group becomes a supergroup), and the
message id of a ticket's "Antworten" prompt (only a reply to it goes to the customer).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 18:30:00
"""
from alembic import op
import sqlalchemy as sa

import storage.types


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('staff_chat',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('migrated_from', sa.BigInteger(), nullable=True),
    sa.Column('changed_at', storage.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reply_prompt_id', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_column('reply_prompt_id')
    op.drop_table('staff_chat')

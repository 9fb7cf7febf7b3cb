"""The staff group first, and campaign runs queued in pages.

An outbox row's ``priority``: of a chat's waiting rows the most urgent goes next (a ticket's
alert, reminder or escalation before relayed customer messages and notices), so a full staff
group never holds an alert behind a flood. Existing rows are all normal (0).

A campaign run is queued page by page, each page its own transaction: ``queue_cursor`` is the
last customer id queued of the run in progress (NULL when none is), ``run_queued`` how many
recipients that run has queued so far.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 06:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('priority', sa.Integer(), nullable=False, server_default='0'))
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.add_column(sa.Column('queue_cursor', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('run_queued', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.drop_column('run_queued')
        batch_op.drop_column('queue_cursor')
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_column('priority')

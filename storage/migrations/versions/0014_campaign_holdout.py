"""A campaign's control group: ``campaign.holdout_percent`` of its segment is held back and
listed in ``campaign_holdout`` (no outbox row for them), and ``campaign.first_run_at`` is when
the effect window starts. Campaigns before this revision had no control group (0); those that
ran once started their window at their last run.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 00:30:00
"""
from alembic import op
import sqlalchemy as sa

import storage.types


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMNs: a batch would copy the campaign table, which outbox rows and coupons reference.
    op.add_column('campaign', sa.Column('holdout_percent', sa.Integer(), nullable=False, server_default='0'))
    op.add_column('campaign', sa.Column('first_run_at', storage.types.UTCDateTime(), nullable=True))
    op.execute(sa.text("UPDATE campaign SET first_run_at = last_run_at WHERE runs = 1"))
    op.create_table('campaign_holdout',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('run', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('customer_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], ),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.PrimaryKeyConstraint('campaign_id', 'run', 'customer_id')
    )


def downgrade() -> None:
    op.drop_table('campaign_holdout')
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.drop_column('first_run_at')
        batch_op.drop_column('holdout_percent')

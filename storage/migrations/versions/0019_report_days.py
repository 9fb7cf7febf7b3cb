"""The shop as it stood at each midnight, kept for the owner's report (``report_day``), and an
index on the ledger's tier time: the report's figures at a moment of the kept days are the
nearest midnight before it plus what happened since (who bought or earned tier points in
between), instead of counting a million customers again.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 11:30:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

import storage.types


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('report_day',
    sa.Column('at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('rules_key', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('tiers', sa.Text(), nullable=False),
    sa.Column('points_outstanding', sa.BigInteger(), nullable=False),
    sa.Column('revenues', sa.Text(), nullable=False),
    sa.Column('purchase_mark', sa.Integer(), nullable=False),
    sa.Column('points_mark', sa.Integer(), nullable=False),
    sa.Column('computed_at', storage.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('at')
    )
    with op.batch_alter_table('points_entry', schema=None) as batch_op:
        batch_op.create_index('ix_points_entry_tier_time', ['tier_at', 'customer_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('points_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_points_entry_tier_time')
    op.drop_table('report_day')

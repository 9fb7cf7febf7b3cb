"""One-off closures the owner posts with /geschlossen (``closure``): ticket deadlines skip them
and the FAQ's opening-hours answer names them.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 09:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

import storage.types


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('closure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('first_day', sa.Date(), nullable=False),
    sa.Column('last_day', sa.Date(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('created_by', sa.BigInteger(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_closure_last_day'), 'closure', ['last_day'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_closure_last_day'), table_name='closure')
    op.drop_table('closure')

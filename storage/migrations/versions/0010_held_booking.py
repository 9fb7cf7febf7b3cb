"""Bookings a staff member asked for on their own customer account, held until another member
of the team or an owner confirms them (config staff.self_booking: confirm).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 19:10:00
"""
from alembic import op
import sqlalchemy as sa

import storage.types


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('held_booking',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('nonce', sa.String(length=12), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('requested_by', sa.BigInteger(), nullable=False),
    sa.Column('requested_name', sa.String(length=128), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('decided_by', sa.BigInteger(), nullable=True),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('decided_at', storage.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('held_booking', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_held_booking_customer_id'), ['customer_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('held_booking', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_held_booking_customer_id'))
    op.drop_table('held_booking')

"""Customers' rights to their data: when a customer's personal data was erased (the row stays,
anonymised, for the shop's figures), and a record of every export and erasure done.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 18:30:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import storage.types


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('data_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('executed_by', sa.BigInteger(), nullable=True),
    sa.Column('at', storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('data_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_data_request_customer_id'), ['customer_id'], unique=False)
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('erased_at', storage.types.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_column('erased_at')
    with op.batch_alter_table('data_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_data_request_customer_id'))
    op.drop_table('data_request')

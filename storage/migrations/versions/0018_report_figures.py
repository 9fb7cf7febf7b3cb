"""Figures for the owner's report (/bericht) at a million customers: the revenue of the last
year kept on the customer row (the ABC analysis of the present moment reads one indexed column),
covering indexes for the customers at a time, the purchases and points of a period, and a cache
of the costly figures of past periods (``report_cache``).

The kept year revenue starts as all of a customer's purchases, counted from the first: right
for everyone whose first purchase is less than a year old, and marked out of date for the
others by that first purchase (``year_revenue_oldest``, in seconds since 1970), whom the bot's
refresh job recounts.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 22:45:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

import storage.types


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('year_revenue_cents', sa.BigInteger(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('year_revenue_oldest', sa.BigInteger(), nullable=True))
    # whole seconds, rounded down (SQLite's strftime would round the fraction: cut it off first)
    seconds = ("CAST(strftime('%s', substr(min(p.created_at), 1, 19)) AS INTEGER)" if op.get_bind().dialect.name == "sqlite"
               else "CAST(floor(extract(epoch FROM min(p.created_at))) AS BIGINT)")
    op.execute(f"""
        UPDATE customer SET
          year_revenue_cents = (SELECT coalesce(sum(p.amount_cents), 0) FROM purchase p
                                WHERE p.customer_id = customer.id AND p.reversed_at IS NULL),
          year_revenue_oldest = (SELECT {seconds} FROM purchase p
                                 WHERE p.customer_id = customer.id AND p.reversed_at IS NULL)
    """)
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_index('ix_customer_last_purchase')
        batch_op.create_index('ix_customer_active', ['last_purchase_at', 'first_purchase_at', 'tier_points', 'id'],
                              unique=False)
        batch_op.create_index('ix_customer_year_revenue', ['year_revenue_cents'], unique=False)
        batch_op.create_index('ix_customer_year_revenue_oldest', ['year_revenue_oldest'], unique=False)
    with op.batch_alter_table('purchase', schema=None) as batch_op:
        batch_op.drop_index('ix_purchase_customer')
        batch_op.create_index('ix_purchase_customer', ['customer_id', 'created_at', 'reversed_at', 'amount_cents'],
                              unique=False)
        batch_op.create_index('ix_purchase_time', ['created_at', 'customer_id', 'amount_cents', 'reversed_at'],
                              unique=False)
    with op.batch_alter_table('points_entry', schema=None) as batch_op:
        batch_op.create_index('ix_points_entry_time', ['created_at', 'reason', 'amount'], unique=False)
    op.create_table('report_cache',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('figures', sa.Text(), nullable=False),
    sa.Column('purchase_mark', sa.Integer(), nullable=False),
    sa.Column('points_mark', sa.Integer(), nullable=False),
    sa.Column('computed_at', storage.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )


def downgrade() -> None:
    op.drop_table('report_cache')
    with op.batch_alter_table('points_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_points_entry_time')
    with op.batch_alter_table('purchase', schema=None) as batch_op:
        batch_op.drop_index('ix_purchase_time')
        batch_op.drop_index('ix_purchase_customer')
        batch_op.create_index('ix_purchase_customer', ['customer_id', 'created_at'], unique=False)
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_index('ix_customer_year_revenue_oldest')
        batch_op.drop_index('ix_customer_year_revenue')
        batch_op.drop_index('ix_customer_active')
        batch_op.create_index('ix_customer_last_purchase', ['last_purchase_at'], unique=False)
        batch_op.drop_column('year_revenue_oldest')
        batch_op.drop_column('year_revenue_cents')

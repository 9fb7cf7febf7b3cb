"""Loyalty: customer codes, phone, birthday and referrer; purchases, the points ledger,
reward redemptions and used receipt tokens.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 23:23:25.291806
"""
import secrets

from alembic import op
import sqlalchemy as sa
import sqlmodel
import storage.types


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('purchase',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('amount_cents', sa.Integer(), nullable=False),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('booked_by', sa.BigInteger(), nullable=True),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('reversed_at', storage.types.UTCDateTime(), nullable=True),
    sa.Column('reversal_reason', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idempotency_key', name='uq_purchase_idempotency_key')
    )
    with op.batch_alter_table('purchase', schema=None) as batch_op:
        batch_op.create_index('ix_purchase_customer', ['customer_id', 'created_at'], unique=False)

    op.create_table('redemption',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('reward_key', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('reward_name', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('cost', sa.Integer(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('expires_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('used_at', storage.types.UTCDateTime(), nullable=True),
    sa.Column('used_by', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code', name='uq_redemption_code')
    )
    with op.batch_alter_table('redemption', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_redemption_customer_id'), ['customer_id'], unique=False)

    op.create_table('points_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('purchase_id', sa.Integer(), nullable=True),
    sa.Column('redemption_id', sa.Integer(), nullable=True),
    sa.Column('tier_at', storage.types.UTCDateTime(), nullable=True),
    sa.Column('expires_at', storage.types.UTCDateTime(), nullable=True),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.ForeignKeyConstraint(['purchase_id'], ['purchase.id'], ),
    sa.ForeignKeyConstraint(['redemption_id'], ['redemption.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idempotency_key', name='uq_points_entry_idempotency_key')
    )
    with op.batch_alter_table('points_entry', schema=None) as batch_op:
        batch_op.create_index('ix_points_entry_customer', ['customer_id', 'id'], unique=False)

    op.create_table('used_receipt',
    sa.Column('nonce', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('purchase_id', sa.Integer(), nullable=True),
    sa.Column('used_at', storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.ForeignKeyConstraint(['purchase_id'], ['purchase.id'], ),
    sa.PrimaryKeyConstraint('nonce')
    )
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=True))
        batch_op.add_column(sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True))
        batch_op.add_column(sa.Column('external_ref', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('birthday_day', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('birthday_month', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('birthday_year', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('referred_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('points_version', sa.Integer(), nullable=False, server_default='0'))
        batch_op.create_index(batch_op.f('ix_customer_phone'), ['phone'], unique=False)
        batch_op.create_unique_constraint('uq_customer_external_ref', ['external_ref'])
        batch_op.create_unique_constraint('uq_customer_code', ['code'])
        batch_op.create_foreign_key('fk_customer_referred_by_id_customer', 'customer', ['referred_by_id'], ['id'])
    _give_existing_customers_a_code()


def _give_existing_customers_a_code() -> None:
    # Same alphabet as domain.rules.codes (migrations must not import the application, which changes).
    alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
    connection = op.get_bind()
    taken: set[str] = set()
    for (customer_id,) in connection.execute(sa.text("SELECT id FROM customer WHERE code IS NULL")):
        code = ""
        while not code or code in taken:
            code = "".join(secrets.choice(alphabet) for _ in range(6))
        taken.add(code)
        connection.execute(sa.text("UPDATE customer SET code = :code WHERE id = :id"), {"code": code, "id": customer_id})


def downgrade() -> None:
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_constraint('fk_customer_referred_by_id_customer', type_='foreignkey')
        batch_op.drop_constraint('uq_customer_external_ref', type_='unique')
        batch_op.drop_constraint('uq_customer_code', type_='unique')
        batch_op.drop_index(batch_op.f('ix_customer_phone'))
        batch_op.drop_column('points_version')
        batch_op.drop_column('referred_by_id')
        batch_op.drop_column('birthday_year')
        batch_op.drop_column('birthday_month')
        batch_op.drop_column('birthday_day')
        batch_op.drop_column('external_ref')
        batch_op.drop_column('phone')
        batch_op.drop_column('code')

    op.drop_table('used_receipt')
    with op.batch_alter_table('points_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_points_entry_customer')

    op.drop_table('points_entry')
    with op.batch_alter_table('redemption', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_redemption_customer_id'))

    op.drop_table('redemption')
    with op.batch_alter_table('purchase', schema=None) as batch_op:
        batch_op.drop_index('ix_purchase_customer')

    op.drop_table('purchase')

"""A customer is answered in the language they write in, unless they chose one with /sprache:
``customer.language_chosen`` tells the two apart. A language stored before this revision was
chosen with /sprache.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 15:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN: a batch would copy the customer table, which others reference.
    op.add_column('customer', sa.Column('language_chosen', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute(sa.text("UPDATE customer SET language_chosen = :chosen WHERE language IS NOT NULL")
               .bindparams(chosen=True))


def downgrade() -> None:
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_column('language_chosen')

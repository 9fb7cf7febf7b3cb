"""More segment figures on the customer row, so that every segment term reads that row alone:
the categories bought from (replacing the table customer_category of 0006), the score of the
latest answered NPS survey; and the revenue distribution for the VIP segment's ABC analysis.

All three are filled in here from the purchases and surveys.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 11:45:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

_BATCH = 5000  # customers whose category keys are written at a time

# A copy of domain.rules.topics.fold and domain.purchases.category_key as of this revision:
# migrations do not import the domain, whose rules may change after them.
_FOLDS = (("ß", "ss"), ("ä", "a"), ("ö", "o"), ("ü", "u"), ("ae", "a"), ("oe", "o"), ("ue", "u"))


def _category_key(name: str) -> str:
    folded = name.lower()
    for old, new in _FOLDS:
        folded = folded.replace(old, new)
    return " ".join(folded.replace("|", " ").split())


def upgrade() -> None:
    op.create_table('revenue_group',
    sa.Column('revenue_cents', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('customers', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('revenue_cents')
    )
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('category_keys', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('nps_score', sa.Integer(), nullable=True))
    _backfill()
    with op.batch_alter_table('customer_category', schema=None) as batch_op:
        batch_op.drop_index('ix_customer_category_category')
    op.drop_table('customer_category')


def _backfill() -> None:
    op.execute("""
        INSERT INTO revenue_group (revenue_cents, customers)
        SELECT revenue_cents, count(*) FROM customer WHERE revenue_cents > 0 GROUP BY revenue_cents
    """)
    op.execute("""
        UPDATE customer SET nps_score = (
          SELECT s.score FROM survey s WHERE s.customer_id = customer.id AND s.score IS NOT NULL
          ORDER BY s.answered_at DESC, s.id DESC LIMIT 1)
    """)
    _backfill_category_keys()


def _backfill_category_keys() -> None:
    bind = op.get_bind()
    bought = bind.execute(sa.text(
        "SELECT customer_id, category FROM customer_category ORDER BY customer_id")).yield_per(_BATCH * 4)
    update = sa.text("UPDATE customer SET category_keys = :keys WHERE id = :id")
    batch: list[dict] = []
    current, keys = None, set()
    for customer_id, category in bought:
        if customer_id != current:
            if current is not None:
                batch.append({"id": current, "keys": _framed(keys)})
            current, keys = customer_id, set()
            if len(batch) >= _BATCH:
                bind.execute(update, batch)
                batch = []
        keys.add(_category_key(category))
    if current is not None:
        batch.append({"id": current, "keys": _framed(keys)})
    if batch:
        bind.execute(update, batch)


def _framed(keys: set[str]) -> str:
    keys.discard("")
    return "".join(f"|{key}" for key in sorted(keys)) + "|" if keys else ""


def downgrade() -> None:
    op.create_table('customer_category',
    sa.Column('customer_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.PrimaryKeyConstraint('customer_id', 'category')
    )
    with op.batch_alter_table('customer_category', schema=None) as batch_op:
        batch_op.create_index('ix_customer_category_category', ['category', 'customer_id'], unique=False)
    op.execute("""
        INSERT INTO customer_category (customer_id, category)
        SELECT DISTINCT customer_id, category FROM purchase WHERE category IS NOT NULL AND reversed_at IS NULL
    """)
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_column('nps_score')
        batch_op.drop_column('category_keys')
    op.drop_table('revenue_group')

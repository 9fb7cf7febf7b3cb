"""The survey answers of a period counted per score from the index alone (the NPS of /nps and
/bericht at a large shop): ``ix_survey_answered`` holds the score too.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 12:30:00
"""
from alembic import op


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('survey', schema=None) as batch_op:
        batch_op.drop_index('ix_survey_answered')
        batch_op.create_index('ix_survey_answered', ['answered_at', 'score'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('survey', schema=None) as batch_op:
        batch_op.drop_index('ix_survey_answered')
        batch_op.create_index('ix_survey_answered', ['answered_at'], unique=False)

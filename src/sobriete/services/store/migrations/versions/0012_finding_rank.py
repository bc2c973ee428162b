"""finding rank index: a page of findings read in the order of the list (open, seen again,
EUR then kWh of waste per year, score), not sorted out of every finding at each request

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Expressions as the queries write them (``eur_per_year IS NULL`` first: nulls last).
    op.create_index('ix_finding_rank', 'finding', [
        'status', 'seen_last', sa.text('(eur_per_year IS NULL)'), sa.text('eur_per_year DESC'),
        sa.text('(kwh_per_year IS NULL)'), sa.text('kwh_per_year DESC'), sa.text('score DESC'),
        'key'])


def downgrade() -> None:
    op.drop_index('ix_finding_rank', table_name='finding')

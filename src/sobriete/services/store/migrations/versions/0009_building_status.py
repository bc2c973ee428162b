"""building status: the portfolio page's per-building figures, computed by the daily analysis

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('building_status',
    sa.Column('building_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('period_start', sa.DateTime(timezone=True), nullable=True),
    sa.Column('period_end', sa.DateTime(timezone=True), nullable=True),
    sa.Column('energy_kwh', sa.Float(), nullable=True),
    sa.Column('kwh_per_m2', sa.Float(), nullable=True),
    sa.Column('degree_days', sa.Float(), nullable=True),
    sa.Column('kwh_per_m2_per_dd', sa.Float(), nullable=True),
    sa.Column('trend_pct', sa.Float(), nullable=True),
    sa.Column('trend_basis', sa.String(length=32), nullable=True),
    sa.Column('open_findings', sa.Integer(), nullable=False),
    sa.Column('tertiaire_status', sa.String(length=32), nullable=True),
    sa.Column('tertiaire_gap_pct', sa.Float(), nullable=True),
    sa.Column('data_coverage_pct', sa.Float(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('detail_json', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['building_id'], ['building.id'], name=op.f('fk_building_status_building_id_building')),
    sa.PrimaryKeyConstraint('building_id', name=op.f('pk_building_status'))
    )


def downgrade() -> None:
    op.drop_table('building_status')

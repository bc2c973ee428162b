"""estate indexes: a commune's or a territory's buildings found without scanning them all
(the scope of 130 commune managers is a join building -> site -> commune -> territory)

Revision ID: 0010
Revises: 0009
"""
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_commune_territory_id', 'commune', ['territory_id'])
    op.create_index('ix_site_commune_id', 'site', ['commune_id'])
    op.create_index('ix_building_site_id', 'building', ['site_id'])


def downgrade() -> None:
    op.drop_index('ix_building_site_id', table_name='building')
    op.drop_index('ix_site_commune_id', table_name='site')
    op.drop_index('ix_commune_territory_id', table_name='commune')

"""commune building count: the number of buildings of each commune kept with the registry,
instead of counted through every site and building at each request of the communes list

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('commune') as batch:
        batch.add_column(sa.Column('n_buildings', sa.Integer(), nullable=False,
                                   server_default='0'))
    op.execute("UPDATE commune SET n_buildings = (SELECT count(*) FROM building JOIN site "
               "ON building.site_id = site.id WHERE site.commune_id = commune.id)")


def downgrade() -> None:
    with op.batch_alter_table('commune') as batch:
        batch.drop_column('n_buildings')

"""account language: the language (fr, en) of the e-mails an account receives

Revision ID: 0014
Revises: 0013
"""
import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('account') as batch:
        batch.add_column(sa.Column('lang', sa.String(length=2), nullable=False,
                                   server_default='fr'))


def downgrade() -> None:
    with op.batch_alter_table('account') as batch:
        batch.drop_column('lang')

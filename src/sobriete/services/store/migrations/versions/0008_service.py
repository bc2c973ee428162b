"""the service: audit log of writes, alert preferences and sent alerts, account e-mail,
building coordinates (portfolio map), client address of login attempts (rate limiting)

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('login', sa.String(length=200), nullable=True),
    sa.Column('method', sa.String(length=8), nullable=False),
    sa.Column('path', sa.String(length=500), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('client', sa.String(length=64), nullable=True),
    sa.Column('detail_json', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)

    op.create_table('alert_preference',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_alert_preference_account_id_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_preference')),
    sa.UniqueConstraint('account_id', 'kind', name='uq_alert_preference_account_kind')
    )
    with op.batch_alter_table('alert_preference', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_preference_account_id'), ['account_id'], unique=False)

    op.create_table('alert_sent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('event_key', sa.String(length=300), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_alert_sent_account_id_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_sent')),
    sa.UniqueConstraint('account_id', 'kind', 'event_key', name='uq_alert_sent_event')
    )
    with op.batch_alter_table('alert_sent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_sent_account_id'), ['account_id'], unique=False)

    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email', sa.String(length=320), nullable=True))

    with op.batch_alter_table('building', schema=None) as batch_op:
        batch_op.add_column(sa.Column('latitude', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('longitude', sa.Float(), nullable=True))

    with op.batch_alter_table('login_attempt', schema=None) as batch_op:
        batch_op.add_column(sa.Column('client', sa.String(length=64), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('login_attempt', schema=None) as batch_op:
        batch_op.drop_column('client')

    with op.batch_alter_table('building', schema=None) as batch_op:
        batch_op.drop_column('longitude')
        batch_op.drop_column('latitude')

    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.drop_column('email')

    with op.batch_alter_table('alert_sent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_sent_account_id'))

    op.drop_table('alert_sent')
    with op.batch_alter_table('alert_preference', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_preference_account_id'))

    op.drop_table('alert_preference')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_at'))

    op.drop_table('audit_log')

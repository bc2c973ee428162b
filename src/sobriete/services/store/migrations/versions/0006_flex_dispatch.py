"""flexibility events and their allocations (dispatch burden history)

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('flex_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('start_utc', sa.DateTime(timezone=True), nullable=False),
    sa.Column('end_utc', sa.DateTime(timezone=True), nullable=False),
    sa.Column('request_kw', sa.Float(), nullable=False),
    sa.Column('served_kw', sa.Float(), nullable=False),
    sa.Column('unmet_kw', sa.Float(), nullable=False),
    sa.Column('jain_before', sa.Float(), nullable=False),
    sa.Column('jain_after', sa.Float(), nullable=False),
    sa.Column('scope_json', sa.Text(), nullable=False),
    sa.Column('doc_json', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flex_event')),
    sa.UniqueConstraint('event_id', name=op.f('uq_flex_event_event_id'))
    )
    with op.batch_alter_table('flex_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_flex_event_start_utc'), ['start_utc'],
                              unique=False)

    op.create_table('flex_allocation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('building_id', sa.Integer(), nullable=False),
    sa.Column('capacity_kw', sa.Float(), nullable=False),
    sa.Column('allocated_kw', sa.Float(), nullable=False),
    sa.Column('shed_kwh', sa.Float(), nullable=False),
    sa.Column('discomfort_kh', sa.Float(), nullable=False),
    sa.Column('rebound_kwh', sa.Float(), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('confidence', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['building_id'], ['building.id'],
                            name=op.f('fk_flex_allocation_building_id_building')),
    sa.ForeignKeyConstraint(['event_id'], ['flex_event.id'],
                            name=op.f('fk_flex_allocation_event_id_flex_event')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flex_allocation')),
    sa.UniqueConstraint('event_id', 'building_id', name='uq_flex_allocation_event_building')
    )
    with op.batch_alter_table('flex_allocation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_flex_allocation_building_id'), ['building_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_flex_allocation_event_id'), ['event_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('flex_allocation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flex_allocation_event_id'))
        batch_op.drop_index(batch_op.f('ix_flex_allocation_building_id'))
    op.drop_table('flex_allocation')
    with op.batch_alter_table('flex_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flex_event_start_utc'))
    op.drop_table('flex_event')

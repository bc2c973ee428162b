"""control plans and decisions (the audit trail of the controller)

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('control_plan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('building_code', sa.String(length=64), nullable=False),
    sa.Column('zone_code', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('start_utc', sa.DateTime(timezone=True), nullable=False),
    sa.Column('horizon_steps', sa.Integer(), nullable=False),
    sa.Column('model_json', sa.Text(), nullable=False),
    sa.Column('provenance_json', sa.Text(), nullable=False),
    sa.Column('summary_json', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_control_plan'))
    )
    with op.batch_alter_table('control_plan', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_control_plan_building_code'), ['building_code'],
                              unique=False)

    op.create_table('control_decision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('building_code', sa.String(length=64), nullable=False),
    sa.Column('zone_code', sa.String(length=64), nullable=False),
    sa.Column('time_utc', sa.DateTime(timezone=True), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('dispatch', sa.String(length=16), nullable=False),
    sa.Column('driver', sa.String(length=16), nullable=False),
    sa.Column('proposed_power_w', sa.Float(), nullable=True),
    sa.Column('setpoint_c', sa.Float(), nullable=True),
    sa.Column('heating_power_w', sa.Float(), nullable=True),
    sa.Column('fallback', sa.Boolean(), nullable=False),
    sa.Column('reason_fr', sa.Text(), nullable=False),
    sa.Column('reason_en', sa.Text(), nullable=False),
    sa.Column('driver_error', sa.Text(), nullable=True),
    sa.Column('record_json', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['control_plan.id'],
                            name=op.f('fk_control_decision_plan_id_control_plan')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_control_decision'))
    )
    with op.batch_alter_table('control_decision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_control_decision_plan_id'), ['plan_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('control_decision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_control_decision_plan_id'))
    op.drop_table('control_decision')
    with op.batch_alter_table('control_plan', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_control_plan_building_code'))
    op.drop_table('control_plan')

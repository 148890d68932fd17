"""manual statements

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 16:40:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'statements',
        sa.Column('meter_id', postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column('id', postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column('account_id', postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column('taken_on', sa.Date(), nullable=False),
        sa.Column('kind', sa.Text(), nullable=False),
        sa.Column('value', sa.Numeric(14, 3), nullable=False),
        sa.Column('unit', sa.Text(), nullable=False),
        sa.Column('conversion_coefficient', sa.Numeric(6, 3), nullable=True),
        sa.Column('meter_change', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('old_meter_last_index', sa.Numeric(14, 3), nullable=True),
        sa.Column('new_meter_first_index', sa.Numeric(14, 3), nullable=True),
        sa.Column('confirmed_check', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint('meter_id', 'id', name=op.f('pk_statements')),
        sa.UniqueConstraint('meter_id', 'taken_on', name=op.f('uq_statements_meter_id')),
        schema='consumption',
    )
    op.create_index(op.f('ix_consumption_statements_account_id'), 'statements', ['account_id'], unique=False,
                    schema='consumption')


def downgrade() -> None:
    op.drop_index(op.f('ix_consumption_statements_account_id'), table_name='statements', schema='consumption')
    op.drop_table('statements', schema='consumption')
